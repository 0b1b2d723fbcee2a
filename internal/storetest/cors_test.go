package storetest

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/mirrorkit/mirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (s *memStore) GetCORS(_ context.Context, bucket string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, ok := s.cors[bucket]
	if !ok {
		return nil, fs.ErrNotExist
	}
	if s.flaw == "cors loses white space" {
		return bytes.TrimSpace(doc), nil
	}
	return doc, nil
}

func (s *memStore) PutCORS(_ context.Context, bucket string, doc []byte) error {
	if !mirror.ValidBucket(bucket) {
		return errors.New("invalid bucket")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cors == nil {
		s.cors = map[string][]byte{}
	}
	s.cors[bucket] = bytes.Clone(doc)
	return nil
}

func (s *memStore) DeleteCORS(_ context.Context, bucket string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flaw == "cors deletes do nothing" {
		return nil
	}
	delete(s.cors, bucket)
	return nil
}

// A store whose CORS record is not kept as put fails the suite.
func TestTheSuiteCatchesBrokenCORSRecords(t *testing.T) {
	for flaw, want := range map[string]string{
		"cors loses white space":  "cors 1: read back",
		"cors deletes do nothing": "cors: GetCORS after a delete",
	} {
		err := TestConfigStore(newMem(flaw))
		require.Error(t, err, flaw)
		assert.Contains(t, err.Error(), want, flaw)
	}
}
