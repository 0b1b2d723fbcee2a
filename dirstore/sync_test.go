package dirstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// began is the error a test's sync returns: when, on the test's clock,
// it began.
type began struct{ at int64 }

func (b began) Error() string { return fmt.Sprint("sync began at ", b.at) }

// waiting says how many callers wait for dir's next round of g to begin.
func waiting(g *dirSyncs, dir string) int {
	g.mu.Lock()
	grp := g.groups[dir]
	g.mu.Unlock()
	if grp == nil {
		return 0
	}
	grp.mu.Lock()
	defer grp.mu.Unlock()
	if grp.next == nil {
		return 0
	}
	return grp.next.waiters
}

// No caller is released by a sync that began before it asked (its
// rename), however many ask at once; and they share syncs.
func TestGroupSyncBeginsAfterEveryCaller(t *testing.T) {
	var g dirSyncs
	var clock, runs atomic.Int64
	do := func() error {
		runs.Add(1)
		at := clock.Add(1)
		time.Sleep(time.Millisecond)
		return began{at}
	}
	const callers, each = 16, 20
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range each {
				renamed := clock.Add(1)
				var b began
				if !assert.ErrorAs(t, g.sync("d", do), &b) {
					return
				}
				assert.Greater(t, b.at, renamed, "released by a sync that began before the rename")
			}
		})
	}
	wg.Wait()
	t.Logf("%d callers, %d syncs", callers*each, runs.Load())
	assert.Less(t, runs.Load(), int64(callers*each), "concurrent callers share syncs")
	assert.Empty(t, g.groups, "an idle directory keeps nothing")
}

// A caller that arrives while a sync runs waits for the next one, which
// it shares with every caller that arrived meanwhile; that sync's error
// is every one of theirs, and the sync after it starts clean.
func TestGroupSyncRoundsAndErrors(t *testing.T) {
	var g dirSyncs
	var runs atomic.Int64
	first, second := make(chan struct{}), make(chan struct{})
	boom := errors.New("boom")
	do := func() error {
		switch runs.Add(1) {
		case 1:
			<-first
			return nil
		case 2:
			<-second
			return boom
		}
		return nil
	}
	leader := make(chan error)
	go func() { leader <- g.sync("d", do) }()
	require.Eventually(t, func() bool { return runs.Load() == 1 }, 5*time.Second, time.Millisecond)

	late := make(chan error, 3)
	for range 3 {
		go func() { late <- g.sync("d", do) }()
	}
	require.Eventually(t, func() bool { return waiting(&g, "d") == 3 }, 5*time.Second, time.Millisecond)
	close(first)
	require.NoError(t, <-leader, "the first sync succeeded")
	select {
	case err := <-late:
		t.Fatalf("a caller that came during the first sync was released by it (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	require.Eventually(t, func() bool { return runs.Load() == 2 }, 5*time.Second, time.Millisecond)
	close(second)
	for range 3 {
		assert.ErrorIs(t, <-late, boom, "every caller of the failed sync gets its error")
	}
	assert.Equal(t, int64(2), runs.Load(), "the three late callers shared one sync")
	assert.NoError(t, g.sync("d", do), "the next sync is a new one")
	assert.Equal(t, int64(3), runs.Load())
}

// A sync of one directory makes no rename in another durable: each
// directory has its own syncs, which run side by side.
func TestGroupSyncIsPerDirectory(t *testing.T) {
	var g dirSyncs
	blockA := make(chan struct{})
	inA := make(chan struct{})
	doneA := make(chan error)
	go func() {
		doneA <- g.sync("a", func() error {
			close(inA)
			<-blockA
			return nil
		})
	}()
	<-inA
	ranB := false
	require.NoError(t, g.sync("b", func() error { ranB = true; return nil }), "b is not held by a's sync")
	assert.True(t, ranB, "b ran a sync of its own")
	close(blockA)
	require.NoError(t, <-doneA)
}

// fanKeys returns n keys whose objects share one fan-out directory.
func fanKeys(n int) []string {
	var keys []string
	for i := 0; len(keys) < n; i++ {
		k := fmt.Sprint("fan/", i)
		if sum := sha256.Sum256([]byte(k)); hex.EncodeToString(sum[:1]) == "00" {
			keys = append(keys, k)
		}
	}
	return keys
}

// What a commit syncs in each mode: with FsyncCommit its file and its
// directory, and the first commit into a directory the directory's
// parents up to the root; with FsyncNone nothing, while configurations
// stay durable.
func TestCommitSyncs(t *testing.T) {
	keys := fanKeys(2)
	t.Run("commit", func(t *testing.T) {
		s, err := Open(t.TempDir())
		require.NoError(t, err)
		defer s.Close()
		put(t, s, "bkt", keys[0], "a")
		assert.Equal(t, int64(1), s.w.fileSyncs.Load())
		assert.Equal(t, int64(4), s.w.dirSyncs.Load(), "objects/bkt/00, objects/bkt, objects and the root")
		put(t, s, "bkt", keys[1], "b")
		assert.Equal(t, int64(2), s.w.fileSyncs.Load())
		assert.Equal(t, int64(5), s.w.dirSyncs.Load(), "a directory's parents once")
	})
	t.Run("none", func(t *testing.T) {
		dir := t.TempDir()
		s, err := OpenWith(dir, Options{Fsync: FsyncNone})
		require.NoError(t, err)
		put(t, s, "bkt", keys[0], "a")
		put(t, s, "bkt", keys[1], "b")
		assert.Zero(t, s.w.fileSyncs.Load())
		assert.Zero(t, s.w.dirSyncs.Load())
		require.NoError(t, s.PutPolicy(context.Background(), "bkt", "private"))
		require.NoError(t, s.Close())
		s, err = Open(dir)
		require.NoError(t, err)
		defer s.Close()
		got, err := get(t, s, "bkt", keys[1])
		require.NoError(t, err)
		assert.Equal(t, "b", got)
	})
	t.Run("options", func(t *testing.T) {
		_, err := OpenWith(t.TempDir(), Options{Fsync: 7})
		assert.ErrorContains(t, err, "unknown Fsync(7)")
		var f Fsync
		require.NoError(t, f.Set("none"))
		assert.Equal(t, FsyncNone, f)
		assert.Equal(t, "none", f.String())
		require.NoError(t, f.Set("commit"))
		assert.Equal(t, "commit", f.String())
		assert.Equal(t, FsyncCommit, Options{}.Fsync, "the zero value is the safe default")
		assert.ErrorContains(t, f.Set("always"), `"always" is not commit or none`)
	})
}

// Concurrent commits into one directory share its syncs, and each still
// reads back whole.
func TestConcurrentCommitsShareDirectorySyncs(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	keys := fanKeys(64)
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() { put(t, s, "bkt", k, fmt.Sprint("object ", i)) })
	}
	wg.Wait()
	for i, k := range keys {
		got, err := get(t, s, "bkt", k)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint("object ", i), got)
	}
	assert.Equal(t, int64(len(keys)), s.w.fileSyncs.Load(), "a file sync each: those can not be shared")
	t.Logf("%d commits into one directory: %d directory syncs", len(keys), s.w.dirSyncs.Load())
	// At most one sync of its directory a commit, and of the three
	// parents of a directory made anew, which commits racing to be its
	// first may each sync before one of them records it synced: never
	// more. How many commits share one is BenchmarkCommit's to show.
	assert.LessOrEqual(t, s.w.dirSyncs.Load(), int64(4*len(keys)))
}

