// Package push is generic server push: a trusted backend sends one
// notification (type app.MsgGenericPush) to a list of users. Each user's
// copy gets its own id and the user's next seq, is stored in the user's
// message list and is delivered live to the user's sessions.
package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/houseview/gateway/app"
)

// Limits of a push request.
const (
	DefaultMaxBatch = 1000     // user ids per request when Options.MaxBatch is 0
	MaxTitleChars   = 128      // characters (runes) of the title
	MaxContentChars = 4096     // characters (runes) of the content
	MaxMessageBytes = 64 << 10 // bytes of one encoded message (detail included)
)

// Publisher stores and delivers messages, as redis.Publisher does:
// positions in the order of msgs, each message idempotent per id. A zero
// position (seq 0) is a message that its user muted in the app
// (preferences.Publisher): not stored, not delivered; one with Muted set
// was muted and stored for the list only.
type Publisher interface {
	PublishBatch(ctx context.Context, msgs []app.Message) ([]app.Position, error)
}

// Options configure a Service.
type Options struct {
	MaxBatch int              // user ids per request (DefaultMaxBatch when <= 0)
	Now      func() time.Time // the clock of message timestamps (time.Now when nil)
}

// Request is one push: the same title, content and detail to every user.
type Request struct {
	UserIDs []int64
	Title   string
	Content string
	// Detail is an optional JSON object delivered as the message's
	// "detail"; empty or null means none.
	Detail json.RawMessage
	// IdempotencyKey, when set, makes the request safe to retry: the
	// message ids derive from it, so a repeat of the same key delivers
	// nothing new and returns the first call's results. 1 to 128 of
	// [A-Za-z0-9._:-].
	IdempotencyKey string
	// Webhook asks for the offline webhook: a user whose sessions do not
	// receive the message within the grace period gets it through the
	// platform's mobile push (when the node has webhook.url and "push" in
	// webhook.types).
	Webhook bool
}

// Result is the message one user received: its place in the user's
// stream and its id.
type Result struct {
	UserID int64  `json:"user_id"`
	Seq    int64  `json:"seq"`
	Epoch  string `json:"epoch"`
	ID     string `json:"id"`
	// Muted: the user turned generic pushes off in the app, so the message
	// was delivered to none of the user's sessions. It was not stored
	// either (seq 0, no epoch), unless the user keeps the type in the list:
	// then it was stored already seen and read, at Seq of Epoch. The
	// offline targets (webhook, device push) still apply.
	Muted bool `json:"muted,omitempty"`
}

// Service sends generic pushes.
type Service struct {
	pub  Publisher
	opts Options
}

// New returns a Service publishing through pub.
func New(pub Publisher, opts Options) *Service {
	opts.MaxBatch = app.OrDefault(opts.MaxBatch, DefaultMaxBatch)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{pub: pub, opts: opts}
}

// Push sends req to each of its users (duplicates once, in the order of
// their first appearance) and returns one Result per user in that order.
// An invalid request is app.EInvalidArgument and sends nothing.
//
// When Redis fails the error is app.EUnavailable ("push not stored; retry")
// and some users may already have their copy. With an IdempotencyKey a
// retry of the same request completes it without a second copy to anyone;
// without one every call creates new message ids, so a retry may send
// someone a second copy.
func (s *Service) Push(ctx context.Context, req Request) ([]Result, error) {
	users, err := s.users(req.UserIDs)
	if err != nil {
		return nil, err
	}
	if err := checkText(req.Title, req.Content); err != nil {
		return nil, err
	}
	detail, err := checkDetail(req.Detail)
	if err != nil {
		return nil, err
	}
	if err := checkIdempotencyKey(req.IdempotencyKey); err != nil {
		return nil, err
	}
	now := s.opts.Now().Unix()
	msgs := make([]app.Message, len(users))
	for i, user := range users {
		id := app.NewMessageID()
		if req.IdempotencyKey != "" {
			id = app.DerivedMessageID("push:"+req.IdempotencyKey, user)
		}
		n := app.Notification{ID: id, Type: app.MsgGenericPush, UserID: user,
			Title: req.Title, Content: req.Content, Timestamp: now}
		if detail != nil {
			n.Detail = detail
		}
		m, err := n.Message()
		if err != nil {
			return nil, err
		}
		m.Webhook = req.Webhook
		if len(m.Payload) > MaxMessageBytes {
			return nil, app.Errorf(app.EInvalidArgument, "message is %d bytes encoded, at most %d", len(m.Payload), MaxMessageBytes)
		}
		msgs[i] = m
	}
	positions, err := s.pub.PublishBatch(ctx, msgs)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", app.Errorf(app.EUnavailable, "push not stored; retry"), err)
	}
	if len(positions) != len(msgs) {
		return nil, fmt.Errorf("push: %d positions for %d messages", len(positions), len(msgs))
	}
	out := make([]Result, len(msgs))
	for i, m := range msgs {
		out[i] = Result{UserID: m.UserID, Seq: positions[i].Seq, Epoch: positions[i].Epoch, ID: m.ID, Muted: positions[i].Seq == 0 || positions[i].Muted}
	}
	return out, nil
}

// users checks ids and drops duplicates, keeping the first order.
func (s *Service) users(ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, app.Errorf(app.EInvalidArgument, "user_ids is required")
	}
	if len(ids) > s.opts.MaxBatch {
		return nil, app.Errorf(app.EInvalidArgument, "user_ids has %d entries, at most %d", len(ids), s.opts.MaxBatch)
	}
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id <= 0 {
			return nil, app.Errorf(app.EInvalidArgument, "user_ids must be positive integers, got %d", id)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// checkText checks the title and content: they end in users'
// notifications, so they follow app.CheckText (the title on one line, the
// content may span lines).
func checkText(title, content string) error {
	switch {
	case strings.TrimSpace(title) == "":
		return app.Errorf(app.EInvalidArgument, "title is required")
	case utf8.RuneCountInString(title) > MaxTitleChars:
		return app.Errorf(app.EInvalidArgument, "title is longer than %d characters", MaxTitleChars)
	case utf8.RuneCountInString(content) > MaxContentChars:
		return app.Errorf(app.EInvalidArgument, "content is longer than %d characters", MaxContentChars)
	}
	if err := app.CheckText("title", title, app.OneLine); err != nil {
		return err
	}
	return app.CheckText("content", content, app.MultiLine)
}

// checkDetail returns the detail to send: nil when absent or null, else a
// JSON object.
func checkDetail(detail json.RawMessage) (json.RawMessage, error) {
	d := bytes.TrimSpace(detail)
	if len(d) == 0 || string(d) == "null" {
		return nil, nil
	}
	if d[0] != '{' || !json.Valid(d) {
		return nil, app.Errorf(app.EInvalidArgument, "detail must be a JSON object")
	}
	if len(d) > MaxMessageBytes {
		return nil, app.Errorf(app.EInvalidArgument, "detail is larger than %d bytes", MaxMessageBytes)
	}
	return d, nil
}

// MaxIdempotencyKey bounds Request.IdempotencyKey.
const MaxIdempotencyKey = 128

func checkIdempotencyKey(k string) error {
	if len(k) > MaxIdempotencyKey {
		return app.Errorf(app.EInvalidArgument, "idempotency key is %d characters, at most %d", len(k), MaxIdempotencyKey)
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:-", r)) {
			return app.Errorf(app.EInvalidArgument, "idempotency key may hold only letters, digits and . _ : -")
		}
	}
	return nil
}
