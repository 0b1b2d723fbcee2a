package dirstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func logFile(s *Store, bucket string) string { return filepath.Join(s.root.Name(), logPath(bucket)) }

// indexedKeys commits keys k0..k(n-1) to bucket and lists them, which
// builds the bucket's log.
func indexedKeys(t *testing.T, s *Store, bucket string, n int) []string {
	var keys []string
	for i := range n {
		keys = append(keys, fmt.Sprintf("k%03d", i))
		put(t, s, bucket, keys[i], fmt.Sprint(i))
	}
	require.Equal(t, keys, listKeys(t, s, bucket, pull.ListQuery{}))
	return keys
}

// A log damaged in any way is rebuilt, and the listing is exact: by the
// store that read it before the damage (it reads only what follows) and
// by one opened after.
func TestIndexRebuildsACorruptLog(t *testing.T) {
	for name, damage := range map[string]func(t *testing.T, file string){
		"a flipped byte": func(t *testing.T, file string) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			data[len(data)/2] ^= 0x40
			require.NoError(t, os.WriteFile(file, data, 0o644))
		},
		"a foreign header": func(t *testing.T, file string) {
			require.NoError(t, os.WriteFile(file, []byte("not an index at all"), 0o644))
		},
		"an empty file": func(t *testing.T, file string) {
			require.NoError(t, os.WriteFile(file, nil, 0o644))
		},
		"zeros at the end": func(t *testing.T, file string) {
			appendTo(t, file, make([]byte, 4096))
		},
		"a record of bad checksum at the end": func(t *testing.T, file string) {
			rec, err := appendRecord(nil, indexEntry{key: "ghost", size: 1, mod: time.Now()})
			require.NoError(t, err)
			rec[len(rec)-1] ^= 1
			appendTo(t, file, rec)
		},
		"a record that does not decode": func(t *testing.T, file string) {
			rec, err := appendRecord(nil, indexEntry{key: "ghost", mod: time.Now()})
			require.NoError(t, err)
			rec[recordHeaderLen] = 7 // no such record kind
			fixChecksum(rec)
			appendTo(t, file, rec)
		},
		"a huge length": func(t *testing.T, file string) {
			appendTo(t, file, []byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 2, 3})
		},
		"cut short before what was read": func(t *testing.T, file string) {
			require.NoError(t, os.Truncate(file, int64(logHeaderLen)+3))
			// Long ago: no append is under way.
			old := time.Now().Add(-2 * stuckRecord)
			require.NoError(t, os.Chtimes(file, old, old))
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir)
			require.NoError(t, err)
			defer s.Close()
			keys := indexedKeys(t, s, "bkt", 20)
			damage(t, logFile(s, "bkt"))
			assert.Equal(t, keys, listKeys(t, s, "bkt", pull.ListQuery{}), "the store that had read it")
			damage(t, logFile(s, "bkt"))
			other, err := Open(dir)
			require.NoError(t, err)
			defer other.Close()
			assert.Equal(t, keys, listKeys(t, other, "bkt", pull.ListQuery{}), "a store opened after")
			put(t, other, "bkt", "k999", "new")
			assert.Equal(t, append(keys, "k999"), listKeys(t, s, "bkt", pull.ListQuery{}), "and the rebuilt log is appended to")
		})
	}
}

// lastRecordStart is where a log's last record starts.
func lastRecordStart(t *testing.T, log []byte) int64 {
	at := int64(logHeaderLen)
	var last int64
	_, _, err := readRecords(bytesReader(log[at:]), func(e indexEntry) {
		rec, err := appendRecord(nil, e)
		require.NoError(t, err)
		last, at = at, at+int64(len(rec))
	})
	require.NoError(t, err)
	require.Equal(t, int64(len(log)), at, "the log is whole")
	return last
}

func appendTo(t *testing.T, file string, data []byte) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(data)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// A deleted log is rebuilt; commits made while there is none are found by
// the rebuild's scan.
func TestIndexRebuildsADeletedLog(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	keys := indexedKeys(t, s, "bkt", 10)
	require.NoError(t, os.Remove(logFile(s, "bkt")))
	put(t, s, "bkt", "late", "v")
	assert.Equal(t, append(keys, "late"), listKeys(t, s, "bkt", pull.ListQuery{}))
	_, err = os.Stat(logFile(s, "bkt"))
	assert.NoError(t, err)
}

