package dirstore

import (
	"errors"
	"io/fs"
	"os"
)

// A commit creates its temporary file and renames it through its fan-out
// directory, open in the store's cache of them (Store.dir, shared with the
// index writes): one openat and one renameat, where a path through the
// store's root costs an openat per component, and a MkdirAll of the
// directory every time.

// createIn creates the temporary file base in the fan-out directory dir,
// made if missing, and returns it with the open directory it is in and
// what to call when done with that. A cached directory that was removed
// since (by hand: the store never removes one) is dropped and made anew.
func (s *Store) createIn(dir, base string) (*os.File, *os.Root, func(), error) {
	for retried := false; ; retried = true {
		d, release, err := s.dir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			if err = s.root.MkdirAll(dir, 0o755); err == nil {
				d, release, err = s.dir(dir)
			}
		}
		if err != nil {
			return nil, nil, nil, err
		}
		f, err := d.OpenFile(base, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return f, d, release, nil
		}
		release()
		if retried || !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil, err
		}
		// Not closed: other commits may be using it (the garbage
		// collector closes it).
		if s.dirs.CompareAndDelete(dir, d) {
			s.ndirs.Add(-1)
		}
		// Made anew: its entry, and maybe its parents', must be synced
		// again (syncObjectDir).
		s.w.synced.Delete(dir)
	}
}

// releaseDir is done with the upload's directory, once.
func (u *dirUpload) releaseDir() {
	if u.release != nil {
		u.release()
		u.release = nil
	}
}
