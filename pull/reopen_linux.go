package pull

import (
	"os"
	"strconv"
)

// reopen opens the file f is open on again, read-only, through
// /proc/self/fd: a new file description, with an offset of its own,
// whatever f's name is now (a spool is renamed when it is committed).
// The open runs inside f's Control, which holds f's descriptor: a Close
// meanwhile (a failed fetch aborts its upload at once) can not hand the
// number to another file, whose bytes would then be sent.
func reopen(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var g *os.File
	var oerr error
	if err := rc.Control(func(fd uintptr) { g, oerr = os.Open("/proc/self/fd/" + strconv.FormatUint(uint64(fd), 10)) }); err != nil {
		return nil, err
	}
	return g, oerr
}
