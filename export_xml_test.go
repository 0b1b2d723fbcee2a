package mirror

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The XML exporters (export_xml.go) against the provider goldens: every
// testdata/providers/{oss,s3,cos} document with a native golden is
// loaded, exported in its own format, loaded again, and must give the
// same rules and the same decisions; native rules the provider can not
// say are refused at their native paths.

var xmlExporters = map[Format]func(*Engine) ([]byte, error){
	FormatOSS: exportOSS,
	FormatS3:  exportS3,
	FormatCOS: exportCOS,
}

func TestExportXMLGoldenRoundTrip(t *testing.T) {
	for f, export := range xmlExporters {
		goldens, err := filepath.Glob(filepath.Join("testdata", "providers", string(f), "*.native.json"))
		require.NoError(t, err)
		require.NotEmpty(t, goldens, f)
		for _, golden := range goldens {
			stem := strings.TrimSuffix(golden, ".native.json")
			src := stem + ".xml"
			if _, err := os.Stat(src); err != nil {
				src = stem + ".json" // S3's CLI and console JSON, exported as XML
			}
			t.Run(string(f)+"/"+filepath.Base(src), func(t *testing.T) {
				data, err := os.ReadFile(src)
				require.NoError(t, err)
				orig, err := Load(data, f)
				require.NoError(t, err)
				out, err := export(orig)
				require.NoError(t, err)
				back, err := Load(out, f)
				require.NoError(t, err, "%s", out)
				require.Equal(t, orig.Len(), back.Len(), "%s", out)
				for i := range orig.Len() {
					assert.Equal(t, orig.Rule(i), back.Rule(i), "rule %d of\n%s", i, out)
				}
				assertSameDecisions(t, orig, back, false)
				// Exporting the loaded export gives the same bytes.
				again, err := export(back)
				require.NoError(t, err)
				assert.Equal(t, string(out), string(again))
			})
		}
	}
}

// exportRequests are requests made from the engine's rules: keys from
// their prefixes and suffixes, and each method, host, scheme, status,
// query and header variation the rules' conditions look at.
func exportRequests(engines ...*Engine) []*Request {
	prefixes := map[string]bool{"": true, "zz/": true}
	suffixes := map[string]bool{"": true, ".jpg": true}
	hosts := map[string]bool{"": true, "bucket.example.com": true, "Bucket.Example.com:8080": true}
	headers := []http.Header{nil}
	for _, e := range engines {
		for i := range e.Len() {
			r := e.Rule(i)
			res := r.Resource
			if j := strings.IndexByte(res, '*'); j >= 0 {
				prefixes[res[:j]] = true
				suffixes[res[strings.LastIndexByte(res, '*')+1:]] = true
			} else if res != "" {
				prefixes[res] = true
			}
			if m := r.Match; m != nil {
				prefixes[m.Prefix] = true
				suffixes[m.Suffix] = true
				for _, h := range append(append([]string{}, m.Hosts...), m.NotHosts...) {
					hosts[h] = true
				}
				if len(m.Headers) > 0 {
					all, wrong := http.Header{}, http.Header{}
					for _, h := range m.Headers {
						all.Add(h.Name, h.Value)
						wrong.Add(h.Name, h.Value+"x")
					}
					headers = append(headers, all, wrong)
				}
			}
		}
	}
	var keys []string
	for p := range prefixes {
		for s := range suffixes {
			keys = append(keys, p+s, p+"x"+s, p+"a//b.txt"+s, p+"$x"+s)
		}
		keys = append(keys, p, p+"..")
	}
	var out []*Request
	for _, k := range keys {
		for _, method := range []string{"", "GET", "HEAD", "PUT"} {
			for h := range hosts {
				for _, scheme := range []string{"", "https"} {
					for _, st := range []int{0, 404, 403, 500, 200} {
						for _, q := range []string{"", "a=1&b=2"} {
							for _, hd := range headers {
								out = append(out, &Request{Key: k, Method: method, Host: h, Scheme: scheme, Status: st, RawQuery: q, Header: hd})
							}
						}
					}
				}
			}
		}
	}
	return out
}

