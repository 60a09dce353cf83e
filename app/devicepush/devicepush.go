// Package devicepush sends a notification that no live session of its
// user received in time to each of the user's mobile devices, through the
// push provider of the device's platform (pkg/mobilepush: FCM, APNs,
// JPush). It is a target of the offline rule beside the webhook
// (app/webhook): each works with or without the other.
//
// A webhook.Publisher with this package's Scheduler schedules, per
// published message of an enabled type, one grace task (TaskType, TaskID,
// due once the grace has passed). Its Handler checks the delivery once
// (Deliveries): a message that a live session received, or that an acking
// session acknowledged, is skipped. Otherwise it enqueues one device task
// per device of the user whose platform has a provider (DeviceTaskType,
// DeviceTaskID): one attempt per message and device across nodes, due at
// once or, in the user's quiet hours, when they end (in the user's time
// zone). The
// DeviceHandler re-reads the device before each attempt (a device removed,
// or whose token moved to another user or changed, gets nothing), builds
// the push (Content) and sends it: a Retry failure is retried after a
// backoff, never before the provider's Retry-After (RetryDelay); a
// Permanent one is archived at once; a DeadToken removes the device.
package devicepush

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/pkg/mobilepush"
)

// Task types of the device push.
const (
	// TaskType is the grace task of a message: check the delivery, then
	// fan out to the devices. Its payload is a webhook.Task.
	TaskType = "notification:push"
	// DeviceTaskType is the send to one device. Its payload is a DeviceTask.
	DeviceTaskType = "notification:push-device"
)

// Defaults of the options left zero.
const (
	DefaultQueue     = "push"
	DefaultGrace     = webhook.DefaultGrace
	DefaultMaxRetry  = 12
	DefaultBackoff   = 10 * time.Second
	DefaultTimeout   = 10 * time.Second
	DefaultRetention = time.Hour
	// MaxBackoff caps the wait before a retry, Retry-After included.
	MaxBackoff = time.Hour
)

// TaskID is the asynq task id of message id's grace task.
func TaskID(id string) string { return "push:" + id }

// DeviceTaskID is the asynq task id of message id's send to device: one
// per message and device, however often and on however many nodes the
// message is published.
func DeviceTaskID(id string, device int64) string {
	return "push:" + id + ":" + strconv.FormatInt(device, 10)
}

// DeviceTask is a device task's payload: the message as the grace task
// had it and the device it goes to. The token is not in it (the asynq UI
// shows payloads): only a fingerprint, compared with the device's token
// before each attempt.
type DeviceTask struct {
	webhook.Task
	DeviceID int64        `json:"device_id"`
	Platform app.Platform `json:"platform"`
	TokenSum string       `json:"token_sum"` // TokenSum of the token when the task was enqueued
}

// TokenSum is a fingerprint of a device token: the first 16 hex digits of
// its SHA-256.
func TokenSum(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:8])
}

// Store reads the devices and removes the dead ones (mysql.Store).
type Store interface {
	// Devices returns user's devices.
	Devices(ctx context.Context, user int64) ([]app.Device, error)
	// Device returns device id, or an app.ENotFound error.
	Device(ctx context.Context, id int64) (app.Device, error)
	// RemoveDeadDevice removes device id if it still has token.
	RemoveDeadDevice(ctx context.Context, id int64, token string) (bool, error)
}

// Preferences read users' notification preferences (preferences.Service).
type Preferences interface {
	// Get returns user's preferences (the defaults when none are stored).
	Get(ctx context.Context, user int64) (app.Preferences, error)
}

// Providers are the configured push providers by platform; a platform
// without one gets no push.
type Providers map[app.Platform]mobilepush.Provider

// Metrics counts what the device push does. Its methods must not block.
type Metrics interface {
	// PushTask counts a schedule of a grace task: webhook.TaskScheduled,
	// TaskDuplicate or TaskFailed.
	PushTask(result string)
	// PushRun counts a grace task run: RunFannedOut, RunSkipped, RunRetry
	// or RunArchived.
	PushRun(result string)
	// PushDevice counts a device of a grace task that was not skipped:
	// DeviceEnqueued, DeviceDuplicate, DeviceNoProvider or DeviceFailed;
	// and a device task that found its device gone (DeviceStale).
	PushDevice(result string)
	// PushSend counts one send to a provider by its outcome: SendSent,
	// SendRetry, SendPermanent or SendDeadToken.
	PushSend(provider, result string)
}

// Results of a grace task run (Metrics.PushRun).
const (
	RunFannedOut = "fanned_out" // the message went to the user's devices (none, maybe)
	RunSkipped   = "skipped"    // a live session received the message: nothing pushed
	RunMuted     = "muted"      // the user turned mobile push off for the message (its type, its reservation's reminders)
	RunRetry     = "retry"      // failed (Redis, MySQL); asynq retries it
	RunArchived  = "archived"   // a bad payload or the last retry
)

// Results per device (Metrics.PushDevice).
const (
	DeviceEnqueued   = "enqueued"    // a device task was enqueued
	DeviceDuplicate  = "duplicate"   // the message has its task for the device already
	DeviceNoProvider = "no_provider" // no provider is configured for the device's platform
	DeviceFailed     = "failed"      // the enqueue failed (Redis): the grace task is retried
	DeviceStale      = "stale"       // the device task found the device removed, or its token moved or changed
)

// Outcomes of a send (Metrics.PushSend).
const (
	SendSent      = "sent"       // the provider accepted the push
	SendRetry     = "retry"      // a transient failure; retried after a backoff (archived after the last)
	SendPermanent = "permanent"  // refused for good (bad request, credentials): archived
	SendDeadToken = "dead_token" // the token is dead: the device was removed
)

// The label values of Metrics.
var (
	RunResults    = []string{RunFannedOut, RunSkipped, RunMuted, RunRetry, RunArchived}
	DeviceResults = []string{DeviceEnqueued, DeviceDuplicate, DeviceNoProvider, DeviceFailed, DeviceStale}
	SendResults   = []string{SendSent, SendRetry, SendPermanent, SendDeadToken}
	ProviderNames = []string{string(app.PlatformFCM), string(app.PlatformAPNs), string(app.PlatformJPush)}
)
