// Package tmpfile keeps temporary files from outliving the process that
// wrote them. A writer holds an advisory lock on its temporary file for
// as long as it has the file open; a sweep removes the temporary files no
// process holds, those a crash (kill -9, a power cut) left behind. Two
// gateways may share a directory: neither sweeps what the other is
// writing (docs/SERVING.md §2).
package tmpfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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

// Sweep removes the files of dir whose names start with prefix and that
// no process holds. It returns how many it removed.
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
		if Lock(f) == nil && os.Remove(name) == nil {
			removed++
		}
		f.Close()
	}
	return removed, nil
}
