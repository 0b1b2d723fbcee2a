package pull

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// metaDecision resolves a request under a native document.
func metaDecision(t *testing.T, doc string, req *mirror.Request) *mirror.Decision {
	t.Helper()
	eng, err := mirror.Compiler{AllowPrivateOrigins: true}.Load([]byte(doc), mirror.FormatNative)
	require.NoError(t, err)
	d, err := eng.Resolve(req)
	require.NoError(t, err)
	return d
}

// metaHeader builds a response header from "Name: value" lines, as an origin
// sent them (names as written: a test may bypass canonical form).
func metaHeader(lines ...string) http.Header {
	h := http.Header{}
	for _, l := range lines {
		name, v, _ := strings.Cut(l, ": ")
		h[name] = append(h[name], v)
	}
	return h
}

// Every provider's prefix is user metadata, named by the rest in lower
// case; x-amz-meta- wins a name two prefixes give; other headers are not.
func TestUserMetaPrefixes(t *testing.T) {
	got := userMeta(metaHeader(
		"X-Amz-Meta-Color: red", "X-Oss-Meta-Color: blue", "X-Oss-Meta-Size: large", "X-Cos-Meta-Cos: 1",
		"X-Bce-Meta-Bce: 2", "X-Obs-Meta-Obs: 3", "X-Tos-Meta-Tos: 4", "X-Qs-Meta-Qs: 5", "x-oss-meta-Lower-Case: 6",
		"X-Goog-Meta-Gcs: no", "X-Amz-Storage-Class: no", "Content-Type: no", "X-Meta-Plain: no", "X-Oss-Meta-: no"))
	assert.Equal(t, map[string]string{"color": "red", "size": "large", "cos": "1", "bce": "2", "obs": "3", "tos": "4",
		"qs": "5", "lower-case": "6"}, got)
	assert.Nil(t, userMeta(metaHeader("Content-Type: text/plain", "Etag: \"x\"")), "none kept: nil")
	assert.Equal(t, map[string]string{"k": "first"}, userMeta(metaHeader("X-Amz-Meta-K: first", "X-Amz-Meta-K: second")),
		"a repeated header: its first value")
}

// An origin can not forge the provenance, nor any other mirror- name: a
// user metadata name starting with mirror- is never kept, whatever its
// prefix or case.
func TestUserMetaNeverTakesMirrorNames(t *testing.T) {
	got := userMeta(metaHeader("X-Amz-Meta-Mirror-Origin: https://forged.example/", "X-Oss-Meta-Mirror-Pulled-At: 2000-01-01T00:00:00Z",
		"x-cos-meta-MIRROR-origin-etag: \"forged\"", "X-Bce-Meta-Mirror-Etag: forged", "X-Amz-Meta-Mirror-: x",
		"X-Amz-Meta-Mirror: kept", "X-Amz-Meta-Mirrored: kept", "X-Amz-Meta-Not-Mirror-Origin: kept"))
	assert.Equal(t, map[string]string{"mirror": "kept", "mirrored": "kept", "not-mirror-origin": "kept"}, got)
}

// Names are tokens, as S3 takes them; values valid field values in UTF-8,
// not empty.
func TestUserMetaDropsInvalidNamesAndValues(t *testing.T) {
	got := userMeta(metaHeader(
		"X-Amz-Meta-Ok: fine", "X-Amz-Meta-Utf8: 日本語 é", "X-Amz-Meta-Tab: a\tb",
		"X-Amz-Meta-Empty: ", "X-Amz-Meta-Bad-Utf8: \xff\xfe", "X-Amz-Meta-Nul: a\x00b", "X-Amz-Meta-Newline: a\r\nb",
		"X-Amz-Meta-Del: a\x7fb", "X-Amz-Meta-Sp ace: v", "X-Amz-Meta-Col:on: v", "X-Amz-Meta-日本: v", "X-Amz-Meta-(x): v"))
	assert.Equal(t, map[string]string{"ok": "fine", "utf8": "日本語 é", "tab": "a\tb"}, got)
}

