package mirror

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile input, each with its exact outcome. The requests use the rule
// spec of fuzzRules; passAll is "\x0c|*" (pass the query, pass every
// header) on https://o.example.com/base%20dir/.
const (
	passAll = "\x0c|*"
	base    = "https://o.example.com/base%20dir/"
)

var hostileRequests = []struct {
	name                     string
	spec, key, query, header string
	want                     string      // error class, "NoRule", or the primary URL
	headers                  http.Header // the exact header set when want is a URL
}{
	{"dot-dot", passAll, "..", "", "", "UnsafeKey", nil},
	{"dot", passAll, ".", "", "", "UnsafeKey", nil},
	{"dot-dot first", passAll, "../etc/passwd", "", "", "UnsafeKey", nil},
	{"dot-dot last", passAll, "a/..", "", "", "UnsafeKey", nil},
	{"dot inside", passAll, "a/./b", "", "", "UnsafeKey", nil},
	{"backslash dot-dot", passAll, `a\..\b`, "", "", "UnsafeKey", nil},
	{"backslash dot-dot first", passAll, `..\x`, "", "", "UnsafeKey", nil},
	{"encoded dot-dot is text", passAll, "%2e%2e/x", "", "", base + "%252e%252e/x", nil},
	{"half-encoded dot-dot is text", passAll, ".%2e/x", "", "", base + ".%252e/x", nil},
	{"encoded slash is text", passAll, "..%2fx", "", "", base + "..%252fx", nil},
	{"double-encoded dot", passAll, "%252e", "", "", base + "%25252e", nil},
	{"spaced dot-dot", passAll, " .. ", "", "", "UnsafeKey", nil},
	{"three dots", passAll, "a/.../b", "", "", "UnsafeKey", nil},
	{"dot-dot and a trailing space", passAll, "a/.. /b", "", "", "UnsafeKey", nil},
	{"dot and NBSP", passAll, ".\u00a0/x", "", "", "UnsafeKey", nil},
	{"fullwidth dot-dot", passAll, "\uff0e\uff0e/etc/passwd", "", "", "UnsafeKey", nil},
	{"two dot leader", passAll, "a/\u2025/b", "", "", "UnsafeKey", nil},
	{"fullwidth solidus around dot-dot", passAll, "a\uff0f..\uff0fb", "", "", "UnsafeKey", nil},
	{"small reverse solidus around dot-dot", passAll, "a\ufe68..\ufe68b", "", "", "UnsafeKey", nil},
	{"ideographic space and dots", passAll, "a/.\u3000./b", "", "", "UnsafeKey", nil},
	{"dots inside a name are text", passAll, "a..b/.well-known/c.", "", "", base + "a..b/.well-known/c.", nil},
	{"a space segment is text", passAll, "a/ /b", "", "", base + "a/%20/b", nil},
	{"two dot leader in a name is text", passAll, "\u2025x", "", "", base + "%E2%80%A5x", nil},
	{"CR", passAll, "a\rb", "", "", "InvalidKey", nil},
	{"LF header injection", passAll, "x\r\nHost: evil", "", "", "InvalidKey", nil},
	{"NUL", passAll, "a\x00b", "", "", "InvalidKey", nil},
	{"DEL", passAll, "a\x7fb", "", "", "InvalidKey", nil},
	{"tab", passAll, "a\tb", "", "", "InvalidKey", nil},
	{"invalid UTF-8", passAll, "a\xff\xfeb", "", "", "InvalidKey", nil},
	{"truncated UTF-8", passAll, "\xe4\xb8", "", "", "InvalidKey", nil},
	{"empty key", passAll, "", "", "", "InvalidKey", nil},
	{"1024-byte key", passAll, strings.Repeat("k", 1024), "", "", base + strings.Repeat("k", 1024), nil},
	{"1025-byte key", passAll, strings.Repeat("k", 1025), "", "", "InvalidKey", nil},
	{"userinfo key", passAll, "@evil.example/x", "", "", base + "%40evil.example/x", nil},
	{"authority key", passAll, "//evil.example/x", "", "", base + "//evil.example/x", nil},
	{"absolute URL key", passAll, "http://evil.example/x", "", "", base + "http%3A//evil.example/x", nil},
	{"port key", passAll, ":8080/x", "", "", base + "%3A8080/x", nil},
	{"question mark key", passAll, "a?b=1", "", "", base + "a%3Fb%3D1", nil},
	{"hash key", passAll, "a#frag", "", "", base + "a%23frag", nil},
	{"query semicolon", passAll, "k", "a=1;b=2", "", "InvalidQuery", nil},
	{"query bad escape", passAll, "k", "a=%zz", "", "InvalidQuery", nil},
	{"query short escape", passAll, "k", "a=%2", "", "InvalidQuery", nil},
	{"query space", passAll, "k", "a=1 2", "", "InvalidQuery", nil},
	{"query hash", passAll, "k", "a=1#f", "", "InvalidQuery", nil},
	{"query 1001 parameters", passAll, "k", strings.Repeat("a=1&", 1001), "", "InvalidQuery", nil},
	{"query CRLF", passAll, "k", "a=1\r\nX: y", "", "InvalidQuery", nil},
	{"query credentials in every spelling", passAll, "k",
		"X-Amz-Signature=s&Signature=s&x-bce-security-token=t&q-sign-algorithm=sha1&OSSAccessKeyId=i&" +
			"x%2Damz%2Ddate=d&AUTHORIZATION=a&%53ignature=s&GoogleAccessId=g&x-goog-credential=c&keep=1",
		"", base + "k?keep=1", nil},
	{"query only credentials", passAll, "k", "Signature=s&AWSAccessKeyId=a&Expires", "", base + "k?Expires", nil},
	{"bad query is not checked when not passed", "\x00|*", "k", "a;b c", "", base + "k", nil},
	{"Connection names a header", passAll, "k", "", "Connection: close, X-Custom\nX-Custom: 1\nAccept: a",
		base + "k", http.Header{"Accept": {"a"}}},
	{"never-forwarded headers under pass-all", passAll, "k", "",
		"Host: evil.example\nAuthorization: Bearer x\nCookie: s=1\nX-Forwarded-For: 1.2.3.4\nX-Amz-Date: d\n" +
			"X-Bce-Acl: public\nOss-Foo: 1\nX-Original-Url: /admin\nX-Http-Method-Override: DELETE\n" +
			"Range: bytes=0-0\nIf-None-Match: e\nTransfer-Encoding: chunked\nUser-Agent: ua",
		base + "k", http.Header{"User-Agent": {"ua"}}},
	{"underscore names", passAll, "k", "", "X_Forwarded_For: 1\nAccept_Encoding: x\nAccept: a",
		base + "k", http.Header{"Accept": {"a"}}},
	{"header value with CR", passAll, "k", "", "X-A: a\rb\nX-A: ok",
		base + "k", http.Header{"X-A": {"ok"}}},
	{"header value with NUL alone", passAll, "k", "", "X-A: \x00", base + "k", nil},
	{"prefix of dots makes a segment", "\x00|*|..|", "/x", "", "", "UnsafeKey", nil},
	{"prefix dot and key dot-slash", "\x00|*|.|", "./x", "", "", "UnsafeKey", nil},
	{"suffix makes a dot-dot", "\x00|*||/..", "a", "", "", "UnsafeKey", nil},
	{"prefixReplace makes a dot-dot", "\x02|a/*||||..", "a/x", "", "", "UnsafeKey", nil},
	{"v2 crop to an empty key", "\x02|a/*", "a/", "", "", "UnsafeKey", nil},
	{"no rule for a hostile key", "\x00|img/*", "../img/x", "", "", "NoRule", nil},
	// Revision 3 (docs/SEMANTICS.md §9): the review's findings.
	{"glob backtracking bomb", "\x0d|*a*a*a[a]", strings.Repeat("a", 1023) + "b", "", "", "NoRule", nil},
	{"glob backtracking bomb 2", "\x0d|*a*?a*a?[a][a]", strings.Repeat("a", 1023) + "b", "", "", "NoRule", nil},
	{"glob star stays in its segment", "\x0d|img/{a,*}*.jpg", "img/private/secret.jpg", "", "", "NoRule", nil},
	{"glob class with a comma", "\x0d|{[\\],x]y,b}]", ",y]", "", "", base + "%2Cy%5D", nil},
	{"never-forwarded headers of revision 3", passAll, "k", "",
		"Proxy: http://evil:8080\nX-Forwarded-Scheme: http\nX-Original-Host: evil\nX-Accel-Redirect: /internal\n" +
			"Cf-Connecting-Ip: 1.2.3.4\nClient-Ip: 1\nX-Envoy-Original-Path: /admin\nX-Sendfile: /etc/passwd\n" +
			"Http2-Settings: AAMA\nX-Cluster-Client-Ip: 1\nAccept: a",
		base + "k", http.Header{"Accept": {"a"}}},
	{"Connection token with a Kelvin sign", passAll, "k", "", "Connection: x-\u212aeep\nX-Keep: k",
		base + "k", http.Header{"X-Keep": {"k"}}},
}

