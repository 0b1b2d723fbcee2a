package mirror

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustCompile(t testing.TB, rules ...Rule) *Engine {
	t.Helper()
	eng, err := Compile(rules)
	require.NoError(t, err)
	return eng
}

func fetch(resource string) Rule {
	return Rule{Mode: ModeFetch, SourceURL: "http://o.example.com/base", Resource: resource}
}

func TestOriginKey(t *testing.T) {
	tests := []struct {
		name string
		rule func(r *Rule)
		key  string
		url  string // the primary URL, or the error class
		err  error
	}{
		{"v1 keeps the key", func(r *Rule) {}, "img/a.png", "http://o.example.com/base/img/a.png", nil},
		{"prefix and suffix", func(r *Rule) { r.Resource = "*"; r.Prefix = "p/"; r.Suffix = ".bak" }, "x.txt", "http://o.example.com/base/p/x.txt.bak", nil},
		{"fixedKey wins", func(r *Rule) {
			r.FixedKey = "folder1/404.jpeg"
			r.Prefix = "p"
			r.Version = "v2"
			r.PrefixReplace = "z"
		}, "img/a.png", "http://o.example.com/base/folder1/404.jpeg", nil},
		{"v2 replace", func(r *Rule) { r.Resource = "path1/path2/*"; r.Version = "v2"; r.PrefixReplace = "a/b/c" }, "path1/path2/objectname", "http://o.example.com/base/a/b/c/objectname", nil},
		{"v2 replace without slash in resource", func(r *Rule) { r.Resource = "path1/path2*"; r.Version = "v2"; r.PrefixReplace = "a/b/c" }, "path1/path2/objectname", "http://o.example.com/base/a/b/c/objectname", nil},
		{"v2 crop", func(r *Rule) { r.Resource = "path1/path2/*"; r.Version = "v2" }, "path1/path2/objectname", "http://o.example.com/base/objectname", nil},
		{"v2 crop only one slash", func(r *Rule) { r.Resource = "p*"; r.Version = "v2" }, "p//x", "http://o.example.com/base//x", nil},
		{"v2 replace ending in slash", func(r *Rule) { r.Resource = "t/*"; r.Version = "v2"; r.PrefixReplace = "r/" }, "t/x", "http://o.example.com/base/r/x", nil},
		{"v2 replace and empty rest", func(r *Rule) { r.Resource = "t/*"; r.Version = "v2"; r.PrefixReplace = "r" }, "t/", "http://o.example.com/base/r", nil},
		{"v2 crop to nothing", func(r *Rule) { r.Resource = "t/*"; r.Version = "v2" }, "t/", "", ErrUnsafeKey},
		{"v2 crop exact resource", func(r *Rule) { r.Resource = "robots.txt"; r.Version = "v2"; r.Suffix = ".old" }, "robots.txt", "http://o.example.com/base/.old", nil},
		{"v2 glob literal prefix", func(r *Rule) {
			r.Resource = "img/*.{png,jpg}"
			r.ResourceSyntax = "glob"
			r.Version = "v2"
			r.PrefixReplace = "pics"
		}, "img/a.png", "http://o.example.com/base/pics/a.png", nil},
		{"v2 multi star literal prefix", func(r *Rule) { r.Resource = "u/*/x/*"; r.Version = "v2"; r.PrefixReplace = "users" }, "u/1/x/y", "http://o.example.com/base/users/1/x/y", nil},
		{"v1 ignores prefixReplace", func(r *Rule) { r.Resource = "d/*"; r.Version = "v1"; r.PrefixReplace = "z" }, "d/x", "http://o.example.com/base/d/x", nil},
		{"prefix makes a dot segment", func(r *Rule) { r.Resource = "*"; r.Prefix = "." }, "/x", "", ErrUnsafeKey},
		{"suffix makes a dot segment", func(r *Rule) { r.Resource = "*"; r.Suffix = "." }, "a/.", "", ErrUnsafeKey},
		{"replace and rest make a dot segment", func(r *Rule) { r.Resource = "a*"; r.Version = "v2"; r.PrefixReplace = "x/." }, "a.", "", ErrUnsafeKey},
		{"prefix and key make three dots", func(r *Rule) { r.Resource = "*"; r.Prefix = "." }, "..", "", ErrUnsafeKey},
		{"prefix and key make a dotted name", func(r *Rule) { r.Resource = "*"; r.Prefix = "." }, ".x", "http://o.example.com/base/..x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fetch("img/*")
			tt.rule(&r)
			eng := mustCompile(t, r)
			d, err := eng.Resolve(&Request{Key: tt.key})
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				assert.Nil(t, d)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{tt.url}, d.URLs)
		})
	}
}

func TestKeySafety(t *testing.T) {
	eng := mustCompile(t, fetch("*"))
	tests := []struct {
		key string
		url string
		err error
	}{
		{"", "", ErrInvalidKey},
		{strings.Repeat("k", 1025), "", ErrInvalidKey},
		{"a\x00b", "", ErrInvalidKey},
		{"a\tb", "", ErrInvalidKey},
		{"a\rb", "", ErrInvalidKey},
		{"a\x7fb", "", ErrInvalidKey},
		{"a\xffb", "", ErrInvalidKey},
		{"..", "", ErrUnsafeKey},
		{".", "", ErrUnsafeKey},
		{"../x", "", ErrUnsafeKey},
		{"a/./b", "", ErrUnsafeKey},
		{"a/..", "", ErrUnsafeKey},
		{`a\..\b`, "", ErrUnsafeKey},
		{`..\`, "", ErrUnsafeKey},
		{"a/...", "", ErrUnsafeKey},
		{" .. ", "", ErrUnsafeKey},
		{".. /x", "", ErrUnsafeKey},
		{"\uff0e\uff0e/x", "", ErrUnsafeKey},
		{"a/\u2025/b", "", ErrUnsafeKey},
		{"a\ufe68..\ufe68b", "", ErrUnsafeKey},
		{"a..b/c", "/base/a..b/c", nil},
		{"a/ /b", "/base/a/%20/b", nil},
		{"\u2025x/y", "/base/%E2%80%A5x/y", nil},
		{".hidden", "/base/.hidden", nil},
		{"%2e%2e/x", "/base/%252e%252e/x", nil},
		{".%2e/x", "/base/.%252e/x", nil},
		{"a?b#c", "/base/a%3Fb%23c", nil},
		{"é/日本", "/base/%C3%A9/%E6%97%A5%E6%9C%AC", nil},
		{"//evil.example/x", "/base///evil.example/x", nil},
		{"@evil.example", "/base/%40evil.example", nil},
		{strings.Repeat("k", 1024), "/base/" + strings.Repeat("k", 1024), nil},
	}
	for _, tt := range tests {
		d, err := eng.Resolve(&Request{Key: tt.key})
		if tt.err != nil {
			assert.ErrorIs(t, err, tt.err, "key %q", tt.key)
			continue
		}
		if assert.NoError(t, err, "key %q", tt.key) {
			assert.Equal(t, "http://o.example.com"+tt.url, d.URLs[0], "key %q", tt.key)
		}
	}
}

func TestEncodingKeepsOnlyUnreserved(t *testing.T) {
	const keep = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/"
	for c := 0; c < 256; c++ {
		got := string(appendEncoded(nil, string([]byte{byte(c)})))
		if strings.IndexByte(keep, byte(c)) >= 0 {
			assert.Equal(t, string([]byte{byte(c)}), got)
		} else {
			assert.Equal(t, "%"+strings.ToUpper(hex.EncodeToString([]byte{byte(c)})), got)
		}
	}
	assert.Equal(t, "%20%2B%25%3F%23%5C%3A%40", string(appendEncoded(nil, ` +%?#\:@`)))
	assert.Equal(t, "%C3%A9", string(appendEncoded(nil, "é")))
}

func TestQuery(t *testing.T) {
	pass := fetch("*")
	pass.PassQueryString = true
	pass.BackSourceURL = "bos://bj.bcebos.com/bucket"
	eng := mustCompile(t, pass)
	tests := []struct {
		query string
		want  string // "" for no query; "!" for InvalidQuery
	}{
		{"", ""},
		{"b=2&a=1&a=0", "?b=2&a=1&a=0"},
		{"&&a=1&&", "?a=1"},
		{"flag", "?flag"},
		{"a=%2F&c", "?a=%2F&c"},
		{"q=%E4%B8%AD&r=/x?y:z@w!$'()*+,", "?q=%E4%B8%AD&r=/x?y:z@w!$'()*+,"},
		{"X-Amz-Credential=c&X-Amz-Signature=s", ""},
		{"x%2Damz-date=1&keep=1", "?keep=1"},
		{"%41uthorization=x&keep=1", "?keep=1"},
		{"Signature=s&SIGNATURE=t&signature2=u", "?signature2=u"},
		{"OSSAccessKeyId=i&Expires=1&security-token=t&x-oss-process=p", "?Expires=1"},
		{"q-sign-algorithm=sha1&q-ak=a&q-sign-time=1&q-key-time=1&q-header-list=&q-url-param-list=&q-signature=s&v=1", "?v=1"},
		{"GoogleAccessId=g&x-goog-signature=s&X-Ms-Date=d&x-bce-security-token=t&x-cos-x=1&x-obs-x=1&x-tos-x=1&x-qs-x=1&AccessKeyId=1&access_key_id=2&AWSAccessKeyId=3&ok", "?ok"},
		{"x-amz-" + strings.Repeat("a", 100) + "=1&b", "?b"},
		{"a=1;b=2", "!"},
		{"a=1 2", "!"},
		{"a=%zz", "!"},
		{"a=%2", "!"},
		{"a=#", "!"},
		{"a=\"", "!"},
		{"a=中", "!"},
		{"a=\x00", "!"},
		{"a=`", "!"},
		{strings.Repeat("a&", 1000), "?" + strings.TrimSuffix(strings.Repeat("a&", 1000), "&")},
		{strings.Repeat("a&", 1001), "!"},
		{strings.Repeat("&", 5000) + "a", "?a"},
		{strings.Repeat("a", 8192), "?" + strings.Repeat("a", 8192)},
		{strings.Repeat("a", 8193), "!"},
	}
	for _, tt := range tests {
		d, err := eng.Resolve(&Request{Key: "k", RawQuery: tt.query})
		if tt.want == "!" {
			assert.ErrorIs(t, err, ErrInvalidQuery, "query %q", tt.query)
			continue
		}
		if assert.NoError(t, err, "query %q", tt.query) {
			assert.Equal(t, []string{"http://o.example.com/base/k" + tt.want, "bos://bj.bcebos.com/bucket/k"}, d.URLs, "query %q", tt.query)
		}
	}
	// Without passQuerystring the query is neither checked nor passed.
	eng = mustCompile(t, fetch("*"))
	d, err := eng.Resolve(&Request{Key: "k", RawQuery: "a=1;b"})
	require.NoError(t, err)
	assert.Equal(t, []string{"http://o.example.com/base/k"}, d.URLs)
}

func TestRequestErrorOrder(t *testing.T) {
	r := fetch("a/*")
	r.PassQueryString = true
	eng := mustCompile(t, r)
	_, err := eng.Resolve(&Request{Key: "", RawQuery: ";"})
	assert.ErrorIs(t, err, ErrInvalidKey)
	_, err = eng.Resolve(&Request{Key: "b/..", RawQuery: ";"})
	assert.ErrorIs(t, err, ErrNoRule)
	assert.Same(t, ErrNoRule, err)
	_, err = eng.Resolve(&Request{Key: "a/..", RawQuery: ";"})
	assert.ErrorIs(t, err, ErrUnsafeKey)
	_, err = eng.Resolve(&Request{Key: "a/b", RawQuery: ";"})
	assert.ErrorIs(t, err, ErrInvalidQuery)
	assert.False(t, errors.Is(err, ErrUnsafeKey) || errors.Is(err, ErrInvalidKey) || errors.Is(err, ErrNoRule))
}

func TestRedirectDecision(t *testing.T) {
	r := Rule{Mode: ModeRedirect, SourceURL: "https://cdn.example.com/assets", BackSourceURL: "https://b.example.com",
		Resource: "*", PassQueryString: true, PassHeaders: []string{"*"}, StorageClass: "COLD",
		CustomHeaders: []Header{{"X-A", "1"}}}
	eng := mustCompile(t, r)
	d, err := eng.Resolve(&Request{Key: "a b", RawQuery: "v=1&Signature=x", Header: http.Header{"Accept": {"*/*"}}})
	require.NoError(t, err)
	const location = "https://cdn.example.com/assets/a%20b?v=1"
	assert.Equal(t, &Decision{Rule: 0, Mode: ModeRedirect, URLs: []string{location}, RedirectCode: 302,
		Origins: []Origin{{Scheme: "https", Host: "cdn.example.com", Path: "/assets/a%20b", RawQuery: "v=1", url: location}}}, d)

	r.RedirectCode = 301
	d, err = mustCompile(t, r).Resolve(&Request{Key: "x"})
	require.NoError(t, err)
	assert.Equal(t, 301, d.RedirectCode)

	// A fetch decision carries no redirect code even when the rule has one.
	f := fetch("*")
	f.RedirectCode = 307
	d, err = mustCompile(t, f).Resolve(&Request{Key: "x"})
	require.NoError(t, err)
	assert.Zero(t, d.RedirectCode)
}

func TestResolveIsDeterministic(t *testing.T) {
	r := fetch("*")
	r.PassHeaders = []string{"*"}
	r.PassQueryString = true
	r.BackSourceURL = "https://b.example.com/x"
	eng := mustCompile(t, r)
	req := &Request{Key: "k/é", RawQuery: "a=1&b=2", Header: http.Header{
		"X-A": {"1"}, "x-a": {"2"}, "X-a": {"3"}, "X-B": {"b"}, "Accept": {"a", "b"},
	}}
	first, err := eng.Resolve(req)
	require.NoError(t, err)
	for i := 0; i < 50; i++ {
		d, err := eng.Resolve(req)
		require.NoError(t, err)
		assert.Equal(t, first, d)
	}
	assert.Equal(t, []string{"1", "3", "2"}, first.Header["X-A"], "merged in the byte order of the names")
}

func TestAppendURLAgreesWithResolve(t *testing.T) {
	for _, c := range hostileRequests {
		eng, err := Compile(fuzzRules(c.spec))
		require.NoError(t, err)
		req := &Request{Key: c.key, RawQuery: c.query, Header: fuzzHeader(c.header)}
		d, rerr := eng.Resolve(req)
		buf, rule, aerr := eng.AppendURL([]byte("prefix:"), req)
		if rerr != nil {
			assert.Equal(t, rerr.Error(), aerr.Error(), c.name)
			assert.Equal(t, -1, rule)
			assert.Equal(t, "prefix:", string(buf), "dst unchanged on error")
			continue
		}
		require.NoError(t, aerr, c.name)
		assert.Equal(t, d.Rule, rule)
		assert.Equal(t, "prefix:"+d.URLs[0], string(buf), c.name)
	}
}

func TestAppendURLAllocatesNothing(t *testing.T) {
	r := fetch("assets/*")
	r.PassQueryString = true
	r.Prefix, r.Suffix = "p/", ".gz"
	eng := mustCompile(t, r, fetch("*.m3u8"))
	buf := make([]byte, 0, 512)
	for _, req := range []*Request{
		{Key: "assets/css/app.min.css", RawQuery: "v=1&Signature=x&w=100"},
		{Key: "live/index.m3u8"},
		{Key: "assets/é ü/x?y", RawQuery: "%41=1"},
	} {
		assert.Zero(t, testing.AllocsPerRun(100, func() {
			buf, _, _ = eng.AppendURL(buf[:0], req)
		}), req.Key)
	}
}

// docs/SEMANTICS.md §4 and revision 3, item 10: a segment made of "." and white space, with at
// least one ".", is unsafe once the text is in NFKC form, across the
// parts the origin key is made of.
func TestUnsafeSegment(t *testing.T) {
	tests := []struct {
		parts []string
		want  bool
	}{
		{[]string{"a", "/.", "/b"}, true},
		{[]string{".", "/x"}, true},
		{[]string{"x.", "/y"}, false},
		{[]string{"a/", ".", "."}, true},
		{[]string{"a/", "..", "."}, true},
		{[]string{"a/", ".", ".", "/"}, true},
		{[]string{`a\`, ".", `\b`}, true},
		{[]string{"..."}, true},
		{[]string{".. "}, true},
		{[]string{". ."}, true},
		{[]string{"a/ /b"}, false},
		{[]string{" "}, false},
		{[]string{".hidden", "/a.b/", "c."}, false},
		{[]string{"a/.", "b"}, false},
		{[]string{"a/.", "/b"}, true},
		{[]string{"..", "x"}, false},
		{[]string{"x/..", ""}, true},
		{[]string{"%2e%2e"}, false},
		{[]string{"\uff0e\uff0e/x"}, true},        // fullwidth full stops
		{[]string{"a/\u2025/b"}, true},            // two dot leader
		{[]string{"a/\ufe52"}, true},              // small full stop
		{[]string{"..\u00a0/x"}, true},            // no-break space
		{[]string{"a/.\u3000."}, true},            // ideographic space
		{[]string{"a\uff0f..\uff0fb"}, true},      // fullwidth solidus
		{[]string{"a\uff3c..\uff3cb"}, true},      // fullwidth reverse solidus
		{[]string{"a\ufe68..\ufe68b"}, true},      // small reverse solidus
		{[]string{"\u2025x/y"}, false},            // "..x"
		{[]string{"caf\u00e9/", ".", "."}, true},  // non-ASCII elsewhere, dots across parts
		{[]string{"caf\u00e9/", ".", "x"}, false}, // ".x"
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, unsafeSegment(tt.parts...), "%q", tt.parts)
		assert.Equal(t, tt.want, refUnsafeSegment(strings.Join(tt.parts, "")), "reference, %q", tt.parts)
	}
	long := strings.Repeat("\u00e9", 600) + "/\uff0e\uff0e"
	assert.True(t, unsafeSegment(long), "text longer than the stack buffer")
}

// The character-by-character decomposition of unsafeSegment agrees with
// normalising the whole text, for every character before, after and
// between dots, and with a space.
func TestUnsafeSegmentEveryCharacter(t *testing.T) {
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		c := string(r)
		for _, s := range []string{c, "." + c, c + ".", "." + c + ".", "a/" + c + "./b", c + " .", ".\u0301" + c} {
			if unsafeSegment(s) != refUnsafeSegment(s) {
				t.Fatalf("%U in %q: engine %v, NFKC reference %v", r, s, unsafeSegment(s), refUnsafeSegment(s))
			}
		}
	}
}
