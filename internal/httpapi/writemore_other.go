//go:build !linux

package httpapi

import "net"

// writeMore writes b to conn (MSG_MORE is Linux's).
func writeMore(conn net.Conn, b []byte) error {
	_, err := conn.Write(b)
	return err
}
