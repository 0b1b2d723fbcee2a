package dirstore

import (
	"bytes"
	"context"
	"hash/crc32"
	"io"
	"time"
)

// Test-only switches of the key index.

// skipSyncs makes s's commits skip their syncs, for benchmarks that
// write many objects.
func (s *Store) skipSyncs() { s.noSync = true }

// setAfterRenameHook runs h in every commit between its rename and its
// index write, until restore is called.
func setAfterRenameHook(h func()) (restore func()) {
	afterRenameHook = h
	return func() { afterRenameHook = nil }
}

// setRebuildScanHook runs h in every rebuild before its scan, with the
// context the rebuild runs on, until restore is called.
func setRebuildScanHook(h func(ctx context.Context)) (restore func()) {
	rebuildScanHook = h
	return func() { rebuildScanHook = nil }
}

// setStuckRecord shortens how long a record may stay cut short.
func setStuckRecord(d time.Duration) (restore func()) {
	old := stuckRecord
	stuckRecord = d
	return func() { stuckRecord = old }
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
