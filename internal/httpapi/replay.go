package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// A captured write could be sent again while its signature is good:
// QingStor's signature can not cover a body, so a captured PUT would
// install any body; and any API's write replayed after a newer one would
// undo it (a PUT ?acl public-read replayed after the owner made the bucket
// private again reopens it). So a write's signature is remembered with
// what it wrote, and a second write carrying it is refused when it would
// write something else, and answered as done, without writing again, when
// it is the same (docs/SERVING.md §4.3). The memory is per gateway. A
// purge whose body only a CRC binds to its signature is held to it too
// (docs/SERVING.md §2.2).

// seenFor is how long a write's signature is remembered: as long as any
// header signature the APIs take stays good (a BCE timestamp up to
// MaxClockSkew ahead, then its EXPIRE of up to an hour, judged with
// MaxClockSkew again).
const seenFor = 2*MaxClockSkew + time.Hour

// maxSeenWrites bounds the remembered signatures: each costs about 150
// bytes, and only a holder of a key can add one.
const maxSeenWrites = 1 << 16

// SeenWrites remembers the signatures of the writes taken in the window
// in which they could be replayed. The zero value is ready.
type SeenWrites struct {
	mu   sync.Mutex
	seen map[string]seenWrite
}

type seenWrite struct {
	what  [sha256.Size]byte // method and body
	until time.Time
}

// Replay says what to do with a write signed sig: done when the same
// write was taken before, a refusal, or neither: then it is remembered,
// and Forget must be called if it fails.
func (s *SeenWrites) Replay(sig, method string, body []byte, now time.Time) (done bool, e *Error) {
	h := sha256.New()
	h.Write([]byte(method + "\n"))
	h.Write(body)
	var what [sha256.Size]byte
	h.Sum(what[:0])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]seenWrite{}
	}
	if w, found := s.seen[sig]; found && now.Before(w.until) {
		if w.what == what {
			return true, nil
		}
		return false, Fail(AccessDenied, "this signature was already used for another write; sign each write afresh")
	}
	if len(s.seen) >= maxSeenWrites {
		for k, w := range s.seen {
			if !now.Before(w.until) {
				delete(s.seen, k)
			}
		}
		if len(s.seen) >= maxSeenWrites {
			return false, Fail(SlowDown, "too many signed writes in the last 90 minutes; try again later")
		}
	}
	s.seen[sig] = seenWrite{what, now.Add(seenFor)}
	return false, nil
}

// Forget drops a signature whose write failed, so that the same write may
// be sent again.
func (s *SeenWrites) Forget(sig string) {
	s.mu.Lock()
	delete(s.seen, sig)
	s.mu.Unlock()
}

// ReplayKey is what a write signed in its Authorization header is
// remembered by: the signature value itself (docs/SERVING.md §4.3), so
// that a captured header spelled another way (its fields reordered or
// re-spaced, OBS's "OBS AK:SIG" given as "AWS AK:SIG", hex in another
// case) is the same write (found in review: the raw header text let one
// capture become many). The value is "Signature=" (SigV4, TOS, OSS V4),
// "q-signature=" (COS), the last "/" segment (BCE) or the text after the
// last ":" (OSS V1, OBS, QingStor), decoded from hex or base64 when it is
// either: a verifier that took the request compared exactly that value.
func ReplayKey(auth string) string {
	var v string
	switch {
	case strings.Contains(auth, "Signature="):
		_, v, _ = strings.Cut(auth[strings.LastIndex(auth, "Signature="):], "=")
		v, _, _ = strings.Cut(v, ",")
	case strings.Contains(auth, "q-signature="):
		_, v, _ = strings.Cut(auth[strings.LastIndex(auth, "q-signature="):], "=")
		v, _, _ = strings.Cut(v, "&")
	case strings.HasPrefix(strings.ToLower(auth), "bce-auth-v1/"):
		v = auth[strings.LastIndexByte(auth, '/')+1:]
	case strings.Contains(auth, ":"):
		v = auth[strings.LastIndexByte(auth, ':')+1:]
	default:
		return "raw:" + auth
	}
	v = strings.TrimSpace(v)
	if b, err := hex.DecodeString(v); err == nil && len(b) > 0 {
		return "sig:" + hex.EncodeToString(b)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) > 0 {
			return "sig:" + hex.EncodeToString(b)
		}
	}
	return "raw:" + v
}
