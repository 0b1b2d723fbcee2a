package mirror

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// FieldError is one problem found in a rule set, located by the document
// path a person would look at to fix it.
//
// Rule and Field are the same location taken apart, for programs that
// highlight the faulty field in an editor or map it back to their own
// configuration: Path is what a person reads.
type FieldError struct {
	// Path names the field in the document's own terms, for example
	// "bucketMirroringConfiguration[3].sourceUrl", "rules[0].customHeaders[1].headerValue"
	// or "source_site".
	Path string
	// Rule is the index of the rule in its list, or -1 when the problem
	// belongs to the document as a whole (a count limit, unreadable JSON).
	Rule int
	// Field is the rule field's JSON name, with a list position where it
	// has one ("passHeaders[2]", "customHeaders[0].headerName"); empty when
	// the problem is the whole rule or the rule list; "document" or
	// "format" when the document as a whole can not be read.
	Field string
	// Reason says what is wrong, in words a person can act on.
	Reason string
}

// Error gives "PATH: reason", the line a person reads.
func (e *FieldError) Error() string { return e.Path + ": " + e.Reason }

// CompileError lists the problems of a rule set in document order (the
// document's own first, then rule by rule), so that one round trip shows
// a person all there is to fix.
//
// errors.As(err, &fieldErr) takes out the first problem; Problems has the
// first MaxProblems of them, and More counts the rest.
type CompileError struct {
	Problems []*FieldError
	// More is the number of problems found after the first MaxProblems.
	More int
}

// MaxProblems is the most problems a CompileError lists: a hostile
// document with millions of problems must not cost millions of values.
const MaxProblems = 100

// Error gives one "PATH: reason" line per problem, and then, when there
// were more, one line "… and N more problems".
func (e *CompileError) Error() string {
	lines := make([]string, len(e.Problems), len(e.Problems)+1)
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	if e.More > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more problems", e.More))
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the problems to errors.Is and errors.As.
func (e *CompileError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// The request errors of [Engine.Resolve]. They are checked in the order
// ErrInvalidKey, ErrInvalidRequest (status and scheme), ErrNoRule,
// ErrUnsafeKey, ErrInvalidQuery, ErrInvalidRequest (the Host of a
// redirect to the request's host); the error
// returned wraps one of them (test with errors.Is) and says why.
var (
	// ErrNoRule means no rule covers the key: the object is simply
	// missing, not a bad request.
	ErrNoRule = errors.New("no mirror rule covers the key")
	// ErrInvalidKey means the key can not be an object key: empty, over
	// 1024 bytes, not UTF-8, or holding a C0 control byte or DEL.
	ErrInvalidKey = errors.New("invalid object key")
	// ErrUnsafeKey means the origin key would be empty or hold a segment
	// made of "." and white space ("..", "...", ".. ", or what NFKC turns
	// into them), which an origin may resolve to another path.
	ErrUnsafeKey = errors.New("unsafe origin key")
	// ErrInvalidQuery means the rule passes the query string on, and this
	// one can not be forwarded as it is.
	ErrInvalidQuery = errors.New("invalid query string")
	// ErrInvalidRequest means a field of the request beside its key can
	// not be used: a Status that is not 0 or 100 to 599, a Scheme that is
	// not http or https, or, for a redirect to the request's own host, a
	// Host that is not host[:port] (docs/SEMANTICS.md §11).
	ErrInvalidRequest = errors.New("invalid request")
)

// requestError carries the class (one of the Err* values) and the detail.
// It is built only on the error path, never for a successful decision.
type requestError struct {
	class  error
	detail string
}

func (e *requestError) Error() string { return e.class.Error() + ": " + e.detail }
func (e *requestError) Unwrap() error { return e.class }

// problems collects FieldErrors while a document is read and validated.
type problems struct {
	list []*FieldError
	more int
	at   pathNamer
}

// add records a problem with rule index i (-1: the document) and field.
func (p *problems) add(i int, field, reason string) {
	if len(p.list) == MaxProblems {
		p.more++
		return
	}
	p.list = append(p.list, &FieldError{Path: p.at.path(i, field), Rule: i, Field: field, Reason: reason})
}

func (p *problems) failed() bool { return len(p.list) > 0 }

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &CompileError{Problems: p.list, More: p.more}
}

// warnings collects Lint's findings. Unlike compile problems they are
// not capped: a linter lists everything it found.
type warnings struct {
	at   pathNamer
	list []*FieldError
}

func (w *warnings) add(i int, field, reason string) {
	w.list = append(w.list, &FieldError{Path: w.at.path(i, field), Rule: i, Field: field, Reason: reason})
}

// pathNamer turns (rule index, field) into a document path such as
// "bucketMirroringConfiguration[3].sourceUrl" (docs/SEMANTICS.md §1).
type pathNamer struct {
	list     string // "bucketMirroringConfiguration" or "rules"
	qingstor bool   // every path is "source_site"
}

func namerFor(f Format) pathNamer {
	switch f {
	case FormatBOS:
		return pathNamer{list: "bucketMirroringConfiguration"}
	case FormatQingStor:
		return pathNamer{qingstor: true}
	}
	return pathNamer{list: "rules"}
}

func (n pathNamer) path(i int, field string) string {
	switch {
	case field == "document" || field == "format":
		return field
	case n.qingstor:
		return "source_site"
	case i < 0:
		return n.list
	case field == "":
		return n.list + "[" + strconv.Itoa(i) + "]"
	}
	return n.list + "[" + strconv.Itoa(i) + "]." + field
}
