package mirror

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// Run:  go test -run '^$' -bench . -benchmem -count 5 | benchstat -

var benchSizes = []int{20, 1000, 100000}

// Two workloads: "mixed" (makeBenchSet) and "tenant" (makeTenantSet), so
// that no figure rests on one friendly rule set.
var workloads = []struct {
	name string
	make func(n int) benchSet
}{{"mixed", makeBenchSet}, {"tenant", makeTenantSet}}

// makeTenantSet is n glob rules of random tenants,
// tenantNNNNNN/{images,static,docs}/20XX/*{.jpg,.png,.css,.js,}, with
// hits drawn at random from them and misses that share their shape.
func makeTenantSet(n int) benchSet {
	rng := rand.New(rand.NewPCG(uint64(n), 11))
	dirs := []string{"images", "static", "docs"}
	exts := []string{".jpg", ".png", ".css", ".js", ""}
	name := func() string {
		b := make([]byte, 8+rng.IntN(24))
		for i := range b {
			b[i] = "abcdefghijklmnopqrstuvwxyz0123456789-_"[rng.IntN(38)]
		}
		return string(b)
	}
	var s benchSet
	type tenant struct{ id, year int }
	seen := map[int]bool{}
	tenants := make([]tenant, 0, n)
	for len(tenants) < n {
		id := rng.IntN(1000000)
		if seen[id] {
			continue
		}
		seen[id] = true
		t := tenant{id, 2015 + rng.IntN(11)}
		tenants = append(tenants, t)
		s.rules = append(s.rules, Rule{Mode: ModeFetch, SourceURL: fmt.Sprintf("https://origin%d.example.com", t.id%50),
			Resource: fmt.Sprintf("tenant%06d/{images,static,docs}/%d/*{.jpg,.png,.css,.js,}", t.id, t.year), ResourceSyntax: "glob"})
	}
	for len(s.hits) < 1024 {
		t := tenants[rng.IntN(n)]
		s.hits = append(s.hits, fmt.Sprintf("tenant%06d/%s/%d/%s%s", t.id, dirs[rng.IntN(3)], t.year, name(), exts[rng.IntN(5)]))
	}
	for len(s.misses) < 1024 {
		t := tenants[rng.IntN(n)]
		switch rng.IntN(3) {
		case 0: // another year
			s.misses = append(s.misses, fmt.Sprintf("tenant%06d/%s/%d/%s.jpg", t.id, dirs[rng.IntN(3)], t.year+20, name()))
		case 1: // a subdirectory, which "*" does not cross
			s.misses = append(s.misses, fmt.Sprintf("tenant%06d/%s/%d/%s/%s.png", t.id, dirs[rng.IntN(3)], t.year, name(), name()))
		default: // a tenant without rules
			id := rng.IntN(1000000)
			for seen[id] {
				id = rng.IntN(1000000)
			}
			s.misses = append(s.misses, fmt.Sprintf("tenant%06d/images/2020/%s.jpg", id, name()))
		}
	}
	return s
}

// benchSet is a realistic rule set for a multi-tenant gateway, with key
// pools of 1024 hits and 1024 misses, 40 to 80 bytes each, visited in a
// random order so that caches are not always warm.
type benchSet struct {
	rules        []Rule
	hits, misses []string
}

var suffixOnly = []string{"*.m3u8", "*.ts", "*.mpd", "*.m4s", "*.vtt"}

