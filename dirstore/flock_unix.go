//go:build unix

package dirstore

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// flock takes or drops an advisory lock on f (flock(2): whole file, held
// by the open file, so two opens in one process exclude each other).
func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if lerr = syscall.Flock(int(fd), how); !errors.Is(lerr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	return lerr
}

// lockShared waits for a shared lock on f: an append to a key index
// (docs/SERVING.md §2, "The key index"). It does not poll: exclusive
// holders keep the lock for a moment, never for a scan.
func lockShared(f *os.File) error { return flock(f, syscall.LOCK_SH) }

// lockExclusive waits, polling, for the exclusive lock on f, or until ctx
// is done: another process's rebuild may hold it for a whole scan.
func lockExclusive(ctx context.Context, f *os.File) error {
	wait := time.Millisecond
	for {
		err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// unlock drops f's lock.
func unlock(f *os.File) error { return flock(f, syscall.LOCK_UN) }

// abandoned reports whether no process holds f's lock: a live file
// (live.go) whose owner died. The probe takes a shared lock, so two
// probes never make each other look alive; the owner's is exclusive.
func abandoned(f *os.File) bool {
	return flock(f, syscall.LOCK_SH|syscall.LOCK_NB) == nil
}