var hostileQueries = []struct {
	query string
	want  string // "!" refused, else the forwarded query ("" none)
}{
	{"a=1;b=2", "!"},
	{"a=%zz", "!"},
	{"a=%", "!"},
	{"a=%4", "!"},
	{"a b", "!"},
	{"a=1#f", "!"},
	{"a=\x00", "!"},
	{"a=\x7f", "!"},
	{"a=é", "!"},
	{`a="<>{}|\^`, "!"},
	{"a=`", "!"},
	{strings.Repeat("a=1&", 1001), "!"},
	{strings.Repeat("a", 8193), "!"},
	{strings.Repeat("&", 8000), ""},
	{"Signature=1&signature=2&SIGNATURE=3", ""},
	{"x-amz-signature=1&X-AMZ-CREDENTIAL=2&x%2damz-date=3&%58-Amz-Algorithm=4", ""},
	{"q-sign-algorithm=1&q-ak=2&q-sign-time=3&q-key-time=4&q-header-list=5&q-url-param-list=6&q-signature=7", ""},
	{"security-token=1&x-oss-security-token=2&x-cos-security-token=3&x-obs-date=4&x-tos-date=5&x-ms-date=6&x-qs-date=7", ""},
	{"awsaccesskeyid=1&OSSAccessKeyId=2&AccessKeyId=3&access_key_id=4&GoogleAccessId=5&x-goog-signature=6", ""},
	{"authorization=bce-auth-v1%2Fabc&x=1", "x=1"},
	{"signatures=1&my-signature=2&x-amzz=3", "signatures=1&my-signature=2&x-amzz=3"},
	{"a=1&&b=2&", "a=1&b=2"},
	{"a=%2F&b=/x?y:z@w!$'()*+,", "a=%2F&b=/x?y:z@w!$'()*+,"},
	{"sv=2024-01-01&sig=abc%3D&se=2030&w=1", "sv=2024-01-01&se=2030&w=1"},
	{"SIGN=q&Access_Token=t&%73ig=x&keep=1", "keep=1"},
	{"signed=1&sigs=2&access_tokens=3", "signed=1&sigs=2&access_tokens=3"},
}