func makeBenchSet(n int) benchSet {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	name := func(lo, hi int) string {
		b := make([]byte, lo+rng.IntN(hi-lo+1))
		for i := range b {
			b[i] = "abcdefghijklmnopqrstuvwxyz0123456789-_"[rng.IntN(38)]
		}
		return string(b)
	}
	var s benchSet
	tenants := n - len(suffixOnly)
	for i := 0; i < tenants; i++ {
		r := Rule{Mode: ModeFetch, SourceURL: fmt.Sprintf("https://origin%d.example.com/t%d", i%50, i%50)}
		switch {
		case i%100 == 17:
			r.Resource = fmt.Sprintf("tenant%06d/*/thumbs/*.webp", i)
		case i%100 == 37:
			r.Resource, r.ResourceSyntax = fmt.Sprintf("tenant%06d/logs/**/*.{gz,log}", i), "glob"
		case i%20 < 12:
			r.Resource = fmt.Sprintf("tenant%06d/images/%d/*.jpg", i, 2020+i%5)
		case i%20 < 17:
			r.Resource = fmt.Sprintf("tenant%06d/static/site/index-%d.html", i, i%7)
		default:
			r.Resource = fmt.Sprintf("tenant%06d/video/*", i)
		}
		s.rules = append(s.rules, r)
	}
	for _, suf := range suffixOnly {
		s.rules = append(s.rules, Rule{Mode: ModeFetch, SourceURL: "https://media.example.com", Resource: suf})
	}
	for len(s.hits) < 1024 {
		i := rng.IntN(tenants)
		switch res := s.rules[i].Resource; {
		case i%100 == 17:
			s.hits = append(s.hits, fmt.Sprintf("tenant%06d/%s/thumbs/%s.webp", i, name(4, 10), name(10, 30)))
		case i%100 == 37:
			s.hits = append(s.hits, fmt.Sprintf("tenant%06d/logs/%s/%s.gz", i, name(4, 10), name(10, 30)))
		case strings.HasSuffix(res, "/*.jpg"):
			s.hits = append(s.hits, strings.TrimSuffix(res, "*.jpg")+name(15, 50)+".jpg")
		case strings.HasSuffix(res, "/*"):
			s.hits = append(s.hits, strings.TrimSuffix(res, "*")+name(20, 50)+suffixOnly[rng.IntN(5)][1:])
		default:
			s.hits = append(s.hits, res)
		}
		if rng.IntN(8) == 0 {
			s.hits[len(s.hits)-1] = "vod/" + name(30, 60) + suffixOnly[rng.IntN(5)][1:]
		}
	}
	for len(s.misses) < 1024 {
		i := rng.IntN(tenants)
		switch rng.IntN(3) {
		case 0: // a tenant's prefix, another extension
			s.misses = append(s.misses, fmt.Sprintf("tenant%06d/images/%d/%s.png", i, 2020+i%5, name(15, 50)))
		case 1: // a tenant that has no rules
			s.misses = append(s.misses, fmt.Sprintf("tenant%06d/images/2024/%s.jpg", tenants+i, name(15, 50)))
		default: // no tenant at all
			s.misses = append(s.misses, "uploads/"+name(30, 70))
		}
	}
	return s
}

var benchSets = map[string]benchSet{}

func benchSetOf(workload string, n int) benchSet {
	k := fmt.Sprint(workload, n)
	if s, ok := benchSets[k]; ok {
		return s
	}
	var s benchSet
	for _, w := range workloads {
		if w.name == workload {
			s = w.make(n)
		}
	}
	benchSets[k] = s
	return s
}

// sink keeps results alive so that the compiler can not drop the work.
var sink int

func BenchmarkMatch(b *testing.B) {
	for _, w := range workloads {
		for _, n := range benchSizes {
			s := benchSetOf(w.name, n)
			eng, err := Compile(s.rules)
			if err != nil {
				b.Fatal(err)
			}
			runHitMiss(b, w.name, s, func(b *testing.B, keys []string) {
				for i := 0; b.Loop(); i++ {
					r, _ := eng.Match(keys[(i*7919)&1023])
					sink += r
				}
			})
		}
	}
}

// runHitMiss runs body as workload=W/rules=N/hit and .../miss, on keys
// visited in a scattered order (7919 is prime to the pool size).
func runHitMiss(b *testing.B, workload string, s benchSet, body func(b *testing.B, keys []string)) {
	for _, kind := range []string{"hit", "miss"} {
		keys := s.hits
		if kind == "miss" {
			keys = s.misses
		}
		b.Run(fmt.Sprintf("workload=%s/rules=%d/%s", workload, len(s.rules), kind), func(b *testing.B) {
			b.ReportAllocs()
			body(b, keys)
		})
	}
}

// BenchmarkLinearScan checks the same rules one by one, first match
// wins: what a hand-written engine does, and the baseline of the ratio.
func BenchmarkLinearScan(b *testing.B) {
	for _, w := range workloads {
		for _, n := range benchSizes {
			s := benchSetOf(w.name, n)
			pats := make([]pattern, len(s.rules))
			for i, r := range s.rules {
				pats[i], _ = resourcePattern(r.Resource, r.ResourceSyntax, false)
			}
			runHitMiss(b, w.name, s, func(b *testing.B, keys []string) {
				for i := 0; b.Loop(); i++ {
					sink += linearScan(pats, keys[(i*7919)&1023])
				}
			})
		}
	}
}

// linearScan checks the rules one by one, first match wins: the
// baseline of the benchmarks and the reference of the index's tests.
func linearScan(pats []pattern, key string) int {
	for r := range pats {
		if pats[r].covers(key) {
			return r
		}
	}
	return -1
}

