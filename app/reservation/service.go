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
	store            Store
	pub              Publisher
	loc              *time.Location // the zone of reserve_time
	now              func() time.Time
	maxAhead         time.Duration // how far ahead a viewing may be booked
	cancelGrace      time.Duration // the landlord may cancel this long after the time
	popularityWindow time.Duration // reservations counted for popularity
	log              *slog.Logger
	reminders        Reminders // nil: none
	metrics          Metrics   // nil: none
	cleaner          *Cleaner  // nil: published rows are deleted at once
	limiter          Limiter   // nil: none
}

var _ app.ReservationService = (*Service)(nil)

// New returns the service over store and pub.
func New(store Store, pub Publisher, opts Options) *Service {
	s := &Service{store: store, pub: pub, loc: opts.Location, now: opts.Now,
		maxAhead: opts.MaxAhead, cancelGrace: max(opts.CancelGrace, 0), popularityWindow: opts.PopularityWindow, log: requestid.Logger(opts.Logger),
		reminders: opts.Reminders, metrics: opts.Metrics, cleaner: opts.Cleaner, limiter: opts.Limiter}
	if s.loc == nil {
		s.loc = DefaultLocation()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.maxAhead = app.OrDefault(s.maxAhead, 90*24*time.Hour)
	s.popularityWindow = app.OrDefault(s.popularityWindow, 30*24*time.Hour)
	s.log = cmp.Or(s.log, slog.New(slog.DiscardHandler))
	return s
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
	if s.metrics != nil {
		s.metrics.ReservationTransition(to)
	}
}

// Location is the zone reserve_time is read and written in.
func (s *Service) Location() *time.Location { return s.loc }

// inZone converts r's times into the service's zone.
func (s *Service) inZone(r *app.Reservation) *app.Reservation {
	r.ReserveTime = r.ReserveTime.In(s.loc)
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
	if s.limiter == nil {
		return nil
	}
	return s.limiter.AllowUser(ctx, limit, user)
}