// A record cut short at the end is an append under way, not an error: it
// is listed once whole. One that stays cut, or is found cut in a log not
// written to for a while, is taken for corrupt, and the log rebuilt.
func TestIndexReadsACutTailWhenWhole(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	keys := indexedKeys(t, s, "bkt", 5)
	put(t, s, "bkt", "last", "v")
	file := logFile(s, "bkt")
	whole, err := os.ReadFile(file)
	require.NoError(t, err)
	cut := lastRecordStart(t, whole) + recordHeaderLen + 3
	require.NoError(t, os.Truncate(file, cut))

	other, err := Open(dir)
	require.NoError(t, err)
	defer other.Close()
	assert.Equal(t, keys, listKeys(t, other, "bkt", pull.ListQuery{}), "the cut record is not read yet, and is no error")
	appendTo(t, file, whole[cut:])
	assert.Equal(t, append(keys, "last"), listKeys(t, other, "bkt", pull.ListQuery{}), "read once whole")

	// A record that stays cut: rebuilt, even when the clock went back
	// and the mtime is ahead of it.
	restore := setStuckRecord(50 * time.Millisecond)
	require.NoError(t, os.Truncate(file, cut))
	ahead := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(file, ahead, ahead))
	third, err := Open(dir)
	require.NoError(t, err)
	defer third.Close()
	assert.Equal(t, keys, listKeys(t, third, "bkt", pull.ListQuery{}))
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, append(keys, "last"), listKeys(t, third, "bkt", pull.ListQuery{}), "a record that stays cut: rebuilt")
	restore()

	// A record cut in a log not written to for longer than an append
	// takes: rebuilt at the first sight.
	defer setStuckRecord(time.Hour)()
	rebuilt, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(file, lastRecordStart(t, rebuilt)+5))
	old := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(file, old, old))
	fourth, err := Open(dir)
	require.NoError(t, err)
	defer fourth.Close()
	assert.Equal(t, append(keys, "last"), listKeys(t, fourth, "bkt", pull.ListQuery{}),
		"a record cut in a log not written to for longer than an append takes: rebuilt at the first sight")
}

// Two stores on one directory (two gateways) see each other's commits,
// and their listings do not take each other for dead.
func TestTwoStoresListEachOther(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	require.NoError(t, err)
	defer a.Close()
	b, err := Open(dir)
	require.NoError(t, err)
	defer b.Close()
	var want []string
	for i := range 20 {
		by, other := a, b
		if i%2 == 1 {
			by, other = b, a
		}
		k := fmt.Sprintf("k%02d", i)
		put(t, by, "bkt", k, k)
		want = append(want, k)
		assert.Equal(t, want, listKeys(t, other, "bkt", pull.ListQuery{}), "after %s", k)
		assert.Equal(t, want, listKeys(t, by, "bkt", pull.ListQuery{}), "after %s", k)
	}
	before, err := os.Stat(logFile(a, "bkt"))
	require.NoError(t, err)
	listKeys(t, a, "bkt", pull.ListQuery{})
	listKeys(t, b, "bkt", pull.ListQuery{})
	after, err := os.Stat(logFile(a, "bkt"))
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after), "no store took the other for dead")

	a.invalidate("bkt") // as a failed index write does: b rebuilds
	put(t, a, "bkt", "z", "z")
	assert.Equal(t, append(slices.Clone(want), "z"), listKeys(t, b, "bkt", pull.ListQuery{}))
	put(t, b, "bkt", "zz", "zz")
	assert.Equal(t, append(slices.Clone(want), "z", "zz"), listKeys(t, a, "bkt", pull.ListQuery{}), "a reads the log b rebuilt")

	require.NoError(t, b.Close())
	live, err := os.ReadDir(filepath.Join(dir, liveDir))
	require.NoError(t, err)
	assert.Len(t, live, 1, "Close removed b's live file")
}