// resolveBench is a hit with query pass-through and two passed headers,
// on a rule in front of the mixed workload's n rules.
func resolveBench(b *testing.B, n int) (*Engine, *Request) {
	s := benchSetOf("mixed", n)
	rules := append([]Rule{{
		Mode: ModeFetch, SourceURL: "https://origin.example.com/site", BackSourceURL: "https://backup.example.com",
		Resource: "assets/*", PassQueryString: true, PassHeaders: []string{"Accept", "User-Agent"},
		StorageClass: "STANDARD",
	}}, s.rules...)
	eng, err := Compile(rules)
	if err != nil {
		b.Fatal(err)
	}
	req := &Request{
		Key:      "assets/css/site-2024/app.min.css",
		RawQuery: "v=20240102&w=100&Signature=abc",
		Header: http.Header{"Accept": {"text/css,*/*;q=0.1"}, "User-Agent": {"Mozilla/5.0"},
			"Cookie": {"s=1"}, "Accept-Encoding": {"gzip, br"}},
	}
	return eng, req
}

// runResolve runs body on the resolve request at 1,000 and 100,000 rules.
func runResolve(b *testing.B, body func(b *testing.B, eng *Engine, req *Request)) {
	for _, n := range []int{1000, 100000} {
		eng, req := resolveBench(b, n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			body(b, eng, req)
		})
	}
}

func BenchmarkResolve(b *testing.B) {
	runResolve(b, func(b *testing.B, eng *Engine, req *Request) {
		for b.Loop() {
			d, err := eng.Resolve(req)
			if err != nil {
				b.Fatal(err)
			}
			sink += len(d.URLs)
		}
	})
}

// BenchmarkResolveTo is the reuse path: one Decision, resolved into again
// and again.
func BenchmarkResolveTo(b *testing.B) {
	runResolve(b, func(b *testing.B, eng *Engine, req *Request) {
		var d Decision
		for b.Loop() {
			if err := eng.ResolveTo(&d, req); err != nil {
				b.Fatal(err)
			}
			sink += len(d.URLs)
		}
	})
}

func BenchmarkAppendURL(b *testing.B) {
	runResolve(b, func(b *testing.B, eng *Engine, req *Request) {
		buf := make([]byte, 0, 256)
		for b.Loop() {
			var err error
			var r int
			buf, r, err = eng.AppendURL(buf[:0], req)
			if err != nil {
				b.Fatal(err)
			}
			sink += r
		}
	})
}

// BenchmarkCompile reports ns/rule, and the heap a compiled engine keeps
// per rule: two GCs, HeapAlloc, compile one engine, two GCs, HeapAlloc,
// with the input rules alive on both sides, so that only what the engine
// holds of its own is counted.
func BenchmarkCompile(b *testing.B) {
	for _, w := range workloads {
		for _, n := range []int{1000, 100000} {
			b.Run(fmt.Sprintf("workload=%s/rules=%d", w.name, n), func(b *testing.B) {
				// Only this input is alive: the other sets would make
				// every collection during Compile mark them too.
				clear(benchSets)
				s := benchSetOf(w.name, n)
				runtime.GC()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					eng, err := Compile(s.rules)
					if err != nil {
						b.Fatal(err)
					}
					sink += eng.Len()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/rule")
				b.ReportMetric(retainedPerRule(s.rules), "B/rule")
			})
		}
	}
}

func retainedPerRule(rules []Rule) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	eng, err := Compile(rules)
	if err != nil {
		panic(err)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(eng)
	runtime.KeepAlive(rules)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(len(rules))
}

// BenchmarkGlobAdversarial times the globs that made gobwas backtrack for
// seconds (16 s and 39 s on the 1 KB key), on keys of growing length: the
// automaton's cost grows with the key, linearly.
func BenchmarkGlobAdversarial(b *testing.B) {
	for _, pat := range []string{"*a*a*a[a]", "*a*?a*a?[a][a]", "*a*{a,a}{a,a}{a,a}{a,a}x*y"} {
		eng, err := Compile([]Rule{{Mode: ModeFetch, SourceURL: "http://o.example.com", Resource: pat, ResourceSyntax: "glob"}})
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range []int{64, 256, 1024} {
			// The key ends like the pattern, so that no suffix check
			// answers before the automaton does.
			key := strings.Repeat("a", n-1) + "b"
			if strings.HasSuffix(pat, "y") {
				key = strings.Repeat("a", n-1) + "y"
			}
			b.Run(fmt.Sprintf("glob=%s/key=%d", pat, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, ok := eng.Match(key); ok {
						b.Fatal("matched")
					}
				}
			})
		}
	}
}

