//go:build !linux

package dirstore

import (
	"io/fs"
	"time"
)

// lastUse is a file's modification time: its commit (the access time is
// read on Linux only).
func lastUse(fi fs.FileInfo) time.Time { return fi.ModTime() }
