package pull

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Moved from pull/guard_test.go: the guard refuses every non-routable
// address it is handed, whatever form it comes in.
func TestGuardControl(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1:80": true, "[::1]:443": true, "169.254.169.254:80": true, "[::ffff:169.254.169.254]:80": true,
		"10.1.2.3:8080": true, "[fd00::1]:80": true, "[2002:7f00:1::1]:80": true, "100.100.100.200:80": true,
		"8.8.8.8:53": false, "[2606:4700::1111]:443": false,
	} {
		err := guardControl(context.Background(), "tcp", addr, nil)
		var ge *GuardError
		assert.Equal(t, refused, errors.As(err, &ge), addr)
		if refused {
			assert.Equal(t, netip.MustParseAddrPort(addr).Addr().Unmap(), ge.Addr)
		}
	}
}
