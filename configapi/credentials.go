package configapi

import (
	"crypto/subtle"
	"encoding/json"
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
func ParseCredentials(data []byte) (*Credentials, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	c := &Credentials{keys: make(map[string]*key, len(raw))}
	for id, v := range raw {
		var k key
		var secret string
		var scoped struct {
			Secret  string   `json:"secret"`
			Buckets []string `json:"buckets"`
		}
		switch {
		case json.Unmarshal(v, &secret) == nil:
			k.secret = secret
		case json.Unmarshal(v, &scoped) == nil:
			k.secret, k.buckets = scoped.Secret, scoped.Buckets
		default:
			return nil, fmt.Errorf("credentials: key %q: want a secret or {\"secret\", \"buckets\"}", id)
		}
		if id == "" || k.secret == "" {
			return nil, fmt.Errorf("credentials: key %q has no secret", id)
		}
		for _, g := range k.buckets {
			if _, err := path.Match(g, ""); err != nil {
				return nil, fmt.Errorf("credentials: key %q: bad bucket glob %q", id, g)
			}
		}
		c.keys[id] = &k
	}
	return c, nil
}

// LoadCredentials reads a credentials file.
func LoadCredentials(file string) (*Credentials, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseCredentials(data)
}

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
