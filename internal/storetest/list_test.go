package storetest

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memLister is the reference store with the reference listing: WantList
// cut to pages.
type memLister struct{ *memStore }

func (s memLister) List(_ context.Context, bucket string, q pull.ListQuery) (pull.ListPage, error) {
	s.mu.Lock()
	var keys []string
	infos := map[string]pull.ObjectInfo{}
	for name, o := range s.objects {
		b, k, _ := bytesCut(name)
		if b == bucket || (s.flaw == "leaks buckets" && strings.HasPrefix(b, bucket)) {
			keys = append(keys, k)
			infos[k] = o.info
		}
	}
	s.mu.Unlock()
	objects, prefixes := WantList(keys, q)
	if s.flaw == "lists the After prefix again" && q.Delimiter != "" && strings.HasSuffix(q.After, q.Delimiter) &&
		strings.HasPrefix(q.After, q.Prefix) {
		prefixes = append([]string{q.After}, prefixes...)
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(objects), prefixes...)))
	var p pull.ListPage
	if len(all) > min(q.Limit, 1000) && s.flaw != "ignores Limit" {
		all = all[:min(q.Limit, 1000)]
		p.Truncated, p.Next = true, all[len(all)-1]
	}
	for _, e := range all {
		if slices.Contains(prefixes, e) {
			p.Prefixes = append(p.Prefixes, e)
		} else {
			p.Objects = append(p.Objects, pull.ListEntry{Key: e, Info: infos[e]})
		}
	}
	return p, nil
}

func (s memLister) Buckets(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name := range s.objects {
		b, _, _ := bytesCut(name)
		out = append(out, b)
	}
	for b := range s.configs {
		out = append(out, b)
	}
	slices.Sort(out)
	if s.flaw == "unsorted buckets" {
		slices.Reverse(out)
	}
	return slices.Compact(out), nil
}

// The reference listing passes the listing contract.
func TestListerOfTheReferenceStore(t *testing.T) {
	TestLister(t, memLister{newMem("")})
}

// listerFlaw names the flaw of the store TestBrokenLister runs.
const listerFlaw = "STORETEST_LISTER_FLAW"

// TestBrokenLister runs TestLister on a broken store, when
// TestTheListerSuiteCatchesBrokenStores runs it in a process of its own:
// TestLister fails the test it is given, and that must be another
// process's.
func TestBrokenLister(t *testing.T) {
	flaw := os.Getenv(listerFlaw)
	if flaw == "" {
		t.Skip("run by TestTheListerSuiteCatchesBrokenStores")
	}
	TestLister(t, memLister{newMem(flaw)})
}

// Each broken lister fails the contract, saying what broke.
func TestTheListerSuiteCatchesBrokenStores(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary again")
	}
	for flaw, want := range map[string]string{
		"visible before commit":        "--- FAIL: TestBrokenLister/entries",
		"keys as paths":                "--- FAIL: TestBrokenLister/entries",
		"leaks buckets":                "--- FAIL: TestBrokenLister/entries",
		"lists the After prefix again": "a page holds only entries after After",
		"ignores Limit":                "a page holds at most Limit entries",
		"unsorted buckets":             "--- FAIL: TestBrokenLister/buckets",
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenLister$", "-test.v")
		cmd.Env = append(os.Environ(), listerFlaw+"="+flaw)
		out, err := cmd.CombinedOutput()
		require.Error(t, err, "%s: the suite passed", flaw)
		if !strings.Contains(string(out), want) {
			t.Errorf("%s: the suite failed without %q:\n%s", flaw, want, out[max(0, len(out)-4000):])
		}
	}
}

// WantList is S3's ListObjectsV2, worked by hand.
func TestWantList(t *testing.T) {
	keys := []string{"a/b", "a-c", "a/c/d", "k:::", "k::v::w", "x", "x/"}
	for _, c := range []struct {
		q                 pull.ListQuery
		objects, prefixes string
	}{
		{pull.ListQuery{}, "a-c a/b a/c/d k::: k::v::w x x/", ""},
		{pull.ListQuery{Delimiter: "/"}, "a-c k::: k::v::w x", "a/ x/"},
		{pull.ListQuery{Delimiter: "/", After: "a/"}, "k::: k::v::w x", "x/"},
		{pull.ListQuery{Delimiter: "/", After: "a/b"}, "k::: k::v::w x", "x/"},
		{pull.ListQuery{Prefix: "a/", Delimiter: "/"}, "a/b", "a/c/"},
		{pull.ListQuery{Prefix: "k:", Delimiter: "::"}, "", "k::: k::v::"},
		{pull.ListQuery{Delimiter: "::"}, "a-c a/b a/c/d x x/", "k::"},
	} {
		objects, prefixes := WantList(keys, c.q)
		assert.Equal(t, c.objects, strings.Join(objects, " "), "%+v", c.q)
		assert.Equal(t, c.prefixes, strings.Join(prefixes, " "), "%+v", c.q)
	}
}
