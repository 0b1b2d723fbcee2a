package httpapi

import (
	"crypto/rand"
	"encoding/hex"
)

// NewRequestID returns 16 random hex digits, the id every answer of every
// API carries (docs/SERVING.md §1): enough to find one request in the
// logs, short enough to read out.
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
