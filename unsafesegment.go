package mirror

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The unsafe-segment rule of docs/SEMANTICS.md §4: a path segment that
// some origin may resolve as "." or "..". Segments are split on "/" and
// "\" (Windows-backed origins split on both), and a segment is unsafe when
// it is not empty, holds at least one "." and nothing but "." and white
// space. Origins and proxies that trim trailing dots and spaces ("..  ")
// or apply NFKC ("．．", "‥") turn such segments into dot segments, so the
// rule is applied to the NFKC form of the text; the URL still carries the
// text's own bytes.

// segClass sorts ASCII bytes for the segment scan.
var segClass = func() (t [128]uint8) {
	for c := range t {
		switch {
		case c == '/' || c == '\\':
			t[c] = segSep
		case c == '.':
			t[c] = segDot
		case c == ' ' || c >= '\t' && c <= '\r':
			t[c] = segSpace
		default:
			t[c] = segOther
		}
	}
	return t
}()

const (
	segOther = iota
	segSep
	segDot
	segSpace
)

// segScan follows one segment at a time.
type segScan struct {
	dot, other bool
}

// sep ends a segment and reports whether it was unsafe.
func (s *segScan) sep() bool {
	bad := s.dot && !s.other
	*s = segScan{}
	return bad
}

// rune feeds one rune of the normal form; it reports a segment that ended
// unsafe.
func (s *segScan) rune(r rune) bool {
	if r < utf8.RuneSelf {
		switch segClass[r] {
		case segSep:
			return s.sep()
		case segDot:
			s.dot = true
		case segOther:
			s.other = true
		}
		return false
	}
	if !unicode.Is(unicode.White_Space, r) {
		s.other = true
	}
	return false
}

// unsafeSegment reports whether parts, read as one string, have an
// unsafe segment. Each character is replaced by its NFKC (compatibility)
// decomposition, character by character: for this rule that is the same
// as normalising the whole text, because composition never yields a
// ".", a separator or white space, and reordering moves only combining
// marks (docs/SEMANTICS.md §4). So it allocates nothing.
func unsafeSegment(parts ...string) bool {
	if plainDots(parts) {
		return false
	}
	var s segScan
	for _, p := range parts {
		for i := 0; i < len(p); {
			if c := p[i]; c < utf8.RuneSelf {
				if s.rune(rune(c)) {
					return true
				}
				i++
				continue
			}
			props := norm.NFKC.PropertiesString(p[i:])
			size := max(props.Size(), 1)
			d := props.Decomposition()
			if d == nil {
				r, _ := utf8.DecodeRuneInString(p[i : i+size])
				if s.rune(r) {
					return true
				}
			}
			for len(d) > 0 {
				r, w := utf8.DecodeRune(d)
				if s.rune(r) {
					return true
				}
				d = d[w:]
			}
			i += size
		}
	}
	return s.sep()
}

// plainDots is the common case, answered in one light pass: ASCII text
// in which every "." has an ordinary character beside it in the same
// part ("cat.jpg"), so that no segment is made of dots and spaces alone.
func plainDots(parts []string) bool {
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			switch c := p[i]; {
			case c >= utf8.RuneSelf:
				return false
			case c == '.':
				if !(i > 0 && segClass[p[i-1]] == segOther) && !(i+1 < len(p) && p[i+1] < utf8.RuneSelf && segClass[p[i+1]] == segOther) {
					return false
				}
			}
		}
	}
	return true
}