// objectFile is where the store in dir keeps bucket's key.
func objectFile(t *testing.T, dir, bucket, key string) string {
	_, name, err := objectPath(bucket, key)
	require.NoError(t, err)
	return filepath.Join(dir, filepath.FromSlash(name))
}

// An object file a crash left cut short, or with a tail that never
// reached the disk (zeros), is detected and taken as absent, in either
// mode: Open answers pull.ErrNotFound, so the gateway fetches it again,
// and the fetch's commit replaces the file. Nothing of it is served.
func TestDamagedObjectsAreAbsent(t *testing.T) {
	for _, mode := range []Fsync{FsyncCommit, FsyncNone} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			s, err := OpenWith(dir, Options{Fsync: mode})
			require.NoError(t, err)
			defer s.Close()
			ctx := context.Background()
			body := strings.Repeat("0123456789abcdef", 64) // 1 KiB
			info := pull.ObjectInfo{ETag: "e", Header: map[string][]string{"Content-Type": {"text/plain"}}}
			put := func(key, data string) {
				require.NoError(t, storetest.Put(ctx, s, "bkt", key, data, info))
			}
			put("whole", body)
			whole, err := os.Stat(objectFile(t, dir, "bkt", "whole"))
			require.NoError(t, err)
			size := whole.Size()
			trailer := size - int64(len(body))
			require.Greater(t, trailer, int64(dirTrailerLen))

			// Each damage is made to the file's own size: the trailer
			// holds the key and the commit's time, whose lengths vary.
			type damage struct {
				name string
				do   func(f *os.File, size int64) error
			}
			cut := func(n func(size int64) int64) func(*os.File, int64) error {
				return func(f *os.File, size int64) error { return f.Truncate(n(size)) }
			}
			zeros := func(from func(size int64) int64) func(*os.File, int64) error {
				return func(f *os.File, size int64) error {
					_, err := f.WriteAt(make([]byte, size-from(size)), from(size))
					return err
				}
			}
			at := func(n int64) func(int64) int64 { return func(int64) int64 { return n } }
			bodyLen := int64(len(body))
			damages := []damage{
				{"cut to 0", cut(at(0))},
				{"cut to 1 byte", cut(at(1))},
				{"cut mid-body", cut(at(bodyLen / 2))},
				{"cut at the body's end", cut(at(bodyLen))},
				{"cut mid-metadata", cut(func(size int64) int64 { return bodyLen + (size-bodyLen-int64(dirTrailerLen))/2 })},
				{"cut in the length", cut(func(size int64) int64 { return size - int64(dirTrailerLen) + 2 })},
				{"cut mid-magic", cut(func(size int64) int64 { return size - 4 })},
				{"one byte short", cut(func(size int64) int64 { return size - 1 })},
				{"zeros from mid-body", zeros(at(bodyLen / 2))},
				{"zeros from mid-metadata", zeros(at(bodyLen + 10))},
				{"zeros over the trailer", zeros(func(size int64) int64 { return size - int64(dirTrailerLen) })},
				{"last byte zero", zeros(func(size int64) int64 { return size - 1 })},
				{"one byte longer", func(f *os.File, size int64) error { return f.Truncate(size + 1) }},
				{"another key's file", func(f *os.File, _ int64) error {
					put("other", body)
					other, err := os.ReadFile(objectFile(t, dir, "bkt", "other"))
					if err != nil {
						return err
					}
					if err := f.Truncate(0); err != nil {
						return err
					}
					_, err = f.WriteAt(other, 0)
					return err
				}},
			}
			for i, d := range damages {
				key := fmt.Sprint("damaged/", i)
				put(key, body)
				name := objectFile(t, dir, "bkt", key)
				f, err := os.OpenFile(name, os.O_RDWR, 0)
				require.NoError(t, err)
				st, err := f.Stat()
				require.NoError(t, err)
				require.NoError(t, d.do(f, st.Size()), d.name)
				require.NoError(t, f.Close())

				// A crash damages a file, and a new process reads it: a
				// store of its own, whose metadata cache holds nothing of
				// the file (the running store never rewrites a file in
				// place, so its cache may trust a file it already read).
				fresh, err := OpenWith(dir, Options{Fsync: mode})
				require.NoError(t, err)
				_, err = fresh.Open(ctx, "bkt", key)
				require.NoError(t, fresh.Close())
				require.ErrorIs(t, err, pull.ErrNotFound, "%s: never served", d.name)
				require.ErrorIs(t, err, errDamaged, d.name)

				// The gateway fetches it again: its commit replaces the file.
				put(key, "fetched again")
				got, err := get(t, s, "bkt", key)
				require.NoError(t, err, d.name)
				assert.Equal(t, "fetched again", got, d.name)
			}
			got, err := get(t, s, "bkt", "whole")
			require.NoError(t, err)
			assert.Equal(t, body, got, "the undamaged object reads back")
		})
	}
}

