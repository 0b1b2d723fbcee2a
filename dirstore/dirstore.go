// Package dirstore keeps a mirror gateway's objects and bucket
// configurations in a local directory (docs/SERVING.md §2). A Store
// implements pull.Store and bucketconfig.Store.
package dirstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/tmpfile"
	"github.com/mirrorkit/mirror/pull"
)

// Store keeps objects in a local directory, one file each.
//
// A key never becomes a path: an object of bucket B and key K lives at
// objects/B/HH/H, where H is the hex SHA-256 of K and HH its first two
// digits. So "a/../../x", "x/" next to "x", "CON", a 1024-byte key and
// any other key the engine accepts are stored alike, and none can name a
// file outside the directory; every file is opened through an os.Root
// besides. Bucket names are checked against BOS's rule before they are
// used as a directory name.
//
// A file holds the object's bytes, then its metadata and key as JSON, then
// the JSON's length and a magic number, so that the bytes start at offset
// 0 while they are written. A commit writes a temporary file in the
// object's own directory, syncs it, renames it over the object's name and
// syncs the directory (with FsyncCommit, the default; FsyncNone syncs
// nothing, sync.go): a reader sees the whole old object, the whole new
// one, or none, and two processes committing one key at once leave one
// whole object.
type Store struct {
	root *os.Root
	// dirs caches open fan-out directories ("objects/B/HH") for the
	// writes, so that a commit's temporary file, rename (writedir.go)
	// and index write are one call each, not one per path component.
	dirs  sync.Map // string -> *os.Root
	ndirs atomic.Int64
	// rd is the read path's state: directory handles, metadata cache
	// (object.go).
	rd readPath
	// durable[dir] is set once config/, acl/ or cors/ is known to exist with its
	// entry synced into the root: a record is durable only if the
	// directory holding it is.
	durable map[string]*atomic.Bool
	// swept is closed when the sweep Open started has ended; closing
	// asks it to stop early.
	swept   chan struct{}
	closing atomic.Bool
	// idx is this store's part in the buckets' key indexes (index.go).
	idx keyIndex
	// noSync skips a commit's syncs: set by benchmarks only.
	noSync bool
	// w is the write path's state: durability, group commit (sync.go).
	w writeState
	// space keeps the store under Options.MaxSize (evict.go); nil when
	// there is no cap.
	space *space
}

// maxCachedDirs bounds the directories a DirStore keeps open.
const maxCachedDirs = 4096

// open opens (and makes, if missing) a directory store: Open, OpenWith.
func open(dir string, o Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{root: root, swept: make(chan struct{}),
		durable: map[string]*atomic.Bool{"config": new(atomic.Bool), "acl": new(atomic.Bool), "cors": new(atomic.Bool)},
		w:       writeState{fsync: o.Fsync}}
	s.openLive()
	s.startSpace(o.MaxSize)
	go func() {
		defer close(s.swept)
		_, _ = s.sweep()
	}()
	return s, nil
}

// sweep removes the temporary files no process holds: those a gateway
// killed mid-write left (every writer holds its file's lock while it has
// it open, so a second gateway on the same directory loses nothing). It
// runs when the store opens, beside the requests.
func (s *Store) sweep() (removed int, err error) {
	dirs := []string{"config", "acl", "cors"}
	buckets, err := fs.ReadDir(s.root.FS(), "objects")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	for _, b := range buckets {
		fans, err := fs.ReadDir(s.root.FS(), path.Join("objects", b.Name()))
		if err != nil {
			continue
		}
		for _, fan := range fans {
			dirs = append(dirs, path.Join("objects", b.Name(), fan.Name()))
		}
	}
	for _, dir := range dirs {
		if s.closing.Load() {
			break
		}
		names, err := fs.ReadDir(s.root.FS(), dir)
		if err != nil {
			continue
		}
		for _, n := range names {
			if !strings.HasPrefix(n.Name(), ".tmp-") {
				continue
			}
			name := path.Join(dir, n.Name())
			f, err := s.root.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				continue
			}
			if tmpfile.Stale(n, f) && s.root.Remove(name) == nil {
				removed++
			}
			f.Close()
		}
	}
	return removed, nil
}

// Close releases the directory, once the sweep of Open has stopped.
func (s *Store) Close() error {
	s.closing.Store(true)
	<-s.swept
	s.stopSpace()
	s.flushAll()
	s.closeIndex()
	s.dirs.Range(func(_, r any) bool {
		r.(*os.Root).Close()
		return true
	})
	s.rd.close()
	return s.root.Close()
}

