package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mirrorkit/mirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memDeleter is memStore with deletions; its flaws switch on the ways a
// deleting store goes wrong.
type memDeleter struct{ *memStore }

func (s memDeleter) Delete(_ context.Context, bucket, key string) error {
	if !mirror.ValidBucket(bucket) {
		return errors.New("invalid bucket")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flaw == "delete of a missing key fails" && s.objects[s.name(bucket, key)] == nil {
		return errors.New("no such key")
	}
	for name := range s.objects {
		b, k, _ := bytesCut(name)
		if b == bucket && (k == key || s.flaw == "delete takes the key's neighbours" && strings.HasPrefix(k, key)) {
			delete(s.objects, name)
		}
	}
	return nil
}

func (s memDeleter) DeletePrefix(_ context.Context, bucket, prefix string) (int, error) {
	if !mirror.ValidBucket(bucket) {
		return 0, errors.New("invalid bucket")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for name := range s.objects {
		b, k, _ := bytesCut(name)
		if b == bucket && strings.HasPrefix(k, prefix) {
			delete(s.objects, name)
			n++
		}
	}
	if s.flaw == "prefix miscounts" {
		n++
	}
	return n, nil
}

// The reference store passes TestDeleter; each broken one fails, naming
// what broke.
func TestTheDeleterSuiteCatchesBrokenStores(t *testing.T) {
	require.NoError(t, TestDeleter(memDeleter{newMem("")}))
	assert.ErrorContains(t, TestDeleter(newMem("")), "not a pull.Deleter")
	for flaw, want := range map[string]string{
		"delete of a missing key fails":     `Delete of "never-stored", not stored`,
		"delete takes the key's neighbours": `delete hostile key "x/y": a neighbour's delete left`,
		"prefix miscounts":                  "DeletePrefix(p/) = 5",
	} {
		err := TestDeleter(memDeleter{newMem(flaw)})
		require.Error(t, err, flaw)
		assert.Contains(t, err.Error(), want, flaw)
	}
}
