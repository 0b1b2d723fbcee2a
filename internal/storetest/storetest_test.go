package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sync"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memStore is a correct store in memory: the suite's own reference. Its
// flaws switch on the ways a store goes wrong.
type memStore struct {
	mu       sync.Mutex
	objects  map[string]*memObject
	configs  map[string]memConfig
	policies map[string]bucketconfig.Policy
	cors     map[string][]byte // cors_test.go
	flaw     string
}

type memObject struct {
	data []byte
	info pull.ObjectInfo
}

func (s *memStore) GetPolicy(_ context.Context, bucket string) (bucketconfig.Policy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.policies[bucket]
	if !ok {
		return "", fs.ErrNotExist
	}
	return p, nil
}

func (s *memStore) PutPolicy(_ context.Context, bucket string, p bucketconfig.Policy) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policies[bucket] = p
	return nil
}

type memConfig struct {
	format mirror.Format
	doc    []byte
}

func newMem(flaw string) *memStore {
	return &memStore{objects: map[string]*memObject{}, configs: map[string]memConfig{}, policies: map[string]bucketconfig.Policy{}, flaw: flaw}
}

func (s *memStore) name(bucket, key string) string {
	if s.flaw == "keys as paths" {
		key = path.Clean("/" + key) // "a/../x" is "x", "x/" is "x"
	}
	return bucket + "\x00" + key
}

func (s *memStore) Open(_ context.Context, bucket, key string) (pull.Object, error) {
	if !mirror.ValidBucket(bucket) {
		return nil, errors.New("invalid bucket")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[s.name(bucket, key)]
	if !ok {
		return nil, pull.ErrNotFound
	}
	return &memReader{bytes.NewReader(o.data), o.info}, nil
}

func (s *memStore) Create(_ context.Context, bucket, key string) (pull.Upload, error) {
	if !mirror.ValidBucket(bucket) {
		return nil, errors.New("invalid bucket")
	}
	return &memUpload{s: s, name: s.name(bucket, key)}, nil
}

func (s *memStore) HasObjects(_ context.Context, bucket string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range s.objects {
		if b, _, _ := bytesCut(name); b == bucket {
			return true, nil
		}
	}
	return false, nil
}

func bytesCut(name string) (string, string, bool) {
	i := bytes.IndexByte([]byte(name), 0)
	return name[:i], name[i+1:], true
}

type memReader struct {
	*bytes.Reader
	info pull.ObjectInfo
}

func (r *memReader) Info() pull.ObjectInfo { return r.info }
func (r *memReader) Close() error          { return nil }

type memUpload struct {
	s    *memStore
	name string
	buf  []byte
}

func (u *memUpload) Write(p []byte) (int, error) {
	u.buf = append(u.buf, p...)
	if u.s.flaw == "visible before commit" {
		u.s.mu.Lock()
		u.s.objects[u.name] = &memObject{data: bytes.Clone(u.buf)}
		u.s.mu.Unlock()
	}
	return len(p), nil
}

func (u *memUpload) Commit(_ context.Context, info pull.ObjectInfo) error {
	if int64(len(u.buf)) != info.Size {
		return fmt.Errorf("size %d, wrote %d", info.Size, len(u.buf))
	}
	if info.LastModified.IsZero() {
		info.LastModified = time.Now()
	}
	if u.s.flaw == "drops headers" {
		info.Header = http.Header{}
		if ct := info.ContentType(); ct != "" {
			info.Header.Set("Content-Type", ct)
		}
	}
	if u.s.flaw == "drops user metadata" {
		info.UserMeta = nil
	}
	if u.s.flaw == "drops the origin" {
		info.Origin = ""
	}
	u.s.mu.Lock()
	u.s.objects[u.name] = &memObject{data: u.buf, info: info}
	u.s.mu.Unlock()
	return nil
}

func (u *memUpload) Abort() {}

func (s *memStore) GetConfig(_ context.Context, bucket string) (mirror.Format, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.configs[bucket]
	if !ok {
		return "", nil, fs.ErrNotExist
	}
	if s.flaw == "configs lose their format" {
		return mirror.FormatAuto, c.doc, nil
	}
	return c.format, c.doc, nil
}

func (s *memStore) PutConfig(_ context.Context, bucket string, format mirror.Format, doc []byte) error {
	if !mirror.ValidBucket(bucket) {
		return errors.New("invalid bucket")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.configs[bucket] = memConfig{format, bytes.Clone(doc)}
	return nil
}

func (s *memStore) DeleteConfig(_ context.Context, bucket string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.configs, bucket)
	if s.flaw == "deletes take the policy" {
		delete(s.policies, bucket)
	}
	return nil
}

// The reference store passes; each broken one fails, naming what broke.
func TestTheSuiteCatchesBrokenStores(t *testing.T) {
	require.NoError(t, TestStore(newMem("")))
	require.NoError(t, TestConfigStore(newMem("")))
	for flaw, want := range map[string]string{
		"visible before commit":     "before commit: the object is visible",
		"drops headers":             `round trip "gzip": headers read back`,
		"keys as paths":             `hostile key "a/../../x": read back`,
		"drops user metadata":       "provenance 0: user metadata read back",
		"drops the origin":          "provenance 0: read back origin",
		"configs lose their format": `config "qingstor": read back`,
		"deletes take the policy":   "policy: a configuration's put and delete changed the policy",
	} {
		err := TestStore(newMem(flaw))
		if flaw == "configs lose their format" || flaw == "deletes take the policy" {
			err = TestConfigStore(newMem(flaw))
		}
		require.Error(t, err, flaw)
		assert.Contains(t, err.Error(), want, flaw)
	}
}