// Rebuilds racing commits lose none: writers on two stores commit while
// a third store's index is removed and rebuilt again and again, and every
// listing holds every object committed before it began.
func TestRebuildRacingAppendsLosesNothing(t *testing.T) {
	dir := t.TempDir()
	var stores []*Store
	for range 3 {
		s, err := Open(dir)
		require.NoError(t, err)
		defer s.Close()
		stores = append(stores, s)
	}
	listKeys(t, stores[2], "bkt", pull.ListQuery{})
	var (
		mu        sync.Mutex
		committed []string
	)
	snapshot := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(committed)
	}
	const writers, perWriter = 6, 60
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for i := range perWriter {
				k := fmt.Sprintf("w%d/%03d", w, i)
				if err := storetest.Put(context.Background(), s, "bkt", k, k, pull.ObjectInfo{ETag: "e"}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				committed = append(committed, k)
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	check := func(s *Store, rebuild bool) {
		if rebuild {
			s.invalidate("bkt")
		}
		before := snapshot()
		listed := listKeys(t, s, "bkt", pull.ListQuery{})
		for _, k := range before {
			if _, found := slices.BinarySearch(listed, k); !found {
				t.Errorf("%q was committed before the listing began, and is not in it", k)
			}
		}
	}
	rounds := 0
	for running := true; running; rounds++ {
		select {
		case <-done:
			running = false
		default:
		}
		check(stores[2], true)
		check(stores[rounds%2], false)
	}
	want := slices.Sorted(slices.Values(snapshot()))
	require.Len(t, want, writers*perWriter)
	for _, s := range stores {
		assert.Equal(t, want, listKeys(t, s, "bkt", pull.ListQuery{}))
	}
	t.Logf("%d rebuilds raced the commits", rounds)
}

// Commits of one key that rename in one order and write their records in
// the other leave the index with what the key's file holds: the listing
// says what Open reads.
func TestIndexKeepsTheLastCommitOfAKey(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	require.NoError(t, err)
	defer a.Close()
	b, err := Open(dir)
	require.NoError(t, err)
	defer b.Close()
	listKeys(t, a, "bkt", pull.ListQuery{})
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(3, 4))
	// Delays between rename and append reorder the appends.
	defer setAfterRenameHook(func() {
		mu.Lock()
		d := time.Duration(rng.IntN(2000)) * time.Microsecond
		mu.Unlock()
		time.Sleep(d)
	})()
	ctx := context.Background()
	for round := range 5 {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := []*Store{a, b}[i%2]
				data := fmt.Sprintf("%d-%s", round, make([]byte, i))
				assert.NoError(t, storetest.Put(ctx, s, "bkt", "k", data, pull.ObjectInfo{ETag: fmt.Sprint(round, "-", i)}))
			}()
		}
		wg.Wait()
		_, info, err := storetest.Get(ctx, a, "bkt", "k")
		require.NoError(t, err)
		for _, s := range []*Store{a, b} {
			objects, _ := listAll(t, s, "bkt", pull.ListQuery{})
			require.Len(t, objects, 1)
			assert.Equal(t, info.ETag, objects[0].Info.ETag, "round %d", round)
			assert.Equal(t, info.Size, objects[0].Info.Size, "round %d", round)
		}
	}
}

// An index write that fails never fails the commit, and the listing
// stays exact: the log is rebuilt, or, when it can not be written at all,
// the bucket is scanned.
func TestIndexWriteFailureNeverFailsACommit(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	keys := indexedKeys(t, s, "bkt", 5)
	file := logFile(s, "bkt")

	require.NoError(t, os.Remove(file))
	require.NoError(t, os.Mkdir(file, 0o755)) // an append fails; the removal works
	put(t, s, "bkt", "k100", "v")
	keys = append(keys, "k100")
	assert.Equal(t, keys, listKeys(t, s, "bkt", pull.ListQuery{}))
	st, err := os.Stat(file)
	require.NoError(t, err)
	assert.True(t, st.Mode().IsRegular(), "rebuilt")

	require.NoError(t, os.Remove(file))
	require.NoError(t, os.MkdirAll(filepath.Join(file, "in-the-way"), 0o755)) // nothing can replace it
	put(t, s, "bkt", "k101", "v")
	keys = append(keys, "k101")
	assert.Equal(t, keys, listKeys(t, s, "bkt", pull.ListQuery{}), "answered by a scan")
	put(t, s, "bkt", "k102", "v")
	keys = append(keys, "k102")
	assert.Equal(t, keys, listKeys(t, s, "bkt", pull.ListQuery{}), "answered by a scan")
}

// A live file nobody holds is a process that died: the listing removes
// every bucket's log before answering, and then the file. (The same,
// with a real process killed, is TestCrashBetweenRenameAndIndexWrite.)
func TestADeadLiveFileRebuildsEveryIndex(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	// A record of no object in each log: a log that is not rebuilt keeps
	// listing it.
	ghost, err := appendRecord(nil, indexEntry{key: "ghost"})
	require.NoError(t, err)
	for _, b := range []string{"one", "two"} {
		keys := indexedKeys(t, s, b, 3)
		appendTo(t, logFile(s, b), ghost)
		require.Equal(t, append([]string{"ghost"}, keys...), listKeys(t, s, b, pull.ListQuery{}))
	}
	dead := filepath.Join(dir, liveDir, "0123456789abcdef")
	require.NoError(t, os.WriteFile(dead, nil, 0o644))

	assert.Equal(t, []string{"k000", "k001", "k002"}, listKeys(t, s, "one", pull.ListQuery{}), "rebuilt")
	_, err = os.Stat(dead)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(logFile(s, "two"))
	assert.ErrorIs(t, err, os.ErrNotExist, "removed, to be rebuilt at its next listing")
	assert.Equal(t, []string{"k000", "k001", "k002"}, listKeys(t, s, "two", pull.ListQuery{}), "rebuilt")
}

