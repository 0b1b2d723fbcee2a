//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package dirstore

import "os"

// syncFS does nothing here: no way to sync a filesystem is known.
func syncFS(*os.Root) error { return nil }
