package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// readWarmKeys reads the keys of a warm: keysFile's, one a line, then
// the keys of bucket in logFile's lines, each key once, in the order
// first seen. "-" reads standard input.
func readWarmKeys(stdin io.Reader, keysFile, logFile, bucket string) ([]string, error) {
	var keys []string
	seen := map[string]bool{}
	add := func(k string) {
		if k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	each := func(name string, do func(line string)) error {
		var r io.Reader = stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			defer f.Close()
			r = f
		}
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				do(strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"))
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	if keysFile != "" {
		// A key is the whole line: it may hold spaces, and start with
		// anything.
		if err := each(keysFile, add); err != nil {
			return nil, fmt.Errorf("-keys: %w", err)
		}
	}
	if logFile != "" {
		err := each(logFile, func(line string) {
			if b, k, ok := logLineKey(line); ok && b == bucket {
				add(k)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("-from-log: %w", err)
		}
	}
	return keys, nil
}

// logLineKey reads the bucket and key attributes of one of the gateway's
// log lines (log/slog's JSON or text: a fetch line, an object request's
// warning, an access log line); ok is false for a line without both.
func logLineKey(line string) (bucket, key string, ok bool) {
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "{") {
		// Exact member names: encoding/json would match "Key" or "KEY"
		// to a struct field as well.
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(line), &m) != nil {
			return "", "", false
		}
		if json.Unmarshal(m["bucket"], &bucket) != nil || json.Unmarshal(m["key"], &key) != nil {
			return "", "", false
		}
		return bucket, key, true
	}
	attrs := textAttrs(line)
	bucket, okBucket := attrs["bucket"]
	key, okKey := attrs["key"]
	return bucket, key, okBucket && okKey
}

// textAttrs reads the NAME=VALUE attributes of a log/slog text line, the
// first value of each name: a name or value that needs it is quoted as
// strconv.Quote quotes (slog.TextHandler's quoting), any other ends at a
// space. What is no attribute is skipped.
func textAttrs(line string) map[string]string {
	attrs := map[string]string{}
	// word reads a quoted string or a run up to one of stops.
	word := func(s, stops string) (w, rest string, ok bool) {
		if strings.HasPrefix(s, `"`) {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return "", "", false
			}
			w, _ = strconv.Unquote(q)
			return w, s[len(q):], true
		}
		i := strings.IndexAny(s, stops)
		if i < 0 {
			i = len(s)
		}
		return s[:i], s[i:], true
	}
	for s := line; ; {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return attrs
		}
		name, rest, ok := word(s, "= ")
		if !ok {
			return attrs
		}
		if !strings.HasPrefix(rest, "=") {
			s = rest // a word that is no attribute (it was not empty)
			continue
		}
		value, rest, ok := word(rest[1:], " ")
		if !ok {
			return attrs
		}
		if _, seen := attrs[name]; !seen {
			attrs[name] = value
		}
		s = rest
	}
}

// stateHeader starts a state file's first line; the bucket follows,
// quoted.
const stateHeader = "# mirror warm state, bucket "

// warmState is the resume file of a warm: a header naming the bucket,
// then a line per key done for good, "WORD QUOTED-KEY" (WORD one of
// stateWords'), appended as each ends and synced every second and at the
// end (docs/SERVING.md §6).
type warmState struct {
	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	dirty  bool
	err    error // the first write or sync error
	stop   chan struct{}
	synced chan struct{}
	closed bool
}

// openWarmState reads the keys a state file holds for bucket and opens
// it to append more. A file of another bucket, or not a state file, is
// refused; a line cut short by a crash is skipped.
func openWarmState(path, bucket string) (*warmState, map[string]bool, error) {
	header := stateHeader + strconv.Quote(bucket)
	done := map[string]bool{}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	if len(data) > 0 {
		first, rest, _ := strings.Cut(string(data), "\n")
		if first != header {
			if other, ok := strings.CutPrefix(first, stateHeader); ok {
				return nil, nil, fmt.Errorf("%s is the state of a warm of bucket %s, not %q", path, other, bucket)
			}
			return nil, nil, fmt.Errorf("%s is not a mirror warm state file (its first line is not %q)", path, header)
		}
		known := map[string]bool{}
		for _, w := range stateWords {
			known[w] = true
		}
		for _, line := range strings.Split(rest, "\n") {
			word, quoted, ok := strings.Cut(line, " ")
			if !ok || !known[word] {
				continue
			}
			if key, err := strconv.Unquote(quoted); err == nil {
				done[key] = true
			}
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	s := &warmState{f: f, w: bufio.NewWriter(f), stop: make(chan struct{}), synced: make(chan struct{})}
	switch {
	case len(data) == 0:
		_, _ = s.w.WriteString(header + "\n")
	case data[len(data)-1] != '\n':
		_ = s.w.WriteByte('\n') // after the line a crash cut short
	}
	err = s.w.Flush()
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	go s.syncEvery(time.Second)
	return s, done, nil
}

// add appends one key done for good.
func (s *warmState) add(word, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.WriteString(word + " " + strconv.Quote(key) + "\n"); err != nil && s.err == nil {
		s.err = err
	}
	s.dirty = true
	return s.err
}

// syncEvery writes and syncs what was added, every d: a crash loses at
// most d of it, and a key lost so is judged again by the next run (a
// pulled one is then found stored).
func (s *warmState) syncEvery(d time.Duration) {
	defer close(s.synced)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			s.flushLocked()
			s.mu.Unlock()
		}
	}
}

func (s *warmState) flushLocked() {
	if !s.dirty {
		return
	}
	s.dirty = false
	err := s.w.Flush()
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil && s.err == nil {
		s.err = err
	}
}

// close writes and syncs what is left and closes the file; it returns
// the first error of the state's life. A nil state, or a closed one, is
// fine.
func (s *warmState) close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.err
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.synced
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
	if err := s.f.Close(); err != nil && s.err == nil {
		s.err = err
	}
	return s.err
}