// Corrupt records never panic the reader, whatever their bytes.
func FuzzReadRecords(f *testing.F) {
	rec, _ := appendRecord(nil, indexEntry{key: "a/b", size: 3, etag: "e", mod: time.Unix(1, 2), class: "COLD"})
	f.Add(rec)
	f.Add(append(slices.Clone(rec), rec[:5]...))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got []indexEntry
		n, _, err := readRecords(bytesReader(data), func(e indexEntry) { got = append(got, e) })
		if n > int64(len(data)) || (err == nil && n < 0) {
			t.Fatalf("read %d of %d bytes", n, len(data))
		}
		for _, e := range got {
			again, err := appendRecord(nil, e)
			if err != nil {
				t.Fatalf("a record read does not write back: %v", err)
			}
			back, _, _ := readRecords(bytesReader(again), func(indexEntry) {})
			if back != int64(len(again)) {
				t.Fatalf("a record read does not read back")
			}
		}
	})
}

// fixChecksum sets a record's checksum to its body's.
func fixChecksum(rec []byte) {
	body := rec[recordHeaderLen:]
	sum := crc32c(body)
	rec[4], rec[5], rec[6], rec[7] = byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum)
}

// One process rebuilds a bucket at a time: a listing that finds the log
// missing while another holds the bucket's rebuild lock waits for it, as
// long as its request lasts, and rebuilds once it is let go.
func TestAListingWaitsForAnotherRebuild(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	keys := indexedKeys(t, s, "bkt", 3)
	r, err := os.OpenFile(filepath.Join(s.root.Name(), rebuildPath("bkt")), os.O_RDWR, 0)
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, lockExclusive(context.Background(), r)) // another process rebuilding
	require.NoError(t, os.Remove(logFile(s, "bkt")))

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = s.List(ctx, "bkt", pull.ListQuery{Limit: 10})
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	listed := make(chan []string)
	go func() { listed <- listKeys(t, s, "bkt", pull.ListQuery{}) }()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, unlock(r))
	assert.Equal(t, keys, <-listed)
}

// A rebuild belongs to the store, not to the listing that starts it: a
// bucket whose scan takes longer than its clients wait is indexed all the
// same. Listings that give up leave the rebuild running, those that come
// meanwhile join it (one scan), and once it ends they are answered from
// what it built, commits made during the scan included.
func TestARebuildOutlivesTheListingsThatGiveUp(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	keys := indexedKeys(t, s, "bkt", 50)
	var scans atomic.Int32
	release := make(chan struct{})
	defer setRebuildScanHook(func(ctx context.Context) {
		scans.Add(1)
		select { // a scan longer than any client waits
		case <-release:
		case <-ctx.Done():
		}
	})()
	require.NoError(t, os.Remove(logFile(s, "bkt"))) // as a death found does
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		_, err := s.List(ctx, "bkt", pull.ListQuery{Limit: 10})
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, "listing %d", i)
	}
	assert.EqualValues(t, 1, scans.Load(), "the listings that gave up left the first one's rebuild running, and joined it")
	put(t, s, "bkt", "late", "v") // appended to the rebuild's journal
	close(release)
	assert.Equal(t, append(keys, "late"), listKeys(t, s, "bkt", pull.ListQuery{}))
	assert.EqualValues(t, 1, scans.Load(), "answered by that rebuild")
	log, err := os.ReadFile(logFile(s, "bkt"))
	require.NoError(t, err)
	assert.Equal(t, logMagic, string(log[:logHeaderLen]), "the log is complete")
}

