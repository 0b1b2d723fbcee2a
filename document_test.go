package mirror

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// problemPaths returns the paths of a *CompileError, in order.
func problemPaths(t *testing.T, err error) []string {
	t.Helper()
	var ce *CompileError
	require.True(t, errors.As(err, &ce), "want a *CompileError, got %v", err)
	var paths []string
	for _, p := range ce.Problems {
		paths = append(paths, p.Path)
	}
	return paths
}

func TestLoadFormats(t *testing.T) {
	tests := []struct {
		name, doc string
		format    Format
		want      Format
		rules     []Rule
	}{
		{"auto bos", `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"*"}]}`,
			FormatAuto, FormatBOS, []Rule{{Mode: ModeFetch, SourceURL: "http://o.example.com", Resource: "*"}}},
		{"auto qingstor", `{"source_site":"http://o.example.com/"}`,
			FormatAuto, FormatQingStor, []Rule{{Mode: ModeFetch, SourceURL: "http://o.example.com/", Resource: "*"}}},
		{"auto native", `{"rules":[{"mode":"redirect","sourceUrl":"o.example.com","resource":"a","redirectCode":307}]}`,
			FormatAuto, FormatNative, []Rule{{Mode: ModeRedirect, SourceURL: "o.example.com", Resource: "a", RedirectCode: 307}}},
		{"auto prefers bos over source_site", `{"source_site":"x","bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"a"}]}`,
			FormatAuto, FormatBOS, []Rule{{Mode: ModeFetch, SourceURL: "o.example.com", Resource: "a"}}},
		{"auto skips a null member", `{"bucketMirroringConfiguration":null,"rules":[]}`, FormatAuto, FormatNative, []Rule{}},
		{"bos ignores native-only fields", `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"a","redirectCode":"bad","resourceSyntax":"glob"}]}`,
			FormatBOS, FormatBOS, []Rule{{Mode: ModeFetch, SourceURL: "o.example.com", Resource: "a"}}},
		{"names case-insensitive, last wins", `{"rules":[{"MODE":"fetch","sourceUrl":"o.example.com","passQueryString":true,"passQuerystring":false,"Resource":"a","resource":"b"}]}`,
			FormatNative, FormatNative, []Rule{{Mode: ModeFetch, SourceURL: "o.example.com", Resource: "b"}}},
		{"null and empty are unset", `{"rules":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"a","version":null,"prefix":"","passHeaders":null,"customHeaders":null,"passQuerystring":null,"redirectCode":null}]}`,
			FormatNative, FormatNative, []Rule{{Mode: ModeFetch, SourceURL: "o.example.com", Resource: "a"}}},
		{"unknown fields ignored", `{"rules":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"a","allHeader":{"x":[1]},"zzz":null}],"other":1}`,
			FormatNative, FormatNative, []Rule{{Mode: ModeFetch, SourceURL: "o.example.com", Resource: "a"}}},
		{"header lists", `{"rules":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"a","passHeaders":["A","b"],"ignoreHeaders":["c"],"customHeaders":[{"headerName":"X","headerValue":"1"},{"HEADERNAME":"Y"}]}]}`,
			FormatNative, FormatNative, []Rule{{Mode: ModeFetch, SourceURL: "o.example.com", Resource: "a", PassHeaders: []string{"A", "b"},
				IgnoreHeaders: []string{"c"}, CustomHeaders: []Header{{"X", "1"}, {"Y", ""}}}}},
		{"storage class upper-cased", `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"a","storageClass":"maz_Standard_ia"}]}`,
			FormatAuto, FormatBOS, []Rule{{Mode: ModeFetch, SourceURL: "o.example.com", Resource: "a", StorageClass: "MAZ_STANDARD_IA"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, err := Load([]byte(tt.doc), tt.format)
			require.NoError(t, err)
			assert.Equal(t, tt.want, eng.Format())
			rules := []Rule{}
			for i := 0; i < eng.Len(); i++ {
				rules = append(rules, eng.Rule(i))
			}
			assert.Equal(t, tt.rules, rules)
		})
	}
}

func TestLoadTypeErrors(t *testing.T) {
	tests := []struct {
		doc    string
		format Format
		paths  []string
	}{
		{`[]`, FormatAuto, []string{"document"}},
		{`{"rules":[`, FormatNative, []string{"document"}},
		{`{"rules":{}}`, FormatNative, []string{"rules"}},
		{`{"rules":[null, 3, "x"]}`, FormatNative, []string{"rules[0]", "rules[1]", "rules[2]"}},
		{`{"rules":[{"mode":1,"sourceUrl":"o.example.com","passQuerystring":"false","redirectCode":"302","resource":[]}]}`, FormatNative,
			[]string{"rules[0].mode", "rules[0].resource", "rules[0].passQuerystring", "rules[0].redirectCode"}},
		{`{"rules":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"a","redirectCode":302.5}]}`, FormatNative, []string{"rules[0].redirectCode"}},
		{`{"rules":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"a","passHeaders":[null,"a",1],"ignoreHeaders":"x"}]}`, FormatNative,
			[]string{"rules[0].passHeaders[0]", "rules[0].passHeaders[2]", "rules[0].ignoreHeaders"}},
		{`{"rules":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"a","customHeaders":[null,{"headerName":1,"headerValue":"v"},"s"]}]}`, FormatNative,
			[]string{"rules[0].customHeaders[0]", "rules[0].customHeaders[1].headerName", "rules[0].customHeaders[2]"}},
		{`{"source_site":5}`, FormatQingStor, []string{"source_site"}},
		{`{"source_site":5}`, FormatAuto, []string{"source_site"}},
		{`{"source_site":["http://o.example.com"]}`, FormatAuto, []string{"source_site"}},
		{`{"rules":[]}`, "xml", []string{"format"}},
		{`{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"a","passQueryString":"yes"}]}`, FormatBOS,
			[]string{"bucketMirroringConfiguration[0].passQuerystring"}},
		{`{"rules":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"a","passQueryString":"true"}]}`, FormatNative,
			[]string{"rules[0].passQuerystring"}},
		{`{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"o.example.com","resource":5}]}`, FormatBOS,
			[]string{"bucketMirroringConfiguration[0].resource"}},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			_, err := Load([]byte(tt.doc), tt.format)
			require.Error(t, err)
			assert.Equal(t, tt.paths, problemPaths(t, err))
		})
	}
}