// BenchmarkRefuseBOS times refusing a BOS document of 4,000 "*" rules,
// which the overlap check once took 14 s and 3.9 GB to refuse.
func BenchmarkRefuseBOS(b *testing.B) {
	doc := []byte(`{"bucketMirroringConfiguration":[` +
		strings.Repeat(`{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"*"},`, 3999) +
		`{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"*"}]}`)
	b.Run("rules=4000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Load(doc, FormatAuto); err == nil {
				b.Fatal("compiled")
			}
		}
	})
}

// BenchmarkMatchMultiStar: 10,000 several-"*" rules under one literal
// prefix, img/*/*-N.webp, which the index once checked one by one. They
// are indexed by their literal suffix too; the linear scan is the
// baseline.
func BenchmarkMatchMultiStar(b *testing.B) {
	const n = 10000
	rules := make([]Rule, n)
	pats := make([]pattern, n)
	for i := range rules {
		rules[i] = Rule{Mode: ModeFetch, SourceURL: "http://o.example.com", Resource: fmt.Sprintf("img/*/*-%d.webp", i)}
		pats[i], _ = resourcePattern(rules[i].Resource, "", false)
	}
	eng, err := Compile(rules)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("img/%d/thumb-%d.webp", rng.IntN(1000), rng.IntN(n))
	}
	b.Run(fmt.Sprintf("rules=%d/index", n), func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			r, _ := eng.Match(keys[(i*7919)&1023])
			sink += r
		}
	})
	b.Run(fmt.Sprintf("rules=%d/linear", n), func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			sink += linearScan(pats, keys[(i*7919)&1023])
		}
	})
}

// BenchmarkLint and BenchmarkExplain are off the request path; they show
// that a large rule set is linted, and a key explained, in time that
// grows with the rule count and not faster.
func BenchmarkLint(b *testing.B) {
	for _, w := range workloads {
		for _, n := range []int{1000, 100000} {
			s := benchSetOf(w.name, n)
			eng, err := Compile(s.rules)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("workload=%s/rules=%d", w.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					sink += len(eng.Lint())
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/rule")
			})
		}
	}
}

func BenchmarkExplain(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		eng, req := resolveBench(b, n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink += len(eng.Explain(req).Rules)
			}
		})
	}
}

// BenchmarkLintSharedLiterals is the worst shape for reachability: every
// rule shares its literal prefix and suffix with every other, so each is
// compared with all the earlier ones, over 1 KB resources.
func BenchmarkLintSharedLiterals(b *testing.B) {
	rules := make([]Rule, 300)
	for i := range rules {
		rules[i] = Rule{Mode: ModeFetch, SourceURL: "https://o.example.com",
			Resource: "*" + strings.Repeat("a", 1000) + fmt.Sprintf("%03d", i) + "*"}
	}
	eng, err := Compile(rules)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		sink += len(eng.Lint())
	}
}

// BenchmarkMatchRequest is OSS-style rules (docs/SEMANTICS.md §11): each
// a match.prefix with a header condition, two rules per prefix (X-From
// cdn, then app). "first" is decided by the first covering rule,
// "fallthrough" by the second, after one failed condition; "nocond"
// fails both and finds no rule. Its cost follows the key and the number
// of covering rules whose conditions fail, not the rule count.
func BenchmarkMatchRequest(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		rng := rand.New(rand.NewPCG(uint64(n), 21))
		rules := make([]Rule, 0, n)
		prefixes := make([]string, 0, n/2)
		seen := map[string]bool{}
		for len(rules) < n {
			p := fmt.Sprintf("bucket%07d/%s/", rng.IntN(10000000), []string{"img", "video", "doc"}[rng.IntN(3)])
			if seen[p] {
				continue
			}
			seen[p] = true
			prefixes = append(prefixes, p)
			for _, from := range []string{"cdn", "app"} {
				rules = append(rules, Rule{Mode: ModeFetch, SourceURL: "https://origin.example.com",
					Match: &Match{Prefix: p, Headers: []MatchHeader{{Name: "X-From", Value: from}}}})
			}
		}
		eng, err := Compile(rules)
		if err != nil {
			b.Fatal(err)
		}
		for _, kind := range []struct{ name, from string }{{"first", "cdn"}, {"fallthrough", "app"}, {"nocond", "other"}} {
			reqs := make([]Request, 1024)
			for i := range reqs {
				reqs[i] = Request{Key: prefixes[rng.IntN(len(prefixes))] + fmt.Sprintf("%x.jpg", rng.Uint64()),
					Header: http.Header{"X-From": {kind.from}, "Accept": {"*/*"}}}
			}
			b.Run(fmt.Sprintf("rules=%d/%s", n, kind.name), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					r, _ := eng.MatchRequest(&reqs[(i*7919)&1023])
					sink += r
				}
			})
		}
	}
}
