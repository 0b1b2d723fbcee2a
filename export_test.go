package mirror

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decisionView is what a conversion must keep of a decision: everything
// but the rule index, and the Policy with its failover list as a set
// (the providers write it in their own order), its pick only when
// there is more than one primary to pick from (which of one primary is
// picked first does not depend on how), and its lastModified "" read as
// "origin", which it means.
type decisionView struct {
	Err          string
	Mode         Mode
	URLs         []string
	Header       http.Header
	StorageClass string
	RedirectCode int
	Policy       *Policy
}

func viewDecision(d *Decision, err error) decisionView {
	if err != nil {
		for _, e := range []error{ErrInvalidKey, ErrInvalidRequest, ErrNoRule, ErrUnsafeKey, ErrInvalidQuery} {
			if errors.Is(err, e) {
				return decisionView{Err: e.Error()}
			}
		}
		return decisionView{Err: err.Error()}
	}
	v := decisionView{Mode: d.Mode, URLs: d.URLs, Header: d.Header, StorageClass: d.StorageClass, RedirectCode: d.RedirectCode}
	p := d.Policy
	if p == nil && d.Mode != ModeRedirect {
		// A rule of the BOS model has no Policy: the serving layer reads
		// that as one primary, tried first, and the object stored
		// (docs/SEMANTICS.md §12.1), which is what a provider's import of
		// the same rule says.
		p = &Policy{Primaries: 1, Pick: PickOrdered, Store: true}
	}
	if p != nil {
		q := *p
		q.FailoverOn = slices.Clone(p.FailoverOn)
		slices.Sort(q.FailoverOn)
		q.FailoverOn = slices.Compact(q.FailoverOn)
		if q.Primaries <= 1 {
			q.Pick = ""
		}
		if q.LastModified == "" {
			q.LastModified = "origin"
		}
		v.Policy = &q
	}
	return v
}

// requestsFor builds requests from the rules' literals: keys made of
// their prefixes and suffixes, their hosts and another, GET, HEAD and
// POST, both schemes, a miss and other statuses.
func requestsFor(e *Engine) []Request {
	keys := []string{"", "a", "x/y.jpg", "/lead", "a//b"}
	hosts := []string{"", "other.example.com"}
	for i := range e.Len() {
		r := e.Rule(i)
		lits := strings.Split(r.Resource, "*")
		if m := r.Match; m != nil {
			lits = append(lits, m.Prefix, m.Suffix)
			hosts = append(hosts, m.Hosts...)
			hosts = append(hosts, m.NotHosts...)
		}
		for _, a := range lits {
			for _, b := range lits {
				keys = append(keys, a+b, a+"k/"+b, a+"/"+b)
			}
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var reqs []Request
	for _, k := range keys {
		for _, h := range hosts {
			for _, m := range []string{"", "HEAD", "POST"} {
				for _, st := range []int{0, 403, 500} {
					reqs = append(reqs, Request{Key: k, Host: h, Method: m, Status: st, RawQuery: "q=1"})
				}
			}
		}
		reqs = append(reqs, Request{Key: k, Scheme: "https", Host: "h.example.com"})
	}
	return reqs
}

// sameDecisions checks that b decides every request as a does. sameRule
// also holds the rule index (every format but those that reorder).
func sameDecisions(t testing.TB, a, b *Engine, reqs []Request, sameRule bool) {
	t.Helper()
	for _, req := range reqs {
		da, errA := a.Resolve(&req)
		db, errB := b.Resolve(&req)
		va, vb := viewDecision(da, errA), viewDecision(db, errB)
		if !reflect.DeepEqual(va, vb) {
			t.Fatalf("request %+v:\n original  %+v %+v\n converted %+v %+v", req, va, va.Policy, vb, vb.Policy)
		}
		if sameRule && errA == nil && da.Rule != db.Rule {
			t.Fatalf("request %+v: rule %d, converted rule %d", req, da.Rule, db.Rule)
		}
	}
}

// TestExportNative: every native golden, exported as native, loads back
// into the same rules and decisions.
func TestExportNative(t *testing.T) {
	files, err := filepath.Glob("testdata/providers/*/*.native.json")
	require.NoError(t, err)
	files = append(files, "examples/bos.json")
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			eng, err := Compiler{AllowPrivateOrigins: true}.Load(data, FormatAuto)
			if err != nil {
				t.Skipf("the golden does not compile: %v", err) // tos/api-sample: host "abc.123"
			}
			out, err := eng.Export(FormatNative)
			require.NoError(t, err)
			back, err := Compiler{AllowPrivateOrigins: true}.Load(out, FormatNative)
			require.NoError(t, err, string(out))
			require.Equal(t, eng.Len(), back.Len())
			for i := range eng.Len() {
				assert.Equal(t, eng.Rule(i), back.Rule(i), "rule %d", i)
			}
			sameDecisions(t, eng, back, requestsFor(eng), true)
		})
	}
}

