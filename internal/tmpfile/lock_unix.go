//go:build unix

package tmpfile

import (
	"errors"
	"os"
	"syscall"
)

// Lock takes f's advisory lock (flock, exclusive, without waiting): held
// until every descriptor of this open file is closed.
func Lock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB) }); err != nil {
		return err
	}
	if errors.Is(lerr, syscall.EWOULDBLOCK) {
		return ErrLocked
	}
	return lerr
}
