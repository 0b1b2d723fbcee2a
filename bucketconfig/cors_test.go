package bucketconfig_test

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The XML aws-sdk-go-v2's PutBucketCors sends, namespace and all.
const sdkXML = `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule>` +
	`<AllowedHeader>x-amz-*</AllowedHeader><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>` +
	`<AllowedOrigin>https://*.example.com</AllowedOrigin><ExposeHeader>ETag</ExposeHeader><ID>web</ID>` +
	`<MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule><CORSRule><AllowedMethod>GET</AllowedMethod>` +
	`<AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>`

// The JSON bce-sdk-go's PutBucketCorsFromStruct sends.
const sdkJSON = `{"corsConfiguration":[{"allowedOrigins":["https://*.example.com"],"allowedMethods":["GET","HEAD"],` +
	`"allowedHeaders":["x-amz-*"],"allowedExposeHeaders":["ETag"],"maxAgeSeconds":3000},` +
	`{"allowedOrigins":["*"],"allowedMethods":["GET"]}]}`

func age(n int64) *int64 { return &n }

var sdkRules = &bucketconfig.CORS{Rules: []bucketconfig.CORSRule{
	{ID: "web", AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"GET", "HEAD"},
		AllowedHeaders: []string{"x-amz-*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: age(3000)},
	{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
}}

// Both dialects read to the same rules (BOS has no IDs), are written back
// in either, and the canonical form reads back the same.
func TestCORSDialectsRoundTrip(t *testing.T) {
	fromXML, err := bucketconfig.ParseS3CORS([]byte(sdkXML))
	require.NoError(t, err)
	assert.Equal(t, sdkRules, fromXML)
	fromJSON, err := bucketconfig.ParseBOSCORS([]byte(sdkJSON))
	require.NoError(t, err)
	noID := *sdkRules
	noID.Rules = append([]bucketconfig.CORSRule(nil), sdkRules.Rules...)
	noID.Rules[0].ID = ""
	assert.Equal(t, &noID, fromJSON)

	for _, doc := range []string{sdkXML, "\ufeff\n  " + sdkXML, sdkJSON} {
		c, err := bucketconfig.ParseCORS([]byte(doc))
		require.NoError(t, err, doc)
		assert.Len(t, c.Rules, 2)
	}

	again, err := bucketconfig.ParseS3CORS(fromXML.S3XML())
	require.NoError(t, err)
	assert.Equal(t, fromXML, again)
	assert.Contains(t, string(fromXML.S3XML()), `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	assert.JSONEq(t, sdkJSON, string(fromJSON.BOSJSON()))
	assert.JSONEq(t, sdkJSON, string(fromXML.BOSJSON()), "an S3 rule's ID is not BOS's")

	stored := fromXML.Encode()
	decoded, err := bucketconfig.DecodeCORS(stored)
	require.NoError(t, err)
	assert.Equal(t, fromXML, decoded)
	weird := &bucketconfig.CORS{Rules: []bucketconfig.CORSRule{{ID: "<a&b>", AllowedOrigins: []string{"https://a&b"}, AllowedMethods: []string{"GET"}}}}
	assert.Contains(t, string(weird.Encode()), `"<a&b>"`, "one canonical form, no HTML escapes")
}

// Every problem is reported, each naming its field as the dialect spells
// it; a document that does not parse is Malformed.
func TestCORSErrorsNameTheField(t *testing.T) {
	rule := func(inner string) string {
		return `<CORSConfiguration><CORSRule>` + inner + `</CORSRule></CORSConfiguration>`
	}
	ok := `<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>`
	for _, c := range []struct {
		name, doc string
		malformed bool
		want      []string
	}{
		{"xml: no rule", `<CORSConfiguration/>`, false, []string{"CORSRule: at least one rule"}},
		{"xml: no origin", rule(`<AllowedMethod>GET</AllowedMethod>`), false, []string{"CORSRule[0].AllowedOrigin: at least one origin"}},
		{"xml: no method", rule(`<AllowedOrigin>*</AllowedOrigin>`), false, []string{"CORSRule[0].AllowedMethod: at least one method"}},
		{"xml: lower-case method", rule(`<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>get</AllowedMethod>`), false,
			[]string{`CORSRule[0].AllowedMethod[1]: "get" is not GET`}},
		{"xml: two wildcards", rule(`<AllowedOrigin>https://*.*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>`), false,
			[]string{`CORSRule[0].AllowedOrigin[0]: "https://*.*.com" has more than one *`}},
		{"xml: every problem at once", rule(`<AllowedOrigin>a b</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod><AllowedHeader>x y</AllowedHeader><ExposeHeader>a*b*</ExposeHeader><ExposeHeader>Bad:1</ExposeHeader><MaxAgeSeconds>-1</MaxAgeSeconds>`), false,
			[]string{"CORSRule[0].AllowedOrigin[0]:", "CORSRule[0].AllowedMethod[0]:", "CORSRule[0].AllowedHeader[0]:", "CORSRule[0].ExposeHeader[1]:", "CORSRule[0].MaxAgeSeconds: -1 is not 0"}},
		{"xml: id too long", rule(ok + `<ID>` + strings.Repeat("i", 256) + `</ID>`), false, []string{"CORSRule[0].ID: 256 bytes"}},
		{"xml: max age not a number", rule(ok + `<MaxAgeSeconds>soon</MaxAgeSeconds>`), true, []string{`CORSRule[0].MaxAgeSeconds: "soon" is not a whole number`}},
		{"xml: max age twice", rule(ok + `<MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds>`), true, []string{"CORSRule[0].MaxAgeSeconds: given 2 times"}},
		{"xml: unknown element", rule(ok + `<AllowedOrigins>x</AllowedOrigins>`), true, []string{"CORSRule[0].AllowedOrigins: is not an element"}},
		{"xml: unknown top element", `<CORSConfiguration><Rule/></CORSConfiguration>`, true, []string{"CORSConfiguration.Rule: is not an element"}},
		{"xml: stray text", rule(ok + `hello`), true, []string{"CORSRule[0]: holds text"}},
		{"xml: other root", `<LifecycleConfiguration/>`, true, []string{"CORSConfiguration: not the XML expected"}},
		{"xml: not closed", `<CORSConfiguration><CORSRule>`, true, []string{"CORSConfiguration: not the XML expected"}},
		{"xml: two documents", `<CORSConfiguration/><CORSConfiguration/>`, true, []string{"CORSConfiguration: more after the document"}},
		{"xml: undefined entity", rule(`<AllowedOrigin>&lol;</AllowedOrigin>`), true, []string{"CORSConfiguration: not the XML expected"}},
		{"xml: other charset", `<?xml version="1.0" encoding="ISO-8859-1"?>` + rule(ok), true, []string{"CORSConfiguration: not the XML expected"}},
		{"bos: no rule", `{"corsConfiguration":[]}`, false, []string{"corsConfiguration: at least one rule"}},
		{"bos: no member", `{}`, false, []string{"corsConfiguration: at least one rule"}},
		{"bos: bad origin", `{"corsConfiguration":[{"allowedOrigins":["",  "a,b"],"allowedMethods":["GET"]}]}`, false,
			[]string{`corsConfiguration[0].allowedOrigins[0]: "" is empty`, `corsConfiguration[0].allowedOrigins[1]: "a,b" holds a byte`}},
		{"bos: expose header", `{"corsConfiguration":[{"allowedOrigins":["*"],"allowedMethods":["GET"],"allowedExposeHeaders":["a b"]}]}`, false,
			[]string{`corsConfiguration[0].allowedExposeHeaders[0]: "a b" is not a header name`}},
		{"bos: max age too large", `{"corsConfiguration":[{"allowedOrigins":["*"],"allowedMethods":["GET"],"maxAgeSeconds":9999999999}]}`, false,
			[]string{"corsConfiguration[0].maxAgeSeconds: 9999999999 is not 0"}},
		{"bos: misspelt member", `{"corsConfiguration":[{"allowedOrigin":["*"],"allowedMethods":["GET"]}]}`, true, []string{`unknown field "allowedOrigin"`}},
		{"bos: wrong type", `{"corsConfiguration":[{"allowedOrigins":"*","allowedMethods":["GET"]}]}`, true,
			[]string{"corsConfiguration.allowedOrigins: a JSON string where []string belongs"}},
		{"bos: not JSON", `cors please`, true, []string{"document: not the JSON expected"}},
		{"bos: trailing", `{"corsConfiguration":[{"allowedOrigins":["*"],"allowedMethods":["GET"]}]} {}`, true, []string{"document: more after the JSON value"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := bucketconfig.ParseCORS([]byte(c.doc))
			var ce *bucketconfig.CORSError
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Equal(t, c.malformed, ce.Malformed, "%v", err)
			assert.Len(t, ce.Problems, len(c.want), "%v", err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// Hostile documents are errors, never panics or unbounded work.
func TestHostileCORSDocuments(t *testing.T) {
	manyRules := `<CORSConfiguration>` + strings.Repeat(`<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>`, 101) + `</CORSConfiguration>`
	for name, doc := range map[string]string{
		"over 64 KiB":         `<CORSConfiguration>` + strings.Repeat(" ", bucketconfig.MaxCORSSize) + `</CORSConfiguration>`,
		"over 64 KiB of JSON": `{"corsConfiguration":[` + strings.Repeat(" ", bucketconfig.MaxCORSSize) + `]}`,
		"101 rules":           manyRules,
		"deep XML":            strings.Repeat("<a>", 20000) + strings.Repeat("</a>", 20000),
		"deep XML in a rule":  `<CORSConfiguration><CORSRule>` + strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000) + `</CORSRule></CORSConfiguration>`,
		"deep JSON":           strings.Repeat("[", 30000) + strings.Repeat("]", 30000),
		"deep JSON member":    `{"corsConfiguration":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`,
		"billion laughs":      `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><CORSConfiguration><CORSRule><AllowedOrigin>&b;</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`,
		"binary":              "\x00\xff<\x01",
		"empty":               "",
		"null":                "null",
		"control in a value":  `{"corsConfiguration":[{"allowedOrigins":["https://a\r\nSet-Cookie: x"],"allowedMethods":["GET"]}]}`,
	} {
		assert.NotPanics(t, func() {
			c, err := bucketconfig.ParseCORS([]byte(doc))
			assert.Error(t, err, name)
			assert.Nil(t, c, name)
			assert.Less(t, len(err.Error()), 20000, name)
		}, name)
	}
	_, err := bucketconfig.DecodeCORS([]byte(`{"rules":[{"allowedOrigins":["*"],"allowedMethods":["GET"],"extra":1}]}`))
	assert.Error(t, err, "a stored record is read as strictly")
	_, err = bucketconfig.DecodeCORS([]byte(`{"rules":[]}`))
	assert.Error(t, err)
}

// One error lists at most 100 problems.
func TestCORSErrorsAreBounded(t *testing.T) {
	doc := `<CORSConfiguration><CORSRule>` + strings.Repeat(`<AllowedMethod>get</AllowedMethod>`, 500) + `<AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>`
	_, err := bucketconfig.ParseS3CORS([]byte(doc))
	var ce *bucketconfig.CORSError
	require.True(t, errors.As(err, &ce))
	assert.Len(t, ce.Problems, 100)
}

// The XML written back is what S3's GetBucketCors answers, and
// well-formed whatever the rules hold.
func TestCORSXMLIsWellFormed(t *testing.T) {
	c := &bucketconfig.CORS{Rules: []bucketconfig.CORSRule{{ID: `</ID><x>&`, AllowedOrigins: []string{"https://a&b"}, AllowedMethods: []string{"GET"}}}}
	var v struct {
		Rules []struct {
			ID            string
			AllowedOrigin []string
		} `xml:"CORSRule"`
	}
	require.NoError(t, xml.Unmarshal(c.S3XML(), &v))
	assert.Equal(t, `</ID><x>&`, v.Rules[0].ID)
	assert.Equal(t, []string{"https://a&b"}, v.Rules[0].AllowedOrigin)
}
