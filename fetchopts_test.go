package mirror

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fetch.probe, fetch.saveMeta and fetch.lastModified through the
// providers' formats: OSS says all three (MirrorURLProbe,
// MirrorSaveOssMeta, MirrorUserLastModified), COS keeps the origin's
// metadata and dates what it stores from the fetch, and every other
// format refuses what it can not say at the option's own path.

// ossFetchDoc is an OSS document of one Mirror rule with the Redirect
// elements extra.
func ossFetchDoc(extra string) []byte {
	return []byte(`<WebsiteConfiguration><RoutingRules><RoutingRule><RuleNumber>1</RuleNumber>
<Condition><KeyPrefixEquals>a/</KeyPrefixEquals><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition>
<Redirect><RedirectType>Mirror</RedirectType><MirrorURL>https://o.example.com/</MirrorURL>` + extra + `</Redirect></RoutingRule></RoutingRules></WebsiteConfiguration>`)
}

func TestImportOSSFetchOptions(t *testing.T) {
	for _, c := range []struct {
		extra string
		want  FetchOptions
	}{
		// OSS's default: the object dates from when OSS stored it.
		{"", FetchOptions{LastModified: "fetched"}},
		{"<MirrorUserLastModified>false</MirrorUserLastModified><MirrorSaveOssMeta>false</MirrorSaveOssMeta><MirrorURLProbe></MirrorURLProbe>",
			FetchOptions{LastModified: "fetched"}},
		{"<MirrorUserLastModified>true</MirrorUserLastModified>", FetchOptions{LastModified: "origin"}},
		{"<MirrorSaveOssMeta>true</MirrorSaveOssMeta><MirrorURLProbe>https://probe.example.com:8443/health/up</MirrorURLProbe>",
			FetchOptions{SaveMeta: true, Probe: "https://probe.example.com:8443/health/up", LastModified: "fetched"}},
	} {
		eng, err := Load(ossFetchDoc(c.extra), FormatOSS)
		require.NoError(t, err, c.extra)
		f := eng.Rule(0).Fetch
		require.NotNil(t, f, c.extra)
		assert.Equal(t, c.want, FetchOptions{Probe: f.Probe, SaveMeta: f.SaveMeta, LastModified: f.LastModified}, c.extra)
		d, err := eng.Resolve(&Request{Key: "a/k"})
		require.NoError(t, err)
		assert.Equal(t, c.want.Probe, d.Policy.Probe, c.extra)
		assert.Equal(t, c.want.SaveMeta, d.Policy.SaveMeta, c.extra)
		assert.Equal(t, c.want.LastModified, d.Policy.LastModified, c.extra)
	}

	// A probe is an http:// or https:// URL that the engine takes as an
	// origin URL; what fails is named at the OSS path.
	_, err := importOSS([]byte(strings.Replace(string(ossFetchDoc(`<MirrorURLProbe>ftp://p.example.com/</MirrorURLProbe>`+
		`<MirrorSaveOssMeta>yes</MirrorSaveOssMeta><MirrorUserLastModified>1</MirrorUserLastModified>`)),
		"</RoutingRules>", `<RoutingRule><RuleNumber>2</RuleNumber><Condition/><Redirect><RedirectType>Mirror</RedirectType>`+
			`<MirrorURL>https://o.example.com/</MirrorURL><MirrorURLProbe>http://127.1/</MirrorURLProbe></Redirect></RoutingRule>`+
			`<RoutingRule><RuleNumber>3</RuleNumber><Condition/><Redirect><RedirectType>Mirror</RedirectType>`+
			`<MirrorURL>https://o.example.com/</MirrorURL><MirrorURLProbe>https://p.example.com/?x=1</MirrorURLProbe></Redirect></RoutingRule>`+
			`<RoutingRule><RuleNumber>4</RuleNumber><Condition/><Redirect><RedirectType>External</RedirectType><HostName>h.example.com</HostName>`+
			`<MirrorURLProbe>p.example.com</MirrorURLProbe></Redirect></RoutingRule></RoutingRules>`, 1)))
	require.Error(t, err)
	assert.Equal(t, []string{
		`RoutingRules.RoutingRule[0].Redirect.MirrorURLProbe: "ftp://p.example.com/" must start with http:// or https://`,
		"RoutingRules.RoutingRule[0].Redirect.MirrorSaveOssMeta: must be true or false",
		"RoutingRules.RoutingRule[0].Redirect.MirrorUserLastModified: must be true or false",
		`RoutingRules.RoutingRule[1].Redirect.MirrorURLProbe: "http://127.1/" is not a probe URL the engine takes: ` +
			`host "127.1" ends in a number but is not a dotted-quad IPv4 address (resolvers read it as an address in ways that differ)`,
		`RoutingRules.RoutingRule[2].Redirect.MirrorURLProbe: "https://p.example.com/?x=1" is not a probe URL the engine takes: ` +
			`a query (?) is not allowed in an origin URL`,
		// No effect on an External rule, and validated all the same.
		`RoutingRules.RoutingRule[3].Redirect.MirrorURLProbe: "p.example.com" must start with http:// or https://`,
	}, strings.Split(err.Error(), "\n"))

	// A private probe is the engine's to refuse, as a private origin is.
	private := ossFetchDoc(`<MirrorURLProbe>http://10.0.0.1/up</MirrorURLProbe>`)
	_, err = Load(private, FormatOSS)
	assert.ErrorContains(t, err, "imported rules[0].fetch.probe: address 10.0.0.1 is in 10.0.0.0/8")
	_, err = Compiler{AllowPrivateOrigins: true}.Load(private, FormatOSS)
	assert.NoError(t, err)
}

