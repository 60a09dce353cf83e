package webhook

import (
	"context"

	"github.com/houseview/gateway/app"
)

// Inner publishes messages (redis.Publisher).
type Inner interface {
	Publish(ctx context.Context, m app.Message) (app.Position, error)
	PublishBatch(ctx context.Context, msgs []app.Message) ([]app.Position, error)
}

// OnScheduleError says what a publish does when the webhook task of a
// message it published cannot be enqueued (Redis refused it).
type OnScheduleError int

const (
	// FailPublish returns the error, the message being stored and
	// published: for callers that retry the whole publish until it
	// succeeds (the reservation outbox, hence reminders), a republish of
	// the same id delivering nothing twice and scheduling the task.
	FailPublish OnScheduleError = iota
	// KeepPublish reports the publish as done: for callers whose retry
	// would deliver the message again (pushes without an idempotency key).
	// The Scheduler has logged and counted the failure.
	KeepPublish
)

// Publisher publishes through an Inner publisher, then schedules the
// webhook task of each message published (Scheduler). It implements the
// publishers that reservation.Service, reservation.Relay and push.Service
// declare.
type Publisher struct {
	inner  Inner
	sched  *Scheduler
	policy OnScheduleError
}

// NewPublisher returns a Publisher over inner, scheduling with sched.
func NewPublisher(inner Inner, sched *Scheduler, policy OnScheduleError) *Publisher {
	return &Publisher{inner: inner, sched: sched, policy: policy}
}

// Publish publishes m, then schedules its webhook task.
func (p *Publisher) Publish(ctx context.Context, m app.Message) (app.Position, error) {
	pos, err := p.inner.Publish(ctx, m)
	if err != nil {
		return pos, err
	}
	if err := p.sched.Schedule(ctx, m, pos); err != nil && p.policy == FailPublish {
		return app.Position{}, err
	}
	return pos, nil
}

// PublishBatch publishes msgs, then schedules their webhook tasks. When
// the publish fails nothing is scheduled: the caller's retry (with the
// same ids) does it.
func (p *Publisher) PublishBatch(ctx context.Context, msgs []app.Message) ([]app.Position, error) {
	positions, err := p.inner.PublishBatch(ctx, msgs)
	if err != nil {
		return positions, err
	}
	if err := p.sched.ScheduleAll(ctx, msgs, positions); err != nil && p.policy == FailPublish {
		return nil, err
	}
	return positions, nil
}
