package mirror

import "net/http"

// FiresOnHits reports whether a rule of the engine can decide for a key
// the storage found: one whose "on" takes Request.Status 200 ("always",
// or 200 in its list; docs/SEMANTICS.md §11.1). A serving layer asks the
// engine about a hit only then (docs/SERVING.md §1): an engine without
// such a rule answers every hit ErrNoRule, so asking would only cost a
// lookup. It is worked out once, when the engine is compiled.
func (e *Engine) FiresOnHits() bool { return e.hits }

// firesOnHits reports whether a rule's trigger takes a hit.
func firesOnHits(rules []compiledRule) bool {
	var seen *condition // rules share their conditions: judge each once in a row
	for i := range rules {
		c := rules[i].cond
		if c == nil || c == seen {
			continue
		}
		seen = c
		if c.on.answers(http.StatusOK) {
			return true
		}
	}
	return false
}
