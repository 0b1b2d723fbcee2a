package mirror

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile and malformed provider documents: refused, quickly, at a path.

func TestImportXMLAdversarial(t *testing.T) {
	big := strings.Repeat("a", 1<<20-200)
	cases := map[string]string{
		"deep nesting":   "<WebsiteConfiguration>" + strings.Repeat("<RoutingRules>", 200000) + "</WebsiteConfiguration>",
		"many elements":  "<WebsiteConfiguration><RoutingRules>" + strings.Repeat("<RoutingRule/>", 70000) + "</RoutingRules></WebsiteConfiguration>",
		"unknown many":   "<WebsiteConfiguration>" + strings.Repeat("<X/>", 70000) + "</WebsiteConfiguration>",
		"huge text":      "<WebsiteConfiguration><RoutingRules><RoutingRule><RuleNumber>" + big + "</RuleNumber></RoutingRule></RoutingRules></WebsiteConfiguration>",
		"entity bomb":    `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><WebsiteConfiguration>&lol2;</WebsiteConfiguration>`,
		"undeclared ent": `<WebsiteConfiguration><RoutingRules><RoutingRule><RuleNumber>&lol;</RuleNumber></RoutingRule></RoutingRules></WebsiteConfiguration>`,
		"external ent":   `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><WebsiteConfiguration>&x;</WebsiteConfiguration>`,
		"over 1 MiB":     "<WebsiteConfiguration>" + strings.Repeat(" ", 1<<20) + "</WebsiteConfiguration>",
		"not utf-8":      "<WebsiteConfiguration><RoutingRules><RoutingRule><RuleNumber>\xff</RuleNumber></RoutingRule></RoutingRules></WebsiteConfiguration>",
		"gbk":            `<?xml version="1.0" encoding="GBK"?><WebsiteConfiguration/>`,
		"two roots":      `<WebsiteConfiguration/><WebsiteConfiguration/>`,
		"wrong root":     `<Foo/>`,
		"empty":          ``,
		"attr bomb":      "<WebsiteConfiguration" + strings.Repeat(` a="b"`, 1) + strings.Repeat(" ", 1<<19) + "/>",
	}
	for name, doc := range cases {
		for _, imp := range []func([]byte) ([]byte, error){importOSS, importS3, importCOS} {
			start := time.Now()
			out, err := imp([]byte(doc))
			took := time.Since(start)
			assert.Error(t, err, name)
			assert.Nil(t, out, name)
			assert.Less(t, took, 5*time.Second, name) // a hang guard: the speed is BenchmarkImportAdversarial's
			if err != nil {
				assert.NotContains(t, err.Error(), "passwd", name)
			}
		}
	}
}

func TestImportProblemsAllAtOnce(t *testing.T) {
	doc := `<WebsiteConfiguration><RoutingRules>
<RoutingRule><RuleNumber>1</RuleNumber><Condition><KeyPrefixEquals>a/</KeyPrefixEquals></Condition>
  <Redirect><RedirectType>Mirror</RedirectType><MirrorUrl>http://x.example/</MirrorUrl></Redirect></RoutingRule>
<RoutingRule><RuleNumber>x</RuleNumber><Condition/><Redirect><RedirectType>External</RedirectType><HttpRedirectCode>308</HttpRedirectCode></Redirect></RoutingRule>
<RoutingRule><RuleNumber>3</RuleNumber><Condition/><Redirect><RedirectType>Mirror</RedirectType><MirrorURL>http://x.example/</MirrorURL>
  <MirrorAuth><AuthType>S3V4</AuthType><AccessKeyId>AKIDSECRETID</AccessKeyId><AccessKeySecret>TOPSECRETVALUE</AccessKeySecret></MirrorAuth></Redirect></RoutingRule>
</RoutingRules></WebsiteConfiguration>`
	_, err := importOSS([]byte(doc))
	require.Error(t, err)
	assert.Equal(t, []string{
		"RoutingRules.RoutingRule[0].Redirect.MirrorUrl",
		"RoutingRules.RoutingRule[0].Redirect.MirrorURL",
		"RoutingRules.RoutingRule[1].RuleNumber",
		"RoutingRules.RoutingRule[1].Redirect.HttpRedirectCode",
		// MirrorAuth makes MirrorURL a private bucket, BUCKET.ENDPOINT,
		// which x.example is not.
		"RoutingRules.RoutingRule[2].Redirect.MirrorURL",
	}, errorPaths(err))
	assert.NotContains(t, err.Error(), "TOPSECRETVALUE")
	assert.NotContains(t, err.Error(), "AKIDSECRETID")
	var ce *CompileError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 1, ce.Problems[2].Rule)
	assert.Equal(t, "RuleNumber", ce.Problems[2].Field)
	assert.Contains(t, err.Error(), "unknown element <MirrorUrl> in <Redirect>")
}

