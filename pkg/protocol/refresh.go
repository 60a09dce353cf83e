package protocol

import "time"

// The token refresh rule, the same in every client. A session in jwt mode
// ends at its token's exp (close 4001) unless the client sends a fresh
// token of the same user in a refresh frame before then.
//
//   - Refresh once RefreshDelay has passed since the session learnt its exp
//     (from connected or refreshed): halfway through what is left, or
//     RefreshLead before exp when that is later. Never earlier.
//   - Send each token once. When the token source hands back the token the
//     session already has (a caching source), do not send it: ask again
//     after RefreshDelay from then, which halves what is left each time,
//     and give up when less than MinRefreshLeft remains (the session then
//     ends with 4001 and the client reconnects at once with a new token).
//   - A refresh that does not extend the session is answered with the
//     unchanged exp; the client follows that exp by the same rule.
const (
	// RefreshLead is how long before exp a client with a long-lived token
	// refreshes it.
	RefreshLead = 30 * time.Second
	// MinRefreshLeft: with less than this left, a client does not refresh.
	MinRefreshLeft = time.Second
)

// RefreshDelay returns how long after now a client refreshes a session
// whose token expires at exp, by the rule above with lead (RefreshLead
// when 0); ok is false when less than MinRefreshLeft is left.
func RefreshDelay(now, exp time.Time, lead time.Duration) (d time.Duration, ok bool) {
	if lead <= 0 {
		lead = RefreshLead
	}
	left := exp.Sub(now)
	if left < MinRefreshLeft {
		return 0, false
	}
	return left - min(lead, left/2), true
}
