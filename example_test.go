package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/mirrorkit/mirror"
)

func ExampleCompile() {
	eng, err := mirror.Compile([]mirror.Rule{{
		Mode:            mirror.ModeFetch,
		SourceURL:       "https://origin.example.com/site",
		BackSourceURL:   "https://backup.example.com",
		Resource:        "images/*",
		Version:         "v2",
		PrefixReplace:   "img",
		PassQueryString: true,
		PassHeaders:     []string{"Accept"},
	}})
	if err != nil {
		panic(err)
	}
	d, err := eng.Resolve(&mirror.Request{
		Key:      "images/2024/cat 1.png",
		RawQuery: "w=100&X-Amz-Signature=secret",
		Header:   http.Header{"Accept": {"image/webp"}, "Cookie": {"session=1"}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Mode, d.URLs[0])
	fmt.Println("backup:", d.URLs[1])
	fmt.Println(d.Header)
	// Output:
	// fetch https://origin.example.com/site/img/2024/cat%201.png?w=100
	// backup: https://backup.example.com/img/2024/cat%201.png?w=100
	// map[Accept:[image/webp]]
}

func ExampleLoad() {
	doc := []byte(`{"bucketMirroringConfiguration": [{
		"mode": "fetch",
		"sourceUrl": "http://www.example.com",
		"resource": "docs/*",
		"suffix": ".docx",
		"storageClass": "STANDARD_IA"
	}]}`)
	eng, err := mirror.Load(doc, mirror.FormatAuto)
	if err != nil {
		panic(err)
	}
	d, _ := eng.Resolve(&mirror.Request{Key: "docs/report"})
	fmt.Println(d.URLs[0], d.StorageClass)
	_, err = eng.Resolve(&mirror.Request{Key: "other/report"})
	fmt.Println(errors.Is(err, mirror.ErrNoRule))
	// Output:
	// http://www.example.com/docs/report.docx STANDARD_IA
	// true
}

func ExampleLoad_errors() {
	doc := []byte(`{"bucketMirroringConfiguration": [
		{"mode": "mirror", "sourceUrl": "http://o.example.com", "resource": "a/*"},
		{"mode": "fetch", "sourceUrl": "http://169.254.169.254/latest/", "resource": "b/*"},
		{"mode": "fetch", "sourceUrl": "http://o.example.com", "resource": "a/b/*"}
	]}`)
	_, err := mirror.Load(doc, mirror.FormatBOS)
	var ce *mirror.CompileError
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			fmt.Printf("rule %d, %s\n", p.Rule, p.Field)
		}
	}
	fmt.Println(err)
	// Output:
	// rule 0, mode
	// rule 1, sourceUrl
	// rule 2, resource
	// bucketMirroringConfiguration[0].mode: "mirror" is not fetch or redirect
	// bucketMirroringConfiguration[1].sourceUrl: address 169.254.169.254 is in 169.254.0.0/16, which is not publicly routable (loopback, private, link-local, metadata or special-purpose); private origins are not allowed without -allow-private-origins (Compiler.AllowPrivateOrigins)
	// bucketMirroringConfiguration[2].resource: "a/b/*" covers keys that bucketMirroringConfiguration[0].resource ("a/*") covers too; BOS does not allow rules whose prefixes and suffixes include each other
}

func ExampleEngine_Match() {
	eng, _ := mirror.Compile([]mirror.Rule{
		{Mode: mirror.ModeFetch, SourceURL: "http://one.example.com", Resource: "img/*.png"},
		{Mode: mirror.ModeFetch, SourceURL: "http://two.example.com", Resource: "img/*"},
	})
	for _, key := range []string{"img/a.png", "img/a.jpg", "doc/a.png"} {
		rule, ok := eng.Match(key)
		fmt.Println(key, rule, ok)
	}
	// Output:
	// img/a.png 0 true
	// img/a.jpg 1 true
	// doc/a.png -1 false
}

