package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// NodeSubscriber is a node's subscription to the channels of the users it
// holds sessions of, whichever the mode: Subscriber (one pub/sub
// connection: standalone and sentinel) or ShardedSubscriber (one per
// Redis Cluster shard).
type NodeSubscriber interface {
	// Start connects and hands what arrives to recv.
	Start(ctx context.Context, recv Receiver) error
	// Acquire returns once the node is subscribed to user's channel.
	Acquire(ctx context.Context, user int64) error
	// Release drops one Acquire.
	Release(user int64)
	// Probe proves the subscription end to end until ctx is done.
	Probe(ctx context.Context)
	// Healthy reports whether every connection delivered a probe lately.
	Healthy() error
	// Resubscriptions counts restored connections.
	Resubscriptions() int64
	// Close ends the subscription.
	Close() error
}

var (
	_ NodeSubscriber = (*Subscriber)(nil)
	_ NodeSubscriber = (*ShardedSubscriber)(nil)
)

// dispatch hands what arrives on user channels to the receiver: the part
// that Subscriber and ShardedSubscriber share.
type dispatch struct {
	rdb  goredis.UniversalClient
	keys Keys
	opts SubscriberOptions
	recv Receiver
}

// deliver parses a message of a user channel and hands it on.
func (s *dispatch) deliver(channel, payload string) {
	user, ok := s.keys.ChannelUser(channel)
	if !ok {
		return
	}
	if isControl(payload) {
		s.control(user, payload)
		return
	}
	env, ok := ParseEnvelope(user, payload)
	if !ok {
		s.opts.Logger.Warn("dropping a message without the publisher's envelope", "user_id", user)
		if s.opts.Metrics != nil {
			s.opts.Metrics.MessageDropped(DropMalformed)
		}
		return
	}
	s.recv.Deliver(env)
}
