package pull

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"

	"github.com/mirrorkit/mirror"
)

// originOrder is the order in which a fetch asks the decision's origins
// (docs/SERVING.md §3.3): the primaries as the rule's pick says (in
// order, shuffled, or drawn by weight without replacement), then the
// backups in order. A decision without a Policy (a rule of the BOS
// model) asks its origins in order. intn draws in [0, n).
func originOrder(d *mirror.Decision, intn func(n int) int) []int {
	order := make([]int, len(d.Origins))
	for i := range order {
		order[i] = i
	}
	p := d.Policy
	if p == nil || p.Primaries < 2 || p.Primaries > len(order) {
		return order
	}
	prim := order[:p.Primaries]
	switch p.Pick {
	case mirror.PickRandom:
		for i := len(prim) - 1; i > 0; i-- {
			j := intn(i + 1)
			prim[i], prim[j] = prim[j], prim[i]
		}
	case mirror.PickWeighted:
		if len(p.Weights) != len(prim) {
			return order
		}
		w := append([]int(nil), p.Weights...)
		for k := range prim {
			total := 0
			for _, x := range w[k:] {
				total += x
			}
			if total <= 0 {
				break // the rest weigh nothing: they keep their order
			}
			r := intn(total)
			j := k
			for ; r >= w[j]; j++ {
				r -= w[j]
			}
			prim[k], prim[j] = prim[j], prim[k]
			w[k], w[j] = w[j], w[k]
		}
	}
	return order
}

// pickRand is the Fetcher's draw: math/rand/v2's, safe for concurrent use.
func pickRand(n int) int { return rand.IntN(n) }

// defaultFailover says whether an origin's status sends a fetch to the
// next origin when the rule lists none: 429, 500, 502, 503 and 504.
func defaultFailover(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// failsOver says whether an origin's status sends a fetch to the next
// origin: the statuses of the rule's failoverOn (codes, "4xx", "5xx"),
// or the default set when it lists no status. A 200 never does. Errors
// before a status (dial, TLS, the guard, timeouts) always do: no rule
// can make a dead origin the answer ("timeout" and "connection" in a
// list say so, and change nothing).
func failsOver(p *mirror.Policy, status int) bool {
	if p == nil {
		return defaultFailover(status)
	}
	listed := false
	for _, f := range p.FailoverOn {
		switch f {
		case "timeout", "connection":
			continue
		case "4xx":
			if status >= 400 && status < 500 {
				return true
			}
		case "5xx":
			if status >= 500 && status < 600 {
				return true
			}
		default:
			if f == strconv.Itoa(status) {
				return true
			}
		}
		listed = true
	}
	return !listed && defaultFailover(status)
}

// listsCode says whether the rule names status by its code in failoverOn
// or passStatus (a class such as "5xx" does not count): such a status is
// an answer the rule expects, never a failure of the origin's health
// (docs/SERVING.md §3.3.1).
func listsCode(p *mirror.Policy, status int) bool {
	if p == nil {
		return false
	}
	code := strconv.Itoa(status)
	return slices.Contains(p.FailoverOn, code) || slices.Contains(p.PassStatus, code)
}