// At most MaxUserMetaBytes of names and values are kept: in name order,
// up to the first that would pass the bound, whatever order the origin
// sent them in, and the same every time.
func TestUserMetaIsBounded(t *testing.T) {
	h := http.Header{}
	want := map[string]string{}
	size := 0
	full := false
	for i := range 100 {
		name, v := fmt.Sprintf("k%03d", i), strings.Repeat(string(rune('a'+i%26)), 40+i%7)
		h.Set("X-Amz-Meta-"+name, v)
		if size += len(name) + len(v); size <= MaxUserMetaBytes && !full {
			want[name] = v
		} else {
			full = true
		}
	}
	// A small one after the first that does not fit is dropped too: the
	// rest goes, so that what is kept is a prefix of the sorted names.
	h.Set("X-Amz-Meta-Zz", "z")
	require.Less(t, len(want), 100)
	for range 20 {
		got := userMeta(h)
		assert.Equal(t, want, got)
		n := 0
		for k, v := range got {
			n += len(k) + len(v)
		}
		assert.LessOrEqual(t, n, MaxUserMetaBytes)
	}
	// One value of exactly the bound fits; a byte more does not.
	name := "x"
	assert.Len(t, userMeta(metaHeader("X-Amz-Meta-X: "+strings.Repeat("v", MaxUserMetaBytes-len(name)))), 1)
	assert.Nil(t, userMeta(metaHeader("X-Amz-Meta-X: "+strings.Repeat("v", MaxUserMetaBytes-len(name)+1))))
}

// A value goes into a header as it is when printable ASCII, else in RFC
// 2047 encoded-words; every value reads back exactly, an ASCII one that
// looks like encoded-words too.
func TestMetaValueRoundTrips(t *testing.T) {
	for _, v := range []string{"red", "a\tb", "日本語 é", "=?UTF-8?q?caf=C3=A9?=", "=?iso-8859-1?q?caf=E9?=", "x =?UTF-8?b?YQ==?= y",
		"=?bogus", strings.Repeat("長い値 ", 200), strings.Repeat("=?UTF-8?q?a?=", 40), "a  b   c"} {
		e := MetaValue(v)
		for i := 0; i < len(e); i++ {
			require.True(t, e[i] >= 0x20 && e[i] <= 0x7e, "%q is not printable ASCII", e)
		}
		assert.Equal(t, v, ParseMetaValue(e), "%q as %q", v, e)
	}
	assert.Equal(t, "red", MetaValue("red"))
	assert.Equal(t, "=?UTF-8?b?YQli?=", MetaValue("a\tb"), "a tab is encoded")
	assert.Equal(t, "=?UTF-8?q?caf=C3=A9?=", MetaValue("café"))
	assert.Equal(t, "café", ParseMetaValue("=?UTF-8?Q?caf=C3=A9?="), "as S3 sends one")
	assert.Equal(t, "=?x-unknown?q?a?=", ParseMetaValue("=?x-unknown?q?a?="), "an unknown charset is read as it is")
}

// The provenance's origin is the rule's origin that answered, without
// its query or userinfo; bos:// and s3:// origins in that form.
func TestOriginURL(t *testing.T) {
	d := metaDecision(t, `{"rules":[{"mode":"fetch","sourceUrl":"http://127.0.0.1:8080/base","backSourceUrl":"bos://bj.bcebos.com/src/pre","resource":"*","passQuerystring":true}]}`,
		&mirror.Request{Key: "dir/a b.png", RawQuery: "x-oss-process=image&w=100"})
	require.Len(t, d.Origins, 2)
	require.Contains(t, d.Origins[0].String(), "?w=100")
	assert.Equal(t, "http://127.0.0.1:8080/base/dir/a%20b.png", originURL(d, d.Origins[0].String()))
	assert.Equal(t, "bos://bj.bcebos.com/src/pre/dir/a%20b.png", originURL(d, d.Origins[1].String()))
	// An URL no origin of the decision has is cut itself.
	assert.Equal(t, "https://h.example/p/%E6%97%A5", originURL(d, "https://user:pw@h.example/p/日?q=1#f"))
	assert.Equal(t, "s3://ep.example/b/k", bareURL("s3://ep.example/b/k?X-Amz-Signature=abc"))
	assert.Equal(t, "http://h/a@b", bareURL("http://u@h/a@b"), "an @ in the path is not userinfo")
}

