package mirror

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An Origin's parts are pieces of the URL the engine wrote; they put it
// back together exactly.
func TestDecisionOrigins(t *testing.T) {
	r := Rule{Mode: ModeFetch, SourceURL: "HTTPS://Img.Example.com:8443/base dir", BackSourceURL: "bos://bj.bcebos.com/src-bucket/mirror/",
		Resource: "*", PassQueryString: true}
	r.SourceURL = strings.ReplaceAll(r.SourceURL, " ", "%20")
	eng := mustCompile(t, r)
	d, err := eng.Resolve(&Request{Key: "a b/ü+x", RawQuery: "w=1&X-Amz-Signature=s"})
	require.NoError(t, err)
	require.Len(t, d.Origins, 2)
	primary, backup := d.Origins[0], d.Origins[1]
	assert.Equal(t, Origin{Scheme: "https", Host: "img.example.com", Port: "8443", Path: "/base%20dir/a%20b/%C3%BC%2Bx",
		RawQuery: "w=1", url: d.URLs[0]}, primary)
	assert.Equal(t, "img.example.com:8443", primary.Authority())
	assert.Equal(t, Origin{Scheme: "bos", Host: "bj.bcebos.com", Path: "/src-bucket/mirror/a%20b/%C3%BC%2Bx",
		Bucket: "src-bucket", Key: "mirror/a b/ü+x", url: d.URLs[1]}, backup)
	for i, o := range d.Origins {
		u := o.Scheme + "://" + o.Authority() + o.Path
		if o.RawQuery != "" {
			u += "?" + o.RawQuery
		}
		assert.Equal(t, d.URLs[i], u)
		assert.Equal(t, d.URLs[i], o.String())
	}

	// IPv6 hosts keep their brackets; a bos:// origin at the bucket's root
	// has the origin key as its object key.
	eng = mustCompile(t, Rule{Mode: ModeFetch, SourceURL: "http://[2606:4700::1111]:8080", BackSourceURL: "bos://su.bcebos.com/b-1",
		Resource: "k/*", Prefix: "p/"})
	d, err = eng.Resolve(&Request{Key: "k/x"})
	require.NoError(t, err)
	assert.Equal(t, "[2606:4700::1111]", d.Origins[0].Host)
	assert.Equal(t, "[2606:4700::1111]:8080", d.Origins[0].Authority())
	assert.Equal(t, "b-1", d.Origins[1].Bucket)
	assert.Equal(t, "p/k/x", d.Origins[1].Key)
	assert.Equal(t, "/b-1/p/k/x", d.Origins[1].Path)
}

// NewRequest sends the bytes the engine wrote: the origin sees exactly
// Path and RawQuery on its request line, whatever the key holds.
func TestOriginNewRequestSendsExactBytes(t *testing.T) {
	var got []string
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Host+" "+r.RequestURI)
	}))
	defer origin.Close()
	eng, err := Compiler{AllowPrivateOrigins: true}.Compile([]Rule{{Mode: ModeFetch, SourceURL: origin.URL + "/base%2Fdir",
		Resource: "*", PassQueryString: true}})
	require.NoError(t, err)
	keys := []string{"a b", "a+b", "%2F", "%252e", "//double", "/lead", "semi;colon", "é/日本", "a?b#c", "[x]", "!$&'()*,=:@",
		"a%b", "~tilde", "a\\b", "..a", "x/.well-known"}
	var want []string
	for _, k := range keys {
		d, err := eng.Resolve(&Request{Key: k, RawQuery: "a=1&b=%2F&c=/x?y"})
		require.NoError(t, err, k)
		o := d.Origins[0]
		req, err := o.NewRequest(context.Background())
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err, k)
		resp.Body.Close()
		want = append(want, o.Authority()+" "+o.Path+"?"+o.RawQuery)
	}
	assert.Equal(t, want, got)

	// A bos:// origin becomes an https request to its endpoint, to be signed.
	eng = mustCompile(t, Rule{Mode: ModeFetch, SourceURL: "bos://bj.bcebos.com/bucket/dir", Resource: "*"})
	d, err := eng.Resolve(&Request{Key: "a b/c"})
	require.NoError(t, err)
	req, err := d.Origins[0].NewRequest(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "https://bj.bcebos.com/bucket/dir/a%20b/c", req.URL.String())
	assert.Equal(t, "/bucket/dir/a%20b/c", req.URL.RequestURI())
	assert.Equal(t, "bj.bcebos.com", req.Host)
	assert.Equal(t, http.MethodGet, req.Method)
}

func TestNonRoutable(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1": "127.0.0.0/8", "::ffff:169.254.169.254": "169.254.0.0/16", "::1": "::/96",
		"fe80::1%eth0": "fe80::/10", "100.64.0.1": "100.64.0.0/10", "2002:7f00:1::1": "2002::/16",
		"8.8.8.8": "", "2606:4700::1111": "", "::ffff:8.8.8.8": "",
	} {
		block, bad := NonRoutable(netip.MustParseAddr(addr))
		assert.Equal(t, want != "", bad, addr)
		if want != "" {
			assert.Equal(t, want, block.String(), addr)
		}
	}
	_, bad := NonRoutable(netip.Addr{})
	assert.True(t, bad, "an invalid address is not routable")
}
