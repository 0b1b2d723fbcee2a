package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCmd runs the command in-process and returns status, stdout, stderr.
func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeDoc(t *testing.T, doc string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.json")
	require.NoError(t, os.WriteFile(p, []byte(doc), 0o600))
	return p
}

func TestEvalBundledExample(t *testing.T) {
	in, err := os.ReadFile("../../examples/requests.jsonl")
	require.NoError(t, err)
	code, out, errOut := runCmd(t, string(in), "eval", "-rules", "../../examples/bos.json")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 5)
	assert.Equal(t, `{"headers":{"Allowheader1":["a1"],"Testheader1":["name1"],"Testheadername":["TestHeaderValue"]},`+
		`"matched":true,"mode":"fetch","rule":0,"storageClass":"STANDARD",`+
		`"urls":["http://www.baidu.com/folder1/404.jpeg?w=100&h=50","bos://bj.bcebos.com/bucket/folder1/404.jpeg"]}`, lines[0])
	assert.Equal(t, `{"matched":true,"mode":"redirect","redirectCode":302,"rule":2,"urls":["https://cdn.example.com/videos/videos/intro%201.mp4"]}`, lines[2])
	assert.Contains(t, lines[3], `"error":"UnsafeKey"`)
	assert.Equal(t, `{"matched":false}`, lines[4])
	for _, l := range lines {
		var m map[string]any
		assert.NoError(t, json.Unmarshal([]byte(l), &m))
	}
}

func TestEvalFormatsAndOptions(t *testing.T) {
	qs := writeDoc(t, `{"source_site":"http://127.0.0.1:8080/img"}`)
	code, _, errOut := runCmd(t, `{"key":"a"}`, "eval", "-rules", qs)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "source_site: ")

	code, out, _ := runCmd(t, "\n  \n{\"key\":\"a\"}\n\n", "eval", "-rules", qs, "-format", "qingstor", "-allow-private-origins")
	assert.Equal(t, 0, code)
	assert.Equal(t, `{"matched":true,"mode":"fetch","rule":0,"urls":["http://127.0.0.1:8080/img/a"]}`+"\n", out)

	code, _, errOut = runCmd(t, "", "eval", "-rules", qs, "-format", "xml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "format: ")
}

func TestEvalBadDocumentListsEveryProblem(t *testing.T) {
	doc := writeDoc(t, `{"bucketMirroringConfiguration":[{"mode":"mirror","sourceUrl":"http://o.example.com","resource":"a/*"},`+
		`{"mode":"fetch","sourceUrl":"http://user:pw@o.example.com","resource":"b/*"}]}`)
	code, out, errOut := runCmd(t, `{"key":"a"}`, "eval", "-rules", doc)
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[0], "mirror: bucketMirroringConfiguration[0].mode: "))
	assert.True(t, strings.HasPrefix(lines[1], "mirror: bucketMirroringConfiguration[1].sourceUrl: "))
}

func TestEvalBadRequestLines(t *testing.T) {
	doc := writeDoc(t, `{"rules":[{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"*"}]}`)
	for _, line := range []string{
		`not json`, `[]`, `"key"`, `{"key":1}`, `{"query":"a"}`, `{"key":null}`, `{"key":"a"} {"key":"b"}`,
		`{"key":"a","headers":[]}`, `{"key":"a","headers":{"A":"v"}}`, `{"key":"a","headers":{"A":[1]}}`,
		`{"key":"a","headers":{"A":[null]}}`, `{"key":"a","headers":{"A":null}}`, `{"key":"a","query":5}`,
	} {
		code, out, errOut := runCmd(t, `{"key":"ok"}`+"\n\n"+line+"\n"+`{"key":"after"}`, "eval", "-rules", doc)
		assert.Equal(t, 2, code, line)
		assert.Contains(t, errOut, "line 3: ", line)
		assert.Equal(t, 1, strings.Count(out, "\n"), "the decision before the bad line is written: %s", line)
	}
	long := `{"key":"` + strings.Repeat("a", 1<<20) + `"}`
	code, _, errOut := runCmd(t, long, "eval", "-rules", doc)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "line 1: ")

	code, out, _ := runCmd(t, `{"key":"a","headers":{"X":[]},"extra":true}`, "eval", "-rules", doc)
	assert.Equal(t, 0, code)
	assert.Equal(t, `{"matched":true,"mode":"fetch","rule":0,"urls":["http://o.example.com/a"]}`+"\n", out)
}

