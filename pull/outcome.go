package pull

// Outcome is how a fetch ended.
type Outcome string

// The outcomes of a fetch (docs/SERVING.md §3.4).
const (
	OutcomeStored    Outcome = "stored"     // committed
	OutcomeNotFound  Outcome = "not_found"  // the origin answered 404
	OutcomeFailed    Outcome = "failed"     // every origin failed, or answered another status
	OutcomeTooLarge  Outcome = "too_large"  // over MaxObjectSize
	OutcomeCut       Outcome = "cut_short"  // the body ended early, broke off, or stalled
	OutcomeTooSlow   Outcome = "too_slow"   // the origin sent under MinRate
	OutcomeBadDigest Outcome = "bad_digest" // Content-MD5 did not match
	OutcomeStoreErr  Outcome = "store_error"
	OutcomeSlowDown  Outcome = "slow_down" // refused: MaxFetches were running
	// OutcomeNotModified ends a revalidation the origin answered 304:
	// the stored object is kept (docs/SERVING.md §3.9).
	OutcomeNotModified Outcome = "not_modified"
	// OutcomePassed is an origin's error answer that the rule's
	// fetch.passStatus hands to the client as it is (FetchError.Passed).
	OutcomePassed Outcome = "passed"
)

// FetchError is why a fetch gave no object: its Outcome, which a gateway
// turns into its answer (OutcomeNotFound is "no such key", OutcomeSlowDown
// "try again", any other a failed mirror), and a message for people.
type FetchError struct {
	Outcome Outcome
	Message string
	// Passed is, for OutcomePassed, the origin's answer to hand on.
	Passed *PassedAnswer
}

func (e *FetchError) Error() string { return string(e.Outcome) + ": " + e.Message }
