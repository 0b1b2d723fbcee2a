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
		"RoutingRules.RoutingRule[2].Redirect.MirrorAuth",
	}, errorPaths(err))
	assert.NotContains(t, err.Error(), "TOPSECRETVALUE")
	assert.NotContains(t, err.Error(), "AKIDSECRETID")
	var ce *CompileError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 1, ce.Problems[2].Rule)
	assert.Equal(t, "RuleNumber", ce.Problems[2].Field)
	assert.Contains(t, err.Error(), "unknown element <MirrorUrl> in <Redirect>")
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
