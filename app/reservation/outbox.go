package reservation

import (
	"context"
	"log/slog"
	"time"

	"github.com/houseview/gateway/app"
)

// OutboxStore reads and clears the messages that await publishing.
type OutboxStore interface {
	PendingMessages(ctx context.Context, before time.Time, limit int) ([]app.Message, error)
	DeleteMessages(ctx context.Context, ids []string) error
}

// deliverTimeout bounds one delivery attempt after the request is done.
const deliverTimeout = 5 * time.Second

// deliver publishes msgs in order and deletes the published ones from the
// outbox. It returns how many were published.
func deliver(ctx context.Context, out OutboxStore, pub Publisher, msgs []app.Message, log *slog.Logger) int {
	if len(msgs) == 0 {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	done := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if _, err := pub.Publish(ctx, m); err != nil {
			log.WarnContext(ctx, "publish failed; the outbox relay will retry", "msg_id", m.ID, "user_id", m.UserID, "err", err)
			continue
		}
		done = append(done, m.ID)
	}
	if err := out.DeleteMessages(ctx, done); err != nil {
		// Harmless: a republish of a published id delivers nothing.
		log.WarnContext(ctx, "outbox cleanup failed", "err", err)
	}
	return len(done)
}

// Relay publishes what the outbox still holds: messages whose request died
// between commit and publish, or whose publish failed (Redis down). Every
// node may run one; the publisher's per-message idempotency makes their
// races harmless.
type Relay struct {
	Store     OutboxStore
	Publisher Publisher
	Interval  time.Duration // how often to look (default 1 s)
	Grace     time.Duration // leave messages this young to the request that wrote them (default 2 s)
	Batch     int           // messages per pass (default 500)
	Now       func() time.Time
	Logger    *slog.Logger
}

// Run relays until ctx is done.
func (r *Relay) Run(ctx context.Context) {
	interval := r.Interval
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := r.Flush(ctx); err != nil && ctx.Err() == nil {
				r.logger().Warn("outbox relay pass failed", "err", err)
			}
		}
	}
}

// Flush makes passes until no message older than the grace period is left
// or a pass publishes nothing, and returns how many it published.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	batch, grace, now := r.Batch, r.Grace, r.Now
	if batch <= 0 {
		batch = 500
	}
	if grace == 0 {
		grace = 2 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	total := 0
	for {
		msgs, err := r.Store.PendingMessages(ctx, now().Add(-grace), batch)
		if err != nil {
			return total, err
		}
		n := deliver(ctx, r.Store, r.Publisher, msgs, r.logger())
		total += n
		if len(msgs) < batch || n == 0 {
			return total, nil
		}
	}
}

func (r *Relay) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}
