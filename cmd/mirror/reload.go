package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/access"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/pull"
)

// files holds what serve's flags name in files and SIGHUP reads again
// (docs/SERVING.md §5): the -bucket documents, the -credentials keys,
// the -bos-origin-credentials, the -s3-origin-credentials and the TLS
// certificate. A reload reads and checks every file first and changes
// nothing unless all are good, so a half-edited file never puts half a
// state in force.
type files struct {
	registry      *bucketconfig.Registry
	buckets       []bucketFile
	credentials   string
	creds         *access.Credentials // in force; Replace swaps its keys
	bosFile       string
	bos           atomic.Pointer[map[string]*pull.BOSCredentials]
	s3File        string
	s3            atomic.Pointer[map[string]*pull.S3Credentials]
	cert, certKey string
	tlsCert       atomic.Pointer[tls.Certificate]

	mu sync.Mutex // one reload at a time
}

// bucketFile is one -bucket NAME=FILE, and the document last put from it.
type bucketFile struct {
	name, file string
	put        []byte // nil: not put yet
}

// parseBucketFlags reads the -bucket NAME=FILE flags.
func parseBucketFlags(specs []string) ([]bucketFile, error) {
	var out []bucketFile
	for _, b := range specs {
		name, file, ok := strings.Cut(b, "=")
		if !ok || !mirror.ValidBucket(name) {
			return nil, fmt.Errorf("-bucket %q: want NAME=FILE with a valid bucket name", b)
		}
		out = append(out, bucketFile{name: name, file: file})
	}
	return out, nil
}

// bosCredentials gives a gateway bucket's bos:// origin credentials.
func (f *files) bosCredentials(bucket string) *pull.BOSCredentials {
	if m := f.bos.Load(); m != nil {
		return (*m)[bucket]
	}
	return nil
}

// s3Credentials gives a gateway bucket's s3:// origin credentials.
func (f *files) s3Credentials(bucket string) *pull.S3Credentials {
	if m := f.s3.Load(); m != nil {
		return (*m)[bucket]
	}
	return nil
}

// certificate is the TLS certificate in force, for tls.Config.
func (f *files) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return f.tlsCert.Load(), nil
}

// readSecrets reads the credentials, the bos:// and s3:// credentials
// and the certificate, changing nothing.
func (f *files) readSecrets() (creds *access.Credentials, bos map[string]*pull.BOSCredentials, s3 map[string]*pull.S3Credentials, cert *tls.Certificate, err error) {
	if f.credentials != "" {
		if creds, err = access.LoadCredentials(f.credentials); err != nil {
			return nil, nil, nil, nil, fmt.Errorf("-credentials: %w", err)
		}
	}
	if err := readJSONFile(f.bosFile, &bos); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("-bos-origin-credentials: %w", err)
	}
	if err := readJSONFile(f.s3File, &s3); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("-s3-origin-credentials: %w", err)
	}
	if f.cert != "" {
		c, err := tls.LoadX509KeyPair(f.cert, f.certKey)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("-tls-cert/-tls-key: %w", err)
		}
		cert = &c
	}
	return creds, bos, s3, cert, nil
}

// readJSONFile reads the JSON file name ("": none) into v.
func readJSONFile(name string, v any) error {
	if name == "" {
		return nil
	}
	data, err := os.ReadFile(name)
	if err == nil {
		err = json.Unmarshal(data, v)
	}
	return err
}

// loadSecrets puts the files' secrets in force: at start and on reload.
func (f *files) loadSecrets() error {
	creds, bos, s3, cert, err := f.readSecrets()
	if err != nil {
		return err
	}
	f.applySecrets(creds, bos, s3, cert)
	return nil
}

func (f *files) applySecrets(creds *access.Credentials, bos map[string]*pull.BOSCredentials, s3 map[string]*pull.S3Credentials, cert *tls.Certificate) {
	if f.creds != nil {
		f.creds.Replace(creds)
	}
	f.bos.Store(&bos)
	f.s3.Store(&s3)
	f.tlsCert.Store(cert)
}

// bucketChange is a -bucket file read and found good: doc nil removes the
// bucket's configuration (an empty FILE).
type bucketChange struct {
	i   int
	doc []byte
}

// readBuckets reads every -bucket file and compiles it, changing nothing;
// it gives those whose document differs from what was last put from
// them, or every one when all is set (at start). The error names each
// file's every problem, a line each.
func (f *files) readBuckets(all bool) ([]bucketChange, error) {
	var changes []bucketChange
	var problems []string
	for i, b := range f.buckets {
		if b.file == "" {
			if all {
				changes = append(changes, bucketChange{i: i})
			}
			continue
		}
		doc, err := os.ReadFile(b.file)
		if err == nil {
			_, err = f.registry.Compiler.Load(doc, mirror.FormatAuto)
		}
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				problems = append(problems, b.file+": "+line)
			}
			continue
		}
		if all || b.put == nil || !bytes.Equal(doc, b.put) {
			changes = append(changes, bucketChange{i: i, doc: doc})
		}
	}
	if problems != nil {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return changes, nil
}

// putBuckets puts changed documents in force, as a PUT through the
// matching API would, and removes the configuration of a -bucket NAME=
// (docs/SERVING.md §5). The Registry logs each change.
func (f *files) putBuckets(ctx context.Context, changes []bucketChange) error {
	for _, c := range changes {
		b := &f.buckets[c.i]
		if c.doc == nil {
			format, _, ok, err := f.registry.Config(ctx, b.name)
			if err == nil && ok {
				_, err = f.registry.Delete(ctx, b.name, format)
			}
			if err != nil {
				return fmt.Errorf("-bucket %s=: %w", b.name, err)
			}
			continue
		}
		if err := f.registry.Put(ctx, b.name, mirror.FormatAuto, c.doc); err != nil {
			return fmt.Errorf("%s: %w", b.file, err)
		}
		b.put = c.doc
	}
	return nil
}

// reload reads every file again and puts the new state in force, or,
// when any file is bad, keeps the old one whole and says why. A bucket
// whose file did not change is left alone, so a reload never undoes a
// configuration an API put since. Requests and fetches in flight go on:
// each took the rules, keys and certificate it is served by when it
// began.
func (f *files) reload(ctx context.Context, logger *slog.Logger) {
	f.mu.Lock()
	defer f.mu.Unlock()
	creds, bos, s3, cert, err := f.readSecrets()
	var changes []bucketChange
	if err == nil {
		changes, err = f.readBuckets(false)
	}
	if err != nil {
		logger.Error("reload failed: the old configuration stays in force", "error", err.Error())
		return
	}
	f.applySecrets(creds, bos, s3, cert)
	if err := f.putBuckets(ctx, changes); err != nil {
		logger.Error("reload: a bucket's configuration could not be stored; it keeps its old one", "error", err.Error())
		return
	}
	logger.Info("reloaded", "buckets", len(changes))
}
