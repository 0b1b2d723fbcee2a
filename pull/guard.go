package pull

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/mirrorkit/mirror"
)

// GuardError is a connection the dial guard refused: the address actually
// dialled, after DNS, is not publicly routable (mirror.NonRoutable).
type GuardError struct {
	Addr  netip.Addr
	Block netip.Prefix
}

func (e *GuardError) Error() string {
	return fmt.Sprintf("dial guard: %s is in %s, which is not publicly routable; private origins are not allowed", e.Addr, e.Block)
}

// guardControl refuses, on the socket about to connect, any address in
// the engine's table of non-routable blocks. It judges the address the
// kernel will dial, so a name that resolves to 127.0.0.1 or
// 169.254.169.254 is refused whatever the name was.
func guardControl(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial guard: unexpected address %q", address)
	}
	if block, bad := mirror.NonRoutable(ap.Addr()); bad {
		return &GuardError{Addr: ap.Addr().Unmap(), Block: block}
	}
	return nil
}

// newTransport builds the transport origins are fetched with: no proxy
// from the environment (the guard must judge the origin, not a proxy), the
// dial guard unless private origins are allowed, the -resolve mappings,
// and no transparent decompression (the stored bytes are the origin's).
func (f *Fetcher) newTransport() *http.Transport {
	d := &net.Dialer{Timeout: f.dialTimeout(), KeepAlive: 30 * time.Second}
	if !f.AllowPrivateOrigins {
		d.ControlContext = guardControl
	}
	resolve := make(map[string]string, len(f.Resolve))
	for hostport, addr := range f.Resolve {
		if _, port, err := net.SplitHostPort(hostport); err == nil {
			resolve[hostport] = net.JoinHostPort(addr, port)
		}
	}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if to, ok := resolve[addr]; ok {
				addr = to
			}
			return d.DialContext(ctx, network, addr)
		},
		// Every origin request gets a connection of its own: net/http
		// replays a GET that failed on a reused connection, which would
		// ask an origin twice for one fetch.
		DisableKeepAlives:     true,
		TLSClientConfig:       f.TLSClientConfig,
		TLSHandshakeTimeout:   f.dialTimeout(),
		ResponseHeaderTimeout: f.headerTimeout(),
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
}
