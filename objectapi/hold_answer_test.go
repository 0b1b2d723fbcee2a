package objectapi

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mirrorkit/mirror/pull"
)

type heldTestObject struct{ pull.Object }

type heldTestFile struct{ pull.Object }

func (heldTestFile) File() (*os.File, int64) { return nil, 0 }

// Only answers that leave in one write, or whose file net/http sends with
// sendfile, are held: a copied answer is never gathered in the held
// buffer for a client that may stop reading.
func TestHoldsAnswer(t *testing.T) {
	large := pull.ObjectInfo{Size: 1 << 20}
	encoded := pull.ObjectInfo{Size: 1 << 20, Header: http.Header{"Content-Encoding": {"gzip"}}}
	small := pull.ObjectInfo{Size: holdMax}
	get := func(rng string, secure bool) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/b/k", nil)
		if rng != "" {
			r.Header.Set("Range", rng)
		}
		if secure {
			r.TLS = &tls.ConnectionState{}
		}
		return r
	}
	for _, c := range []struct {
		name string
		r    *http.Request
		obj  pull.Object
		info pull.ObjectInfo
		want bool
	}{
		{"small, copied", get("", false), heldTestObject{}, small, true},
		{"small over TLS", get("", true), heldTestObject{}, small, true},
		{"a file, whole", get("", false), heldTestFile{}, large, true},
		{"a file, one range", get("bytes=10-99999", false), heldTestFile{}, large, true},
		{"a file, two ranges", get("bytes=0-9,100-199", false), heldTestFile{}, large, false},
		{"a file over TLS", get("", true), heldTestFile{}, large, false},
		{"a file with a Content-Encoding", get("", false), heldTestFile{}, encoded, false},
		{"not a file", get("", false), heldTestObject{}, large, false},
	} {
		assert.Equal(t, c.want, holdsAnswer(c.r, c.obj, c.info), c.name)
	}
}