// Native → OSS → native keeps the three options; OSS's
// MirrorUserLastModified is written true for a rule that leaves
// lastModified unset (the native default is the origin's, OSS's the
// fetch's).
func TestExportOSSFetchOptions(t *testing.T) {
	const doc = `{"rules": [
		{"mode": "fetch", "match": {"prefix": "a/", "methods": ["GET"]}, "sourceUrls": ["https://o.example.com/"],
		 "fetch": {"probe": "https://probe.example.com/up", "saveMeta": true}},
		{"mode": "fetch", "match": {"prefix": "b/", "methods": ["GET"]}, "sourceUrls": ["https://o.example.com/"],
		 "fetch": {"lastModified": "fetched", "probe": "http://probe.example.com:8080/b"}},
		{"mode": "fetch", "match": {"prefix": "c/", "methods": ["GET", "HEAD"]}, "sourceUrls": ["https://o.example.com/"],
		 "fetch": {"lastModified": "origin", "saveMeta": false}},
		{"mode": "fetch", "match": {"prefix": "d/", "methods": ["GET"]}, "sourceUrls": ["https://o.example.com/"]}]}`
	eng, err := Load([]byte(doc), FormatNative)
	require.NoError(t, err)
	out, err := eng.Export(FormatOSS)
	require.NoError(t, err)
	rules := strings.Split(string(out), "</RoutingRule>")
	require.Len(t, rules, 5, "%s", out)
	has := func(i int, elem string) bool { return strings.Contains(rules[i], elem) }
	assert.True(t, has(0, "<MirrorURLProbe>https://probe.example.com/up</MirrorURLProbe>"), rules[0])
	assert.True(t, has(0, "<MirrorSaveOssMeta>true</MirrorSaveOssMeta>"), rules[0])
	assert.True(t, has(0, "<MirrorUserLastModified>true</MirrorUserLastModified>"), rules[0])
	assert.False(t, has(1, "MirrorUserLastModified"), rules[1])
	assert.False(t, has(1, "MirrorSaveOssMeta"), rules[1])
	assert.True(t, has(2, "<MirrorUserLastModified>true</MirrorUserLastModified>"), rules[2])
	assert.False(t, has(2, "MirrorURLProbe"), rules[2])
	assert.True(t, has(3, "<MirrorUserLastModified>true</MirrorUserLastModified>"), rules[3])

	back, err := Load(out, FormatOSS)
	require.NoError(t, err)
	native, err := back.Export(FormatNative)
	require.NoError(t, err)
	again, err := Load(native, FormatNative)
	require.NoError(t, err)
	for i, want := range []FetchOptions{
		{Probe: "https://probe.example.com/up", SaveMeta: true, LastModified: "origin"},
		{Probe: "http://probe.example.com:8080/b", LastModified: "fetched"},
		{LastModified: "origin"},
		{LastModified: "origin"},
	} {
		f := again.Rule(i).Fetch
		require.NotNil(t, f, i)
		assert.Equal(t, want, FetchOptions{Probe: f.Probe, SaveMeta: f.SaveMeta, LastModified: f.LastModified}, "rule %d", i)
	}
	sameDecisions(t, eng, again, requestsFor(eng), true)

	// A probe without its scheme is asked over http, as a sourceUrl
	// would be: OSS is given the URL with its scheme written out.
	eng, err = Load([]byte(`{"rules": [{"mode": "fetch", "match": {"prefix": "a/", "methods": ["GET"]},
		"sourceUrls": ["https://o.example.com/"], "fetch": {"probe": "probe.example.com/up"}}]}`), FormatNative)
	require.NoError(t, err)
	out, err = eng.Export(FormatOSS)
	require.NoError(t, err)
	assert.Contains(t, string(out), "<MirrorURLProbe>http://probe.example.com/up</MirrorURLProbe>")
}

