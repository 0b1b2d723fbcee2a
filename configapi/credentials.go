package configapi

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
)

// Credentials are the keys that may configure buckets: each access key's
// secret, and the bucket-name globs it is scoped to (none: every bucket).
// The zero value holds no key, so every request is refused.
type Credentials struct {
	keys map[string]*key
}

type key struct {
	secret  string
	buckets []string // path.Match globs; empty: every bucket
}

// ParseCredentials reads {"ACCESS_KEY_ID": "SECRET", …} for keys that may
// configure every bucket, or {"ACCESS_KEY_ID": {"secret": "SECRET",
// "buckets": ["tenant-a-*"]}, …} for keys scoped to bucket-name globs
// (path.Match syntax).
//
// A scoped key fails closed (docs/SERVING.md §4.3): a member other than
// "secret" and "buckets" (a misspelt "bucket", say) is refused rather than
// ignored, and a "buckets" member that is present must be a non-empty list
// of valid globs, since an ignored, null or empty scope would otherwise
// read as "every bucket". An object without "buckets" is a key for every
// bucket, like a plain secret.
func ParseCredentials(data []byte) (*Credentials, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	c := &Credentials{keys: make(map[string]*key, len(raw))}
	for id, v := range raw {
		k, err := parseKey(v)
		if err == nil && (id == "" || k.secret == "") {
			err = errors.New("has no secret")
		}
		if err != nil {
			return nil, fmt.Errorf("credentials: key %q: %w", id, err)
		}
		c.keys[id] = k
	}
	return c, nil
}

// parseKey reads one key: a secret, or {"secret", "buckets"}.
func parseKey(v json.RawMessage) (*key, error) {
	var secret string
	if json.Unmarshal(v, &secret) == nil {
		return &key{secret: secret}, nil
	}
	var scoped struct {
		Secret  string          `json:"secret"`
		Buckets json.RawMessage `json:"buckets"`
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&scoped); err != nil {
		return nil, fmt.Errorf(`want a secret or {"secret", "buckets"}: %w`, err)
	}
	k := &key{secret: scoped.Secret}
	if scoped.Buckets == nil {
		return k, nil // no scope: every bucket
	}
	if err := json.Unmarshal(scoped.Buckets, &k.buckets); err != nil || len(k.buckets) == 0 {
		return nil, errors.New(`"buckets" must be a non-empty list of bucket-name globs (leave it out for every bucket)`)
	}
	for _, g := range k.buckets {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			return nil, fmt.Errorf("bad bucket glob %q", g)
		}
	}
	return k, nil
}

// LoadCredentials reads a credentials file.
func LoadCredentials(file string) (*Credentials, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseCredentials(data)
}

// empty reports whether there are no keys: then no request can be
// signed, and every one is refused with 403 (docs/SERVING.md §4.3).
func (c *Credentials) empty() bool { return c == nil || len(c.keys) == 0 }

// secret returns an access key's secret; ok is false for an unknown key.
func (c *Credentials) secret(id string) (string, bool) {
	if c == nil {
		return "", false
	}
	k, ok := c.keys[id]
	if !ok {
		return "", false
	}
	return k.secret, true
}

// allows reports whether an access key may configure a bucket.
func (c *Credentials) allows(id, bucket string) bool {
	k := c.keys[id]
	if len(k.buckets) == 0 {
		return true
	}
	for _, g := range k.buckets {
		if ok, _ := path.Match(g, bucket); ok {
			return true
		}
	}
	return false
}

// equal compares two signatures in constant time.
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
