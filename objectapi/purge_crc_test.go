package objectapi

import (
	"bytes"
	"context"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forgeCRC32 flips bits 0x20 of the 'A's between the markers of doc (each
// stays a letter, inside an XML comment) so that its CRC32 equals want:
// CRC32 is affine over GF(2), so 32 independent flips reach any value.
func forgeCRC32(t *testing.T, doc []byte, want uint32) []byte {
	t.Helper()
	base := crc32.ChecksumIEEE(doc)
	var pos []int
	var deltas []uint32
	for i, c := range doc {
		if c == 'A' {
			d := append([]byte(nil), doc...)
			d[i] ^= 0x20
			pos = append(pos, i)
			deltas = append(deltas, crc32.ChecksumIEEE(d)^base)
		}
	}
	// Gaussian elimination: each row a delta with the set of flips making it.
	type row struct {
		v     uint32
		flips []bool
	}
	rows := make([]row, len(deltas))
	for i := range deltas {
		rows[i] = row{deltas[i], make([]bool, len(deltas))}
		rows[i].flips[i] = true
	}
	var basis []row
	for _, r := range rows {
		for _, b := range basis {
			if r.v^b.v < r.v {
				r.v ^= b.v
				for j := range r.flips {
					r.flips[j] = r.flips[j] != b.flips[j]
				}
			}
		}
		if r.v != 0 {
			basis = append(basis, r)
			// keep basis sorted by leading bit, descending
			for k := len(basis) - 1; k > 0 && basis[k].v > basis[k-1].v; k-- {
				basis[k], basis[k-1] = basis[k-1], basis[k]
			}
		}
	}
	target := base ^ want
	sel := make([]bool, len(deltas))
	for _, b := range basis {
		if target^b.v < target {
			target ^= b.v
			for j := range sel {
				sel[j] = sel[j] != b.flips[j]
			}
		}
	}
	require.Zero(t, target, "no forgery found")
	out := append([]byte(nil), doc...)
	for j, s := range sel {
		if s {
			out[pos[j]] ^= 0x20
		}
	}
	require.Equal(t, want, crc32.ChecksumIEEE(out))
	return out
}

// A DeleteObjects signed with UNSIGNED-PAYLOAD and a signed
// x-amz-checksum-crc32 (as aws-sdk-go-v2 and aws-cli send it over HTTPS)
// has a body anyone can swap for another with the same CRC32: over plain
// HTTP it is refused; over HTTPS it is taken, and its signature is held
// to its body, so the captured request replayed with a forged body naming
// "victim" purges nothing (found in review).
func TestACRCSignedPurgeCanNotCarryAnotherBody(t *testing.T) {
	g := newPurgeGateway(t, stores(t)["dirstore"](t))
	o := versioned(t)
	g.rules("bkt", o.URL)
	for _, key := range []string{"victim", "k"} {
		code, _ := g.get("/bkt/" + key)
		require.Equal(t, 200, code)
	}
	tlsSrv := httptest.NewTLSServer(g.srv.Config.Handler)
	defer tlsSrv.Close()

	pad := strings.Repeat("A", 64)
	signedDoc := []byte(`<Delete><Object><Key>k</Key></Object><!--` + pad + `xxxxx--></Delete>`)
	forged := []byte(`<Delete><Object><Key>victim</Key></Object><!--` + pad + `--></Delete>`)
	require.Equal(t, len(signedDoc), len(forged))
	forged = forgeCRC32(t, forged, crc32.ChecksumIEEE(signedDoc))
	sum := crc32.NewIEEE()
	sum.Write(signedDoc)
	signed := func(base string) *http.Request {
		req, err := http.NewRequest("POST", base+"/bkt?delete", bytes.NewReader(signedDoc))
		require.NoError(t, err)
		req.Header.Set("X-Amz-Checksum-Crc32", b64(sum.Sum(nil)))
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"},
			req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()))
		require.Contains(t, req.Header.Get("Authorization"), "x-amz-checksum-crc32", "the checksum header is signed")
		return req
	}
	send := func(c *http.Client, req *http.Request, body []byte) (int, string) {
		req.Body, req.GetBody = io.NopCloser(bytes.NewReader(body)), nil
		resp, err := c.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}

	// Plain HTTP: refused, with either body.
	code, b := send(g.srv.Client(), signed(g.srv.URL), forged)
	assert.Equal(t, 400, code, b)
	assert.Contains(t, b, "AuthorizationHeaderMalformed")

	// HTTPS: the request as signed purges k; the same signature with the
	// forged body is refused.
	req := signed(tlsSrv.URL)
	code, b = send(tlsSrv.Client(), req, signedDoc)
	require.Equal(t, 200, code, b)
	assert.Contains(t, b, "<Key>k</Key>")
	code, b = send(tlsSrv.Client(), req, forged)
	assert.Equal(t, 403, code, b)
	assert.Contains(t, b, "AccessDenied")
	_, err := g.store.Open(context.Background(), "bkt", "victim")
	assert.NoError(t, err, "a body the key never signed purged nothing")
	code, _ = send(tlsSrv.Client(), req, signedDoc)
	assert.Equal(t, 200, code, "the same purge again is harmless")
}
