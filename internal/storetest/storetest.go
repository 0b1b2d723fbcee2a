// Package storetest holds every store of a gateway to one contract, the
// way testing/fstest.TestFS holds a file system to io/fs's: a pull.Store
// must pass TestStore and a bucketconfig.Store TestConfigStore. Each
// returns an error naming every check that failed, so that a store's own
// test calls it with the store it built, and this package's test can show
// that a broken store fails.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/pull"
)

// HostileKeys are keys an engine may accept that a naive store would map
// outside its directory, onto each other, or onto names a filesystem or an
// S3 server refuses.
var HostileKeys = []string{
	"a/../../x", "../../../etc/passwd", "..%2F..", "/abs", "a//b", "x", "x/", "x/y", "CON", "con.txt", "NUL", "aux",
	"COM1", "LPT1.log", "a\\..\\b", ".", "..", "...", " ", "a ", "trailing.", strings.Repeat("k", 1024),
	strings.Repeat("日", 341), "é", "e\u0301", ".tmp-0000", "objects", "hashed", "config", "a:b", "a*b?c", "<>|\"",
	"\u202egnp.exe", strings.Repeat("a/", 512), strings.Repeat("d/", 400) + "e", strings.Repeat("s", 300) + "/f",
	"日本/語", "a b+c%2F",
}

// report gathers what failed.
type report struct {
	mu   sync.Mutex
	errs []error
}

func (r *report) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Errorf(format, args...))
}

func (r *report) err() error { return errors.Join(r.errs...) }

// TestStore checks a pull.Store: an object reads back as committed, bytes
// and metadata; nothing is visible before its commit, nor after an abort or
// a refused commit; every hostile key keeps an object of its own;
// concurrent commits of one key leave one whole object, and readers meanwhile
// see only whole objects; HasObjects counts only committed objects; bucket
// names are checked. It uses buckets whose names start with "storetest-".
func TestStore(s pull.Store) error {
	r := &report{}
	ctx := context.Background()
	checkRoundTrip(ctx, r, s)
	checkInvisibleBeforeCommit(ctx, r, s)
	checkHostileKeys(ctx, r, s)
	checkConcurrentCommits(ctx, r, s)
	checkBucketNames(ctx, r, s)
	return r.err()
}

// Put commits an object of data with info's metadata (its Size is set
// here).
func Put(ctx context.Context, s pull.Store, bucket, key, data string, info pull.ObjectInfo) error {
	up, err := s.Create(ctx, bucket, key)
	if err != nil {
		return err
	}
	defer up.Abort()
	if _, err := io.WriteString(up, data); err != nil {
		return err
	}
	info.Size = int64(len(data))
	return up.Commit(ctx, info)
}

// Get reads an object whole.
func Get(ctx context.Context, s pull.Store, bucket, key string) (string, pull.ObjectInfo, error) {
	obj, err := s.Open(ctx, bucket, key)
	if err != nil {
		return "", pull.ObjectInfo{}, err
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	return string(b), obj.Info(), err
}

// metadataCases are the kept headers of pull.KeptHeaders as origins send
// them, each to be read back exactly.
var metadataCases = []struct {
	name   string
	header http.Header
}{
	{"nothing", http.Header{}},
	{"gzip", http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"text/plain"}}},
	{"two codings", http.Header{"Content-Encoding": {"gzip, br"}}},
	{"expires 0", http.Header{"Expires": {"0"}}},
	{"expires date", http.Header{"Expires": {"Thu, 01 Jan 2099 00:00:00 GMT"}}},
	{"expires rfc850", http.Header{"Expires": {"Thursday, 01-Jan-99 00:00:00 GMT"}}},
	{"octet-stream stored", http.Header{"Content-Type": {"application/octet-stream"}}},
	{"all six", http.Header{"Content-Type": {"image/png"}, "Content-Encoding": {"identity"},
		"Content-Disposition": {"attachment; filename=\"日本.txt\""}, "Cache-Control": {"max-age=1,  public"},
		"Expires": {"-1"}, "Content-Language": {"de"}}},
}