// TestExportProviderGoldens: each provider's native golden, exported to
// that provider's format, loads back with it and decides the same.
func TestExportProviderGoldens(t *testing.T) {
	for _, f := range []Format{FormatOBS, FormatTOS, FormatOSS, FormatS3, FormatCOS} {
		files, err := filepath.Glob("testdata/providers/" + string(f) + "/*.native.json")
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, file := range files {
			t.Run(file, func(t *testing.T) {
				data, err := os.ReadFile(file)
				require.NoError(t, err)
				eng, err := Compiler{AllowPrivateOrigins: true}.Load(data, FormatNative)
				if err != nil {
					t.Skipf("the golden does not compile: %v", err)
				}
				out, err := eng.Export(f)
				require.NoError(t, err)
				back, err := Compiler{AllowPrivateOrigins: true}.Load(out, f)
				require.NoError(t, err, string(out))
				require.Equal(t, f, back.Format())
				sameDecisions(t, eng, back, requestsFor(eng), true)
			})
		}
	}
}

// TestExportBOSAndQingStor: a BOS document converts to BOS, QingStor's to
// QingStor, and each, through native, back.
func TestExportBOSAndQingStor(t *testing.T) {
	for _, tc := range []struct {
		doc string
		f   Format
	}{
		{`{"bucketMirroringConfiguration": [{"mode": "fetch", "sourceUrl": "http://a.example.com/b", "resource": "img/*",
			"version": "v2", "prefixReplace": "x", "passQuerystring": "true", "storageClass": "standard_ia",
			"passHeaders": ["a"], "customHeaders": [{"headerName": "X-A", "headerValue": "1"}]},
			{"mode": "redirect", "sourceUrl": "https://b.example.com", "resource": "vid/*.png"}]}`, FormatBOS},
		{`{"source_site": "https://src.example.com/base/"}`, FormatQingStor},
		{`{"rules": [{"mode": "fetch", "sourceUrl": "https://src.example.com", "resource": "*", "redirectCode": 301}]}`, FormatQingStor},
	} {
		eng, err := Load([]byte(tc.doc), FormatAuto)
		require.NoError(t, err)
		out, err := eng.Export(tc.f)
		require.NoError(t, err)
		back, err := Load(out, tc.f)
		require.NoError(t, err, string(out))
		sameDecisions(t, eng, back, requestsFor(eng), true)
		native, err := back.Export(FormatNative)
		require.NoError(t, err)
		again, err := Load(native, FormatNative)
		require.NoError(t, err)
		sameDecisions(t, eng, again, requestsFor(eng), true)
	}
}

