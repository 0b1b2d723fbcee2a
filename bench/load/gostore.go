package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// gostore is the smallest honest Go equivalent of nginx proxy_store, the
// floor of a Go implementation on this machine: a stored file is served
// with http.ServeContent (sendfile); a miss is fetched from the origin,
// streamed to the client while written to a temporary file beside its
// place, and renamed into place once whole. No fsync (as proxy_store), no
// checksum, no metadata, no coalescing of concurrent misses.
func gostore(args []string) error {
	fs := flag.NewFlagSet("gostore", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	root := fs.String("root", "", "directory the fetched files are stored under")
	origin := fs.String("origin", "", "origin URL the paths are appended to")
	fs.Parse(args)
	if *root == "" || *origin == "" {
		return fmt.Errorf("-root and -origin are required")
	}
	g := &goStore{root: *root, origin: strings.TrimSuffix(*origin, "/"), client: &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConns: 256, MaxIdleConnsPerHost: 256},
	}}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "listening on http://%s\n", ln.Addr())
	return http.Serve(ln, g)
}

type goStore struct {
	root, origin string
	client       *http.Client
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (g *goStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if slices.Contains(strings.Split(p, "/"), "..") {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	file := filepath.Join(g.root, filepath.FromSlash(p))
	if f, err := os.Open(file); err == nil {
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			w.Header().Set("Content-Type", "application/octet-stream")
			http.ServeContent(w, r, "", st.ModTime(), f)
			return
		}
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, g.origin+p, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	resp, err := g.client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for _, k := range []string{"Content-Type", "Content-Length", "Last-Modified", "ETag", "Location"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	if resp.StatusCode != http.StatusOK || r.Method != http.MethodGet || p == "/" {
		w.WriteHeader(resp.StatusCode) // passed on, not stored
		io.CopyBuffer(w, resp.Body, *buf)
		return
	}
	var tmp *os.File
	if err = os.MkdirAll(filepath.Dir(file), 0o755); err == nil {
		tmp, err = os.CreateTemp(filepath.Dir(file), ".gostore-*")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	n, err := io.CopyBuffer(io.MultiWriter(w, tmp), resp.Body, *buf)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	cerr := tmp.Close()
	if err == nil && cerr == nil && os.Rename(tmp.Name(), file) == nil {
		return
	}
	os.Remove(tmp.Name())
	if err != nil {
		panic(http.ErrAbortHandler) // the client sees a cut answer, not a whole one
	}
}
