package mirror

import (
	"net/netip"
	"strings"
)

// nonRoutable is the table of docs/SEMANTICS.md §5 ("Private origins"):
// the address blocks an origin may only be in when private origins are
// allowed. It is exact on purpose: refuse what is in it, accept what is
// not. The dial guard of the serving layer judges every dialled address
// with this same table (NonRoutable).
var nonRoutable = func() []netip.Prefix {
	blocks := []string{
		"0.0.0.0/8",       // "this network"
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // shared address space (carrier-grade NAT)
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, cloud metadata
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // 6to4 relay anycast
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, broadcast included
		"::/96",           // unspecified, loopback, IPv4-compatible
		"64:ff9b::/96",    // NAT64
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard
		"2001::/23",       // Teredo and IETF protocol space
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4
		"3fff::/20",       // documentation
		"5f00::/16",       // SRv6 SIDs
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local (deprecated)
		"ff00::/8",        // multicast
	}
	out := make([]netip.Prefix, len(blocks))
	for i, b := range blocks {
		out[i] = netip.MustParsePrefix(b)
	}
	return out
}()

// NonRoutable reports whether addr may not be an origin unless private
// origins are allowed, and the block of docs/SEMANTICS.md §5 it is in:
// loopback, private, link-local (cloud metadata), shared, documentation,
// benchmarking, multicast, reserved, NAT64, 6to4, Teredo and the other
// special-purpose ranges. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
// judged as its IPv4 address; an invalid addr is not routable.
//
// The engine applies it to origin hosts written as addresses; code that
// dials an origin applies it to every address it is about to connect to,
// after DNS, so that a name resolving to such an address is refused too.
func NonRoutable(addr netip.Addr) (block netip.Prefix, ok bool) {
	if !addr.IsValid() {
		return netip.Prefix{}, true
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range nonRoutable {
		if p.Contains(addr) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// localNames are host names that always mean this machine or its own
// network, whatever a resolver says.
var (
	localNames        = []string{"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
	localNameSuffixes = []string{".localhost", ".local", ".internal", ".home.arpa"}
)

// isLocalName reports whether a lower-cased DNS name is one of the names
// of docs/SEMANTICS.md §5 that is never a public origin
// (metadata.google.internal, printer.local, …).
func isLocalName(host string) bool {
	for _, n := range localNames {
		if host == n {
			return true
		}
	}
	for _, s := range localNameSuffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}
