package reminder

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
)

// Sender sends the reminder named key of a reservation to both parties if
// it is still confirmed, and reports whether it did. Sending the same key
// twice must not remind anyone twice.
type Sender interface {
	SendReminder(ctx context.Context, reservationID int64, key string) (bool, error)
}

// Handler processes reminder tasks.
type Handler struct {
	sender Sender
	log    *slog.Logger
	stats  Stats
}

// Stats counts what the handler did.
type Stats interface {
	ReminderFired()
	ReminderSkipped()
}

// NewHandler returns the task handler. stats may be nil.
func NewHandler(sender Sender, stats Stats, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{sender: sender, stats: stats, log: log}
}

var _ asynq.Handler = (*Handler)(nil)

// ProcessTask sends one reminder. A malformed payload or a reservation that
// no longer exists is archived at once; other failures are retried with
// asynq's backoff and, after MaxRetry, archived (visible in the UI).
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p Payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ReservationID <= 0 {
		return fmt.Errorf("bad reminder payload %q: %v: %w", t.Payload(), err, asynq.SkipRetry)
	}
	sent, err := h.sender.SendReminder(ctx, p.ReservationID, p.Key())
	if app.ErrorCode(err) == app.ENotFound {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	if sent {
		h.log.Info("reminder sent", "key", p.Key(), "reservation_id", p.ReservationID)
		if h.stats != nil {
			h.stats.ReminderFired()
		}
	} else {
		h.log.Info("reminder skipped: reservation no longer confirmed", "key", p.Key(), "reservation_id", p.ReservationID)
		if h.stats != nil {
			h.stats.ReminderSkipped()
		}
	}
	return nil
}