// assertSameDecisions resolves every export request with both engines.
// With bosPolicy, a nil Policy (a rule of the BOS model) is read as the
// policy the exporters write for it. A Policy's lastModified "" is read
// as "origin", which it means.
func assertSameDecisions(t *testing.T, want, got *Engine, bosPolicy bool) {
	t.Helper()
	bad := 0
	for _, req := range exportRequests(want, got) {
		dw, ew := want.Resolve(req)
		dg, eg := got.Resolve(req)
		if ew != nil || eg != nil {
			if !assert.Equal(t, errString(ew), errString(eg), "%+v", req) {
				bad++
			}
		} else {
			if bosPolicy && dw.Policy == nil && dw.Mode == ModeFetch {
				dw.Policy = &Policy{Primaries: 1, Pick: PickOrdered, Store: true}
			}
			for _, d := range []*Decision{dw, dg} {
				if d.Policy != nil && d.Policy.LastModified == "" {
					p := *d.Policy
					p.LastModified = "origin"
					d.Policy = &p
				}
			}
			if !assert.Equal(t, dw, dg, "%+v", req) {
				bad++
			}
		}
		if bad > 5 {
			t.FailNow()
		}
	}
}

// exportNative compiles a native document and exports it.
func exportNativeXML(t *testing.T, f Format, doc string) (*Engine, []byte, error) {
	t.Helper()
	e, err := Load([]byte(doc), FormatNative)
	require.NoError(t, err)
	out, err := xmlExporters[f](e)
	return e, out, err
}

func xmlProblemsOf(t *testing.T, err error) []string {
	t.Helper()
	var ce *CompileError
	require.True(t, errors.As(err, &ce), "%v", err)
	var out []string
	for _, p := range ce.Problems {
		assert.Equal(t, "rules["+strconv.Itoa(p.Rule)+"]."+p.Field, p.Path)
		out = append(out, p.Path+": "+p.Reason)
	}
	return out
}

