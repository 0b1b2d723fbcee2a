package mirror

import (
	"errors"
	"fmt"
	"strings"
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

func TestParseDocumentFormats(t *testing.T) {
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
		{"auto prefers bos over source_site", `{"source_site":"x","bucketMirroringConfiguration":[]}`,
			FormatAuto, FormatBOS, []Rule{}},
		{"bos ignores native-only fields", `{"bucketMirroringConfiguration":[{"mode":"fetch","resource":"a","redirectCode":"bad","resourceSyntax":"glob"}]}`,
			FormatBOS, FormatBOS, []Rule{{Mode: ModeFetch, Resource: "a"}}},
		{"names case-insensitive, last wins", `{"rules":[{"MODE":"fetch","passQueryString":true,"passQuerystring":false,"Resource":"a","resource":"b"}]}`,
			FormatNative, FormatNative, []Rule{{Mode: ModeFetch, Resource: "b"}}},
		{"null and empty are unset", `{"rules":[{"mode":"fetch","version":null,"prefix":"","passHeaders":null,"customHeaders":null,"passQuerystring":null,"redirectCode":null}]}`,
			FormatNative, FormatNative, []Rule{{Mode: ModeFetch}}},
		{"unknown fields ignored", `{"rules":[{"mode":"fetch","allHeader":{"x":[1]},"zzz":null}],"other":1}`,
			FormatNative, FormatNative, []Rule{{Mode: ModeFetch}}},
		{"header lists", `{"rules":[{"passHeaders":["A","b"],"ignoreHeaders":["c"],"customHeaders":[{"headerName":"X","headerValue":"1"},{"HEADERNAME":"Y"}]}]}`,
			FormatNative, FormatNative, []Rule{{PassHeaders: []string{"A", "b"}, IgnoreHeaders: []string{"c"},
				CustomHeaders: []Header{{"X", "1"}, {"Y", ""}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseDocument([]byte(tt.doc), tt.format)
			require.NoError(t, err)
			assert.Equal(t, tt.want, doc.Format)
			assert.Equal(t, tt.rules, doc.Rules)
		})
	}
}

func TestParseDocumentTypeErrors(t *testing.T) {
	tests := []struct {
		doc    string
		format Format
		paths  []string
	}{
		{`[]`, FormatAuto, []string{"document"}},
		{`{"rules":[`, FormatNative, []string{"document"}},
		{`{"rules":{}}`, FormatNative, []string{"rules"}},
		{`{"rules":[null, 3, "x"]}`, FormatNative, []string{"rules[0]", "rules[1]", "rules[2]"}},
		{`{"rules":[{"mode":1,"passQuerystring":"false","redirectCode":"302","resource":[]}]}`, FormatNative,
			[]string{"rules[0].mode", "rules[0].resource", "rules[0].passQuerystring", "rules[0].redirectCode"}},
		{`{"rules":[{"redirectCode":302.5}]}`, FormatNative, []string{"rules[0].redirectCode"}},
		{`{"rules":[{"passHeaders":[null,"a",1],"ignoreHeaders":"x"}]}`, FormatNative,
			[]string{"rules[0].passHeaders[0]", "rules[0].passHeaders[2]", "rules[0].ignoreHeaders"}},
		{`{"rules":[{"customHeaders":[null,{"headerName":1,"headerValue":"v"},"s"]}]}`, FormatNative,
			[]string{"rules[0].customHeaders[0]", "rules[0].customHeaders[1].headerName", "rules[0].customHeaders[2]"}},
		{`{"source_site":5}`, FormatQingStor, []string{"source_site"}},
		{`{"rules":[]}`, "xml", []string{"format"}},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			_, err := ParseDocument([]byte(tt.doc), tt.format)
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
	assert.Equal(t, `scheme "gopher" is not http, https or bos`, fe.Reason)
	assert.Equal(t, `bucketMirroringConfiguration[3].sourceUrl: scheme "gopher" is not http, https or bos`, err.Error())
}

func TestValidation(t *testing.T) {
	ok := Rule{Mode: ModeFetch, SourceURL: "http://o.example.com", Resource: "a/*"}
	long := strings.Repeat("x", 1025)
	tests := []struct {
		name   string
		change func(r *Rule)
		field  string // "" means valid
	}{
		{"valid", func(r *Rule) {}, ""},
		{"mode missing", func(r *Rule) { r.Mode = "" }, "mode"},
		{"mode unknown", func(r *Rule) { r.Mode = "Fetch" }, "mode"},
		{"sourceUrl missing", func(r *Rule) { r.SourceURL = "" }, "sourceUrl"},
		{"sourceUrl userinfo", func(r *Rule) { r.SourceURL = "http://u@o.example.com" }, "sourceUrl"},
		{"backSourceUrl bad", func(r *Rule) { r.BackSourceURL = "http://o.example.com/?x" }, "backSourceUrl"},
		{"redirect to bos", func(r *Rule) { r.Mode = ModeRedirect; r.SourceURL = "bos://bj.bcebos.com/bucket" }, "sourceUrl"},
		{"redirect backup bos is fine", func(r *Rule) { r.Mode = ModeRedirect; r.BackSourceURL = "bos://bj.bcebos.com/bucket" }, ""},
		{"resource missing", func(r *Rule) { r.Resource = "" }, "resource"},
		{"resource long", func(r *Rule) { r.Resource = long }, "resource"},
		{"resource control", func(r *Rule) { r.Resource = "a\tb" }, "resource"},
		{"resource not utf8", func(r *Rule) { r.Resource = "a\xffb" }, "resource"},
		{"resource several stars native", func(r *Rule) { r.Resource = "a*b*c*d*e" }, ""},
		{"glob ok", func(r *Rule) { r.ResourceSyntax = "glob"; r.Resource = "a/**/*.{png,jpg}" }, ""},
		{"glob bad", func(r *Rule) { r.ResourceSyntax = "glob"; r.Resource = "a/{b" }, "resource"},
		{"glob 3 stars", func(r *Rule) { r.ResourceSyntax = "glob"; r.Resource = "a*b*c*d" }, ""},
		{"glob 4 stars", func(r *Rule) { r.ResourceSyntax = "glob"; r.Resource = "a*b*c**d*" }, "resource"},
		{"glob escaped stars do not count", func(r *Rule) { r.ResourceSyntax = "glob"; r.Resource = `a\*b\*c\*d\*e*` }, ""},
		{"syntax unknown", func(r *Rule) { r.ResourceSyntax = "regexp" }, "resourceSyntax"},
		{"prefix long", func(r *Rule) { r.Prefix = long }, "prefix"},
		{"suffix control", func(r *Rule) { r.Suffix = "\n" }, "suffix"},
		{"prefixReplace not utf8", func(r *Rule) { r.PrefixReplace = "\xc3" }, "prefixReplace"},
		{"fixedKey dot segment", func(r *Rule) { r.FixedKey = "a/../b" }, "fixedKey"},
		{"fixedKey backslash dot segment", func(r *Rule) { r.FixedKey = `a\.\b` }, "fixedKey"},
		{"version", func(r *Rule) { r.Version = "V2" }, "version"},
		{"storageClass", func(r *Rule) { r.StorageClass = "standard" }, "storageClass"},
		{"redirectCode", func(r *Rule) { r.RedirectCode = 304 }, "redirectCode"},
		{"redirectCode ok", func(r *Rule) { r.RedirectCode = 308 }, ""},
		{"private origin", func(r *Rule) { r.SourceURL = "http://10.1.2.3/" }, "sourceUrl"},
		{"private backup", func(r *Rule) { r.BackSourceURL = "http://[fd00::1]/" }, "backSourceUrl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.change(&r)
			_, err := Compile([]Rule{r})
			if tt.field == "" {
				assert.NoError(t, err)
				return
			}
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "want a problem at %s, got %v", tt.field, err)
			assert.Equal(t, "rules[0]."+tt.field, fe.Path)
			assert.Equal(t, tt.field, fe.Field)
			assert.NotEmpty(t, fe.Reason)
		})
	}
}

func TestAllowPrivateOrigins(t *testing.T) {
	rules := []Rule{{Mode: ModeFetch, SourceURL: "http://localhost:9000/b", Resource: "*"}}
	_, err := Compile(rules)
	require.Error(t, err)
	eng, err := Compile(rules, AllowPrivateOrigins())
	require.NoError(t, err)
	p, b := eng.Origins(0)
	assert.Equal(t, "http://localhost:9000/b/", p)
	assert.Equal(t, "", b)
}

func bosDoc(resources ...string) string {
	var rules []string
	for _, r := range resources {
		rules = append(rules, fmt.Sprintf(`{"mode":"fetch","sourceUrl":"http://o.example.com","resource":%q}`, r))
	}
	return `{"bucketMirroringConfiguration":[` + strings.Join(rules, ",") + `]}`
}

func TestBOSLimits(t *testing.T) {
	tests := []struct {
		name      string
		resources []string
		paths     []string // nil: compiles
	}{
		{"suffix rule meets two prefix rules", []string{"a/*", "b/*", "*.png", "a", "c/*.jpg"}, []string{
			"bucketMirroringConfiguration[2].resource", "bucketMirroringConfiguration[2].resource"}},
		{"prefix apart, suffix apart", []string{"img/*.png", "img/*.jpg", "doc/*"}, nil},
		{"nested prefixes", []string{"img/*", "img/2024/*.png"}, []string{"bucketMirroringConfiguration[1].resource"}},
		{"suffix inclusion", []string{"a*.png", "ab*g"}, []string{"bucketMirroringConfiguration[1].resource"}},
		{"exact inside star", []string{"a/*", "a/x"}, []string{"bucketMirroringConfiguration[1].resource"}},
		{"exact outside star", []string{"a/*.png", "a/x"}, nil},
		{"same exact", []string{"x", "x"}, []string{"bucketMirroringConfiguration[1].resource"}},
		{"catch-all alone", []string{"*"}, nil},
		{"catch-all not alone", []string{"a", "b/*", "*"}, []string{
			"bucketMirroringConfiguration[2].resource", "bucketMirroringConfiguration[2].resource"}},
		{"two stars", []string{"a*b*"}, []string{"bucketMirroringConfiguration[0].resource"}},
		{"no rules", nil, []string{"bucketMirroringConfiguration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(bosDoc(tt.resources...)), FormatBOS)
			if tt.paths == nil {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, tt.paths, problemPaths(t, err))
		})
	}
	// The overlap message names both rules.
	_, err := Load([]byte(bosDoc("img/*", "img/2024/*.png")), FormatBOS)
	assert.Contains(t, err.Error(), "bucketMirroringConfiguration[0].resource")

	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("r%d/*", i)
	}
	_, err = Load([]byte(bosDoc(many...)), FormatBOS)
	assert.Equal(t, []string{"bucketMirroringConfiguration"}, problemPaths(t, err))
	// The same rules are fine natively: overlap and count are BOS's limits.
	_, err = Load([]byte(strings.Replace(bosDoc(append(many, "*")...), "bucketMirroringConfiguration", "rules", 1)), FormatNative)
	assert.NoError(t, err)
}

