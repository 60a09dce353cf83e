package reservation

import "context"

// Limits the service enforces per user through its Limiter.
const (
	LimitReserve = "reserve" // reservations created by a tenant
	LimitRemind  = "remind"  // reminders sent on a party's request (they fill the other party's history)
)

// Limiter bounds how often one user may do something, over every node.
type Limiter interface {
	// AllowUser takes one event of limit for user: nil, or an error
	// answered as resource_exhausted (an *app.LimitError with the wait).
	AllowUser(ctx context.Context, limit string, user int64) error
}

// allow takes one event of limit for user from the Limiter, if any.
func (s *Service) allow(ctx context.Context, limit string, user int64) error {
	if s.limiter == nil {
		return nil
	}
	return s.limiter.AllowUser(ctx, limit, user)
}
