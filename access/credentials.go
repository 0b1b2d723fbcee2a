// Package access holds the keys of a gateway and what each may do: read a
// bucket's objects, or also configure the bucket (docs/SERVING.md §1.1 and
// §4.3). The object path and the configuration APIs both ask it.
package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"sync/atomic"
)

// Credentials are a gateway's keys: each access key's secret, the
// bucket-name globs it is scoped to (none: every bucket), and what it may
// do there. The zero value holds no key, so every signed request is
// refused. Replace swaps the keys of a Credentials in use (a reload).
type Credentials struct {
	keys atomic.Pointer[map[string]*key]
}

// keySet is the keys in force: each method takes it once, so that a
// request is judged by one set even across a Replace.
func (c *Credentials) keySet() map[string]*key {
	if c == nil {
		return nil
	}
	if m := c.keys.Load(); m != nil {
		return *m
	}
	return nil
}

// Replace puts next's keys in force in c, at once: a request checked
// after it sees only next's keys, one checked before only the old ones
// (a SIGHUP reload, docs/SERVING.md §5).
func (c *Credentials) Replace(next *Credentials) {
	keys := next.keySet()
	c.keys.Store(&keys)
}

type key struct {
	secret  string
	buckets []string // path.Match globs; empty: every bucket
	access  Access
}

// Access is what a key may do in the buckets of its scope.
type Access string

// The levels of access.
const (
	// Read: read objects of private buckets.
	Read Access = "read"
	// Configure: read, and configure the buckets (their rules and read
	// policies). A key's default.
	Configure Access = "configure"
)

// ParseCredentials reads {"ACCESS_KEY_ID": "SECRET", …} for keys that may
// read and configure every bucket, or {"ACCESS_KEY_ID": {"secret":
// "SECRET", "buckets": ["tenant-a-*"], "access": "read"}, …} for keys
// scoped to bucket-name globs (path.Match syntax), with "access" "read"
// or "configure" (the default, which includes read).
//
// A scoped key fails closed (docs/SERVING.md §4.3): a member other than
// "secret", "buckets" and "access" (a misspelt "bucket", say) is refused
// rather than ignored, a "buckets" member that is present must be a
// non-empty list of valid globs, since an ignored, null or empty scope
// would otherwise read as "every bucket", and "access" must be one of its
// two values. An object without "buckets" is a key for every bucket.
func ParseCredentials(data []byte) (*Credentials, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	keys := make(map[string]*key, len(raw))
	for id, v := range raw {
		k, err := parseKey(v)
		if err == nil && (id == "" || k.secret == "") {
			err = errors.New("has no secret")
		}
		if err != nil {
			return nil, fmt.Errorf("credentials: key %q: %w", id, err)
		}
		keys[id] = k
	}
	c := &Credentials{}
	c.keys.Store(&keys)
	return c, nil
}

// parseKey reads one key: a secret, or {"secret", "buckets"}.
func parseKey(v json.RawMessage) (*key, error) {
	var secret string
	if json.Unmarshal(v, &secret) == nil {
		return &key{secret: secret, access: Configure}, nil
	}
	var scoped struct {
		Secret  string          `json:"secret"`
		Buckets json.RawMessage `json:"buckets"`
		Access  *string         `json:"access"`
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&scoped); err != nil {
		return nil, fmt.Errorf(`want a secret or {"secret", "buckets", "access"}: %w`, err)
	}
	k := &key{secret: scoped.Secret, access: Configure}
	if scoped.Access != nil {
		switch a := Access(*scoped.Access); a {
		case Read, Configure:
			k.access = a
		default:
			return nil, fmt.Errorf(`"access" must be "read" or "configure", not %q`, *scoped.Access)
		}
	}
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

// Empty reports whether there are no keys: then no request can be
// signed, and every configuration request is refused with 403
// (docs/SERVING.md §4.3).
func (c *Credentials) Empty() bool { return len(c.keySet()) == 0 }

// Secret returns an access key's secret; ok is false for an unknown key.
// One secret serves every signature scheme.
func (c *Credentials) Secret(id string) (string, bool) {
	k, ok := c.keySet()[id]
	if !ok {
		return "", false
	}
	return k.secret, true
}

// MayConfigure reports whether an access key may configure a bucket.
func (c *Credentials) MayConfigure(id, bucket string) bool {
	k := c.keySet()[id]
	return k != nil && k.inScope(bucket) && k.access == Configure
}

// MayRead reports whether an access key may read a bucket's objects.
func (c *Credentials) MayRead(id, bucket string) bool {
	k := c.keySet()[id]
	return k != nil && k.inScope(bucket)
}

// inScope reports whether the key's scope covers a bucket.
func (k *key) inScope(bucket string) bool {
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