// A store that never synced its commits still loses nothing at a clean
// stop: Close syncs the filesystem, so that the key index it leaves
// names only objects that are on disk.
func TestFsyncNoneCloseKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenWith(dir, Options{Fsync: FsyncNone})
	require.NoError(t, err)
	for i := range 10 {
		put(t, s, "bkt", fmt.Sprint("k", i), fmt.Sprint("v", i))
	}
	require.NoError(t, s.Close())
	s, err = OpenWith(dir, Options{Fsync: FsyncNone})
	require.NoError(t, err)
	defer s.Close()
	obj, err := s.Open(context.Background(), "bkt", "k9")
	require.NoError(t, err)
	defer obj.Close()
	b, err := io.ReadAll(obj)
	require.NoError(t, err)
	assert.Equal(t, "v9", string(b))
}

// sameDirKeys are 4096 keys whose objects share one fan-out directory.
var sameDirKeys = sync.OnceValue(func() []string { return fanKeys(4096) })

// BenchmarkCommit commits 4 KiB objects of new keys, from 1 and from 16
// clients at once, into a real directory: what a cold miss costs the
// store. fsyncs/op counts the file and directory syncs of a commit;
// dirsyncs/op the directory ones, which concurrent commits into one
// directory share (group commit). Variants: ungrouped, every commit
// syncing its directory alone (as before group commit); samedir, every
// key in one fan-out directory, where group commit acts most; none,
// -fsync none. Every fan-out directory is made (and synced) before the
// clock starts, so a run counts the steady state.
func BenchmarkCommit(b *testing.B) {
	for _, c := range []struct {
		name    string
		clients int
		fsync   Fsync
		ungroup bool
		samedir bool
	}{
		{name: "clients=1", clients: 1},
		{name: "clients=16", clients: 16},
		{name: "ungrouped/clients=16", clients: 16, ungroup: true},
		{name: "samedir/clients=16", clients: 16, samedir: true},
		{name: "samedir/ungrouped/clients=16", clients: 16, samedir: true, ungroup: true},
		{name: "none/clients=1", clients: 1, fsync: FsyncNone},
		{name: "none/clients=16", clients: 16, fsync: FsyncNone},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, err := OpenWith(b.TempDir(), Options{Fsync: c.fsync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.w.ungrouped = c.ungroup
			for i := range 256 {
				dir := fmt.Sprintf("objects/bench/%02x", i)
				if err := s.root.MkdirAll(dir, 0o755); err != nil {
					b.Fatal(err)
				}
				if err := s.syncObjectDir(dir); err != nil {
					b.Fatal(err)
				}
			}
			var keys []string
			if c.samedir {
				keys = sameDirKeys()
			}
			key := func(i int64) string {
				if c.samedir {
					return keys[i%int64(len(keys))] // past 4096, commits again
				}
				return fmt.Sprint("bench/", i)
			}
			body := make([]byte, 4<<10)
			info := pull.ObjectInfo{Size: int64(len(body)), ETag: "0123456789abcdef0123456789abcdef"}
			ctx := context.Background()
			s.w.fileSyncs.Store(0)
			s.w.dirSyncs.Store(0)
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for range c.clients {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						up, err := s.Create(ctx, "bench", key(i))
						if err == nil {
							_, err = up.Write(body)
						}
						if err == nil {
							err = up.Commit(ctx, info)
						}
						if up != nil {
							up.Abort()
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			n := float64(b.N)
			b.ReportMetric(float64(s.w.fileSyncs.Load()+s.w.dirSyncs.Load())/n, "fsyncs/op")
			b.ReportMetric(float64(s.w.dirSyncs.Load())/n, "dirsyncs/op")
		})
	}
}

// Commits write through open fan-out directories; one removed by hand
// meanwhile is made anew, not written into while it is gone.
func TestCommitAfterItsDirectoryWasRemoved(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	put(t, s, "bkt", "k", "one")
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "objects", "bkt")))
	put(t, s, "bkt", "k", "two")
	got, err := get(t, s, "bkt", "k")
	require.NoError(t, err)
	assert.Equal(t, "two", got)
	_, err = os.Stat(objectFile(t, dir, "bkt", "k"))
	assert.NoError(t, err, "the object is in the directory made anew")
	assert.Equal(t, int64(8), s.w.dirSyncs.Load(), "and its parents were synced again")
}

