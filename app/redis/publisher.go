package redis

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/houseview/gateway/app"
)

// Defaults for stored messages.
const (
	DefaultHistorySize = 1000
	DefaultHistoryTTL  = 7 * 24 * time.Hour
)

// PublisherOptions bound what is kept per user.
type PublisherOptions struct {
	HistorySize int            // messages (and message ids) kept per user (default 1000)
	HistoryTTL  time.Duration  // how long a user's keys live after the last message (default 7 days)
	Metrics     PublishMetrics // nil: not counted
	// BatchWait is how long, under load, a pipeline with few messages
	// waits for more (0: never waits). Fewer round trips cost Redis and
	// the node less per message, for that much latency.
	BatchWait time.Duration
}

// PublishMetrics counts messages. Its methods must not block.
type PublishMetrics interface {
	// MessagePublished counts a message stored and published now (not one
	// published before under the same id); msgType is MessageType's.
	MessagePublished(msgType string)
}

// Publisher delivers messages: one atomic step per message gives the next
// seq of the recipient's stream, appends the message to the recipient's
// list and publishes it on the recipient's channel. Publishing a message
// id again while it is among the recipient's stored ones returns its first
// position and delivers nothing more.
type Publisher struct {
	c       *Conn
	size    int
	ttl     int64 // seconds
	metrics PublishMetrics

	batchWait time.Duration
	work      chan struct{} // wakes an idle pipeline goroutine

	mu        sync.Mutex
	queue     []*publishJob // publishes waiting for a pipeline
	queued    int           // messages in queue
	pipelines int           // goroutines sending the queue
	lastSent  time.Time     // when the last pipeline was taken
}

// NewPublisher returns a Publisher on c.
func NewPublisher(c *Conn, opts PublisherOptions) *Publisher {
	if opts.HistorySize <= 0 {
		opts.HistorySize = DefaultHistorySize
	}
	if opts.HistoryTTL <= 0 {
		opts.HistoryTTL = DefaultHistoryTTL
	}
	return &Publisher{c: c, size: opts.HistorySize, ttl: int64(opts.HistoryTTL / time.Second),
		metrics: opts.Metrics, batchWait: opts.BatchWait, work: make(chan struct{}, 1)}
}

// Publish sends m to its recipient and returns the position it was given.
// It shares a round trip with the publishes that arrive meanwhile (see
// PublishBatch).
func (p *Publisher) Publish(ctx context.Context, m app.Message) (app.Position, error) {
	positions, err := p.PublishBatch(ctx, []app.Message{m})
	if err != nil {
		return app.Position{}, err
	}
	return positions[0], nil
}

// args are the publish script's arguments for m.
func (p *Publisher) args(m app.Message) []any {
	return []any{p.c.keys.Channel(m.UserID), idField(m.ID), m.Payload, p.size, p.ttl, expirySlack(p.ttl), Token(),
		p.c.publishCommand(), checkFlag(p.c.Failover())}
}

func checkPayload(m app.Message) error {
	if len(m.Payload) < 2 || m.Payload[0] != '{' {
		return fmt.Errorf("publish %s: payload is not a JSON object", m.ID)
	}
	return nil
}

// published reads the publish script's reply {seq, fresh, epoch} and
// counts a fresh message.
func (p *Publisher) published(m app.Message, res []any, err error) (app.Position, error) {
	if err != nil {
		return app.Position{}, err
	}
	if len(res) != 3 {
		return app.Position{}, fmt.Errorf("publish script replied %v", res)
	}
	seq, _ := res[0].(int64)
	fresh, _ := res[1].(int64)
	epoch, _ := res[2].(string)
	if seq <= 0 || epoch == "" {
		return app.Position{}, fmt.Errorf("publish script replied %v", res)
	}
	if fresh == 1 && p.metrics != nil {
		p.metrics.MessagePublished(MessageType(m.Payload))
	}
	return app.Position{Epoch: epoch, Seq: seq}, nil
}
