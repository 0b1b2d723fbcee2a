package dirstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// statObject returns the identity of the object file name of the
// fan-out directory dir: one fstatat through the directory's cached
// handle, which is all a hit of a small object whose bytes the cache holds
// costs (metaCache). A missing file is fs.ErrNotExist.
func (s *Store) statObject(dir, name string) (fileID, error) {
	var st unix.Stat_t
	err := s.rd.inDir(s, dir, func(d *dirHandle) (err error) {
		st, err = d.statat(name[len(dir)+1:])
		return err
	})
	if err != nil {
		return fileID{}, &fs.PathError{Op: "fstatat", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fileID{}, fmt.Errorf("dirstore: %s is not a regular file", name)
	}
	return fileID{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(), known: true}, nil
}

// inDir runs op on the open handle of the fan-out directory dir. When op
// finds nothing (ENOENT) and the directory was removed since its handle
// was opened (and maybe made anew), the handle is dropped and op runs
// once more on a fresh one: reads through a removed directory would
// find nothing forever.
func (r *readPath) inDir(s *Store, dir string, op func(d *dirHandle) error) error {
	for retried := false; ; retried = true {
		d, done, err := r.dirFile(s, dir)
		if err != nil {
			return err
		}
		err = op(d)
		if err == syscall.ENOENT && !retried && d.removed() {
			done()
			r.forget(dir, d)
			continue
		}
		done()
		return err
	}
}

// statat returns the fstatat of file in the directory.
func (d *dirHandle) statat(file string) (unix.Stat_t, error) {
	op := statOps.Get().(*statOp)
	op.file, op.err = file, nil
	err := d.rc.Control(op.run)
	st, serr := op.st, op.err
	op.file = ""
	statOps.Put(op)
	if err != nil {
		return st, err
	}
	return st, serr
}

// statOp is one fstatat, pooled as openOp is.
type statOp struct {
	file string
	st   unix.Stat_t
	err  error
	run  func(dirfd uintptr)
}

var statOps = sync.Pool{New: func() any {
	op := new(statOp)
	op.run = func(dirfd uintptr) {
		op.err = ignoringEINTR(func() error {
			return unix.Fstatat(int(dirfd), op.file, &op.st, unix.AT_SYMLINK_NOFOLLOW)
		})
	}
	return op
}}

// openObject opens the object file name of the fan-out directory dir:
// one openat through the directory's cached handle (O_NOFOLLOW: the name
// is a hash, never a link the store made), and one fstat for its
// identity. os.NewFile, unlike os.Root's Open, does not try the file on
// the network poller (a regular file never is): that costs four fcntl and
// an epoll_ctl a hit.
func (s *Store) openObject(dir, name string) (*os.File, fileID, error) {
	var fd int
	err := s.rd.inDir(s, dir, func(d *dirHandle) (err error) {
		fd, err = d.openat(name[len(dir)+1:])
		return err
	})
	if err != nil {
		return nil, fileID{}, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	var st syscall.Stat_t
	if err := ignoringEINTR(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		syscall.Close(fd)
		return nil, fileID{}, &fs.PathError{Op: "fstat", Path: name, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, fileID{}, fmt.Errorf("dirstore: %s is not a regular file", name)
	}
	id := fileID{dev: uint64(st.Dev), ino: st.Ino, size: st.Size, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(), known: true}
	return os.NewFile(uintptr(fd), name), id, nil
}

// openat opens file in the directory for reading.
func (d *dirHandle) openat(file string) (int, error) {
	op := openOps.Get().(*openOp)
	op.file, op.fd, op.err = file, -1, nil
	// Control holds the directory open while the call runs: a Close
	// meanwhile can not hand its descriptor number to another file.
	err := d.rc.Control(op.run)
	fd, oerr := op.fd, op.err
	op.file = ""
	openOps.Put(op)
	if err != nil {
		return -1, err
	}
	return fd, oerr
}

// openOp is one openat, run by a directory's RawConn.Control; pooled with
// its function made once, so that a hit allocates no closure.
type openOp struct {
	file string
	fd   int
	err  error
	run  func(dirfd uintptr)
}

var openOps = sync.Pool{New: func() any {
	op := new(openOp)
	op.run = func(dirfd uintptr) {
		op.err = ignoringEINTR(func() (err error) {
			op.fd, err = syscall.Openat(int(dirfd), op.file, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
			return err
		})
	}
	return op
}}

// removed reports whether the directory was removed since it was opened.
func (d *dirHandle) removed() bool {
	st, err := d.f.Stat()
	if err != nil {
		return errors.Is(err, os.ErrClosed)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return sys.Nlink == 0
	}
	return false
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}