func TestCheck(t *testing.T) {
	code, out, errOut := runCmd(t, "", "check", "-rules", "../../examples/bos.json")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, `bos document, 3 rules
0 fetch "folder1/folder2*.jpeg" -> http://www.baidu.com/ (backup bos://bj.bcebos.com/bucket/)
1 fetch "assets/*" -> https://static.example.com/site/
2 redirect "videos/*.mp4" -> https://cdn.example.com/videos/
`, out)

	doc := writeDoc(t, `{"rules":[{"mode":"fetch","sourceUrl":"ftp://o.example.com","resource":"*"}]}`)
	code, out, errOut = runCmd(t, "", "check", "-rules", doc)
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Equal(t, `mirror: rules[0].sourceUrl: scheme "ftp" is not http, https, bos or s3`+"\n", errOut)

	// -json prints the rules as the engine compiled them: a native
	// document that loads again, with BOS's defaults filled in.
	code, out, errOut = runCmd(t, `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"o.example.com","storageClass":"cold"}]}`,
		"check", "-rules", "-", "-json")
	require.Equal(t, 0, code, errOut)
	assert.JSONEq(t, `{"format":"bos","rules":[{"mode":"fetch","sourceUrl":"o.example.com","resource":"*","storageClass":"COLD"}]}`, out)
	code, _, errOut = runCmd(t, out, "check", "-rules", "-", "-format", "native")
	assert.Equal(t, 0, code, errOut)
}

// -rules - reads the document from standard input; eval reads the
// requests after it.
func TestRulesFromStandardInput(t *testing.T) {
	in := `{"rules":[{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"*"}]}` + "\n" + `{"key":"a"}` + "\n" + `{"key":"b"}`
	code, out, errOut := runCmd(t, in, "eval", "-rules", "-")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, `{"matched":true,"mode":"fetch","rule":0,"urls":["http://o.example.com/a"]}`+"\n"+
		`{"matched":true,"mode":"fetch","rule":0,"urls":["http://o.example.com/b"]}`+"\n", out)

	code, out, errOut = runCmd(t, `{"rules":[`, "eval", "-rules", "-")
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.True(t, strings.HasPrefix(errOut, "mirror: "), errOut)
}

// Go CLI conventions: -h is not an error, messages start with "mirror:",
// errors go to standard error only.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"bogus"}, {"eval"}, {"eval", "-rules"}, {"eval", "-rules", "/nonexistent"},
		{"check", "-bogus"}, {"check", "-rules", "../../examples/bos.json", "extra"}} {
		code, out, errOut := runCmd(t, "", args...)
		assert.Equal(t, 2, code, args)
		assert.Empty(t, out, args)
		assert.NotEmpty(t, errOut, args)
	}
	for _, args := range [][]string{{"eval", "-rules", "/nonexistent"}, {"bogus"}, {"check"}} {
		_, _, errOut := runCmd(t, "", args...)
		assert.True(t, strings.HasPrefix(errOut, "mirror: "), "%v: %q", args, errOut)
	}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"eval", "-h"}, {"check", "-help"}} {
		code, out, errOut := runCmd(t, "", args...)
		assert.Equal(t, 0, code, args)
		assert.Contains(t, out, "usage", args)
		assert.Empty(t, errOut, args)
	}
}

// The README shows what the first command prints; it must stay true.
func TestREADMEShowsTheEvalOutput(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, block, ok := strings.Cut(string(readme), "<!-- eval-output -->\n```json\n")
	require.True(t, ok, "the README's eval-output block")
	block, _, _ = strings.Cut(block, "```")
	in, err := os.ReadFile("../../examples/requests.jsonl")
	require.NoError(t, err)
	code, out, errOut := runCmd(t, string(in), "eval", "-rules", "../../examples/bos.json")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, out, block)
}

// check words a provider's rules by their conditions and targets: the
// match's prefix, suffix, methods and trigger, the backups beyond the
// first, and a redirect to a host rather than an origin.
func TestCheckProviderRules(t *testing.T) {
	code, out, errOut := runCmd(t, "", "check", "-format", "oss", "-rules", "../../testdata/providers/oss/console-replace-prefix-backup.xml")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, `oss document, 3 rules
0 fetch prefix "" suffix ".jpg" methods GET -> http://img.example.com/
1 redirect prefix "docs/" on always -> (the request's scheme)://(the request's host)
2 fetch prefix "examplefolder/" methods GET,HEAD -> https://www.example.com/ (backup https://backup.example.com/ +2)
`, out)
}
