package dirstore

import (
	"io/fs"
	"syscall"
	"time"
)

// lastUse is the later of a file's access and modification times: the
// best guess, after a restart, of when its object was last used.
func lastUse(fi fs.FileInfo) time.Time {
	t := fi.ModTime()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if at := time.Unix(st.Atim.Unix()); at.After(t) {
			t = at
		}
	}
	return t
}
