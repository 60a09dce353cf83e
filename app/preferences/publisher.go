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
	GetMany(ctx context.Context, users []int64) ([]app.Preferences, error)
}

var _ Reader = (*Service)(nil)

// Publisher applies the in-app preference: a message whose user turned
// its type off in the app (app.Preferences.InApp) is not published to the
// user's stream (no seq, not stored, no live delivery) and gets the zero
// app.Position, unless the user keeps the type in the list
// (app.Preferences.List): then it goes through Inner with Message.Muted
// set (stored already seen and read, delivered to no session) and its
// position has Muted set. The others go through Inner. The offline targets above
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
	muted, _ := mutedList(p, m)
	return muted
}

// mutedList reports whether p mutes m in the app and, if so, whether it
// keeps it in the list.
func mutedList(p *app.Preferences, m app.Message) (muted, list bool) {
	t := m.Type()
	var reservation int64
	if t == app.MsgReservationReminder {
		reservation = app.ReservationOf(m.Payload)
	}
	if p.InApp(t, reservation) {
		return false, false
	}
	return true, p.List(t, reservation)
}

// apply returns what becomes of m under p: publish (with Muted set for
// the list only) or drop.
func apply(p *app.Preferences, m app.Message) (app.Message, bool) {
	muted, list := mutedList(p, m)
	switch {
	case !muted:
		return m, true
	case list:
		m.Muted = true
		return m, true
	}
	return m, false
}

// Publish publishes m unless its user muted it in the app: then the zero
// Position, or, when the user keeps the type in the list, the position
// of the stored copy, with Muted set.
func (p *Publisher) Publish(ctx context.Context, m app.Message) (app.Position, error) {
	prefs, err := p.prefs.Get(ctx, m.UserID)
	if err != nil {
		p.log.WarnContext(ctx, "reading the preferences failed; the message is delivered", "user_id", m.UserID, "err", err)
		return p.inner.Publish(ctx, m)
	}
	m, ok := apply(&prefs, m)
	if !ok {
		return app.Position{Muted: true}, nil
	}
	return p.inner.Publish(ctx, m)
}

// PublishBatch publishes the messages of msgs that their users did not
// mute (and those muted but kept in the list, as Publish does); a muted
// one gets a Position of seq 0 at its index.
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
	out := make([]app.Position, len(msgs))
	for i, m := range msgs {
		if pr := &prefs[i]; pr.UserID == m.UserID {
			var ok bool
			if m, ok = apply(pr, m); !ok {
				out[i].Muted = true
				continue
			}
		}
		kept = append(kept, m)
		at = append(at, i)
	}
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