// A big object that commits durably is synced behind its copy, as it
// arrives, so that its commit does not flush all of it after its last
// byte; one that commits with FsyncNone never is. Either way it reads back
// whole.
func TestBigObjectsAreSyncedBehindTheCopy(t *testing.T) {
	data := strings.Repeat("0123456789abcdef", (20<<20)/16)
	for _, c := range []struct {
		mode  Fsync
		syncs bool
	}{{FsyncCommit, true}, {FsyncNone, false}} {
		t.Run(c.mode.String(), func(t *testing.T) {
			s, err := OpenWith(t.TempDir(), Options{Fsync: c.mode})
			require.NoError(t, err)
			defer s.Close()
			up, err := s.Create(context.Background(), "bkt", "big")
			require.NoError(t, err)
			for off := 0; off < len(data); off += 1 << 20 {
				_, err := io.WriteString(up, data[off:min(off+1<<20, len(data))])
				require.NoError(t, err)
			}
			require.NoError(t, up.Commit(context.Background(), pull.ObjectInfo{Size: int64(len(data)), ETag: "e"}))
			up.Abort()
			if c.syncs {
				// At 8 MiB, and at 16 MiB unless the first still runs.
				assert.Contains(t, []int64{1, 2}, s.w.behindSyncs.Load())
			} else {
				assert.Zero(t, s.w.behindSyncs.Load())
			}
			got, err := get(t, s, "bkt", "big")
			require.NoError(t, err)
			assert.True(t, got == data, "the object reads back whole")
		})
	}
}
