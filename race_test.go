//go:build race

package mirror

// raceEnabled: the race detector makes sync.Pool drop items on purpose,
// so code that pools (gobwas/glob's match state) allocates under it.
const raceEnabled = true
