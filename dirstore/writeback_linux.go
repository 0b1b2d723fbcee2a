package dirstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing [off, off+n) of f to
// the disk now, without waiting for it: sync_file_range(2) with
// SYNC_FILE_RANGE_WRITE. It only moves work earlier, so the commit's
// fsync, which still makes the data durable, finds most of it written;
// an error is ignored, as the fsync will meet it.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { _ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE) })
}
