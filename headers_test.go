package mirror

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeaderPassAndSet(t *testing.T) {
	tests := []struct {
		name   string
		pass   []string
		ignore []string
		custom []Header
		req    http.Header
		want   http.Header
	}{
		{"nothing configured passes nothing", nil, nil, nil,
			http.Header{"Accept": {"a"}}, nil},
		{"named headers only, any case", []string{"accept", "X-MY-HEADER"}, nil, nil,
			http.Header{"Accept": {"a"}, "x-my-header": {"m"}, "User-Agent": {"u"}},
			http.Header{"Accept": {"a"}, "X-My-Header": {"m"}}},
		{"pass all minus never-forwarded", []string{"*"}, nil, nil,
			http.Header{"Accept": {"a"}, "Host": {"h"}, "Authorization": {"x"}, "Cookie": {"c"},
				"X-Forwarded-For": {"1"}, "Range": {"r"}, "If-None-Match": {"e"}, "X-Amz-Date": {"d"},
				"Oss-Foo": {"o"}, "x-ms-blob": {"b"}, "X_Under": {"u"}, "Bad Name": {"b"}, "Te": {"t"},
				"X-Http-Method-Override": {"DELETE"}, "Content-Length": {"1"}},
			http.Header{"Accept": {"a"}}},
		{"ignore beats pass", []string{"*"}, []string{"x-debug"}, nil,
			http.Header{"X-Debug": {"1"}, "Accept": {"a"}},
			http.Header{"Accept": {"a"}}},
		{"ignore beats a named pass", []string{"X-A"}, []string{"X-A"}, nil,
			http.Header{"X-A": {"1"}}, nil},
		{"set beats pass and ignore", []string{"*"}, []string{"X-From"}, []Header{{"x-from", "mirror"}},
			http.Header{"X-From": {"client"}},
			http.Header{"X-From": {"mirror"}}},
		{"Connection lists more hop-by-hop names", []string{"*"}, nil, nil,
			http.Header{"Connection": {"close, X-Hop", " x-other "}, "X-Hop": {"h"}, "X-Other": {"o"}, "Accept": {"a"}},
			http.Header{"Accept": {"a"}}},
		// Revision 3, item 8 (docs/SEMANTICS.md §6): tokens fold ASCII case only, past 8 tokens too. The
		// Kelvin sign is not a "k".
		{"Connection tokens fold ASCII only, few", []string{"*"}, nil, nil,
			http.Header{"Connection": {"x-\u212aeep"}, "X-Keep": {"k"}},
			http.Header{"X-Keep": {"k"}}},
		{"Connection tokens fold ASCII only, many", []string{"*"}, nil, nil,
			http.Header{"Connection": {"a1,a2,a3,a4,a5,a6,a7,a8,a9,x-\u212aeep"}, "X-Keep": {"k"}, "A9": {"9"}},
			http.Header{"X-Keep": {"k"}}},
		{"new never-forwarded names", []string{"*"}, nil, nil,
			http.Header{"Proxy": {"http://evil:8080"}, "X-Forwarded-Scheme": {"http"}, "X-Original-Host": {"evil"},
				"X-Accel-Redirect": {"/internal"}, "Cf-Connecting-Ip": {"1.2.3.4"}, "Client-Ip": {"1"}, "X-Cluster-Client-Ip": {"1"},
				"X-Envoy-Original-Path": {"/admin"}, "X-Sendfile": {"/etc/passwd"}, "Http2-Settings": {"AAMAAABkAAQAAP__"},
				"X-Forwarded-Ssl": {"on"}, "X-Original-Uri": {"/x"}, "Accept": {"a"}},
			http.Header{"Accept": {"a"}}},
		{"a long Connection list", []string{"*"}, nil, nil,
			http.Header{"Connection": {"a1,a2,a3,a4,a5,a6,a7,a8", "x-hop-9, X-HOP-10"}, "X-Hop-9": {"h"}, "x-hop-10": {"h"},
				"A1": {"1"}, "A8": {"8"}, "Accept": {"a"}},
			http.Header{"Accept": {"a"}}},
		{"bad values are dropped alone", []string{"*"}, nil, nil,
			http.Header{"X-Ok": {"fine", "bad\x01", "tab\tok", "del\x7f"}, "X-Ctl": {"\r\n"}},
			http.Header{"X-Ok": {"fine", "tab\tok"}}},
		{"names differing in case merge in byte order", []string{"*"}, nil, nil,
			http.Header{"x-a": {"3"}, "X-A": {"1"}, "X-a": {"2"}},
			http.Header{"X-A": {"1", "2", "3"}}},
		{"empty value lists are absent", []string{"*"}, nil, []Header{{"X-C", "c"}},
			http.Header{"X-E": {}},
			http.Header{"X-C": {"c"}}},
		{"credentials may be configured", nil, nil, []Header{{"authorization", "Bearer t"}, {"Cookie", "s=1"}},
			http.Header{"Authorization": {"client"}},
			http.Header{"Authorization": {"Bearer t"}, "Cookie": {"s=1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fetch("*")
			r.PassHeaders, r.IgnoreHeaders, r.CustomHeaders = tt.pass, tt.ignore, tt.custom
			eng := mustCompile(t, r)
			d, err := eng.Resolve(&Request{Key: "k", Header: tt.req})
			require.NoError(t, err)
			assert.Equal(t, tt.want, d.Header)
		})
	}
}

func TestHeaderCompileErrors(t *testing.T) {
	tests := []struct {
		name  string
		rule  func(r *Rule)
		field string
	}{
		{"pass not a token", func(r *Rule) { r.PassHeaders = []string{"X A"} }, "passHeaders[0]"},
		{"pass underscore", func(r *Rule) { r.PassHeaders = []string{"ok", "X_A"} }, "passHeaders[1]"},
		{"pass star with others", func(r *Rule) { r.PassHeaders = []string{"*", "X-A"} }, "passHeaders[0]"},
		{"pass never-forwarded", func(r *Rule) { r.PassHeaders = []string{"Authorization"} }, "passHeaders[0]"},
		{"pass hop-by-hop", func(r *Rule) { r.PassHeaders = []string{"connection"} }, "passHeaders[0]"},
		{"pass vendor", func(r *Rule) { r.PassHeaders = []string{"X-Bce-Acl"} }, "passHeaders[0]"},
		{"ignore not a token", func(r *Rule) { r.IgnoreHeaders = []string{"a:b"} }, "ignoreHeaders[0]"},
		{"ignore star", func(r *Rule) { r.IgnoreHeaders = []string{"*"} }, "ignoreHeaders[0]"},
		{"custom name missing", func(r *Rule) { r.CustomHeaders = []Header{{"", "v"}} }, "customHeaders[0].headerName"},
		{"custom underscore", func(r *Rule) { r.CustomHeaders = []Header{{"X_A", "v"}} }, "customHeaders[0].headerName"},
		{"custom Host", func(r *Rule) { r.CustomHeaders = []Header{{"host", "evil"}} }, "customHeaders[0].headerName"},
		{"custom Via", func(r *Rule) { r.CustomHeaders = []Header{{"via", "1.1 x"}} }, "customHeaders[0].headerName"},
		{"custom Range", func(r *Rule) { r.CustomHeaders = []Header{{"Range", "bytes=0-1"}} }, "customHeaders[0].headerName"},
		{"custom hop-by-hop", func(r *Rule) { r.CustomHeaders = []Header{{"Upgrade", "h2c"}} }, "customHeaders[0].headerName"},
		{"pass Via", func(r *Rule) { r.PassHeaders = []string{"Via"} }, "passHeaders[0]"},
		{"pass Range", func(r *Rule) { r.PassHeaders = []string{"range"} }, "passHeaders[0]"},
		{"vendor credential to another backup", func(r *Rule) {
			r.BackSourceURL = "http://other.example.com/base"
			r.CustomHeaders = []Header{{"X-Amz-Security-Token", "t"}}
		}, "customHeaders[0].headerName"},
		{"Cloudflare Access secret to another backup", func(r *Rule) {
			r.BackSourceURL = "http://other.example.com/base"
			r.CustomHeaders = []Header{{"Cf-Access-Client-Secret", "t"}}
		}, "customHeaders[0].headerName"},
		{"custom twice", func(r *Rule) { r.CustomHeaders = []Header{{"X-A", "1"}, {"x-a", "2"}} }, "customHeaders[1].headerName"},
		{"custom CRLF", func(r *Rule) { r.CustomHeaders = []Header{{"X-A", "v\r\nX-B: 1"}} }, "customHeaders[0].headerValue"},
		{"custom NUL", func(r *Rule) { r.CustomHeaders = []Header{{"X-A", "v\x00"}} }, "customHeaders[0].headerValue"},
		{"custom leading space", func(r *Rule) { r.CustomHeaders = []Header{{"X-A", " v"}} }, "customHeaders[0].headerValue"},
		{"custom trailing tab", func(r *Rule) { r.CustomHeaders = []Header{{"X-A", "v\t"}} }, "customHeaders[0].headerValue"},
		{"custom long", func(r *Rule) { r.CustomHeaders = []Header{{"X-A", strings.Repeat("v", 1025)}} }, "customHeaders[0].headerValue"},
		{"credential to another backup host", func(r *Rule) {
			r.BackSourceURL = "http://other.example.com/base"
			r.CustomHeaders = []Header{{"Authorization", "t"}}
		}, "customHeaders[0].headerName"},
		{"credential to another backup scheme", func(r *Rule) {
			r.BackSourceURL = "https://o.example.com/base"
			r.CustomHeaders = []Header{{"X-Api-Key", "t"}}
		}, "customHeaders[0].headerName"},
		{"credential to another backup port", func(r *Rule) {
			r.BackSourceURL = "http://o.example.com:8080/"
			r.CustomHeaders = []Header{{"Cookie", "t"}}
		}, "customHeaders[0].headerName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fetch("*")
			tt.rule(&r)
			_, err := Compile([]Rule{r})
			require.Error(t, err)
			assert.Equal(t, []string{"rules[0]." + tt.field}, problemPaths(t, err))
		})
	}
	// Revision 3, item 11 (docs/SEMANTICS.md §6): a client claim may be named in passHeaders (it has no
	// effect) and set; credentials and vendor headers may be set.
	r := fetch("*")
	r.PassHeaders = []string{"X-Forwarded-For", "Cf-Ipcountry", "Proxy", "X-Accel-Redirect", "Accept"}
	r.CustomHeaders = []Header{{"X-Forwarded-Proto", "https"}, {"X-Amz-Date", "d"}, {"Proxy", "none"},
		{"X-Original-Host", "o"}, {"Cf-Access-Client-Id", "id"}, {"X-Bce-Security-Token", "t"}}
	eng := mustCompile(t, r)
	d, err := eng.Resolve(&Request{Key: "k", Header: http.Header{"X-Forwarded-For": {"1.2.3.4"}, "Cf-Ipcountry": {"CN"},
		"Proxy": {"http://evil"}, "X-Accel-Redirect": {"/secret"}, "Accept": {"a"}, "X-Forwarded-Proto": {"http"}}})
	require.NoError(t, err)
	assert.Equal(t, http.Header{"Accept": {"a"}, "X-Forwarded-Proto": {"https"}, "X-Amz-Date": {"d"}, "Proxy": {"none"},
		"X-Original-Host": {"o"}, "Cf-Access-Client-Id": {"id"}, "X-Bce-Security-Token": {"t"}}, d.Header)

	// The same party on another path, or the default port spelled out,
	// may share a credential.
	r = fetch("*")
	r.BackSourceURL = "http://O.example.com:80/other"
	r.CustomHeaders = []Header{{"Authorization", "t"}, {"X-Tab", "a\tb"}}
	_, err = Compile([]Rule{r})
	assert.NoError(t, err)
}
