package preferences

import (
	"context"
	"log/slog"

	"github.com/houseview/gateway/app"
)

// Inner publishes messages (redis.Publisher).
type Inner interface {
	Publish(ctx context.Context, m app.Message) (app.Position, error)
	PublishBatch(ctx context.Context, msgs []app.Message) ([]app.Position, error)
}

// Reader reads preferences through the cache (Service).
type Reader interface {
	Get(ctx context.Context, user int64) (app.Preferences, error)
	GetMany(ctx context.Context, users []int64) (map[int64]app.Preferences, error)
}

var _ Reader = (*Service)(nil)

// Publisher applies the in-app preference: a message whose user turned
// its type off in the app (app.Preferences.InApp) is not published to the
// user's stream (no seq, not stored, no live delivery) and gets the zero
// app.Position; the others go through Inner. The offline targets above
// it (webhook, device push) still schedule a muted message: the webhook
// is unaffected, and the device push applies the push preference.
//
// When the preferences cannot be read (MySQL down) the message is
// published: a preference never costs a delivery.
type Publisher struct {
	inner Inner
	prefs Reader
	log   *slog.Logger
}

// NewPublisher returns a Publisher over inner.
func NewPublisher(inner Inner, prefs Reader, log *slog.Logger) *Publisher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Publisher{inner: inner, prefs: prefs, log: log}
}

// Muted reports whether p mutes m in the app.
func Muted(p *app.Preferences, m app.Message) bool {
	t := m.Type()
	var reservation int64
	if t == app.MsgReservationReminder {
		reservation = app.ReservationOf(m.Payload)
	}
	return !p.InApp(t, reservation)
}

// Publish publishes m unless its user muted it in the app: then the zero
// Position.
func (p *Publisher) Publish(ctx context.Context, m app.Message) (app.Position, error) {
	prefs, err := p.prefs.Get(ctx, m.UserID)
	if err != nil {
		p.log.WarnContext(ctx, "reading the preferences failed; the message is delivered", "user_id", m.UserID, "err", err)
	} else if Muted(&prefs, m) {
		return app.Position{}, nil
	}
	return p.inner.Publish(ctx, m)
}

// PublishBatch publishes the messages of msgs that their users did not
// mute; a muted one gets the zero Position at its index.
func (p *Publisher) PublishBatch(ctx context.Context, msgs []app.Message) ([]app.Position, error) {
	users := make([]int64, len(msgs))
	for i, m := range msgs {
		users[i] = m.UserID
	}
	prefs, err := p.prefs.GetMany(ctx, users)
	if err != nil {
		p.log.WarnContext(ctx, "reading the preferences failed; the messages are delivered", "messages", len(msgs), "err", err)
		return p.inner.PublishBatch(ctx, msgs)
	}
	kept := make([]app.Message, 0, len(msgs))
	at := make([]int, 0, len(msgs))
	for i, m := range msgs {
		if pr, ok := prefs[m.UserID]; ok && Muted(&pr, m) {
			continue
		}
		kept = append(kept, m)
		at = append(at, i)
	}
	if len(kept) == len(msgs) {
		return p.inner.PublishBatch(ctx, msgs)
	}
	out := make([]app.Position, len(msgs))
	if len(kept) == 0 {
		return out, nil
	}
	positions, err := p.inner.PublishBatch(ctx, kept)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		if j < len(positions) {
			out[i] = positions[j]
		}
	}
	return out, nil
}
