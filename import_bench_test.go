package mirror

import (
	"strings"
	"testing"
)

// BenchmarkImportAdversarial: a 1 MB hostile document is refused in
// milliseconds and a few MB (issue 20): deep nesting and many elements
// for the XML reader, a deep and a long list for the JSON one.
func BenchmarkImportAdversarial(b *testing.B) {
	mb := 1 << 20
	for _, c := range []struct {
		name string
		imp  func([]byte) ([]byte, error)
		doc  string
	}{
		{"xml=deep", importOSS, "<WebsiteConfiguration>" + strings.Repeat("<RoutingRules>", mb/14-10) + "</WebsiteConfiguration>"},
		{"xml=elements", importOSS, "<WebsiteConfiguration><RoutingRules>" + strings.Repeat("<RoutingRule/>", mb/14-10) + "</RoutingRules></WebsiteConfiguration>"},
		{"xml=entities", importCOS, `<!DOCTYPE r [<!ENTITY x "` + strings.Repeat("x", mb-100) + `">]><OriginConfiguration>&x;</OriginConfiguration>`},
		{"json=deep", importTOS, `{"Rules":` + strings.Repeat("[", jimpMaxBytes-20)},
		{"json=list", importOBS, `{"rules":[` + strings.Repeat("1,", jimpMaxBytes/2-20) + `1]}`},
		{"json=over", importOBS, `{"rules":[` + strings.Repeat("1,", mb/2-10) + `1]}`},
	} {
		doc := []byte(c.doc)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := c.imp(doc); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
