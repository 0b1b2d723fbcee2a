package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
)

// accessLogOff is -access-log's value that turns the access log off.
const accessLogOff = "off"

// accessLog is -access-log FILE: appended to, and reopened on SIGHUP so
// that logrotate can move it away (docs/SERVING.md §5), as nginx reopens
// its logs on USR1.
type accessLog struct {
	name string
	mu   sync.Mutex
	f    *os.File
}

func openAccessLog(name string) (*accessLog, error) {
	l := &accessLog{name: name}
	if err := l.reopen(); err != nil {
		return nil, err
	}
	return l, nil
}

// Write writes one line: slog hands each line over in one Write.
func (l *accessLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

// reopen opens the file by its name again, keeping the old one when
// that fails.
func (l *accessLog) reopen() error {
	f, err := os.OpenFile(l.name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("-access-log: %w", err)
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (l *accessLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// accessLogger gives the logger of -access-log: nil when it is off,
// standard error's for "-", else a file's, in -log-format's format.
func accessLogger(value string, stderr io.Writer, newHandler func(io.Writer) slog.Handler) (*slog.Logger, *accessLog, error) {
	switch value {
	case accessLogOff:
		return nil, nil, nil
	case "-", "":
		return slog.New(newHandler(stderr)), nil, nil
	}
	l, err := openAccessLog(value)
	if err != nil {
		return nil, nil, err
	}
	return slog.New(newHandler(l)), l, nil
}
