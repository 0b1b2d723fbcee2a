// Package tmpfile keeps temporary files from outliving the process that
// wrote them. A writer holds an advisory lock on its temporary file for
// as long as it has the file open; a sweep removes the temporary files no
// process holds, those a crash (kill -9, a power cut) left behind. Two
// gateways may share a directory: neither sweeps what the other is
// writing (docs/SERVING.md §2).
package tmpfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrLocked is what Lock says of a file another open file holds.
var ErrLocked = errors.New("tmpfile: held by another writer")

// Create makes a new temporary file in dir, as os.CreateTemp does, and
// takes its lock; closing the file lets it go.
func Create(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if err := Lock(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// MinAge is how old a file must be before a sweep may take it. A writer
// creates its file and then takes its lock; a file younger than this may
// be between the two, and is left alone.
const MinAge = time.Minute

// Stale reports whether a sweep may remove the file f, opened from the
// directory entry e: old enough, and, once its lock is taken here, held
// by no other writer. The lock is f's until f is closed.
func Stale(e fs.DirEntry, f *os.File) bool {
	info, err := e.Info()
	return err == nil && time.Since(info.ModTime()) >= MinAge && Lock(f) == nil
}

// Sweep removes the files of dir whose names start with prefix that no
// process holds and that are at least MinAge old. It returns how many it
// removed.
func Sweep(dir, prefix string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if Stale(e, f) && os.Remove(name) == nil {
			removed++
		}
		f.Close()
	}
	return removed, nil
}