func checkRoundTrip(ctx context.Context, r *report, s pull.Store) {
	const b = "storetest-round"
	if _, _, err := Get(ctx, s, b, "missing"); !errors.Is(err, pull.ErrNotFound) {
		r.fail("round trip: Open of a missing key: %v, want pull.ErrNotFound", err)
	}
	for i, c := range metadataCases {
		data := strings.Repeat(fmt.Sprint(i), i*1000)
		class := ""
		if i%2 == 1 {
			class = "COLD"
		}
		if err := Put(ctx, s, b, "meta/"+c.name, data, pull.ObjectInfo{ETag: fmt.Sprintf("etag-%d", i), Header: c.header.Clone(),
			StorageClass: class}); err != nil {
			r.fail("round trip %q: commit: %v", c.name, err)
			continue
		}
		got, info, err := Get(ctx, s, b, "meta/"+c.name)
		switch {
		case err != nil:
			r.fail("round trip %q: %v", c.name, err)
		case got != data:
			r.fail("round trip %q: read %d bytes, committed %d", c.name, len(got), len(data))
		case info.Size != int64(len(data)) || info.ETag != fmt.Sprintf("etag-%d", i) || info.StorageClass != class:
			r.fail("round trip %q: read back size %d etag %q class %q, committed %d %q %q", c.name, info.Size, info.ETag,
				info.StorageClass, len(data), fmt.Sprintf("etag-%d", i), class)
		case !sameHeader(info.Header, c.header):
			r.fail("round trip %q: headers read back %v, committed %v", c.name, info.Header, c.header)
		case time.Since(info.LastModified).Abs() > time.Minute:
			r.fail("round trip %q: LastModified %v is not the commit's time", c.name, info.LastModified)
		}
	}
	// The validators and age of a revalidation (docs/SERVING.md §3.9)
	// round-trip, to the nanosecond of the fetch time; an object
	// committed without them reads back without them.
	fetched := time.Date(2026, 12, 7, 1, 2, 3, 456789, time.UTC)
	validated := pull.ObjectInfo{ETag: "e", OriginETag: `W/"origin-1"`, OriginModified: true, Fetched: fetched,
		LastModified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := Put(ctx, s, b, "validators", "v", validated); err != nil {
		r.fail("validators: commit: %v", err)
	} else if _, info, err := Get(ctx, s, b, "validators"); err != nil {
		r.fail("validators: %v", err)
	} else if info.OriginETag != validated.OriginETag || !info.OriginModified || !info.Fetched.Equal(fetched) ||
		!info.LastModified.Equal(validated.LastModified) {
		r.fail("validators: read back %q %v %v %v, committed %q true %v %v", info.OriginETag, info.OriginModified, info.Fetched,
			info.LastModified, validated.OriginETag, fetched, validated.LastModified)
	}
	if _, info, err := Get(ctx, s, b, "meta/nothing"); err != nil || (info.OriginETag != "" || info.OriginModified || !info.Fetched.IsZero()) {
		r.fail("validators: an object committed without them reads back %q %v %v", info.OriginETag, info.OriginModified, info.Fetched)
	}
	checkProvenance(ctx, r, s)
	// An object is read at any offset.
	if err := Put(ctx, s, b, "seek", "0123456789", pull.ObjectInfo{ETag: "e"}); err != nil {
		r.fail("seek: commit: %v", err)
		return
	}
	obj, err := s.Open(ctx, b, "seek")
	if err != nil {
		r.fail("seek: %v", err)
		return
	}
	defer obj.Close()
	if _, err := obj.Seek(6, io.SeekStart); err != nil {
		r.fail("seek: %v", err)
	} else if rest, err := io.ReadAll(obj); err != nil || string(rest) != "6789" {
		r.fail("seek: read %q, %v after Seek(6), want 6789", rest, err)
	}
	if has, err := s.HasObjects(ctx, b); err != nil || !has {
		r.fail("round trip: HasObjects is %v, %v with committed objects", has, err)
	}
}

// provenanceCases are provenances and user metadata as a fetch gives
// them (docs/SERVING.md §3.7), each to be read back exactly.
var provenanceCases = []pull.ObjectInfo{
	{Origin: "https://origin.example:8443/base/dir/a%20b.png", OriginETag: `"0123abcd"`,
		OriginLastModified: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Fetched: time.Date(2026, 3, 4, 5, 6, 7, 891, time.UTC),
		UserMeta: map[string]string{"color": "red", "utf8": "日本語 é", "looks-encoded": "=?UTF-8?q?a?=", "tab": "a\tb",
			"cache-control": "not the object's", "content-type": "nor this", "etag": "user's", "x.y-z": "v"}},
	// The rule's lastModified "fetched": the origin's date apart.
	{Origin: "bos://bj.bcebos.com/src-bucket/pre/k", LastModified: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		OriginLastModified: time.Date(2020, 6, 7, 8, 9, 10, 0, time.UTC), UserMeta: map[string]string{"a": "1"}},
	{Origin: "s3://s3.example/b/k"},
}

// checkProvenance: the provenance and the user metadata round-trip; an
// object committed without them reads back without them.
func checkProvenance(ctx context.Context, r *report, s pull.Store) {
	const b = "storetest-round"
	for i, c := range provenanceCases {
		c.ETag = "e"
		key := fmt.Sprint("provenance/", i)
		if err := Put(ctx, s, b, key, "p", c); err != nil {
			r.fail("provenance %d: commit: %v", i, err)
			continue
		}
		_, info, err := Get(ctx, s, b, key)
		switch {
		case err != nil:
			r.fail("provenance %d: %v", i, err)
		case info.Origin != c.Origin || !info.OriginLastModified.Equal(c.OriginLastModified) || !info.Fetched.Equal(c.Fetched):
			r.fail("provenance %d: read back origin %q, its date %v, pulled at %v; committed %q %v %v", i, info.Origin,
				info.OriginLastModified, info.Fetched, c.Origin, c.OriginLastModified, c.Fetched)
		case !c.LastModified.IsZero() && !info.LastModified.Equal(c.LastModified):
			r.fail("provenance %d: LastModified %v, committed %v", i, info.LastModified, c.LastModified)
		case !(len(info.UserMeta) == 0 && len(c.UserMeta) == 0) && !reflect.DeepEqual(info.UserMeta, c.UserMeta):
			r.fail("provenance %d: user metadata read back %q, committed %q", i, info.UserMeta, c.UserMeta)
		}
	}
	if _, info, err := Get(ctx, s, b, "meta/nothing"); err != nil || info.Origin != "" || len(info.UserMeta) > 0 ||
		!info.OriginLastModified.IsZero() {
		r.fail("provenance: an object committed without it reads back %q %q %v", info.Origin, info.UserMeta, info.OriginLastModified)
	}
}

func checkInvisibleBeforeCommit(ctx context.Context, r *report, s pull.Store) {
	const b = "storetest-commit"
	up, err := s.Create(ctx, b, "k")
	if err != nil {
		r.fail("before commit: Create: %v", err)
		return
	}
	if _, err := io.WriteString(up, "half"); err != nil {
		r.fail("before commit: Write: %v", err)
	}
	if ra, ok := up.(io.ReaderAt); ok {
		// A store that lets a Fetcher spool in its upload reads it back.
		buf := make([]byte, 4)
		if n, err := ra.ReadAt(buf, 0); n != 4 || string(buf) != "half" {
			r.fail("before commit: the upload's ReadAt read %q, %v", buf[:n], err)
		}
	}
	if _, _, err := Get(ctx, s, b, "k"); !errors.Is(err, pull.ErrNotFound) {
		r.fail("before commit: the object is visible (Open: %v)", err)
	}
	if has, err := s.HasObjects(ctx, b); err != nil || has {
		r.fail("before commit: HasObjects is %v, %v", has, err)
	}
	up.Abort()
	if _, _, err := Get(ctx, s, b, "k"); !errors.Is(err, pull.ErrNotFound) {
		r.fail("after abort: the object is visible (Open: %v)", err)
	}
	if has, err := s.HasObjects(ctx, b); err != nil || has {
		r.fail("after abort: HasObjects is %v, %v: a failed fetch must not make a bucket", has, err)
	}
	// A commit that does not match what was written is refused.
	up, err = s.Create(ctx, b, "short")
	if err != nil {
		r.fail("short commit: Create: %v", err)
		return
	}
	_, _ = io.WriteString(up, "abc")
	if err := up.Commit(ctx, pull.ObjectInfo{Size: 4}); err == nil {
		r.fail("short commit: a commit of 4 bytes after writing 3 was taken")
	}
	up.Abort()
	if _, _, err := Get(ctx, s, b, "short"); !errors.Is(err, pull.ErrNotFound) {
		r.fail("short commit: the object is visible (Open: %v)", err)
	}
}

func checkHostileKeys(ctx context.Context, r *report, s pull.Store) {
	const b = "storetest-hostile"
	for i, k := range HostileKeys {
		if err := Put(ctx, s, b, k, fmt.Sprint("object ", i), pull.ObjectInfo{ETag: "e"}); err != nil {
			r.fail("hostile key %q: commit: %v", k, err)
		}
	}
	for i, k := range HostileKeys {
		got, _, err := Get(ctx, s, b, k)
		if err != nil || got != fmt.Sprint("object ", i) {
			r.fail("hostile key %q: read back %q, %v, want %q", k, got, err, fmt.Sprint("object ", i))
		}
	}
}

func checkConcurrentCommits(ctx context.Context, r *report, s pull.Store) {
	const b = "storetest-concurrent"
	versions := []string{strings.Repeat("a", 300000), strings.Repeat("b", 200000), strings.Repeat("c", 100000)}
	if err := Put(ctx, s, b, "k", versions[0], pull.ObjectInfo{ETag: "a"}); err != nil {
		r.fail("concurrent commits: %v", err)
		return
	}
	whole := func(got string) bool { return slicesContain(versions, got) }
	stop := make(chan struct{})
	var reader sync.WaitGroup
	reader.Add(1)
	go func() {
		defer reader.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if got, _, err := Get(ctx, s, b, "k"); err == nil && !whole(got) {
				r.fail("concurrent commits: a reader saw %d bytes, no whole object", len(got))
				return
			}
		}
	}()
	var writers sync.WaitGroup
	for i := range 8 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			if err := Put(ctx, s, b, "k", versions[1+i%2], pull.ObjectInfo{ETag: "v"}); err != nil {
				r.fail("concurrent commits: %v", err)
			}
		}()
	}
	writers.Wait()
	close(stop)
	reader.Wait()
	if got, _, err := Get(ctx, s, b, "k"); err != nil || !slicesContain(versions[1:], got) {
		r.fail("concurrent commits: left %d bytes, %v: not one whole object", len(got), err)
	}
}

