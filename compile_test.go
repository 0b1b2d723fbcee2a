package mirror

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
		{"storageClass", func(r *Rule) { r.StorageClass = "GOLD" }, "storageClass"},
		{"storageClass in any case", func(r *Rule) { r.StorageClass = "standard_Ia" }, ""},
		{"fixedKey dots and a space", func(r *Rule) { r.FixedKey = "x/.. /y" }, "fixedKey"},
		{"fixedKey three dots", func(r *Rule) { r.FixedKey = "x/.../y" }, "fixedKey"},
		{"fixedKey fullwidth dots", func(r *Rule) { r.FixedKey = "x/\uff0e\uff0e/y" }, "fixedKey"},
		{"fixedKey dotted name", func(r *Rule) { r.FixedKey = "x/.well-known/a..b" }, ""},
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

func TestCompilerAllowPrivateOrigins(t *testing.T) {
	rules := []Rule{{Mode: ModeFetch, SourceURL: "http://localhost:9000/b", Resource: "*"}}
	_, err := Compile(rules)
	require.Error(t, err)
	eng, err := Compiler{AllowPrivateOrigins: true}.Compile(rules)
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

// Revision 3, item 9 (docs/SEMANTICS.md §3, §1): a BOS document over 20 rules gets the count error and no
// overlap check, and no compile error lists more than 100 problems.
func TestRefusalsAreBounded(t *testing.T) {
	stars := make([]string, 4000)
	for i := range stars {
		stars[i] = "*"
	}
	_, err := Load([]byte(bosDoc(stars...)), FormatBOS)
	assert.Equal(t, []string{"bucketMirroringConfiguration"}, problemPaths(t, err))
	assert.Equal(t, "bucketMirroringConfiguration: BOS takes 1 to 20 rules, the document has 4000", err.Error())

	bad := make([]string, 250)
	for i := range bad {
		bad[i] = `{"mode":"pull"}`
	}
	_, err = Load([]byte(`{"rules":[`+strings.Join(bad, ",")+`]}`), FormatNative)
	var ce *CompileError
	require.True(t, errors.As(err, &ce))
	assert.Len(t, ce.Problems, MaxProblems)
	assert.Equal(t, 3*250-MaxProblems, ce.More, "mode, sourceUrl and resource of every rule")
	lines := strings.Split(err.Error(), "\n")
	assert.Len(t, lines, MaxProblems+1)
	assert.Equal(t, "… and 650 more problems", lines[MaxProblems])
	assert.Equal(t, "rules[0].mode", ce.Problems[0].Path, "document order")
	assert.Equal(t, "rules[33].mode", ce.Problems[99].Path)
}