// An embedder dials every origin of a decision from its parts, without
// parsing a URL: an http(s) origin through NewRequest, whose request line
// carries the engine's bytes exactly, and a bos:// origin through its
// endpoint, bucket and object key (or NewRequest, then a BCE signature).
func ExampleOrigin() {
	eng, err := mirror.Compiler{}.Compile([]mirror.Rule{{
		Mode:          mirror.ModeFetch,
		SourceURL:     "https://img.example.com:8443/site",
		BackSourceURL: "bos://bj.bcebos.com/old-bucket/mirror",
		Resource:      "img/*",
		PassHeaders:   []string{"Accept"},
	}})
	if err != nil {
		panic(err)
	}
	d, err := eng.Resolve(&mirror.Request{Key: "img/cat 1+2.png", Header: http.Header{"Accept": {"image/avif"}}})
	if err != nil {
		panic(err)
	}
	for _, o := range d.Origins {
		switch o.Scheme {
		case "bos":
			fmt.Printf("BOS endpoint %s, bucket %s, object %q\n", o.Host, o.Bucket, o.Key)
		default:
			req, err := o.NewRequest(context.Background())
			if err != nil {
				panic(err)
			}
			for name, values := range d.Header {
				req.Header[name] = values
			}
			fmt.Println("dial", req.URL.Host, "then GET", req.URL.RequestURI(), req.Header)
		}
	}
	// Output:
	// dial img.example.com:8443 then GET /site/img/cat%201%2B2.png map[Accept:[image/avif]]
	// BOS endpoint bj.bcebos.com, bucket old-bucket, object "mirror/img/cat 1+2.png"
}

// A proxy that resolves many requests keeps one Decision per worker and
// resolves into it: once its slices have grown, nothing is allocated.
// Its strings are views of the decision's own buffer until the next
// ResolveTo, so what must outlive that is cloned.
func ExampleEngine_ResolveTo() {
	eng, err := mirror.Compile([]mirror.Rule{{
		Mode:        mirror.ModeFetch,
		SourceURL:   "https://origin.example.com",
		Resource:    "img/*",
		PassHeaders: []string{"Accept", "User-Agent"},
	}})
	if err != nil {
		panic(err)
	}
	var d mirror.Decision
	for _, key := range []string{"img/a.png", "img/b.png", "doc/c.pdf"} {
		req := &mirror.Request{Key: key, Header: http.Header{"Accept": {"image/*"}, "Cookie": {"s=1"}}}
		if err := eng.ResolveTo(&d, req); err != nil {
			fmt.Println(key, err)
			continue
		}
		fmt.Println(d.URLs[0], d.Fields)
	}
	// Output:
	// https://origin.example.com/img/a.png [{Accept image/*}]
	// https://origin.example.com/img/b.png [{Accept image/*}]
	// doc/c.pdf no mirror rule covers the key
}

// Explain tells why a key goes where it goes: every rule's verdict, how
// the origin key was built, and what became of each query piece and
// header.
func ExampleEngine_Explain() {
	eng, err := mirror.Compile([]mirror.Rule{
		{Mode: mirror.ModeFetch, SourceURL: "https://video.example.com", Resource: "video/*"},
		{Mode: mirror.ModeFetch, SourceURL: "https://img.example.com", Resource: "img/*.png", PassQueryString: true},
		{Mode: mirror.ModeRedirect, SourceURL: "https://old.example.com", Resource: "*"},
	})
	if err != nil {
		panic(err)
	}
	x := eng.Explain(&mirror.Request{Key: "img/cat.jpg", RawQuery: "w=100"})
	for _, c := range x.Rules {
		fmt.Println(c.Rule, c.Covers, c.Reason)
	}
	fmt.Println(x.Decision.Mode, x.Decision.URLs[0])
	// Output:
	// 0 false the literal prefix "video/" differs at byte 0: the key has "i", the prefix "v"
	// 1 false after the literal prefix "img/" the key does not end with the suffix ".png"
	// 2 true covers the key: this rule decides
	// redirect https://old.example.com/img/cat.jpg
}

// Lint finds what compiles but can not be meant: here a rule that an
// earlier one hides, and an option that does nothing.
func ExampleEngine_Lint() {
	eng, err := mirror.Load([]byte(`{"rules": [
		{"mode": "fetch", "sourceUrl": "https://img.example.com", "resource": "img/*"},
		{"mode": "fetch", "sourceUrl": "https://img.example.com", "resource": "img/2024/*.png", "prefixReplace": "png"}
	]}`), mirror.FormatAuto)
	if err != nil {
		panic(err)
	}
	for _, w := range eng.Lint() {
		fmt.Println(w)
	}
	// Output:
	// rules[1].resource: no key can reach this rule: rules[0] ("img/*") covers every key it covers
	// rules[1].prefixReplace: does nothing in version v1 (the default): prefixReplace acts in v2 only
}