// TestExportRefusals: what each format can not say, every problem at the
// source's native path.
func TestExportRefusals(t *testing.T) {
	const ext = `{"rules": [
		{"mode": "fetch", "sourceUrl": "https://a.example.com", "resource": "a/*"},
		{"mode": "redirect", "sourceUrl": "https://a.example.com", "resource": "b*.jpg", "redirectCode": 301},
		{"mode": "redirectFetch", "match": {"prefix": "c/", "suffix": ".png", "headers": [{"name": "X", "value": "1"}]},
		 "sourceUrls": ["a.example.com", "b.example.com"], "failoverOn": ["5xx"], "scheme": "request",
		 "fetch": {"checkMd5": true, "store": false, "followRedirects": 3}, "rewrite": {"replaceSuffix": {"from": ".png", "to": ".webp"}}},
		{"mode": "fetch", "sourceUrl": "bos://bj.bcebos.com/bkt1", "resource": "d/*", "storageClass": "COLD", "fixedKey": "k${key}"},
		{"mode": "fetch", "resource": "*", "resourceSyntax": "glob", "sourceUrls": ["http://x.example.com"], "pick": "random",
		 "match": {"methods": ["GET", "PUT"]}, "failoverOn": ["timeout", "connection", "4xx", "404", "302"], "keepSlashes": false}
	]}`
	eng, err := Load([]byte(ext), FormatNative)
	require.NoError(t, err)
	paths := func(err error) []string {
		var ce *CompileError
		require.ErrorAs(t, err, &ce)
		var out []string
		for _, p := range ce.Problems {
			out = append(out, p.Path)
			assert.Equal(t, p.Path, fmt.Sprintf("rules[%d].%s", p.Rule, p.Field), "Rule and Field make the Path")
		}
		return out
	}
	_, err = eng.Export(FormatBOS)
	assert.Equal(t, []string{"rules[1].redirectCode", "rules[2].mode", "rules[2].match", "rules[2].sourceUrls",
		"rules[2].failoverOn", "rules[2].scheme", "rules[2].rewrite", "rules[2].fetch",
		"rules[4].match", "rules[4].sourceUrls", "rules[4].pick", "rules[4].failoverOn", "rules[4].keepSlashes", "rules[4].resourceSyntax"}, paths(err))
	_, err = eng.Export(FormatOBS)
	assert.Equal(t, []string{
		"rules[0].match.methods", "rules[0].failoverOn",
		"rules[1].mode", "rules[1].resource", "rules[1].match.methods", "rules[1].failoverOn",
		"rules[2].mode", "rules[2].match.suffix", "rules[2].match.headers", "rules[2].match.methods", "rules[2].scheme",
		"rules[2].fetch.followRedirects", "rules[2].fetch.checkMd5", "rules[2].fetch.store", "rules[2].failoverOn",
		"rules[2].rewrite.replaceSuffix",
		"rules[3].match.methods", "rules[3].sourceUrl", "rules[3].storageClass", "rules[3].failoverOn", "rules[3].fixedKey",
		"rules[4].resource", "rules[4].match.methods[1]", "rules[4].keepSlashes", "rules[4].failoverOn[3]", "rules[4].failoverOn[4]",
	}, paths(err))
	_, err = eng.Export(FormatTOS)
	assert.Equal(t, []string{
		"rules[0].match.methods", "rules[0].failoverOn",
		"rules[1].resource", "rules[1].match.methods", "rules[1].redirectCode",
		"rules[2].match.headers", "rules[2].match.methods", "rules[2].scheme", "rules[2].pick",
		"rules[2].fetch.followRedirects", "rules[2].fetch.checkMd5", "rules[2].fetch.store", "rules[2].failoverOn",
		"rules[2].rewrite.replaceSuffix",
		"rules[3].match.methods", "rules[3].sourceUrl", "rules[3].storageClass", "rules[3].failoverOn", "rules[3].fixedKey",
		"rules[4].resource", "rules[4].match.methods[1]", "rules[4].keepSlashes", "rules[4].failoverOn",
	}, paths(err))
	_, err = eng.Export(FormatQingStor)
	assert.EqualError(t, err, "rules: has 5 rules; a QingStor document is one rule that fetches every key from source_site")
	_, err = eng.Export(FormatAuto)
	assert.ErrorContains(t, err, `format: "auto" is not a format a document can be written in`)

	// BOS's own limits, checked by loading the document as BOS, named in
	// the engine's terms.
	bos, err := Load([]byte(`{"rules": [{"mode": "fetch", "sourceUrl": "https://a.example.com", "resource": "a/*"},
		{"mode": "fetch", "sourceUrl": "https://a.example.com", "resource": "a/b*"},
		{"mode": "fetch", "sourceUrl": "https://a.example.com", "resource": "c*d*"}]}`), FormatNative)
	require.NoError(t, err)
	_, err = bos.Export(FormatBOS)
	assert.Equal(t, []string{"rules[1].resource", "rules[2].resource"}, paths(err))
	assert.ErrorContains(t, err, `rules[1].resource: BOS refuses it: "a/b*" covers keys that rules[0].resource ("a/*") covers too`)

	// OBS: prefixes that contain one another.
	obs, err := Load([]byte(`{"rules": [
		{"mode": "fetch", "match": {"prefix": "a/", "methods": ["GET"]}, "sourceUrl": "https://a.example.com", "failoverOn": ["5xx", "timeout", "connection"]},
		{"mode": "fetch", "resource": "a/b/*", "match": {"methods": ["GET"]}, "sourceUrl": "https://a.example.com", "failoverOn": ["5xx", "timeout", "connection"]}]}`), FormatNative)
	require.NoError(t, err)
	_, err = obs.Export(FormatOBS)
	assert.EqualError(t, err, `rules[1].resource: "a/b/" and rules[0]'s prefix "a/" overlap (one starts with the other): `+
		`OBS refuses rule prefixes that repeat or contain one another`)

	// QingStor: one plain rule.
	q, err := Load([]byte(`{"rules": [{"mode": "redirect", "sourceUrl": "https://a.example.com", "resource": "a*", "passQuerystring": true}]}`), FormatNative)
	require.NoError(t, err)
	_, err = q.Export(FormatQingStor)
	assert.Equal(t, []string{"rules[0].mode", "rules[0].resource", "rules[0].passQuerystring"}, paths(err))
	q, err = Load([]byte(`{"rules": [{"mode": "fetch", "sourceUrl": "bos://bj.bcebos.com/bkt1", "resource": "*"}]}`), FormatNative)
	require.NoError(t, err)
	_, err = q.Export(FormatQingStor)
	assert.Equal(t, []string{"rules[0].sourceUrl"}, paths(err))
}
