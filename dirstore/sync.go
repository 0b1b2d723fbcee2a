package dirstore

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"sync"
	"sync/atomic"

	"github.com/mirrorkit/mirror/pull"
)

// Fsync is how durable a commit makes an object (docs/SERVING.md §2).
// Configurations, read policies and CORS rules are always written
// durably, whatever it says: they are small and rare, and a gateway that
// lost one would serve a bucket by other rules.
type Fsync int

const (
	// FsyncCommit, the zero value and the default: a commit syncs the
	// object's file, renames it into place and syncs its directory
	// before it returns, so an acknowledged object survives a crash of
	// the process, the kernel or the power. Commits into one directory
	// at once share its sync (group commit).
	FsyncCommit Fsync = iota
	// FsyncNone: a commit syncs nothing, as nginx's proxy_store and
	// proxy_cache never do. A power cut or a kernel crash may lose
	// objects that were acknowledged, or leave one cut short or torn
	// under its name; Open finds such a file damaged and answers
	// pull.ErrNotFound, so it is fetched again and never served. A
	// clean Close syncs the store's filesystem once (syncfs), so a clean
	// stop loses nothing.
	FsyncNone
)

// String is the mode's name, as -fsync takes it.
func (f Fsync) String() string {
	switch f {
	case FsyncCommit:
		return "commit"
	case FsyncNone:
		return "none"
	}
	return fmt.Sprintf("Fsync(%d)", int(f))
}

// Set parses a mode's name ("commit" or "none"): Fsync is a flag.Value.
func (f *Fsync) Set(s string) error {
	switch s {
	case "commit":
		*f = FsyncCommit
	case "none":
		*f = FsyncNone
	default:
		return fmt.Errorf("%q is not commit or none", s)
	}
	return nil
}

// Options are a store's settings; the zero value is Open's.
type Options struct {
	// Fsync is how durable a commit makes an object: FsyncCommit (the
	// zero value) or FsyncNone.
	Fsync Fsync
	// MaxSize caps the bytes of the store's object files: past it, the
	// objects used least recently are removed (docs/SERVING.md §2.3).
	// Zero, the default, is no cap.
	MaxSize int64
}

// writeState is the write path's part of a Store.
type writeState struct {
	fsync Fsync
	// groups shares directory syncs between concurrent commits.
	groups dirSyncs
	// synced holds the fan-out directories ("objects/B/HH") whose entry,
	// and their parents', this process has synced: once per directory,
	// as a directory made by Create (or by a process that crashed before
	// syncing it) is durable only once its parent is synced.
	synced  sync.Map // string -> struct{}
	nsynced atomic.Int64
	// fileSyncs and dirSyncs count the syncs commits ran (tests and
	// benchmarks read them).
	fileSyncs, dirSyncs atomic.Int64
	// behindSyncs counts the syncs started beside a copy (Write).
	behindSyncs atomic.Int64
	// ungrouped makes every commit sync its directory alone, as before
	// group commit: set by benchmarks only, to compare.
	ungrouped bool
}

// Open opens (and makes, if missing) a directory store whose commits are
// durable: OpenWith(dir, Options{}).
func Open(dir string) (*Store, error) { return open(dir, Options{}) }

// OpenWith opens (and makes, if missing) a directory store with o.
func OpenWith(dir string, o Options) (*Store, error) {
	if o.Fsync != FsyncCommit && o.Fsync != FsyncNone {
		return nil, fmt.Errorf("dirstore: unknown %v", o.Fsync)
	}
	return open(dir, o)
}

// syncing says whether commits sync.
func (s *Store) syncing() bool { return !s.noSync && s.w.fsync == FsyncCommit }

// syncObjectFile syncs a committed object's file before its rename.
func (s *Store) syncObjectFile(f *os.File) error {
	if !s.syncing() {
		return nil
	}
	s.w.fileSyncs.Add(1)
	return s.commitSync(f)
}

// syncObjectDir makes a commit's rename into dir durable: it returns once
// a sync of dir that began after the call has ended (a sync already
// running when the call came may have missed the rename). The first
// commit into a directory also syncs its parents, up to the store's
// root, so that the directory's own entry is durable.
func (s *Store) syncObjectDir(dir string) error {
	if !s.syncing() {
		return nil
	}
	if err := s.syncDirShared(dir); err != nil {
		return err
	}
	if _, ok := s.w.synced.Load(dir); ok {
		return nil
	}
	// objects/B/HH's entry is in objects/B, objects/B's in objects,
	// objects' in the root. Each was made before this commit's Create
	// returned, so a sync that begins now covers it.
	for p := path.Dir(dir); ; p = path.Dir(p) {
		if err := s.syncDirShared(p); err != nil {
			return err
		}
		if p == "." {
			break
		}
	}
	if _, loaded := s.w.synced.LoadOrStore(dir, struct{}{}); !loaded && s.w.nsynced.Add(1) > maxSyncedDirs {
		// Forgotten, they cost one more sync of their parents each.
		s.w.synced.Clear()
		s.w.nsynced.Store(0)
	}
	return nil
}

