//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package dirstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS syncs every filesystem, root's among them: these systems have
// no syncfs(2), and sync(2) is the next best.
func syncFS(*os.Root) error { return unix.Sync() }
