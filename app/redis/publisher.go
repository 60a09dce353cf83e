package redis

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
)

//go:embed publish.lua
var publishSrc string

var publishScript = goredis.NewScript(publishSrc)

// Defaults for stored messages.
const (
	DefaultHistorySize = 1000
	DefaultHistoryTTL  = 7 * 24 * time.Hour
)

// PublisherOptions bound what is kept per user.
type PublisherOptions struct {
	HistorySize int            // messages kept per user (default 1000)
	HistoryTTL  time.Duration  // how long a user's messages live after the last one (default 7 days)
	Metrics     PublishMetrics // nil: not counted
}

// PublishMetrics counts messages. Its methods must not block.
type PublishMetrics interface {
	// MessagePublished counts a message stored and published now (not one
	// published before under the same id); msgType is MessageType's.
	MessagePublished(msgType string)
}

// Publisher delivers messages: one atomic step per message gives the next
// seq of the recipient, appends it to the recipient's list and publishes
// it on the recipient's channel. Publishing the same message id twice
// returns the first seq and delivers nothing more.
type Publisher struct {
	rdb     goredis.UniversalClient
	keys    Keys
	size    int
	ttl     time.Duration
	metrics PublishMetrics
}

// NewPublisher returns a Publisher on rdb.
func NewPublisher(rdb goredis.UniversalClient, keys Keys, opts PublisherOptions) *Publisher {
	if opts.HistorySize <= 0 {
		opts.HistorySize = DefaultHistorySize
	}
	if opts.HistoryTTL <= 0 {
		opts.HistoryTTL = DefaultHistoryTTL
	}
	return &Publisher{rdb: rdb, keys: keys, size: opts.HistorySize, ttl: opts.HistoryTTL, metrics: opts.Metrics}
}

// Publish sends m to its recipient and returns the seq it was given.
func (p *Publisher) Publish(ctx context.Context, m app.Message) (int64, error) {
	if len(m.Payload) < 2 || m.Payload[0] != '{' {
		return 0, fmt.Errorf("publish %s: payload is not a JSON object", m.ID)
	}
	keys := []string{p.keys.Seq(m.UserID), p.keys.Messages(m.UserID), p.keys.Published(m.UserID, m.ID)}
	res, err := publishScript.Run(ctx, p.rdb, keys,
		p.keys.Channel(m.UserID), m.Payload, p.size, int64(p.ttl/time.Second)).Int64Slice()
	seq, err := p.published(m, res, err)
	if err != nil {
		return 0, fmt.Errorf("publish %s to user %d: %w", m.ID, m.UserID, err)
	}
	return seq, nil
}

// published reads the publish script's reply {seq, fresh} and counts a
// fresh message.
func (p *Publisher) published(m app.Message, res []int64, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	if len(res) != 2 {
		return 0, fmt.Errorf("publish script replied %v", res)
	}
	if res[1] == 1 && p.metrics != nil {
		p.metrics.MessagePublished(MessageType(m.Payload))
	}
	return res[0], nil
}

// Ping checks that Redis answers.
func (p *Publisher) Ping(ctx context.Context) error { return p.rdb.Ping(ctx).Err() }