// dir returns an open fan-out directory and what to call when done with
// it: nothing for a cached one.
func (s *Store) dir(name string) (*os.Root, func(), error) {
	if r, ok := s.dirs.Load(name); ok {
		return r.(*os.Root), func() {}, nil
	}
	r, err := s.root.OpenRoot(name)
	if err != nil {
		return nil, nil, err
	}
	if s.ndirs.Load() >= maxCachedDirs {
		return r, func() { r.Close() }, nil
	}
	if prev, loaded := s.dirs.LoadOrStore(name, r); loaded {
		r.Close()
		return prev.(*os.Root), func() {}, nil
	}
	s.ndirs.Add(1)
	return r, func() {}, nil
}

// objectPath is where a key lives: no byte of the key reaches the path.
func objectPath(bucket, key string) (dir, file string, err error) {
	if !mirror.ValidBucket(bucket) {
		return "", "", fmt.Errorf("dirstore: invalid bucket name %q", bucket)
	}
	sum := sha256.Sum256([]byte(key))
	// objects/BUCKET/HH/H, made in one string (a hit makes one): a valid
	// bucket name has nothing path.Join would clean.
	var buf [len("objects/") + 63 + len("/HH/") + 2*sha256.Size]byte
	b := append(append(append(buf[:0], "objects/"...), bucket...), '/')
	b = append(hex.AppendEncode(b, sum[:1]), '/')
	file = string(hex.AppendEncode(b, sum[:]))
	return file[:len(file)-1-2*sha256.Size], file, nil
}

// dirMeta is the JSON written after an object's bytes.
type dirMeta struct {
	Key          []byte      `json:"key"` // bytes, not a JSON string: any key round-trips
	Size         int64       `json:"size"`
	ETag         string      `json:"etag"`
	LastModified time.Time   `json:"lastModified"`
	Header       http.Header `json:"header,omitempty"`
	StorageClass string      `json:"storageClass,omitempty"`
	// The validators and age of docs/SERVING.md §3.9.
	OriginETag     string    `json:"originETag,omitempty"`
	OriginModified bool      `json:"originModified,omitempty"`
	Fetched        time.Time `json:"fetched,omitzero"`
	// The provenance and user metadata of docs/SERVING.md §3.7 (absent
	// from objects stored before them, which read back without them).
	Origin             string            `json:"origin,omitempty"`
	OriginLastModified time.Time         `json:"originLastModified,omitzero"`
	UserMeta           map[string]string `json:"userMeta,omitempty"`
}

// marshalMeta is m's JSON, without escaping <, > and & (json.Marshal's
// six bytes for each): the kept headers, user metadata and origin URL an
// origin fills with them then stay well inside maxDirMetaLen, which a
// larger trailer would pass, and the object would read as damaged.
func marshalMeta(m *dirMeta) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

const (
	dirMagic      = "mkobj\x00v1"
	dirTrailerLen = 4 + len(dirMagic)
	maxDirMetaLen = 64 << 10
)

