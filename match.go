package mirror

import "strings"

// matcher decides a resource the trie alone can not: several "*", or
// glob syntax (*glob.Pattern satisfies it).
type matcher interface {
	Match(key string) bool
}

// Match returns the index of the first rule, in rule order, that covers
// key, and ok false when none does. It walks the key once: the cost
// depends on the key's length, not on the number of rules, and it
// allocates nothing. Match does not judge the key; Resolve does.
func (e *Engine) Match(key string) (rule int, ok bool) {
	r := e.index.lookup(key)
	if r == noRule {
		return -1, false
	}
	return int(r), true
}

// wildcard matches a resource with several "*", each covering any run of
// bytes. Each literal part is taken at its first occurrence, left to
// right: for "*"-only patterns that is exact, and linear in the key.
type wildcard struct {
	first, last string   // text before the first and after the last "*"
	middle      []string // the literal parts between
	minLen      int
}

func newWildcard(resource string) *wildcard {
	parts := strings.Split(resource, "*")
	w := &wildcard{first: parts[0], last: parts[len(parts)-1], minLen: len(resource) - strings.Count(resource, "*")}
	for _, p := range parts[1 : len(parts)-1] {
		if p != "" {
			w.middle = append(w.middle, p)
		}
	}
	return w
}

func (w *wildcard) Match(key string) bool {
	if len(key) < w.minLen || !strings.HasPrefix(key, w.first) || !strings.HasSuffix(key, w.last) {
		return false
	}
	rest := key[len(w.first) : len(key)-len(w.last)]
	for _, m := range w.middle {
		i := strings.Index(rest, m)
		if i < 0 {
			return false
		}
		rest = rest[i+len(m):]
	}
	return true
}