// Every other format refuses what it can not say, each option at its own
// path.
func TestExportFetchOptionsRefused(t *testing.T) {
	paths := func(t *testing.T, err error) []string {
		t.Helper()
		var ce *CompileError
		require.ErrorAs(t, err, &ce)
		var out []string
		for _, p := range ce.Problems {
			if strings.HasPrefix(p.Field, "fetch.") {
				out = append(out, p.Path+": "+p.Reason)
			}
		}
		return out
	}
	load := func(t *testing.T, doc string) *Engine {
		t.Helper()
		eng, err := Load([]byte(doc), FormatNative)
		require.NoError(t, err)
		return eng
	}
	all := load(t, `{"rules": [{"mode": "fetch", "resource": "*", "sourceUrls": ["https://o.example.com/"],
		"fetch": {"probe": "https://p.example.com/", "saveMeta": true, "lastModified": "fetched"}}]}`)
	for f, want := range map[Format][]string{
		FormatBOS: {
			"rules[0].fetch.probe: is a field of the extended native model, which BOS does not have",
			"rules[0].fetch.saveMeta: is a field of the extended native model, which BOS does not have",
			"rules[0].fetch.lastModified: is a field of the extended native model, which BOS does not have"},
		FormatQingStor: {
			"rules[0].fetch.probe: is a field of the extended native model, which QingStor does not have",
			"rules[0].fetch.saveMeta: is a field of the extended native model, which QingStor does not have",
			"rules[0].fetch.lastModified: is a field of the extended native model, which QingStor does not have"},
		FormatCOS: {"rules[0].fetch.probe: Tencent COS has no probe URL"},
		FormatOBS: {
			"rules[0].fetch.probe: OBS has no probe URL",
			"rules[0].fetch.saveMeta: true: OBS has no option to keep the origin's user metadata with the object",
			"rules[0].fetch.lastModified: fetched: OBS has no such option, and its import keeps the origin's Last-Modified"},
		FormatTOS: {
			"rules[0].fetch.probe: TOS has no probe URL",
			"rules[0].fetch.saveMeta: true: TOS has no option to keep the origin's user metadata with the object",
			"rules[0].fetch.lastModified: fetched: TOS has no such option, and its import keeps the origin's Last-Modified"},
	} {
		_, err := all.Export(f)
		assert.Equal(t, want, paths(t, err), f)
	}
	// An S3 website document has no fetch rule at all.
	_, err := all.Export(FormatS3)
	assert.EqualError(t, err, `rules[0].mode: AWS S3 has no "fetch" mode: its routing rules redirect only`)

	// COS keeps the origin's x-cos-meta-* and dates the object from the
	// fetch: a rule that says otherwise (or nothing) is refused.
	plain := load(t, `{"rules": [{"mode": "fetch", "resource": "*", "sourceUrls": ["https://o.example.com/"], "fetch": {"lastModified": "origin"}},
		{"mode": "fetch", "resource": "x*", "sourceUrl": "https://o.example.com/"}]}`)
	_, err = plain.Export(FormatCOS)
	assert.Equal(t, []string{
		"rules[0].fetch.saveMeta: Tencent COS keeps the origin's x-cos-meta-* with every object it stores: set true",
		`rules[0].fetch.lastModified: Tencent COS dates a stored object from when it stored it: set "fetched"`,
		"rules[1].fetch.saveMeta: Tencent COS keeps the origin's x-cos-meta-* with every object it stores: set true",
		`rules[1].fetch.lastModified: Tencent COS dates a stored object from when it stored it: set "fetched"`,
	}, paths(t, err))
	cos := load(t, `{"rules": [{"mode": "fetch", "resource": "*", "sourceUrls": ["https://o.example.com/"],
		"fetch": {"saveMeta": true, "lastModified": "fetched"}}]}`)
	out, err := cos.Export(FormatCOS)
	require.NoError(t, err)
	back, err := Load(out, FormatCOS)
	require.NoError(t, err)
	sameDecisions(t, cos, back, requestsFor(cos), true)

	// OBS and TOS import a rule with the origin's Last-Modified: "origin"
	// (or unset) converts.
	obs := load(t, `{"rules": [{"mode": "fetch", "match": {"prefix": "a/", "methods": ["GET"]}, "sourceUrls": ["https://o.example.com/"],
		"failoverOn": ["5xx", "timeout", "connection"], "pick": "random", "fetch": {"lastModified": "origin", "saveMeta": false}}]}`)
	for _, f := range []Format{FormatOBS, FormatTOS} {
		out, err := obs.Export(f)
		require.NoError(t, err, f)
		back, err := Load(out, f)
		require.NoError(t, err, f)
		sameDecisions(t, obs, back, requestsFor(obs), true)
	}
}