// MirrorAuth: the MirrorURL BUCKET.ENDPOINT becomes s3://ENDPOINT/BUCKET,
// fetched signed with the operator's credentials; the document's keys
// are never read, into the rules or into an error.
func TestImportOSSMirrorAuth(t *testing.T) {
	rule := func(url, auth, extra string) string {
		return `<RoutingRule><RuleNumber>1</RuleNumber><Condition><KeyPrefixEquals>a/</KeyPrefixEquals></Condition><Redirect>
<RedirectType>Mirror</RedirectType><MirrorURL>` + url + `</MirrorURL>` + extra + `<MirrorAuth>` + auth +
			`<Region>ap-southeast-1</Region><AccessKeyId>AKIDSECRETID</AccessKeyId><AccessKeySecret>TOPSECRETVALUE</AccessKeySecret></MirrorAuth></Redirect></RoutingRule>`
	}
	doc := func(rules ...string) []byte {
		return []byte("<WebsiteConfiguration><RoutingRules>" + strings.Join(rules, "") + "</RoutingRules></WebsiteConfiguration>")
	}
	const s3v4 = `<AuthType>S3V4</AuthType>`
	for url, want := range map[string]string{
		"https://bkt-1.s3.us-east-1.amazonaws.com/":      "s3://s3.us-east-1.amazonaws.com/bkt-1/",
		"http://Bkt1.Minio.Example.com:9000/dir/sub/":    "s3://minio.example.com:9000/bkt1/dir/sub/",
		"https://bucket.oss-cn-hangzhou.aliyuncs.com/a/": "s3://oss-cn-hangzhou.aliyuncs.com/bucket/a/",
	} {
		out, err := importOSS(doc(rule(url, s3v4, "")))
		require.NoError(t, err, url)
		assert.Contains(t, string(out), `"`+want+`"`, url)
		assert.NotContains(t, string(out), "SECRET", url)
		assert.NotContains(t, string(out), "ap-southeast-1", url)
		eng, err := Load(doc(rule(url, s3v4, "")), FormatOSS)
		require.NoError(t, err, url)
		d, err := eng.Resolve(&Request{Key: "a/k.txt", RawQuery: "acl"})
		require.NoError(t, err, url)
		assert.Equal(t, []string{want + "a/k.txt"}, d.URLs, url)
	}

	_, err := importOSS(doc(
		rule("https://example.com/", s3v4, ""),
		rule("https://ab.s3.example.com/", `<AuthType>V2</AuthType>`, ""),
		rule("https://bkt.s3.example.com/", "", ""),
		rule("https://bkt.s3.example.com/", s3v4, `<MirrorURLSlave>https://b2.s3.example.com/</MirrorURLSlave>`),
		rule("https://bkt.s3.example.com/", s3v4, `<MirrorMultiAlternates><MirrorMultiAlternate><MirrorMultiAlternateNumber>1</MirrorMultiAlternateNumber>`+
			`<MirrorMultiAlternateURL>https://b3.s3.example.com/</MirrorMultiAlternateURL></MirrorMultiAlternate></MirrorMultiAlternates>`),
		rule("https://bkt.s3.example.com:99999/", s3v4, ""),
		`<RoutingRule><RuleNumber>7</RuleNumber><Condition/><Redirect><RedirectType>Mirror</RedirectType><MirrorURL>https://bkt.s3.example.com/</MirrorURL>`+
			`<MirrorAuth><AuthType>S3V4</AuthType><AccessKeySecret><Nested>TOPSECRETVALUE</Nested>TOPSECRETVALUE</AccessKeySecret><Bogus>TOPSECRETVALUE</Bogus></MirrorAuth></Redirect></RoutingRule>`,
	))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET")
	assert.Equal(t, []string{
		// Schema problems are found while reading, before the rules.
		"RoutingRules.RoutingRule[6].Redirect.MirrorAuth.Bogus: unknown element <Bogus> in <MirrorAuth>",
		`RoutingRules.RoutingRule[0].Redirect.MirrorURL: "https://example.com/" is not http(s)://BUCKET.ENDPOINT/[PATH/]: ` +
			`with MirrorAuth the origin is a private bucket, named by its host's first label (3 to 63 of a-z 0-9 -) before its endpoint`,
		`RoutingRules.RoutingRule[1].Redirect.MirrorURL: "https://ab.s3.example.com/" is not http(s)://BUCKET.ENDPOINT/[PATH/]: ` +
			`with MirrorAuth the origin is a private bucket, named by its host's first label (3 to 63 of a-z 0-9 -) before its endpoint`,
		`RoutingRules.RoutingRule[1].Redirect.MirrorAuth.AuthType: "V2" is not S3V4: the gateway signs private origins with AWS Signature V4 only`,
		"RoutingRules.RoutingRule[2].Redirect.MirrorAuth.AuthType: is required: S3V4 (requests signed with AWS Signature V4)",
		"RoutingRules.RoutingRule[3].Redirect.MirrorAuth: OSS does not say whether MirrorAuth signs the backup origins " +
			"(MirrorURLSlave, MirrorMultiAlternates) too; give it with MirrorURL alone, or write the rule natively with s3:// origins",
		"RoutingRules.RoutingRule[4].Redirect.MirrorAuth: OSS does not say whether MirrorAuth signs the backup origins " +
			"(MirrorURLSlave, MirrorMultiAlternates) too; give it with MirrorURL alone, or write the rule natively with s3:// origins",
		`RoutingRules.RoutingRule[5].Redirect.MirrorURL: with MirrorAuth it is the private bucket "s3://s3.example.com:99999/bkt/", ` +
			`which the engine does not take: port "99999" is not a number from 1 to 65535 without leading zeros`,
	}, strings.Split(err.Error(), "\n"))

	// On an External rule MirrorAuth has no effect: validated only.
	out, err := importOSS(doc(`<RoutingRule><RuleNumber>1</RuleNumber><Condition/><Redirect><RedirectType>External</RedirectType>` +
		`<HostName>h.example.com</HostName><MirrorAuth><AuthType>S3V4</AuthType><AccessKeySecret>TOPSECRETVALUE</AccessKeySecret></MirrorAuth></Redirect></RoutingRule>`))
	require.NoError(t, err)
	assert.NotContains(t, string(out), "SECRET")
	assert.NotContains(t, string(out), "s3://")
}

