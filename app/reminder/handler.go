package reminder

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
)

// Sender sends the reminder named key of a reservation to both parties if
// it is confirmed, and reports whether it did: false means the reservation
// was cancelled or rejected. A reservation that is still pending (its
// confirm has not committed yet) is an error of code
// app.EFailedPrecondition, an unknown one of code app.ENotFound. Sending the
// same key twice must not remind anyone twice.
type Sender interface {
	SendReminder(ctx context.Context, reservationID int64, key string) (bool, error)
}

// ErrNotConfirmedYet is the error (wrapped) of a task that ran while its
// reservation was still pending: the confirm that scheduled it had not
// committed. The worker retries such a task within seconds.
var ErrNotConfirmedYet = errors.New("reservation not confirmed yet")

// Handler processes reminder tasks.
type Handler struct {
	sender  Sender
	log     *slog.Logger
	metrics Metrics
	clock   Clock         // the cluster's reference clock (nil: none)
	maxWait time.Duration // the longest wait for a task that came early
}

// Clock reads the time that every node agrees on, e.g. RedisClock.
type Clock func(ctx context.Context) (time.Time, error)

// RedisClock is the clock of the Redis server of rdb (TIME): asynq's due
// times are compared with each forwarding node's own clock, so a node
// whose clock runs ahead moves tasks early; Redis is the one clock the
// nodes share.
func RedisClock(rdb goredis.UniversalClient) Clock {
	return func(ctx context.Context) (time.Time, error) { return rdb.Time(ctx).Result() }
}

// DefaultMaxEarlyWait is the longest a task that came early waits, when
// WithClock's maxWait is 0: beyond it the clocks are off by more than NTP
// ever leaves them, and holding a worker slot that long would delay the
// other reminders more than sending this one early.
const DefaultMaxEarlyWait = 10 * time.Second

// WithClock makes h send each reminder no earlier than its time by clock:
// a task handed over early (its forwarding node's clock runs ahead of the
// others') waits, up to maxWait, holding its worker slot. It returns h.
func (h *Handler) WithClock(clock Clock, maxWait time.Duration) *Handler {
	maxWait = app.OrDefault(maxWait, DefaultMaxEarlyWait)
	h.clock, h.maxWait = clock, maxWait
	return h
}

// waitForTime waits until the reminder's time by the reference clock when
// the task came early (not at all without a clock, a time, or when the
// clock fails: the reminder is not held back by Redis trouble).
func (h *Handler) waitForTime(ctx context.Context, p Payload) error {
	if h.clock == nil || p.RemindAtMS <= 0 {
		return nil
	}
	now, err := h.clock(ctx)
	if err != nil {
		h.log.Warn("reminder: reading the reference clock failed; sending now", "key", p.Key(), "err", err)
		return nil
	}
	early := time.UnixMilli(p.RemindAtMS).Sub(now)
	switch {
	case early <= 0:
		return nil
	case early > h.maxWait:
		h.log.Warn("reminder came too early to wait (clock skew?); sending now", "key", p.Key(), "early", early)
		return nil
	}
	t := time.NewTimer(early)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// NewHandler returns the task handler. metrics may be nil.
func NewHandler(sender Sender, metrics Metrics, log *slog.Logger) *Handler {
	log = cmp.Or(log, slog.New(slog.DiscardHandler))
	return &Handler{sender: sender, metrics: metrics, log: log}
}

var _ asynq.Handler = (*Handler)(nil)

// ProcessTask sends one reminder, no earlier than its time by the clock
// of WithClock. A malformed payload or a reservation that
// no longer exists is archived at once; a cancelled or rejected one
// completes the task without sending. A pending one fails with
// ErrNotConfirmedYet, retried soon; other failures are retried with the
// worker's backoff. Either way, after MaxRetry the task is archived
// (visible in the UI).
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p Payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ReservationID <= 0 {
		return fmt.Errorf("bad reminder payload %q: %v: %w", t.Payload(), err, asynq.SkipRetry)
	}
	if err := h.waitForTime(ctx, p); err != nil {
		return err
	}
	sent, err := h.sender.SendReminder(ctx, p.ReservationID, p.Key())
	switch app.ErrorCode(err) {
	case "":
	case app.ENotFound:
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	case app.EFailedPrecondition:
		h.log.Info("reminder waits: reservation still pending", "key", p.Key(), "reservation_id", p.ReservationID)
		return fmt.Errorf("%w: %v", ErrNotConfirmedYet, err)
	default:
		return err
	}
	if sent {
		h.log.Info("reminder sent", "key", p.Key(), "reservation_id", p.ReservationID)
		if h.metrics != nil {
			h.metrics.ReminderFired()
		}
	} else {
		h.log.Info("reminder skipped: reservation cancelled or rejected", "key", p.Key(), "reservation_id", p.ReservationID)
		if h.metrics != nil {
			h.metrics.ReminderSkipped()
		}
	}
	return nil
}