var hostileDocuments = []struct {
	name, doc string
	paths     []string // the exact problem paths
}{
	{"CRLF in a custom header value", nativeRule(`"customHeaders":[{"headerName":"X-A","headerValue":"v\r\nX-Injected: 1"}]`),
		[]string{"rules[0].customHeaders[0].headerValue"}},
	{"LF in a custom header name", nativeRule(`"customHeaders":[{"headerName":"X-A\nX-B","headerValue":"v"}]`),
		[]string{"rules[0].customHeaders[0].headerName"}},
	{"custom Host header", nativeRule(`"customHeaders":[{"headerName":"host","headerValue":"evil.example"}]`),
		[]string{"rules[0].customHeaders[0].headerName"}},
	{"pass Authorization", nativeRule(`"passHeaders":["Authorization"]`), []string{"rules[0].passHeaders[0]"}},
	{"underscore header name", nativeRule(`"passHeaders":["X_Forwarded_For"]`), []string{"rules[0].passHeaders[0]"}},
	{"userinfo origin", nativeOrigin("http://user:pw@o.example.com/"), []string{"rules[0].sourceUrl"}},
	{"userinfo behind a backslash", nativeOrigin(`http://o.example.com\\@evil.example/`), []string{"rules[0].sourceUrl"}},
	{"fragment origin", nativeOrigin("http://o.example.com/#x"), []string{"rules[0].sourceUrl"}},
	{"query origin", nativeOrigin("http://o.example.com/?x=1"), []string{"rules[0].sourceUrl"}},
	{"file origin", nativeOrigin("file:///etc/passwd"), []string{"rules[0].sourceUrl"}},
	{"gopher origin", nativeOrigin("gopher://o.example.com:70/_x"), []string{"rules[0].sourceUrl"}},
	{"metadata origin", nativeOrigin("http://169.254.169.254/latest/meta-data/"), []string{"rules[0].sourceUrl"}},
	{"private origin", nativeOrigin("http://10.0.0.1/"), []string{"rules[0].sourceUrl"}},
	{"loopback IPv6 origin", nativeOrigin("http://[::1]:8080/"), []string{"rules[0].sourceUrl"}},
	{"mapped metadata origin", nativeOrigin("http://[::ffff:169.254.169.254]/"), []string{"rules[0].sourceUrl"}},
	{"NAT64 origin", nativeOrigin("http://[64:ff9b::a9fe:a9fe]/"), []string{"rules[0].sourceUrl"}},
	{"localhost origin", nativeOrigin("http://metadata.localhost/"), []string{"rules[0].sourceUrl"}},
	{"hex IPv4 origin", nativeOrigin("http://0x7f.0.0.1/"), []string{"rules[0].sourceUrl"}},
	{"decimal IPv4 origin", nativeOrigin("http://2130706433/"), []string{"rules[0].sourceUrl"}},
	{"dot-dot origin path", nativeOrigin("http://o.example.com/a/%2e%2e/b"), []string{"rules[0].sourceUrl"}},
	{"fixedKey with dot-dot", nativeRule(`"fixedKey":"../etc/passwd"`), []string{"rules[0].fixedKey"}},
	{"glob with four stars", nativeRule(`"resource":"a*b*c*d*e","resourceSyntax":"glob"`), []string{"rules[0].resource"}},
	{"QingStor gopher site", `{"source_site":"gopher://o.example.com/"}`, []string{"source_site"}},
	// Revision 3 (docs/SEMANTICS.md §9): the review's findings.
	{"misspelt top-level member", `{"bucketMirroringConfigurations":[{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"*"}]}`,
		[]string{"document"}},
	{"top-level list", `[{"mode":"fetch"}]`, []string{"document"}},
	{"QingStor bos site", `{"source_site":"bos://bj.bcebos.com/bucket"}`, []string{"source_site"}},
	{"QingStor number site", `{"source_site":5}`, []string{"source_site"}},
	{"hex IPv4 host", nativeOrigin("http://0x7f000001/"), []string{"rules[0].sourceUrl"}},
	{"hex last label", nativeOrigin("http://127.0.0.0x1/"), []string{"rules[0].sourceUrl"}},
	{"hex metadata", nativeOrigin("http://169.254.169.0xfe/"), []string{"rules[0].sourceUrl"}},
	{"6to4 origin", nativeOrigin("http://[2002:7f00:1::1]/"), []string{"rules[0].sourceUrl"}},
	{"Teredo origin", nativeOrigin("http://[2001::1]/"), []string{"rules[0].sourceUrl"}},
	{"IPv4-compatible origin", nativeOrigin("http://[::127.0.0.1]/"), []string{"rules[0].sourceUrl"}},
	{"multicast origin", nativeOrigin("http://224.0.0.1/"), []string{"rules[0].sourceUrl"}},
	{"broadcast origin", nativeOrigin("http://255.255.255.255/"), []string{"rules[0].sourceUrl"}},
	{"metadata name", nativeOrigin("http://metadata.google.internal/"), []string{"rules[0].sourceUrl"}},
	{"NBSP in an origin", nativeOrigin("http://o.example.com/a\u00a0b"), []string{"rules[0].sourceUrl"}},
	{"bos empty first segment", nativeRule(`"backSourceUrl":"bos://bj.bcebos.com//bucket"`), []string{"rules[0].backSourceUrl"}},
	{"bos encoded bucket", nativeRule(`"backSourceUrl":"bos://bj.bcebos.com/buc%6Bet"`), []string{"rules[0].backSourceUrl"}},
	{"origin path dot-dot-space", nativeOrigin("http://o.example.com/p/..%20/"), []string{"rules[0].sourceUrl"}},
	{"origin path fullwidth dots", nativeOrigin("http://o.example.com/%EF%BC%8E%EF%BC%8E/"), []string{"rules[0].sourceUrl"}},
	{"fixedKey three dots", nativeRule(`"fixedKey":"x/.../y"`), []string{"rules[0].fixedKey"}},
	{"fixedKey fullwidth dots", nativeRule(`"fixedKey":"\uff0e\uff0e/y"`), []string{"rules[0].fixedKey"}},
	{"glob with four wildcards", nativeRule(`"resource":"*a*a*a*a","resourceSyntax":"glob"`), []string{"rules[0].resource"}},
	{"glob globstar gobwas misreads", nativeRule(`"resource":"*{*/,}/**[/]b","resourceSyntax":"glob"`), []string{"rules[0].resource"}},
	{"glob globstar inside braces", nativeRule(`"resource":"{a,b/**}/x","resourceSyntax":"glob"`), []string{"rules[0].resource"}},
	{"glob unclosed group", nativeRule(`"resource":"{a,b","resourceSyntax":"glob"`), []string{"rules[0].resource"}},
	{"pass Via", nativeRule(`"passHeaders":["Via"]`), []string{"rules[0].passHeaders[0]"}},
	{"custom Via", nativeRule(`"customHeaders":[{"headerName":"Via","headerValue":"1.1 x"}]`), []string{"rules[0].customHeaders[0].headerName"}},
	{"custom Range", nativeRule(`"customHeaders":[{"headerName":"Range","headerValue":"bytes=0-1"}]`), []string{"rules[0].customHeaders[0].headerName"}},
	{"vendor credential to another backup", nativeRule(`"backSourceUrl":"http://b.example.com","customHeaders":[{"headerName":"X-Amz-Security-Token","headerValue":"t"}]`),
		[]string{"rules[0].customHeaders[0].headerName"}},
	{"BOS 25 catch-alls", `{"bucketMirroringConfiguration":[` + strings.Repeat(`{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"*"},`, 24) +
		`{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"*"}]}`, []string{"bucketMirroringConfiguration"}},
	{"BOS credential to another backup", `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"https://a.example.com",` +
		`"backSourceUrl":"https://b.example.com","resource":"*","customHeaders":[{"headerName":"Authorization","headerValue":"t"}]}]}`,
		[]string{"bucketMirroringConfiguration[0].customHeaders[0].headerName"}},
}