// maxSyncedDirs bounds the fan-out directories known synced (256 a
// bucket).
const maxSyncedDirs = 64 << 10

// syncDirShared syncs dir, sharing the sync with the commits into dir
// that wait for one at the same time.
func (s *Store) syncDirShared(dir string) error {
	do := func() error {
		s.w.dirSyncs.Add(1)
		if d, ok := s.dirs.Load(dir); ok {
			// Open through the directory the commits renamed in: one
			// openat, not one per component.
			f, err := d.(*os.Root).Open(".")
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Sync()
		}
		return s.syncDir(dir)
	}
	if s.w.ungrouped {
		return do()
	}
	return s.w.groups.sync(dir, do)
}

// flushAll makes everything written so far durable when commits did not
// sync (FsyncNone): one sync of the store's filesystem, so that a clean
// stop loses no object, and the key index a clean Close leaves names no
// object that a power cut after it could lose.
func (s *Store) flushAll() {
	if s.noSync || s.w.fsync != FsyncNone {
		return
	}
	if err := syncFS(s.root); err != nil {
		slog.Warn("dirstore: syncing the store's filesystem on close failed", "error", err)
	}
}

// dirSyncs shares directory syncs between concurrent commits: group
// commit. A commit that renamed a file into a directory needs a sync of
// that directory that began after its rename. If none is running, it
// runs one; if one is running, it waits for it to end and then for the
// next, which one of the commits that waited runs for all of them. So
// however many commits arrive while a sync runs, one more sync makes
// them all durable, and no commit is released by a sync that began
// before it asked. A sync of one directory does not make a rename in
// another durable: each directory has its own group.
type dirSyncs struct {
	mu     sync.Mutex
	groups map[string]*dirGroup // the directories being synced or waited for
}

// dirGroup is one directory's syncs.
type dirGroup struct {
	refs int // callers in sync, under dirSyncs.mu

	mu      sync.Mutex
	ended   sync.Cond // broadcast when a sync ends
	running bool      // a sync is running
	next    *syncRound
}

// syncRound is one sync, and every caller it releases.
type syncRound struct {
	waiters int // callers that joined it (tests read it)
	started bool
	done    chan struct{} // closed when the sync ended, err set
	err     error
}

// sync returns once a run of do that began after the call has ended,
// with that run's error: every caller a run releases gets its error.
func (g *dirSyncs) sync(dir string, do func() error) error {
	g.mu.Lock()
	if g.groups == nil {
		g.groups = map[string]*dirGroup{}
	}
	grp := g.groups[dir]
	if grp == nil {
		grp = &dirGroup{}
		grp.ended.L = &grp.mu
		g.groups[dir] = grp
	}
	grp.refs++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		if grp.refs--; grp.refs == 0 {
			delete(g.groups, dir)
		}
		g.mu.Unlock()
	}()
	return grp.sync(do)
}

func (g *dirGroup) sync(do func() error) error {
	g.mu.Lock()
	// Join the round that has not begun: it begins after this call.
	r := g.next
	if r == nil {
		r = &syncRound{done: make(chan struct{})}
		g.next = r
	}
	r.waiters++
	for g.running && !r.started {
		g.ended.Wait()
	}
	if r.started {
		// Another caller of this round runs it.
		g.mu.Unlock()
		<-r.done
		return r.err
	}
	r.started, g.running, g.next = true, true, nil
	g.mu.Unlock()

	r.err = do()
	close(r.done)

	g.mu.Lock()
	g.running = false
	g.ended.Broadcast()
	g.mu.Unlock()
	return r.err
}

// errDamaged is what reading an object file that is not whole says: one
// a crash left cut short or torn (with FsyncNone, or one never
// acknowledged), or that is not an object file at all. It wraps
// pull.ErrNotFound: such an object is absent, fetched again on its next
// miss (whose commit replaces the file), and never served.
var errDamaged = fmt.Errorf("damaged object file, taken as absent: %w", pull.ErrNotFound)

// shortRead is what a read of an object file's trailer that came back
// short says: the file shrank since its size was read, so it is damaged.
func shortRead(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %v", errDamaged, err)
	}
	return err
}