func TestExportXMLNativeRules(t *testing.T) {
	cases := []struct {
		name string
		f    Format
		doc  string
	}{
		{"oss mirror with backups and header rules", FormatOSS, `{"rules": [
			{"mode": "fetch", "resource": "images/*.jpg", "match": {"methods": ["get", "HEAD"], "headers": [{"name": "X-Tenant", "value": "a"}]},
			 "sourceUrls": ["https://Origin.example.com/base/"], "backSourceUrls": ["http://b.example.com/", "http://c.example.com/"],
			 "failoverOn": ["5xx", "timeout"], "passQuerystring": true, "passHeaders": ["x-a"], "ignoreHeaders": ["x-b"],
			 "customHeaders": [{"headerName": "x-c", "headerValue": "v"}], "fetch": {"followRedirects": 10, "checkMd5": true, "passStatus": [404, 403], "store": false},
			 "rewrite": {"replacePrefix": {"to": "img/"}}},
			{"mode": "fetch", "resource": "*", "match": {"methods": ["GET"]}, "sourceUrl": "http://d.example.com", "prefix": "p/", "suffix": ".bak"},
			{"mode": "redirect", "match": {"prefix": "docs/"}, "on": "always", "redirect": {"code": 307}, "rewrite": {"key": "x/${key}/y$$"}},
			{"mode": "redirect", "resource": "old/*", "sourceUrl": "https://new.example.com:8443", "redirectCode": 301, "fixedKey": "gone.html"}]}`},
		{"s3 redirects", FormatS3, `{"rules": [
			{"mode": "redirect", "match": {"prefix": "docs/"}, "on": [404], "redirect": {"host": "h.example.com", "scheme": "https", "code": 308},
			 "rewrite": {"replacePrefix": {"from": "do", "to": "new/"}}},
			{"mode": "redirect", "resource": "a/*", "sourceUrl": "http://x.example.com/", "fixedKey": "$index.html"},
			{"mode": "redirect", "resource": "*", "on": "always", "redirect": {"code": 302}, "rewrite": {"addPrefix": "all/"}},
			{"mode": "redirect", "resource": "b*", "scheme": "request", "sourceUrl": "y.example.com:443"}]}`},
		{"s3 redirect all", FormatS3, `{"rules": [{"mode": "redirect", "resource": "*", "on": "always", "redirect": {"host": "example.com", "code": 301}}]}`},
		// COS keeps the origin's user metadata and dates what it stores
		// when it stores it: a fetch rule says so (a rule of the BOS model
		// says neither, and does not convert).
		{"cos plain and extended", FormatCOS, `{"rules": [
			{"mode": "fetch", "resource": "img/*", "sourceUrl": "https://a.example.com/", "passHeaders": ["*"], "ignoreHeaders": ["cookie"],
			 "customHeaders": [{"headerName": "x-from", "headerValue": "cdn"}], "prefix": "p/", "suffix": ".webp",
			 "fetch": {"saveMeta": true, "lastModified": "fetched"}},
			{"mode": "fetch", "match": {"prefix": "w/", "suffix": ".png", "notHosts": ["cdn.example.com"]}, "scheme": "request",
			 "sourceUrls": ["a.example.com", "b.example.com:8080"], "sourceWeights": [3, 1], "passQuerystring": true,
			 "fetch": {"followRedirects": 10, "passStatus": ["4xx", "5xx"], "saveMeta": true, "lastModified": "fetched"}},
			{"mode": "redirectFetch", "resource": "*.mp4", "sourceUrls": ["http://v.example.com"], "backSourceUrls": ["http://v2.example.com"],
			 "failoverOn": ["5xx", 403], "redirect": {"code": 307}, "rewrite": {"key": "fixed$$.mp4"}, "fetch": {"saveMeta": true, "lastModified": "fetched"}},
			{"mode": "redirect", "resource": "*", "on": [403], "redirect": {"host": "r.example.com"}}]}`},
		{"empty", FormatOSS, `{"rules": []}`},
		{"empty s3", FormatS3, `{"rules": []}`},
		{"empty cos", FormatCOS, `{"rules": []}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			orig, out, err := exportNativeXML(t, c.f, c.doc)
			require.NoError(t, err)
			back, err := Load(out, c.f)
			require.NoError(t, err, "%s", out)
			require.Equal(t, orig.Len(), back.Len())
			assertSameDecisions(t, orig, back, true)
		})
	}
}

func TestExportXMLRefusals(t *testing.T) {
	cases := []struct {
		name string
		f    Format
		doc  string
		want []string
	}{
		{"oss weights", FormatOSS, `{"rules": [
			{"mode": "fetch", "resource": "a/*", "match": {"methods": ["GET"]}, "sourceUrls": ["http://a.example/"], "sourceWeights": [1]}]}`,
			[]string{"rules[0].sourceWeights: Aliyun OSS has no origin weights"}},
		{"oss literal ${key}", FormatOSS, `{"rules": [
			{"mode": "redirect", "resource": "*", "on": "always", "redirect": {"host": "a.example"}, "fixedKey": "a${key}"},
			{"mode": "redirect", "match": {"prefix": "p/"}, "on": "always", "redirect": {"host": "a.example"},
			 "rewrite": {"replacePrefix": {"from": "p/x", "to": "q/"}}}]}`,
			[]string{
				`rules[0].fixedKey: holds the literal text "${key}", which Aliyun OSS's ReplaceKeyWith reads as the key`,
				"rules[1].rewrite.replacePrefix.from: is longer than the rule's key prefix, so it replaces in some keys only; Aliyun OSS replaces the rule's whole key prefix",
			}},
		{"s3 fetch", FormatS3, `{"rules": [
			{"mode": "redirect", "resource": "*", "sourceUrl": "http://a.example/"},
			{"mode": "fetch", "resource": "*", "sourceUrl": "http://a.example/"}]}`,
			[]string{`rules[1].mode: AWS S3 has no "fetch" mode: its routing rules redirect only`}},
		{"cos header condition", FormatCOS, `{"rules": [
			{"mode": "fetch", "resource": "*", "match": {"headers": [{"name": "x-a", "value": "1"}]}, "sourceUrl": "http://a.example/",
			 "fetch": {"saveMeta": true, "lastModified": "fetched"}}]}`,
			[]string{"rules[0].match.headers: Tencent COS has no header conditions"}},
		{"every problem at once", FormatOSS, `{"rules": [
			{"mode": "fetch", "resource": "a*b*c", "sourceUrls": ["http://a.example/", "http://b.example/"], "pick": "random",
			 "storageClass": "COLD", "keepSlashes": false, "match": {"hosts": ["h.example"]}},
			{"mode": "redirectFetch", "resource": "x", "sourceUrl": "http://a.example/"},
			{"mode": "redirect", "resource": "*", "on": ["4xx"], "sourceUrl": "http://a.example/p/", "redirectCode": 308}]}`,
			[]string{
				`rules[0].resource: Aliyun OSS has no pattern with a "*" in the middle: a rule covers a key prefix and suffix only`,
				"rules[0].keepSlashes: Aliyun OSS keeps the origin key's slashes as they are (the importer reads no other setting)",
				"rules[0].match.hosts: Aliyun OSS has no host conditions",
				`rules[0].match.methods: an Aliyun OSS Mirror rule fetches for GET (and HEAD) only: set ["GET"] or ["GET", "HEAD"]`,
				"rules[0].sourceUrls: Aliyun OSS has one primary origin (MirrorURL); the others are backups",
				"rules[0].pick: Aliyun OSS tries its origins in order",
				"rules[0].storageClass: Aliyun OSS has no storage class for a fetched object",
				"rules[1].resource: Aliyun OSS has no exact-key condition: its prefix and suffix conditions also take longer keys",
				`rules[1].mode: Aliyun OSS has no "redirectFetch" mode: Mirror fetches, External redirects`,
				"rules[2].on: an Aliyun OSS redirect rule answers every request or one status from 400 to 599",
				"rules[2].sourceUrl: has a base path; an Aliyun OSS redirect goes to scheme://host/ and the key",
				"rules[2].redirectCode: Aliyun OSS has no redirect code 308: only 301, 302, 307",
			}},
		{"s3 suffix, query, template", FormatS3, `{"rules": [
			{"mode": "redirect", "resource": "a/*.html", "sourceUrl": "http://a.example/", "passQuerystring": true, "rewrite": {"key": "${key}/${key}"}},
			{"mode": "redirect", "resource": "glob/**", "resourceSyntax": "glob", "redirect": {"code": 302}, "match": {"methods": ["GET"]}}]}`,
			[]string{
				"rules[0].resource: AWS S3 has no key suffix condition",
				"rules[0].passQuerystring: AWS S3 does not say that it passes the query string into the Location: the importer reads it as not passed",
				"rules[0].rewrite.key: AWS S3 replaces the whole key (a literal) or its prefix only: it can not add a suffix or insert the key into a template",
				"rules[1].resource: AWS S3 has no glob patterns: a rule covers a key prefix and suffix only",
				"rules[1].match.methods: AWS S3 has no method conditions",
			}},
		{"cos fetch options", FormatCOS, `{"rules": [
			{"mode": "fetch", "resource": "ab*bc", "sourceUrls": ["http://a.example/", "https://b.example/"], "pick": "weighted", "sourceWeights": [0, 1],
			 "fetch": {"followRedirects": 3, "checkMd5": true, "store": false, "passStatus": [404]}, "backSourceUrl": "", "customHeaders": [{"headerName": "x-e", "headerValue": ""}]},
			{"mode": "redirect", "resource": "*", "on": "always", "redirect": {"scheme": "https"}, "match": {"hosts": ["a.example"]}}]}`,
			[]string{
				"rules[0].resource: its literal prefix and suffix overlap, so Tencent COS's independent prefix and suffix conditions would also take keys shorter than the two",
				"rules[0].sourceUrls[1]: Tencent COS has one scheme (Protocol) for all the origins of a rule",
				"rules[0].sourceWeights[0]: Tencent COS weights are at least 1",
				"rules[0].fetch.followRedirects: Tencent COS follows 10 origin redirects or none: set 0 or 10",
				"rules[0].fetch.checkMd5: Tencent COS has no Content-MD5 check",
				"rules[0].fetch.store: Tencent COS stores every fetched object",
				"rules[0].fetch.saveMeta: Tencent COS keeps the origin's x-cos-meta-* with every object it stores: set true",
				`rules[0].fetch.lastModified: Tencent COS dates a stored object from when it stored it: set "fetched"`,
				`rules[0].fetch.passStatus: Tencent COS passes every origin error or none (TransparentErrorCode): write ["4xx", "5xx"]`,
				"rules[0].customHeaders[0].headerValue: Tencent COS does not add a header with an empty value",
				"rules[1].match.hosts: Tencent COS has no host conditions",
				"rules[1].on: a Tencent COS Redirect rule answers one status from 400 to 599",
				"rules[1].redirect.host: a Tencent COS Redirect rule goes to its origin host: it can not redirect to the request's host",
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, out, err := exportNativeXML(t, c.f, c.doc)
			require.Error(t, err, "%s", out)
			assert.Nil(t, out)
			assert.Equal(t, c.want, xmlProblemsOf(t, err))
		})
	}
}

func TestExportXMLRuleCounts(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"rules": [`)
	for i := range 51 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"mode": "redirect", "match": {"prefix": "p` + strconv.Itoa(i) + `/"}, "on": "always", "redirect": {"host": "example.com"}}`)
	}
	b.WriteString(`]}`)
	for f, limit := range map[Format]string{FormatOSS: "20", FormatS3: "50"} {
		_, _, err := exportNativeXML(t, f, b.String())
		var ce *CompileError
		require.True(t, errors.As(err, &ce), "%s: %v", f, err)
		assert.Equal(t, "rules", ce.Problems[0].Path, f)
		assert.Equal(t, -1, ce.Problems[0].Rule, f)
		assert.Contains(t, ce.Problems[0].Reason, "at most "+limit, f)
	}
	// COS has no rule limit: priorities 1..51 keep the order.
	orig, out, err := exportNativeXML(t, FormatCOS, strings.ReplaceAll(b.String(), `"on": "always"`, `"on": [403]`))
	require.NoError(t, err)
	back, err := Load(out, FormatCOS)
	require.NoError(t, err)
	assert.Equal(t, orig.Len(), back.Len())
	assertSameDecisions(t, orig, back, true)
}