// Load lists parse and validation problems together, and a field whose
// type was wrong is reported once, not also as missing.
func TestLoadListsEveryProblemOnce(t *testing.T) {
	doc := `{"rules":[
		{"mode":5,"sourceUrl":"http://o.example.com","resource":"a"},
		{"mode":"fetch","sourceUrl":"ftp://o.example.com","resource":"b","version":"v3"},
		{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"","storageClass":"GOLD","redirectCode":200}]}`
	_, err := Load([]byte(doc), FormatAuto)
	require.Error(t, err)
	assert.Equal(t, []string{
		"rules[0].mode",
		"rules[1].sourceUrl", "rules[1].version",
		"rules[2].storageClass", "rules[2].redirectCode", "rules[2].resource",
	}, problemPaths(t, err))
}

func TestFieldErrorTakesApart(t *testing.T) {
	_, err := Load([]byte(`{"bucketMirroringConfiguration":[
		{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"a/*"},
		{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"b/*"},
		{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"c/*"},
		{"mode":"fetch","sourceUrl":"gopher://o.example.com","resource":"d/*"}]}`), FormatBOS)
	var fe *FieldError
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, 3, fe.Rule)
	assert.Equal(t, "sourceUrl", fe.Field)
	assert.Equal(t, "bucketMirroringConfiguration[3].sourceUrl", fe.Path)
	assert.Equal(t, `scheme "gopher" is not http, https, bos or s3`, fe.Reason)
	assert.Equal(t, `bucketMirroringConfiguration[3].sourceUrl: scheme "gopher" is not http, https, bos or s3`, err.Error())
}

// Revision 3, item 1 (docs/SEMANTICS.md §1): a document without its top-level member is an error, in
// auto and in an explicit format, so that a misspelt member never
// compiles into rules that match nothing.
func TestLoadTopLevelMember(t *testing.T) {
	for _, tt := range []struct {
		doc    string
		format Format
		path   string
		reason string
	}{
		{`{"bucketMirroringConfigurations":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"*"}]}`, FormatAuto,
			"document", `has none of "bucketMirroringConfiguration" (bos), "source_site" (qingstor) or "rules" (native)`},
		{`{}`, FormatAuto, "document", "has none of"},
		{`null`, FormatAuto, "document", "has none of"},
		{`{"rules":null,"source_site":null}`, FormatAuto, "document", "has none of"},
		{`{"rules":[]}`, FormatBOS, "document", `a bos document needs a "bucketMirroringConfiguration" member`},
		{`{"bucketMirroringConfiguration":null}`, FormatBOS, "document", "needs"},
		{`{"rule":[]}`, FormatNative, "document", `a native document needs a "rules" member`},
		{`{"sourceSite":"http://o.example.com"}`, FormatQingStor, "document", `needs a "source_site" member`},
		{`{"bucketMirroringConfiguration":{}}`, FormatAuto, "bucketMirroringConfiguration", "must be a list of rules"},
		{`{"rules":"*"}`, FormatNative, "rules", "must be a list of rules"},
	} {
		_, err := Load([]byte(tt.doc), tt.format)
		require.Error(t, err, tt.doc)
		assert.Equal(t, []string{tt.path}, problemPaths(t, err), tt.doc)
		assert.Contains(t, err.Error(), tt.reason, tt.doc)
	}
	eng, err := Load([]byte(`{"rules":[]}`), FormatAuto)
	require.NoError(t, err, "an explicit empty rule list is a valid empty rule set")
	assert.Equal(t, 0, eng.Len())
}