// Close stops a rebuild under way and returns at once; the listing that
// waited for it gets an error, and a scan stops at its next file when
// its context ends.
func TestCloseStopsARebuild(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	indexedKeys(t, s, "bkt", 5)
	scanning := make(chan struct{})
	restore := setRebuildScanHook(func(ctx context.Context) {
		close(scanning)
		<-ctx.Done() // a scan that would never end
	})
	defer restore()
	require.NoError(t, os.Remove(logFile(s, "bkt")))
	listed := make(chan error, 1)
	go func() {
		_, err := s.List(context.Background(), "bkt", pull.ListQuery{Limit: 10})
		listed <- err
	}()
	<-scanning
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for the rebuild to end by itself")
	}
	select {
	case err := <-listed:
		assert.ErrorIs(t, err, errClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("the listing still waits")
	}
	restore()

	other, err := Open(t.TempDir())
	require.NoError(t, err)
	defer other.Close()
	indexedKeys(t, other, "bkt", 5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = other.scanTree(ctx, "bkt")
	assert.ErrorIs(t, err, context.Canceled)
}

// openLogs counts this process's open files that are logs of the store
// in dir.
func openLogs(t *testing.T, dir string) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir) && strings.HasSuffix(target, ".log") {
			n++
		}
	}
	return n
}

// A store keeps the trees and open logs of at most maxIndexedBuckets
// buckets, the ones listed last: listing more holds no more files open,
// and every bucket still lists exactly its objects. An evicted bucket's
// log is appended to by its commits, and read again at its next listing,
// not rebuilt.
func TestAStoreKeepsABoundedNumberOfBucketIndexes(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	s.skipSyncs()
	dir = s.root.Name()
	n := maxIndexedBuckets + 100
	name := func(i int) string { return fmt.Sprintf("bkt-%03d", i) }
	for i := range n {
		put(t, s, name(i), name(i), "v")
	}
	logs := map[string]os.FileInfo{}
	for i := range n {
		require.Equal(t, []string{name(i)}, listKeys(t, s, name(i), pull.ListQuery{}))
		st, err := os.Stat(logFile(s, name(i)))
		require.NoError(t, err)
		logs[name(i)] = st
	}
	assert.LessOrEqual(t, openLogs(t, dir), maxIndexedBuckets, "open logs after listing %d buckets", n)
	for i := range n {
		put(t, s, name(i), "z", "v") // most of them evicted
	}
	for i := range n {
		require.Equal(t, []string{name(i), "z"}, listKeys(t, s, name(i), pull.ListQuery{}))
		st, err := os.Stat(logFile(s, name(i)))
		require.NoError(t, err)
		assert.True(t, os.SameFile(logs[name(i)], st), "%s: read from its log, not rebuilt", name(i))
	}
	assert.LessOrEqual(t, openLogs(t, dir), maxIndexedBuckets)
	s.idx.mu.Lock()
	assert.Len(t, s.idx.buckets, maxIndexedBuckets)
	assert.Equal(t, maxIndexedBuckets, s.idx.lru.Len())
	s.idx.mu.Unlock()
}

// Evictions race listings and commits of more buckets than are kept, and
// every listing holds every object of its bucket committed before it
// began.
func TestEvictionsRacingListingsLoseNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	s.skipSyncs()
	other, err := Open(dir)
	require.NoError(t, err)
	defer other.Close()
	other.skipSyncs()
	n := maxIndexedBuckets + 40
	name := func(i int) string { return fmt.Sprintf("bkt-%03d", i) }
	var mu sync.Mutex
	committed := make([][]string, n)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 5))
			for i := range 150 {
				b := rng.IntN(n)
				if i%3 == 0 {
					k := fmt.Sprintf("w%d-%03d", w, i)
					if !assert.NoError(t, storetest.Put(context.Background(), []*Store{s, other}[i%2], name(b), k, k, pull.ObjectInfo{ETag: "e"})) {
						return
					}
					mu.Lock()
					committed[b] = append(committed[b], k)
					mu.Unlock()
					continue
				}
				mu.Lock()
				want := slices.Sorted(slices.Values(committed[b]))
				mu.Unlock()
				p, err := s.List(context.Background(), name(b), pull.ListQuery{Limit: 1000})
				if !assert.NoError(t, err) {
					return
				}
				var got []string
				for _, o := range p.Objects {
					got = append(got, o.Key)
				}
				for _, k := range want {
					if _, found := slices.BinarySearch(got, k); !found {
						t.Errorf("%s: %q was committed before the listing began, and is not in it", name(b), k)
					}
				}
			}
		}()
	}
	wg.Wait()
	for b := range n {
		assert.Equal(t, slices.Sorted(slices.Values(committed[b])), listKeysOrNil(t, s, name(b)), name(b))
	}
}

func listKeysOrNil(t *testing.T, s *Store, bucket string) []string {
	keys := listKeys(t, s, bucket, pull.ListQuery{})
	if len(keys) == 0 {
		return nil
	}
	return keys
}
