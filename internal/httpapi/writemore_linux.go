package httpapi

import (
	"io"
	"net"
	"syscall"
)

// writeMore writes b to conn with MSG_MORE: the kernel holds a partial
// segment for what the caller sends next (a file, with sendfile(2)). A
// connection that is not a plain socket is written as usual.
func writeMore(conn net.Conn, b []byte) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		_, err := conn.Write(b)
		return err
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	// RawConn.Write waits for the socket to take more (and for the
	// connection's write deadline) whenever the callback returns false.
	err = raw.Write(func(fd uintptr) bool {
		for len(b) > 0 {
			n, err := syscall.SendmsgN(int(fd), b, nil, nil, syscall.MSG_MORE)
			if err == syscall.EAGAIN {
				return false
			}
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				werr = err
				return true
			}
			if n == 0 {
				werr = io.ErrShortWrite
				return true
			}
			b = b[n:]
		}
		return true
	})
	if err != nil {
		return err
	}
	return werr
}
