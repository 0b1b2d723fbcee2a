package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalExtended: eval's request lines take method, host, scheme and
// status, and its output shows the extended model's decision fields.
func TestEvalExtended(t *testing.T) {
	doc := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(doc, []byte(`{"rules":[
	 {"mode":"fetch","sourceUrls":["o1.example.com","o2.example.com"],"scheme":"request","sourceWeights":[3,1],
	  "match":{"prefix":"img/","headers":[{"name":"X-T","value":"a"}],"methods":["GET"]},"fetch":{"store":false}},
	 {"mode":"redirect","match":{"prefix":"img/"},"redirect":{"code":301},"on":"always"},
	 {"mode":"redirectFetch","sourceUrl":"http://rf.example.com","resource":"rf/*"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	in := strings.Join([]string{
		`{"key":"img/a","headers":{"x-t":["a"]},"scheme":"https"}`,
		`{"key":"img/a","headers":{"x-t":["a"]},"method":"HEAD","host":"b.example.com"}`,
		`{"key":"img/a","host":"b.example.com","status":200}`,
		`{"key":"rf/x"}`,
		`{"key":"rf/x","status":500}`,
		`{"key":"x","status":7}`,
	}, "\n")
	code, out, errOut := runCmd(t, in, "eval", "-rules", doc)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `{"matched":true,"mode":"fetch","policy":{"pick":"weighted","primaries":2,"store":false,"weights":[3,1]},"rule":0,"urls":["https://o1.example.com/img/a","https://o2.example.com/img/a"]}
{"matched":true,"mode":"redirect","redirectCode":301,"rule":1,"urls":["http://b.example.com/img/a"]}
{"matched":true,"mode":"redirect","redirectCode":301,"rule":1,"urls":["http://b.example.com/img/a"]}
{"matched":true,"mode":"redirectFetch","policy":{"pick":"ordered","primaries":1,"store":true},"redirectCode":302,"rule":2,"urls":["http://rf.example.com/rf/x"]}
{"matched":false}
{"error":"InvalidRequest","message":"invalid request: status 7 is not 0 (a miss) or 100 to 599"}
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}