// HasObjects reports whether the bucket holds a committed object. It looks
// for the first one: directories that only ever held a temporary file (a
// fetch that failed) do not make a bucket exist.
func (s *Store) HasObjects(_ context.Context, bucket string) (bool, error) {
	if !mirror.ValidBucket(bucket) {
		return false, nil
	}
	dir := path.Join("objects", bucket)
	fans, err := fs.ReadDir(s.root.FS(), dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, fan := range fans {
		if !fan.IsDir() {
			continue
		}
		f, err := s.root.Open(path.Join(dir, fan.Name()))
		if err != nil {
			return false, err
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			return false, err
		}
		for _, n := range names {
			if !strings.HasPrefix(n, ".tmp-") {
				return true, nil
			}
		}
	}
	return false, nil
}

// Create starts a new object in a temporary file beside its final name.
func (s *Store) Create(_ context.Context, bucket, key string) (pull.Upload, error) {
	dir, name, err := objectPath(bucket, key)
	if err != nil {
		return nil, err
	}
	tmp := tempName(dir)
	f, d, release, err := s.createIn(dir, path.Base(tmp))
	if err != nil {
		return nil, err
	}
	if err := tmpfile.Lock(f); err != nil {
		f.Close()
		_ = s.root.Remove(tmp)
		release()
		return nil, err
	}
	return &dirUpload{s: s, f: f, tmp: tmp, name: name, dir: dir, key: key, d: d, release: release}, nil
}

type dirUpload struct {
	s              *Store
	f              *os.File
	tmp, name, dir string
	key            string
	n              int64
	flushed        int64 // bytes whose writeback was started
	synced         int64 // bytes a sync behind the copy was started for
	syncing        atomic.Bool
	behind         sync.WaitGroup        // the sync behind the copy running
	behindErr      atomic.Pointer[error] // the first one's error
	done           bool                  // committed or aborted
	committed      bool
	// d is the open directory dir, for the rename; release is what to
	// call when done with it (writedir.go).
	d       *os.Root
	release func()
}

func (u *dirUpload) Write(p []byte) (int, error) {
	n, err := u.f.Write(p)
	u.n += int64(n)
	if u.n-u.flushed >= writeBehind && u.s.syncing() {
		// Write behind, as the object arrives: a commit's fsync then
		// waits for the tail only, not for the whole object (issue 18).
		startWriteback(u.f, u.flushed, u.n-u.flushed)
		u.flushed = u.n
		if u.n-u.synced >= syncBehind && u.syncing.CompareAndSwap(false, true) {
			// And sync behind, one sync at a time beside the copy: the
			// disk's own cache is flushed as the object arrives, not
			// all of it after its last byte. Linux reports a writeback
			// error to one fsync of a file only, so the commit waits
			// for this one and fails with its error.
			u.synced = u.n
			u.s.w.behindSyncs.Add(1)
			u.behind.Add(1)
			go func() {
				defer u.behind.Done()
				defer u.syncing.Store(false)
				if err := u.f.Sync(); err != nil {
					u.behindErr.CompareAndSwap(nil, &err)
				}
			}()
		}
	}
	return n, err
}

// writeBehind is how many written bytes of an object that commits durably
// wait before the kernel is asked to start writing them to the disk, and
// syncBehind how many before they are synced, beside the copy.
const (
	writeBehind = 512 << 10
	syncBehind  = 8 << 20
)

// ReadAt reads back what was written: the Fetcher's spool.
func (u *dirUpload) ReadAt(p []byte, off int64) (int, error) { return u.f.ReadAt(p, off) }

// File is the file the upload writes: the Fetcher's spool (pull.FileUpload).
func (u *dirUpload) File() *os.File { return u.f }

func (u *dirUpload) Commit(_ context.Context, info pull.ObjectInfo) error {
	if u.done {
		return errors.New("dirstore: upload already ended")
	}
	u.done = true
	if info.Size != u.n {
		u.abort()
		return fmt.Errorf("dirstore: commit of %d bytes, %d were written", info.Size, u.n)
	}
	modified := info.LastModified.UTC()
	if modified.IsZero() {
		modified = time.Now().UTC()
	}
	m := dirMeta{Key: []byte(u.key), Size: info.Size, ETag: info.ETag, LastModified: modified,
		Header: info.Header, StorageClass: info.StorageClass, OriginETag: info.OriginETag, OriginModified: info.OriginModified,
		Fetched: info.Fetched.UTC(), Origin: info.Origin, OriginLastModified: info.OriginLastModified.UTC(), UserMeta: info.UserMeta}
	meta, err := marshalMeta(&m)
	if err != nil {
		u.abort()
		return err
	}
	trailer := make([]byte, 0, len(meta)+dirTrailerLen)
	trailer = append(trailer, meta...)
	trailer = binary.BigEndian.AppendUint32(trailer, uint32(len(meta)))
	trailer = append(trailer, dirMagic...)
	if _, err := u.f.Write(trailer); err != nil {
		u.abort()
		return err
	}
	u.behind.Wait()
	if err := u.behindErr.Load(); err != nil {
		u.abort()
		return *err
	}
	if err := u.s.syncObjectFile(u.f); err != nil {
		u.abort()
		return err
	}
	// The file stays open: readers of the spool may still be behind.
	if err := u.d.Rename(path.Base(u.tmp), path.Base(u.name)); err != nil {
		u.abort()
		return err
	}
	u.committed = true
	u.s.space.committed(u.name, u.n+int64(len(trailer))) // evict.go
	u.s.indexCommit(u.dir, u.name, u.f, &m)
	return u.s.syncObjectDir(u.dir)
}

// Abort drops an uncommitted object; after Commit it only closes the
// file.
func (u *dirUpload) Abort() {
	u.releaseDir()
	switch {
	case u.committed:
		u.f.Close()
	case !u.done:
		u.done = true
		u.abort()
	}
}

func (u *dirUpload) abort() {
	u.releaseDir()
	u.f.Close()
	_ = u.s.root.Remove(u.tmp)
}

// The configurations of the buckets, for bucketconfig.Registry: one file
// per bucket, config/BUCKET, holding the format it was put in, a newline,
// and the document exactly as it was put. Written like an object: a temporary
// file, synced, renamed over the name, and the directory synced.

// GetConfig returns a bucket's configuration, or an error wrapping
// fs.ErrNotExist.
func (s *Store) GetConfig(_ context.Context, bucket string) (format mirror.Format, doc []byte, err error) {
	if !mirror.ValidBucket(bucket) {
		return "", nil, fmt.Errorf("dirstore: invalid bucket name %q: %w", bucket, fs.ErrNotExist)
	}
	data, err := s.root.ReadFile(path.Join("config", bucket))
	if err != nil {
		return "", nil, err
	}
	name, rest, ok := strings.Cut(string(data), "\n")
	if !ok {
		return "", nil, fmt.Errorf("dirstore: configuration of %s is damaged", bucket)
	}
	if name == "" {
		return mirror.FormatAuto, []byte(rest), nil // stored without a format
	}
	return mirror.Format(name), []byte(rest), nil
}

// PutConfig replaces a bucket's configuration, durably.
func (s *Store) PutConfig(_ context.Context, bucket string, format mirror.Format, doc []byte) error {
	if !mirror.ValidBucket(bucket) || strings.Contains(string(format), "\n") {
		return fmt.Errorf("dirstore: invalid bucket name %q or format %q", bucket, format)
	}
	return s.writeRecord("config", bucket, append([]byte(storedFormat(format)+"\n"), doc...))
}

// writeRecord replaces dir/name with data, durably: a temporary file,
// synced, renamed over the name, and the directory synced.
func (s *Store) writeRecord(dir, name string, data []byte) error {
	if !s.durable[dir].Load() {
		// Made by this call or by an earlier one that may have crashed
		// or failed before syncing: sync the root either way, once.
		if err := s.root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := s.syncDir("."); err != nil {
			return err
		}
		s.durable[dir].Store(true)
	}
	tmp := tempName(dir)
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := tmpfile.Lock(f); err != nil {
		f.Close()
		_ = s.root.Remove(tmp)
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		// Renamed while open, so while locked: a sweep never takes it.
		err = s.root.Rename(tmp, path.Join(dir, name))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = s.root.Remove(tmp)
		return err
	}
	return s.syncDir(dir)
}

// DeleteConfig removes a bucket's configuration, durably.
func (s *Store) DeleteConfig(_ context.Context, bucket string) error {
	if !mirror.ValidBucket(bucket) {
		return nil
	}
	err := s.root.Remove(path.Join("config", bucket))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.syncDir("config")
}

// tempName is a new temporary file's name in dir: ".tmp-" and 16 random
// hex digits, a name no object or configuration file can have.
func tempName(dir string) string {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return path.Join(dir, ".tmp-"+hex.EncodeToString(rnd[:]))
}

// The read policies of the buckets, for bucketconfig.Registry: one file per
// bucket, acl/BUCKET, holding the policy's name and a newline, beside (not
// in) the configuration, so that putting or deleting a configuration
// never changes it. Written like a configuration.

// GetPolicy returns a bucket's read policy, or an error wrapping
// fs.ErrNotExist.
func (s *Store) GetPolicy(_ context.Context, bucket string) (bucketconfig.Policy, error) {
	if !mirror.ValidBucket(bucket) {
		return "", fmt.Errorf("dirstore: invalid bucket name %q: %w", bucket, fs.ErrNotExist)
	}
	data, err := s.root.ReadFile(path.Join("acl", bucket))
	if err != nil {
		return "", err
	}
	return bucketconfig.Policy(strings.TrimSuffix(string(data), "\n")), nil
}

// PutPolicy replaces a bucket's read policy, durably.
func (s *Store) PutPolicy(_ context.Context, bucket string, p bucketconfig.Policy) error {
	if !mirror.ValidBucket(bucket) || strings.Contains(string(p), "\n") {
		return fmt.Errorf("dirstore: invalid bucket name %q or policy %q", bucket, p)
	}
	return s.writeRecord("acl", bucket, []byte(string(p)+"\n"))
}

// storedFormat is how a format is written: FormatAuto as nothing, as a
// document stored without a format always was.
func storedFormat(f mirror.Format) string {
	if f == mirror.FormatAuto {
		return ""
	}
	return string(f)
}

func (s *Store) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Ping reports whether the store's directory is still there: mirror
// serve's readiness probe asks. A removed directory is still open here,
// and still answers a stat, but holds nothing anyone else sees.
func (s *Store) Ping(context.Context) error {
	fi, err := s.root.Stat(".")
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink == 0 {
		return errors.New("dirstore: the store's directory was removed")
	}
	return nil
}