// Revision 3, item 3 (docs/SEMANTICS.md §1): JSON errors say where, as a line and column, and never
// name a Go type.
func TestJSONErrorsGiveLineAndColumn(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{"{\n  \"rules\": [\n    {\"mode\": \"fetch\",}\n  ]\n}", `document: line 3, column 22: invalid character '}' looking for beginning of object key string`},
		{`{"rules": [`, "document: line 1, column 11: unexpected end of JSON input"},
		{`[{"mode":"fetch"}]`, "document: must be a JSON object ({...}), not a list"},
		{`"rules"`, "document: must be a JSON object ({...}), not a string"},
		{`42`, "document: must be a JSON object ({...}), not a number"},
		{"{\"a\":1,\n// comment\n}", "document: line 2, column 1: invalid character '/' looking for beginning of object key string"},
	} {
		_, err := Load([]byte(tt.doc), FormatAuto)
		require.Error(t, err, tt.doc)
		assert.Equal(t, tt.want, err.Error())
		assert.NotContains(t, err.Error(), "struct", "no Go type names")
	}
}

// Revision 3, item 2 (docs/SEMANTICS.md §1): what Baidu's own tools write loads.
func TestBOSDocumentsOfBaiduTools(t *testing.T) {
	// The Java SDK types passQueryString as a string.
	eng, err := Load([]byte(`{"bucketMirroringConfiguration":[
		{"mode":"fetch","sourceUrl":"o.example.com","resource":"a/*","passQueryString":"true"},
		{"mode":"fetch","sourceUrl":"o.example.com","resource":"b/*","passQueryString":"false"},
		{"mode":"fetch","sourceUrl":"o.example.com","resource":"c/*","passQueryString":""}]}`), FormatAuto)
	require.NoError(t, err)
	assert.True(t, eng.Rule(0).PassQueryString)
	assert.False(t, eng.Rule(1).PassQueryString)
	assert.False(t, eng.Rule(2).PassQueryString)
	for _, bad := range []string{`"True"`, `"1"`, `"yes"`, `1`} {
		_, err := Load([]byte(`{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"a","passQuerystring":`+bad+`}]}`), FormatBOS)
		assert.Equal(t, []string{"bucketMirroringConfiguration[0].passQuerystring"}, problemPaths(t, err), bad)
	}

	// The Go SDK's test and the bcecmd guide leave resource out: every key.
	for _, res := range []string{``, `"resource":null,`, `"resource":"",`} {
		eng, err = Load([]byte(`{"bucketMirroringConfiguration":[{`+res+`"mode":"fetch","sourceUrl":"o.example.com","prefix":"m/"}]}`), FormatAuto)
		require.NoError(t, err, res)
		assert.Equal(t, "*", eng.Rule(0).Resource)
		d, err := eng.Resolve(&Request{Key: "any/key.png"})
		require.NoError(t, err)
		assert.Equal(t, []string{"http://o.example.com/m/any/key.png"}, d.URLs)
	}
	// ... and it is then a "*" like any other: alone or overlapping.
	_, err = Load([]byte(`{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"o.example.com"},
		{"mode":"fetch","sourceUrl":"o.example.com","resource":"a/*"}]}`), FormatBOS)
	assert.Equal(t, []string{"bucketMirroringConfiguration[1].resource"}, problemPaths(t, err))
	// Natively a resource is still required.
	_, err = Load([]byte(`{"rules":[{"mode":"fetch","sourceUrl":"o.example.com"}]}`), FormatNative)
	assert.Equal(t, []string{"rules[0].resource"}, problemPaths(t, err))
}