func TestImportCOSSecretsNotEchoed(t *testing.T) {
	doc := `<OriginConfiguration><OriginRule><RulePriority>1</RulePriority><OriginType>Mirror</OriginType>
<OriginCondition><HTTPStatusCode>404</HTTPStatusCode></OriginCondition><OriginParameter><Protocol>HTTPS</Protocol></OriginParameter>
<OriginInfo><HostInfo><HostName>a.example</HostName><PrivateHost><Host>b.example</Host><CredentialProvider><SecretId>SID123</SecretId><SecretKey>SKEY456</SecretKey></CredentialProvider></PrivateHost>
<PrivateStandbyHost_1><Host>c.example</Host><CredentialProvider><SecretKey>SKEY789</SecretKey></CredentialProvider></PrivateStandbyHost_1></HostInfo></OriginInfo>
</OriginRule><OriginRule><RulePriority>1</RulePriority><OriginType>Mirror</OriginType><OriginCondition><HTTPStatusCode>404</HTTPStatusCode></OriginCondition>
<OriginInfo><HostInfo><HostName>http://a.example/x</HostName></HostInfo></OriginInfo></OriginRule></OriginConfiguration>`
	_, err := importCOS([]byte(doc))
	require.Error(t, err)
	for _, s := range []string{"SID123", "SKEY456", "SKEY789"} {
		assert.NotContains(t, err.Error(), s)
	}
	assert.Equal(t, []string{
		"OriginRule[0].OriginInfo.HostInfo[0].PrivateHost",
		"OriginRule[0].OriginInfo.HostInfo[0].PrivateStandbyHost_1",
		"OriginRule[1].OriginParameter",
		"OriginRule[1].OriginInfo.HostInfo[0].HostName",
		"OriginRule[1].RulePriority",
	}, errorPaths(err))
}