func TestBOSHeaderListLimit(t *testing.T) {
	names := make([]string, 11)
	for i := range names {
		names[i] = fmt.Sprintf("%q", fmt.Sprintf("X-H%d", i))
	}
	doc := `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"*","passHeaders":[` +
		strings.Join(names, ",") + `],"ignoreHeaders":[` + strings.Join(names[:10], ",") + `]}]}`
	_, err := Load([]byte(doc), FormatBOS)
	assert.Equal(t, []string{"bucketMirroringConfiguration[0].passHeaders"}, problemPaths(t, err))
	_, err = Load([]byte(strings.Replace(doc, "bucketMirroringConfiguration", "rules", 1)), FormatNative)
	assert.NoError(t, err)
}

func TestDocumentCompileUsesDocumentPaths(t *testing.T) {
	doc, err := ParseDocument([]byte(`{"source_site":"ftp://example.com/"}`), FormatAuto)
	require.NoError(t, err)
	_, err = doc.Compile()
	assert.Equal(t, []string{"source_site"}, problemPaths(t, err))

	doc, err = ParseDocument([]byte(bosDoc("a/*")), FormatAuto)
	require.NoError(t, err)
	eng, err := doc.Compile()
	require.NoError(t, err)
	assert.Equal(t, 1, eng.Len())
}
