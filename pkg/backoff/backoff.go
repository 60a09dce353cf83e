// Package backoff computes the pauses between retries: doubling from a
// base up to a ceiling, with optional random spread. The gateway's
// server-side retries (a session's catch-up reads, webhook deliveries, the
// cluster slot map) use it; clients follow the protocol's own rule
// (pkg/protocol.Backoff), which the server advises.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Delay returns base doubled attempt times (attempt 0: base), at most
// ceiling.
func Delay(base, ceiling time.Duration, attempt int) time.Duration {
	if attempt < 0 {
		attempt = 0
	}
	if attempt >= 62 || base<<attempt <= 0 || base<<attempt > ceiling {
		return ceiling
	}
	return base << attempt
}

// Spread adds up to fraction of d at random, so that retries that failed
// together do not come back together.
func Spread(d time.Duration, fraction float64) time.Duration {
	if d <= 0 || fraction <= 0 {
		return d
	}
	return d + rand.N(time.Duration(float64(d)*fraction)+1)
}
