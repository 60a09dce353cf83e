package devicepush

import (
	"time"

	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/pkg/backoff"
	"github.com/houseview/gateway/pkg/mobilepush"
)

// RetryDelay returns the asynq RetryDelayFunc of device tasks (and grace
// tasks): before retry n (0 first) base doubled n times, at most
// maxBackoff (MaxBackoff when 0), plus up to 10% random. A provider's
// longer Retry-After wins, up to maxBackoff, and is kept to: asynq keeps
// whole seconds, so the delay is rounded up (a retry never runs early).
func RetryDelay(base, maxBackoff time.Duration) asynq.RetryDelayFunc {
	base = app.OrDefault(base, DefaultBackoff)
	maxBackoff = app.OrDefault(maxBackoff, MaxBackoff)
	return func(n int, err error, _ *asynq.Task) time.Duration {
		d := backoff.Spread(backoff.Delay(base, maxBackoff, n), 0.1)
		if ra, ok := mobilepush.RetryAfter(err); ok {
			ra = min(ra, maxBackoff)
			// asynq stores now+d in whole seconds, truncated: rounded up to
			// a second and one more, the retry cannot run before it.
			if ra = (ra + time.Second - 1).Truncate(time.Second) + time.Second; ra > d {
				d = ra
			}
		}
		return d
	}
}
