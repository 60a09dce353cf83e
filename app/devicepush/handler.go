package devicepush

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/webhook"
)

// HandlerOptions configure the Handler and the DeviceHandler. Zero values
// take the defaults, except MaxRetry (0: no retry).
type HandlerOptions struct {
	Providers Providers     // the platforms pushed to; nil: none (every device counted no_provider)
	Queue     string        // asynq queue of the device tasks (DefaultQueue)
	MaxRetry  int           // retries of a device task after its first attempt
	Retention time.Duration // finished device tasks stay this long (DefaultRetention)
	Timeout   time.Duration // bounds one send (DefaultTimeout)
	Logger    *slog.Logger
	Metrics   Metrics // nil: not counted
	// Preferences, when set, apply each user's push preference and quiet
	// hours (nil: every message pushed at once).
	Preferences Preferences
	// Now is the clock quiet hours are read with (time.Now).
	Now func() time.Time
}

func (o HandlerOptions) withDefaults() HandlerOptions {
	o.Queue = cmp.Or(o.Queue, DefaultQueue)
	o.Retention = app.OrDefault(o.Retention, DefaultRetention)
	o.Timeout = app.OrDefault(o.Timeout, DefaultTimeout)
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Metrics == nil {
		o.Metrics = nopMetrics{}
	}
	return o
}

// runSlack is how much longer than one send a device task may run: the
// device read and, on a retry, the delivery check.
const runSlack = 30 * time.Second

// Handler runs the grace tasks: it checks the delivery once, then enqueues
// a device task per device of the user.
type Handler struct {
	deliveries webhook.Deliveries
	store      Store
	q          webhook.Enqueuer
	opts       HandlerOptions
}

var _ asynq.Handler = (*Handler)(nil)

// NewHandler returns the grace task handler: deliveries checked through
// d, devices read from store, device tasks enqueued through q.
func NewHandler(d webhook.Deliveries, store Store, q webhook.Enqueuer, opts HandlerOptions) *Handler {
	return &Handler{deliveries: d, store: store, q: q, opts: opts.withDefaults()}
}

// ProcessTask skips a message that a live session received, and enqueues
// the device tasks of the others. A failure (Redis, MySQL) fails the run
// for asynq to retry it; the devices enqueued already keep their task (a
// retry finds them duplicate).
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var task webhook.Task
	if err := json.Unmarshal(t.Payload(), &task); err != nil || task.ID == "" || task.UserID <= 0 || len(task.Body) == 0 {
		h.opts.Metrics.PushRun(RunArchived)
		return fmt.Errorf("bad push payload %.80q: %v: %w", t.Payload(), err, asynq.SkipRetry)
	}
	log := h.opts.Logger.With("msg_id", task.ID, "user_id", task.UserID, "type", int(task.Type))
	delivered, err := task.Delivered(ctx, h.deliveries)
	if err == nil && delivered {
		h.opts.Metrics.PushRun(RunSkipped)
		log.DebugContext(ctx, "device push skipped: a live session received the message")
		return nil
	}
	var hold time.Duration
	if err == nil && h.opts.Preferences != nil {
		var prefs app.Preferences
		prefs, err = h.opts.Preferences.Get(ctx, task.UserID)
		if err == nil && !pushed(&prefs, task) {
			h.opts.Metrics.PushRun(RunMuted)
			log.DebugContext(ctx, "device push muted by the user's preferences")
			return nil
		}
		if err == nil {
			now := h.opts.Now()
			if until, quiet := prefs.QuietUntil(now); quiet {
				hold = until.Sub(now)
				log.DebugContext(ctx, "device push held back: the user's quiet hours", "until", until)
			}
		}
	}
	if err == nil {
		err = h.fanOut(ctx, log, task, hold)
	}
	if err != nil {
		retried, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		if retried >= maxRetry {
			h.opts.Metrics.PushRun(RunArchived)
		} else {
			h.opts.Metrics.PushRun(RunRetry)
		}
		log.WarnContext(ctx, "device push fan-out failed", "err", err)
		return err
	}
	h.opts.Metrics.PushRun(RunFannedOut)
	return nil
}

// due is when a device task held back for hold may run: hold from now on
// the real clock (asynq's), rounded up to a whole second (asynq keeps
// whole seconds and must not run it early).
func due(hold time.Duration) time.Time {
	at := time.Now().Add(hold)
	if hold <= 0 {
		return at
	}
	if t := at.Truncate(time.Second); t.Before(at) {
		at = t.Add(time.Second)
	}
	return at
}

// pushed reports whether prefs let task's message go to the devices.
func pushed(prefs *app.Preferences, task webhook.Task) bool {
	var reservation int64
	if task.Type == app.MsgReservationReminder {
		reservation = app.ReservationOf(task.Body)
	}
	return prefs.Push(task.Type, reservation)
}

// fanOut enqueues the device task of each of the user's devices whose
// platform has a provider, due after hold (quiet hours).
func (h *Handler) fanOut(ctx context.Context, log *slog.Logger, task webhook.Task, hold time.Duration) error {
	devices, err := h.store.Devices(ctx, task.UserID)
	if err != nil {
		return err
	}
	var first error
	for _, d := range devices {
		if _, ok := h.opts.Providers[d.Platform]; !ok {
			h.opts.Metrics.PushDevice(DeviceNoProvider)
			log.DebugContext(ctx, "device push: no provider for the device's platform", "device_id", d.ID, "platform", d.Platform)
			continue
		}
		b, err := json.Marshal(DeviceTask{Task: task, DeviceID: d.ID, Platform: d.Platform, TokenSum: TokenSum(d.Token)})
		if err != nil {
			return err
		}
		_, err = h.q.EnqueueContext(ctx, asynq.NewTask(DeviceTaskType, b), asynq.TaskID(DeviceTaskID(task.ID, d.ID)),
			asynq.Queue(h.opts.Queue), asynq.MaxRetry(h.opts.MaxRetry), asynq.Retention(h.opts.Retention),
			asynq.Timeout(h.opts.Timeout+runSlack), asynq.ProcessAt(due(hold)))
		switch {
		case err == nil:
			h.opts.Metrics.PushDevice(DeviceEnqueued)
		case errors.Is(err, asynq.ErrTaskIDConflict):
			h.opts.Metrics.PushDevice(DeviceDuplicate)
		default:
			h.opts.Metrics.PushDevice(DeviceFailed)
			first = cmp.Or(first, fmt.Errorf("enqueue the push of %s to device %d: %w", task.ID, d.ID, err))
		}
	}
	return first
}

// nopMetrics counts nothing.
type nopMetrics struct{}

func (nopMetrics) PushTask(string)         {}
func (nopMetrics) PushRun(string)          {}
func (nopMetrics) PushDevice(string)       {}
func (nopMetrics) PushSend(string, string) {}
