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

// resolveToCases cover both modes, a backup, a bos:// backup, passed and
// set headers, a query and the errors.
func resolveToCases(t *testing.T) (*Engine, []*Request) {
	withHeaders := fetch("assets/*")
	withHeaders.BackSourceURL = "https://backup.example.com/b"
	withHeaders.PassQueryString, withHeaders.StorageClass = true, "cold"
	withHeaders.PassHeaders = []string{"Accept", "X-A"}
	withHeaders.CustomHeaders = []Header{{"X-From", "mirror"}, {"Cache-Control", "no-cache"}}
	all := fetch("all/*")
	all.PassHeaders = []string{"*"}
	all.BackSourceURL = "bos://bj.bcebos.com/src/pre/"
	redirect := Rule{Mode: ModeRedirect, SourceURL: "https://new.example.com", Resource: "old/*", RedirectCode: 301, PassQueryString: true}
	eng := mustCompile(t, withHeaders, all, redirect)
	h := http.Header{"Accept": {"text/css"}, "x-a": {"2"}, "X-A": {"1", "3"}, "Cookie": {"c"}, "Connection": {"x-hop"},
		"X-Hop": {"h"}, "User-Agent": {"u"}}
	return eng, []*Request{
		{Key: "assets/css/app.css", RawQuery: "v=1&Signature=s", Header: h},
		{Key: "all/a b/ü.png", RawQuery: "v=1", Header: h},
		{Key: "old/page.html", RawQuery: "q=1", Header: h},
		{Key: "assets/x", Header: nil},
		{Key: "nothing/here", Header: h},
		{Key: "assets/../x", Header: h},
		{Key: "", Header: h},
	}
}

// ResolveTo gives Resolve's decision, with the headers as Fields, into a
// decision that held another request's.
func TestResolveToAgreesWithResolve(t *testing.T) {
	eng, reqs := resolveToCases(t)
	var d Decision
	for round := 0; round < 2; round++ {
		for _, req := range reqs {
			want, werr := eng.Resolve(req)
			err := eng.ResolveTo(&d, req)
			if werr != nil {
				require.Error(t, err, req.Key)
				assert.Equal(t, werr.Error(), err.Error())
				assert.Equal(t, -1, d.Rule)
				assert.Empty(t, d.URLs)
				assert.Empty(t, d.Fields)
				continue
			}
			require.NoError(t, err, req.Key)
			assert.Nil(t, d.Header)
			assert.Equal(t, want.Header, d.HeaderMap(), req.Key)
			got := d
			got.Header, got.Fields, got.buf = want.Header, nil, nil
			assert.Equal(t, *want, got, req.Key)
		}
	}
}

func TestResolveToFields(t *testing.T) {
	eng, reqs := resolveToCases(t)
	var d Decision
	require.NoError(t, eng.ResolveTo(&d, reqs[0]))
	assert.Equal(t, []Header{{"Accept", "text/css"}, {"Cache-Control", "no-cache"}, {"X-A", "1"}, {"X-A", "3"}, {"X-A", "2"},
		{"X-From", "mirror"}}, d.Fields, "by name, values as Header holds them, set headers merged in")
	require.NoError(t, eng.ResolveTo(&d, reqs[2]))
	assert.Empty(t, d.Fields, "a redirect sends no headers")
	assert.Nil(t, d.HeaderMap())
}

// The reuse path allocates nothing once its slices have grown, whatever
// the decision: with headers, a bos:// backup, a redirect, no rule. (The
// header names are canonical, as net/http's server gives them: a name
// that is not is canonicalised into a new string. A refused key
// allocates its error.)
func TestResolveToAllocatesNothing(t *testing.T) {
	eng, reqs := resolveToCases(t)
	h := http.Header{"Accept": {"text/css"}, "X-A": {"1", "3"}, "Cookie": {"c"}, "Connection": {"x-hop"},
		"X-Hop": {"h"}, "User-Agent": {"u"}}
	var d Decision
	for _, req := range reqs[:5] {
		req.Header = h
		_ = eng.ResolveTo(&d, req)
	}
	for _, req := range reqs[:5] {
		assert.Zero(t, testing.AllocsPerRun(100, func() { _ = eng.ResolveTo(&d, req) }), req.Key)
	}
}

// The strings of a reused decision are views of its buffer: the next
// ResolveTo overwrites them, as its doc says, and a clone keeps them.
func TestResolveToReusesItsBuffer(t *testing.T) {
	eng, reqs := resolveToCases(t)
	var d Decision
	require.NoError(t, eng.ResolveTo(&d, reqs[0]))
	view, kept := d.URLs[0], strings.Clone(d.URLs[0])
	require.NoError(t, eng.ResolveTo(&d, reqs[3]))
	assert.Equal(t, "http://o.example.com/base/assets/x", d.URLs[0])
	assert.NotEqual(t, kept, view, "the old view now shows the new bytes")
	assert.Equal(t, "http://o.example.com/base/assets/css/app.css?v=1", kept)
}

// Resolve allocates at most 4 times: the decision with its slices and
// first header values, the URL text, and the header map with its group.
func TestResolveAllocations(t *testing.T) {
	eng, reqs := resolveToCases(t)
	for _, req := range reqs[:3] {
		req.Header = http.Header{"Accept": {"text/css"}, "X-A": {"1", "3"}, "User-Agent": {"u"}}
		assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _, _ = eng.Resolve(req) }), 4.0, req.Key)
	}
}