func TestImportS3Limits(t *testing.T) {
	rule := `<RoutingRule><Redirect><HostName>x.example</HostName></Redirect></RoutingRule>`
	_, err := importS3([]byte("<WebsiteConfiguration><RoutingRules>" + strings.Repeat(rule, 51) + "</RoutingRules></WebsiteConfiguration>"))
	require.Error(t, err)
	assert.Equal(t, []string{"RoutingRules"}, errorPaths(err))
	out, err := importS3([]byte("<WebsiteConfiguration><RoutingRules>" + strings.Repeat(rule, 50) + "</RoutingRules></WebsiteConfiguration>"))
	require.NoError(t, err)
	assert.Contains(t, string(out), `"on": "always"`)

	for _, c := range []struct{ doc, path string }{
		{`[{"Condition":{},"Redirect":{"HostName":"a"}}]`, "RoutingRules[0].Condition"},
		{`[{"Redirect":{"Hostname":"a","Protocol":"http"}}]`, "RoutingRules[0].Redirect.Hostname"},
		{`{"RoutingRules":[{"Redirect":{"HostName":"a","ReplaceKeyWith":"x","ReplaceKeyPrefixWith":"y"}}]}`, "RoutingRules[0].Redirect.ReplaceKeyWith"},
		{`{"RoutingRules":[{"Condition":{"HttpErrorCodeReturnedEquals":"302"},"Redirect":{"HostName":"a"}}]}`, "RoutingRules[0].Condition.HttpErrorCodeReturnedEquals"},
		{`{"RedirectAllRequestsTo":{"HostName":"a"},"IndexDocument":{"Suffix":"i"}}`, "IndexDocument"},
		{`{"RoutingRules":[{"Redirect":{}}]}`, "RoutingRules[0].Redirect"},
		{`{"RoutingRules":{}}`, "RoutingRules"},
		{`{"Routingrules":[]}`, "Routingrules"},
	} {
		_, err := importS3JSON([]byte(c.doc))
		require.Error(t, err, c.doc)
		assert.Equal(t, []string{c.path}, errorPaths(err), c.doc)
	}
	var many strings.Builder
	many.WriteString(`[`)
	for i := 0; i < 60000; i++ {
		many.WriteString(`1,`)
	}
	many.WriteString(`1]`)
	start := time.Now()
	_, err = importS3JSON([]byte(many.String()))
	assert.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second) // a hang guard
	_, err = importS3JSON([]byte(strings.Repeat(`{"RoutingRules":[`, 20000)))
	assert.Error(t, err)
}
