// Package webhook is the offline fallback: a notification that no live
// session of its user received within a grace period is posted, signed, to
// a configured URL, which the platform bridges to mobile push (APNs, FCM,
// JPush) or SMS.
//
// A Publisher wraps the message publisher: after each publish of a message
// that opts in (Types), it schedules one asynq task per message id
// (Scheduler), due once the grace period has passed. The task's Handler
// skips a message that a live session received meanwhile (Deliveries) and
// posts the others (Poster): retried with backoff on 5xx, 429 and network
// errors, archived on any other status. The contract of the request
// (headers, signature, retries, idempotency) is in docs/api.md.
package webhook

import (
	"context"
	"encoding/json"
	"time"

	"github.com/houseview/gateway/app"
)

// TaskType is the asynq task type of a webhook post.
const TaskType = "notification:webhook"

// Defaults of the options left zero.
const (
	DefaultQueue     = "webhooks"
	DefaultGrace     = 30 * time.Second
	DefaultMaxRetry  = 12
	DefaultBackoff   = 10 * time.Second
	DefaultTimeout   = 10 * time.Second
	DefaultRetention = time.Hour
	// MaxBackoff caps the wait before a retry, Retry-After included.
	MaxBackoff = time.Hour
)

// Task is a webhook task's payload: what was published, where, and the
// notification to post. It is JSON that reads well in the asynq UI.
type Task struct {
	ID     string          `json:"id"` // the message id: the task id and the Idempotency-Key
	UserID int64           `json:"user_id"`
	Type   app.MessageType `json:"type"`
	Epoch  string          `json:"epoch"` // the message's position when it was published
	Seq    int64           `json:"seq"`
	// Body is the notification as published (the JSON a session receives,
	// without seq, epoch and ts): the request body.
	Body json.RawMessage `json:"body"`
	// Muted: its user turned its type off in the app, so no session ever
	// gets it (stored for the list only, or not at all): it counts as
	// undelivered whatever the delivered cursor says.
	Muted bool `json:"muted,omitempty"`
}

// Delivered reports whether a live session received (or acknowledged) the
// task's message: never for a muted one, else as d says.
func (t Task) Delivered(ctx context.Context, d Deliveries) (bool, error) {
	if t.Muted {
		return false, nil
	}
	return d.Delivered(ctx, t.UserID, t.ID, app.Position{Epoch: t.Epoch, Seq: t.Seq})
}

// TaskID is the asynq task id of message id's webhook task: one task per
// message, however often and on however many nodes it is published.
func TaskID(id string) string { return "webhook:" + id }

// Deliveries tells whether a published message reached a live session of
// its user (redis.Deliveries).
type Deliveries interface {
	// Delivered reports whether message id, published to user at pos, was
	// written to or acknowledged by a live session.
	Delivered(ctx context.Context, user int64, id string, pos app.Position) (bool, error)
}

// Metrics counts what the webhook does. Its methods must not block.
type Metrics interface {
	// WebhookTask counts a schedule: TaskScheduled, TaskDuplicate or
	// TaskFailed.
	WebhookTask(result string)
	// WebhookRun counts a task run: RunDelivered, RunSkipped, RunRetry or
	// RunArchived.
	WebhookRun(result string)
	// WebhookPost observes the duration of one HTTP attempt.
	WebhookPost(d time.Duration)
}

// Results of a schedule (Metrics.WebhookTask).
const (
	TaskScheduled = "scheduled" // a task was enqueued
	TaskDuplicate = "duplicate" // the message has a task already (a republish, another node)
	TaskFailed    = "failed"    // the enqueue failed (Redis)
)

// Results of a task run (Metrics.WebhookRun).
const (
	RunDelivered = "delivered" // the receiver answered 2xx
	RunSkipped   = "skipped"   // a live session received the message: nothing posted
	RunRetry     = "retry"     // failed; asynq retries it after a backoff
	RunArchived  = "archived"  // failed for good: a 4xx, a bad payload, or the last retry
)

// TaskResults and RunResults are the label values of Metrics.
var (
	TaskResults = []string{TaskScheduled, TaskDuplicate, TaskFailed}
	RunResults  = []string{RunDelivered, RunSkipped, RunRetry, RunArchived}
)
