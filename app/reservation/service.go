// Package reservation is the one reservation service behind REST and gRPC:
// it validates requests, applies state transitions atomically in MySQL,
// writes each notification to the outbox in the same transaction and then
// publishes it.
package reservation

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/pkg/requestid"
)

// Store is what the service needs from the database.
type Store interface {
	House(ctx context.Context, id int64) (*app.House, error)
	Reservation(ctx context.Context, id int64) (*app.Reservation, error)
	CreateReservation(ctx context.Context, r *app.Reservation, notify func(*app.Reservation) ([]app.Message, error)) ([]app.Message, error)
	UpdateReservation(ctx context.Context, r *app.Reservation, fromVersion int64, msgs []app.Message) error
	AddMessages(ctx context.Context, msgs []app.Message, at time.Time) error
	ListReservations(ctx context.Context, f app.ReservationFilter) ([]*app.Reservation, int, error)
	RecommendHouses(ctx context.Context, f app.HouseFilter, since time.Time, excludeTenant int64) ([]*app.House, int, error)
	UserTaste(ctx context.Context, user int64) (app.Taste, error)
	PersonalRecommendHouses(ctx context.Context, user int64, t app.Taste, p app.Page, since time.Time) ([]*app.House, int, error)
	OutboxStore
}

// Publisher delivers one message to its recipient and returns its place
// in the recipient's stream. Publishing the same message id again must not
// deliver it twice.
type Publisher interface {
	Publish(ctx context.Context, m app.Message) (app.Position, error)
}

// Reminders schedules and cancels the exact-time reminders of confirmed
// viewings (asynq tasks). Schedule must be idempotent.
type Reminders interface {
	Schedule(ctx context.Context, r *app.Reservation) error
	Cancel(ctx context.Context, r *app.Reservation) error
}

// Metrics counts what the service does. It must not block.
type Metrics interface {
	// ReservationTransition counts a committed change: to is "created" for
	// a new reservation, else the new status (confirmed, rejected, cancelled).
	ReservationTransition(to string)
}

// Options tune the service. Zero values take the defaults.
type Options struct {
	Reminders Reminders        // nil: no scheduled reminders
	Location  *time.Location   // zone of reserve_time (default Asia/Shanghai)
	Now       func() time.Time // clock (default time.Now)
	MaxAhead  time.Duration    // how far ahead a viewing may be booked (default 90 days)
	// CancelGrace is how long after a viewing's time its landlord may
	// still cancel it (0: not at all). Every other transition of a
	// viewing whose time has come is refused.
	CancelGrace      time.Duration
	PopularityWindow time.Duration // reservations counted for popularity (default 30 days)
	Logger           *slog.Logger
	Metrics          Metrics  // nil: none
	Cleaner          *Cleaner // deletes published outbox rows in batches (nil: at once, in the request)
	Limiter          Limiter  // per-user rates of LimitReserve and LimitRemind; nil: none
}

// Service implements app.ReservationService.
type Service struct {
	store Store
	pub   Publisher
	opts  Options // defaults applied
}

var _ app.ReservationService = (*Service)(nil)

// New returns the service over store and pub.
func New(store Store, pub Publisher, opts Options) *Service {
	if opts.Location == nil {
		opts.Location = DefaultLocation()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.MaxAhead = app.OrDefault(opts.MaxAhead, 90*24*time.Hour)
	opts.CancelGrace = max(opts.CancelGrace, 0)
	opts.PopularityWindow = app.OrDefault(opts.PopularityWindow, 30*24*time.Hour)
	opts.Logger = cmp.Or(requestid.Logger(opts.Logger), slog.New(slog.DiscardHandler))
	return &Service{store: store, pub: pub, opts: opts}
}

// DefaultCancelGrace is the default of Options.CancelGrace in the gateway's
// configuration (reservation.cancel_grace).
const DefaultCancelGrace = 24 * time.Hour

// DefaultLocation is Asia/Shanghai (the binary embeds the zone database).
func DefaultLocation() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// counted reports a committed transition to Metrics.
func (s *Service) counted(to string) {
	if s.opts.Metrics != nil {
		s.opts.Metrics.ReservationTransition(to)
	}
}

// Location is the zone reserve_time is read and written in.
func (s *Service) Location() *time.Location { return s.opts.Location }

// inZone converts r's times into the service's zone.
func (s *Service) inZone(r *app.Reservation) *app.Reservation {
	r.ReserveTime = r.ReserveTime.In(s.opts.Location)
	return r
}

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
	if s.opts.Limiter == nil {
		return nil
	}
	return s.opts.Limiter.AllowUser(ctx, limit, user)
}