// nativeRule is a valid native rule with the given fields replacing or
// added to it (the last duplicate name wins).
func nativeRule(fields string) string {
	return `{"rules":[{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"*",` + fields + `}]}`
}

func nativeOrigin(u string) string {
	return nativeRule(`"sourceUrl":` + strconv.Quote(u))
}

func TestHostileRequests(t *testing.T) {
	for _, c := range hostileRequests {
		t.Run(c.name, func(t *testing.T) {
			eng, err := Compile(fuzzRules(c.spec))
			require.NoError(t, err)
			d, err := eng.Resolve(&Request{Key: c.key, RawQuery: c.query, Header: fuzzHeader(c.header)})
			switch c.want {
			case "InvalidKey", "UnsafeKey", "InvalidQuery", "NoRule":
				require.Error(t, err)
				assert.Nil(t, d)
				assert.ErrorIs(t, err, map[string]error{"InvalidKey": ErrInvalidKey, "UnsafeKey": ErrUnsafeKey,
					"InvalidQuery": ErrInvalidQuery, "NoRule": ErrNoRule}[c.want])
			default:
				require.NoError(t, err)
				assert.Equal(t, []string{c.want}, d.URLs)
				assert.Equal(t, c.headers, d.Header)
			}
		})
	}
}

func TestHostileQueries(t *testing.T) {
	eng := mustCompile(t, Rule{Mode: ModeFetch, SourceURL: "http://o.example.com", Resource: "*", PassQueryString: true})
	for _, c := range hostileQueries {
		d, err := eng.Resolve(&Request{Key: "k", RawQuery: c.query})
		if c.want == "!" {
			assert.ErrorIs(t, err, ErrInvalidQuery, "query %q", c.query)
			continue
		}
		want := "http://o.example.com/k"
		if c.want != "" {
			want += "?" + c.want
		}
		if assert.NoError(t, err, "query %q", c.query) {
			assert.Equal(t, []string{want}, d.URLs, "query %q", c.query)
		}
	}
}

