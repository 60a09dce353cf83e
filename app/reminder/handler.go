package reminder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

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
}

// NewHandler returns the task handler. metrics may be nil.
func NewHandler(sender Sender, metrics Metrics, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{sender: sender, metrics: metrics, log: log}
}

var _ asynq.Handler = (*Handler)(nil)

// ProcessTask sends one reminder. A malformed payload or a reservation that
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