// describe: Last-Modified as the rule says, the origin's date kept in
// both modes, user metadata only when the rule keeps it, the origin
// always.
func TestDescribe(t *testing.T) {
	began := time.Date(2026, 5, 6, 7, 8, 9, 500, time.UTC)
	originDate := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	h := metaHeader("Last-Modified: "+originDate.Format(http.TimeFormat), "X-Oss-Meta-Color: red")
	rule := func(fetch string) *mirror.Decision {
		extra := ""
		if fetch != "" {
			extra = `,"fetch":` + fetch
		}
		return metaDecision(t, `{"rules":[{"mode":"fetch","sourceUrl":"http://127.0.0.1:1/o","resource":"*"`+extra+`}]}`,
			&mirror.Request{Key: "k"})
	}
	for _, c := range []struct {
		name, fetch  string
		lastModified time.Time
		fromOrigin   bool
		meta         map[string]string
	}{
		{"no options", "", originDate, true, nil},
		{"saveMeta", `{"saveMeta":true}`, originDate, true, map[string]string{"color": "red"}},
		{"origin", `{"lastModified":"origin"}`, originDate, true, nil},
		{"fetched", `{"lastModified":"fetched","saveMeta":true}`, began.Truncate(time.Second), false, map[string]string{"color": "red"}},
	} {
		d := rule(c.fetch)
		var info ObjectInfo
		describe(&info, d, d.Origins[0].String(), h, began)
		assert.Equal(t, c.lastModified, info.LastModified, c.name)
		assert.Equal(t, c.fromOrigin, info.OriginModified, c.name)
		assert.Equal(t, originDate, info.OriginLastModified, c.name)
		assert.Equal(t, c.meta, info.UserMeta, c.name)
		assert.Equal(t, "http://127.0.0.1:1/o/k", info.Origin, c.name)
	}
	// No date, or one in the future: when the fetch began, and no origin
	// date, in either mode.
	for _, fetch := range []string{"", `{"lastModified":"fetched"}`} {
		for _, hdr := range []http.Header{{}, metaHeader("Last-Modified: " + began.Add(time.Hour).Format(http.TimeFormat))} {
			var info ObjectInfo
			describe(&info, rule(fetch), "", hdr, began)
			assert.Equal(t, began.Truncate(time.Second), info.LastModified)
			assert.False(t, info.OriginModified)
			assert.True(t, info.OriginLastModified.IsZero())
		}
	}
}

// A revalidation sends the origin's date whichever date the rule made the
// object's Last-Modified, and an object stored before the origin's date
// was recorded apart sends its Last-Modified when it was the origin's.
func TestConditionalInBothModes(t *testing.T) {
	originDate := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	fetched := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name      string
		info      ObjectInfo
		ims, inm  string
		noHeaders bool
	}{
		{"origin mode", ObjectInfo{LastModified: originDate, OriginModified: true, OriginLastModified: originDate, OriginETag: `"e"`},
			originDate.Format(http.TimeFormat), `"e"`, false},
		{"fetched mode", ObjectInfo{LastModified: fetched, OriginLastModified: originDate}, originDate.Format(http.TimeFormat), "", false},
		{"stored before", ObjectInfo{LastModified: originDate, OriginModified: true}, originDate.Format(http.TimeFormat), "", false},
		{"etag only", ObjectInfo{LastModified: fetched, OriginETag: `W/"w"`}, "", `W/"w"`, false},
		{"nothing", ObjectInfo{LastModified: fetched}, "", "", true},
	} {
		h := conditional(&c.info)
		if c.noHeaders {
			assert.Nil(t, h, c.name)
			continue
		}
		assert.Equal(t, c.ims, h.Get("If-Modified-Since"), c.name)
		assert.Equal(t, c.inm, h.Get("If-None-Match"), c.name)
	}
	assert.Nil(t, conditional(nil))
}

// The provenance as user metadata: the names a hit sends and an S3 store
// keeps, ASCII values, each only when known.
func TestProvenance(t *testing.T) {
	info := ObjectInfo{Origin: "https://o.example/a/%E6%97%A5", OriginETag: `"abc"`,
		OriginLastModified: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Fetched: time.Date(2026, 2, 3, 4, 5, 6, 789, time.UTC)}
	assert.Equal(t, [][2]string{
		{"mirror-origin", "https://o.example/a/%E6%97%A5"},
		{"mirror-origin-etag", `"abc"`},
		{"mirror-origin-last-modified", "Thu, 02 Jan 2025 03:04:05 GMT"},
		{"mirror-pulled-at", "2026-02-03T04:05:06.000000789Z"},
	}, info.Provenance())
	assert.Empty(t, (&ObjectInfo{LastModified: time.Now()}).Provenance(), "an object stored before: none")
}