// sameHeader compares headers; no header and an empty one are the same.
func sameHeader(a, b http.Header) bool {
	return (len(a) == 0 && len(b) == 0) || reflect.DeepEqual(a, b)
}

func slicesContain(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// badBuckets are names that must never name a place in a store.
var badBuckets = []string{"..", "../x", "a", "Ab-c", "a_b", "-ab", "ab-", "a/b", "", strings.Repeat("a", 64)}

func checkBucketNames(ctx context.Context, r *report, s pull.Store) {
	for _, b := range badBuckets {
		if up, err := s.Create(ctx, b, "k"); err == nil {
			up.Abort()
			r.fail("bucket %q: Create took an invalid bucket name", b)
		}
		if obj, err := s.Open(ctx, b, "k"); err == nil {
			obj.Close()
			r.fail("bucket %q: Open found an object", b)
		}
		if has, _ := s.HasObjects(ctx, b); has {
			r.fail("bucket %q: HasObjects is true", b)
		}
	}
}

// TestConfigStore checks a bucketconfig.Store: a configuration reads back
// exactly as put, with its format (or none); a put replaces; a delete
// removes, and deleting none is no error; a missing one, or an invalid
// bucket name, is fs.ErrNotExist. A read policy reads back as put, and
// putting or deleting a configuration never changes it; so do CORS rules
// (cors.go). It uses buckets whose names start with
// "storetest-".
func TestConfigStore(s bucketconfig.Store) error {
	r := &report{}
	ctx := context.Background()
	const b = "storetest-config"
	if _, _, err := s.GetConfig(ctx, b); !errors.Is(err, fs.ErrNotExist) {
		r.fail("config: GetConfig of none: %v, want fs.ErrNotExist", err)
	}
	for i, format := range []mirror.Format{mirror.FormatQingStor, mirror.FormatBOS, mirror.FormatNative, mirror.FormatAuto} {
		doc := []byte(fmt.Sprintf("{\n  \"source_site\": \"https://o%d.example.com\"\n}", i))
		if err := s.PutConfig(ctx, b, format, doc); err != nil {
			r.fail("config %q: PutConfig: %v", format, err)
			continue
		}
		got, gotDoc, err := s.GetConfig(ctx, b)
		if err != nil || got != format || !bytes.Equal(gotDoc, doc) {
			r.fail("config %q: read back %q %q, %v; put %q", format, got, gotDoc, err, doc)
		}
	}
	if err := s.DeleteConfig(ctx, b); err != nil {
		r.fail("config: DeleteConfig: %v", err)
	}
	if err := s.DeleteConfig(ctx, b); err != nil {
		r.fail("config: DeleteConfig of none: %v", err)
	}
	if _, _, err := s.GetConfig(ctx, b); !errors.Is(err, fs.ErrNotExist) {
		r.fail("config: GetConfig after a delete: %v, want fs.ErrNotExist", err)
	}
	checkPolicies(ctx, r, s)
	checkCORS(ctx, r, s)
	for _, bad := range badBuckets {
		if _, _, err := s.GetConfig(ctx, bad); !errors.Is(err, fs.ErrNotExist) {
			r.fail("config: GetConfig of bucket %q: %v, want fs.ErrNotExist", bad, err)
		}
		if err := s.PutConfig(ctx, bad, mirror.FormatBOS, []byte("{}")); err == nil {
			r.fail("config: PutConfig took bucket %q", bad)
		}
	}
	return r.err()
}

// checkPolicies checks the read policy record beside a configuration.
func checkPolicies(ctx context.Context, r *report, s bucketconfig.Store) {
	const b = "storetest-policy"
	if _, err := s.GetPolicy(ctx, b); !errors.Is(err, fs.ErrNotExist) {
		r.fail("policy: GetPolicy of none: %v, want fs.ErrNotExist", err)
	}
	for _, p := range []bucketconfig.Policy{bucketconfig.Private, bucketconfig.PublicRead} {
		if err := s.PutPolicy(ctx, b, p); err != nil {
			r.fail("policy %q: PutPolicy: %v", p, err)
		}
		if got, err := s.GetPolicy(ctx, b); err != nil || got != p {
			r.fail("policy %q: read back %q, %v", p, got, err)
		}
	}
	if err := s.PutConfig(ctx, b, mirror.FormatQingStor, []byte(`{"source_site":"https://o.example.com"}`)); err != nil {
		r.fail("policy: PutConfig: %v", err)
	}
	if err := s.DeleteConfig(ctx, b); err != nil {
		r.fail("policy: DeleteConfig: %v", err)
	}
	if got, err := s.GetPolicy(ctx, b); err != nil || got != bucketconfig.PublicRead {
		r.fail("policy: a configuration's put and delete changed the policy: %q, %v", got, err)
	}
	if _, err := s.GetPolicy(ctx, "Bad_Bucket"); !errors.Is(err, fs.ErrNotExist) {
		r.fail("policy: GetPolicy of an invalid bucket: %v, want fs.ErrNotExist", err)
	}
}