func TestHostileDocuments(t *testing.T) {
	for _, c := range hostileDocuments {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load([]byte(c.doc), FormatAuto)
			require.Error(t, err)
			assert.Equal(t, c.paths, problemPaths(t, err))
			var fe *FieldError
			require.True(t, errors.As(err, &fe))
			assert.NotContains(t, fe.Error(), "\n", "a reason must not break the one-line-per-problem output")
		})
	}
}

var updateCorpus = flag.Bool("update-corpus", false, "write the hostile cases into testdata/fuzz")

// TestSeedCorpusHoldsHostileCases keeps testdata/fuzz/<Target>/ in step
// with the hostile tables, so `go test` replays every hostile case
// through the fuzz targets' checks. `go test -run SeedCorpus -update-corpus`
// rewrites the files.
func TestSeedCorpusHoldsHostileCases(t *testing.T) {
	want := map[string]string{}
	for _, c := range hostileRequests {
		want[corpusPath("FuzzResolve", c.name)] = corpusFile(c.spec, c.key, c.query, c.header)
	}
	for _, c := range hostileQueries {
		want[corpusPath("FuzzQuery", c.query)] = corpusFile(c.query)
	}
	for _, c := range hostileDocuments {
		want[corpusPath("FuzzDocument", c.name)] = corpusFile([]byte(c.doc))
	}
	for path, content := range want {
		if *updateCorpus {
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
		}
		got, err := os.ReadFile(path)
		if assert.NoError(t, err, "missing seed %s: run go test -run SeedCorpus -update-corpus", path) {
			assert.Equal(t, content, string(got), path)
		}
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// corpusPath names a seed after its case, with a short hash of the name
// so that distinct cases never share a file.
func corpusPath(target, name string) string {
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	slug := strings.Trim(unsafeName.ReplaceAllString(name, "-"), "-")
	slug = slug[:min(len(slug), 40)]
	return filepath.Join("testdata", "fuzz", target, fmt.Sprintf("hostile-%s-%08x", slug, h))
}

// corpusFile writes arguments in the "go test fuzz v1" format.
func corpusFile(args ...any) string {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case string:
			fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(v))
		case []byte:
			fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
		}
	}
	return b.String()
}
