package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const explainDoc = `{"rules": [
  {"mode": "fetch", "sourceUrl": "https://a.example.com", "resource": "video/*"},
  {"mode": "fetch", "sourceUrl": "https://origin.example.com/site", "backSourceUrl": "bos://bj.bcebos.com/backup",
   "resource": "img/*", "version": "v2", "prefixReplace": "pics", "passQuerystring": true,
   "passHeaders": ["Accept"], "customHeaders": [{"headerName": "X-From", "headerValue": "mirror"}]},
  {"mode": "redirect", "sourceUrl": "https://old.example.com", "resource": "*"}
]}`

func TestExplainCommand(t *testing.T) {
	doc := writeDoc(t, explainDoc)
	code, out, errOut := runCmd(t, "", "explain", "-rules", doc, "-query", "w=1&Signature=x",
		"-H", "Accept: image/webp", "-H", "Cookie:s=1", "img/2024/cat.jpg")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, `key "img/2024/cat.jpg"

rules, in order (the first that covers the key decides)
  0 no  "video/*": the literal prefix "video/" differs at byte 0: the key has "i", the prefix "v"
  1 yes "img/*": covers the key: this rule decides
  2 yes "*": covers the key too, but rule 1 comes first

origin key (rule 1)
  v2: the resource's literal prefix "img/" is cut off: "2024/cat.jpg"
  prefixReplace "pics" is put in its place, with a "/" between: "pics/2024/cat.jpg"
  = "pics/2024/cat.jpg"

query
  kept    "w=1": passed on (passQuerystring)
  dropped "Signature=x": "Signature" is the credential parameter "signature": the client's credentials never reach an origin
  (the bos:// origin bj.bcebos.com gets no query: it would be a request signed by the owner)

headers to the origin
  sent    Accept: "image/webp": in passHeaders
  dropped Cookie: "s=1": never forwarded from a client: it is a credential
  set     X-From: "mirror": set by the rule (customHeaders)

decision
  fetch, rule 1
  primary https://origin.example.com/site/pics/2024/cat.jpg?w=1
  backup  bos://bj.bcebos.com/backup/pics/2024/cat.jpg
  header Accept: image/webp
  header X-From: mirror
`, out)

	// Flags may follow the key; the JSON carries the decision as eval
	// prints it.
	code, out, errOut = runCmd(t, "", "explain", "-rules", doc, "old/page.html", "-json")
	require.Equal(t, 0, code, errOut)
	var x struct {
		Key   string `json:"key"`
		Rule  int    `json:"rule"`
		Rules []struct {
			Covers bool   `json:"covers"`
			Reason string `json:"reason"`
		} `json:"rules"`
		Decision map[string]any `json:"decision"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &x))
	assert.Equal(t, "old/page.html", x.Key)
	assert.Equal(t, 2, x.Rule)
	require.Len(t, x.Rules, 3)
	assert.Equal(t, `the literal prefix "img/" differs at byte 0: the key has "o", the prefix "i"`, x.Rules[1].Reason)
	assert.Equal(t, map[string]any{"matched": true, "mode": "redirect", "redirectCode": float64(302), "rule": float64(2),
		"urls": []any{"https://old.example.com/old/page.html"}}, x.Decision)

	// A refused request says where it stopped.
	code, out, _ = runCmd(t, "", "explain", "-rules", doc, "img/../x")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "  = \"pics/../x\"\n\ndecision\n  refused: unsafe origin key: ")

	noRule := writeDoc(t, `{"rules": [{"mode": "fetch", "sourceUrl": "https://a.example.com", "resource": "a/*"}]}`)
	code, out, _ = runCmd(t, "", "explain", "-rules", noRule, "b")
	require.Equal(t, 0, code)
	assert.True(t, strings.HasSuffix(out, "decision\n  no rule covers the key: a plain miss (404)\n"), out)
}

func TestExplainCommandUsage(t *testing.T) {
	doc := writeDoc(t, explainDoc)
	for _, args := range [][]string{
		{"explain", "-rules", doc},
		{"explain", "-rules", doc, "a", "b"},
		{"explain", "-rules", doc, "-H", "no colon", "a"},
		{"explain", "-rules", doc, "a", "-bogus"},
		{"explain", "a"},
	} {
		code, _, errOut := runCmd(t, "", args...)
		assert.Equal(t, 2, code, "%q", args)
		assert.Contains(t, errOut, "mirror: ", "%q", args)
	}
}

func TestLintCommand(t *testing.T) {
	doc := writeDoc(t, `{"rules": [
  {"mode": "fetch", "sourceUrl": "http://origin.example.com", "resource": "img/*", "prefixReplace": "pics",
   "customHeaders": [{"headerName": "Authorization", "headerValue": "Bearer s"}]},
  {"mode": "fetch", "sourceUrl": "https://origin.example.com", "resource": "img/2024/*.jpg"},
  {"mode": "redirect", "sourceUrl": "https://old.example.com", "resource": "*", "storageClass": "COLD"}
]}`)
	code, out, errOut := runCmd(t, "", "lint", "-rules", doc)
	assert.Equal(t, 1, code, errOut)
	assert.Equal(t, `rules[0].prefixReplace: does nothing in version v1 (the default): prefixReplace acts in v2 only
rules[0].customHeaders[0].headerName: credential "Authorization" is sent in clear text to http://origin.example.com: anyone on the path can read it; use https
rules[1].resource: no key can reach this rule: rules[0] ("img/*") covers every key it covers
rules[2].storageClass: does nothing on a redirect rule: a redirect stores nothing
`, out)

	code, out, _ = runCmd(t, "", "lint", "-rules", doc, "-json")
	assert.Equal(t, 1, code)
	var got struct {
		Warnings []lintOut `json:"warnings"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got.Warnings, 4)
	assert.Equal(t, lintOut{"rules[1].resource", 1, "resource", `no key can reach this rule: rules[0] ("img/*") covers every key it covers`}, got.Warnings[2])

	// examples/bos.json passes the reader's query and headers on, on
	// purpose: lint says what that means (issue 16).
	code, out, _ = runCmd(t, "", "lint", "-rules", "../../examples/bos.json")
	assert.Equal(t, 1, code)
	assert.Equal(t, 4, strings.Count(out, "the object stored for every later reader of the key"), out)
	assert.Equal(t, 4, strings.Count(out, "\n"), out)

	// The other bundled examples are clean: status 0, nothing printed,
	// and an empty list in JSON.
	for _, f := range []string{"native.json", "qingstor.json", "gateway.json"} {
		code, out, errOut := runCmd(t, "", "lint", "-rules", "../../examples/"+f, "-allow-private-origins")
		assert.Equal(t, 0, code, "%s: %s", f, errOut)
		assert.Empty(t, out, f)
	}
	code, out, _ = runCmd(t, "", "lint", "-rules", "../../examples/native.json", "-json")
	assert.Equal(t, 0, code)
	assert.JSONEq(t, `{"warnings": []}`, out)

	// A document that does not compile: its problems, status 2.
	bad := writeDoc(t, `{"rules": [{"mode": "fetch", "resource": "a"}]}`)
	code, _, errOut = runCmd(t, "", "lint", "-rules", bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "mirror: rules[0].sourceUrl: is required")
}
