package devicepush

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/pkg/mobilepush"
)

// DeviceHandler runs the device tasks: one send to one device.
type DeviceHandler struct {
	deliveries webhook.Deliveries
	store      Store
	opts       HandlerOptions
}

var _ asynq.Handler = (*DeviceHandler)(nil)

// NewDeviceHandler returns the device task handler: devices read and
// removed through store, deliveries checked again before a retry through d.
func NewDeviceHandler(d webhook.Deliveries, store Store, opts HandlerOptions) *DeviceHandler {
	return &DeviceHandler{deliveries: d, store: store, opts: opts.withDefaults()}
}

// ProcessTask sends the task's notification to its device, unless the
// device is gone, its token moved to another user or changed, or (on a
// retry) a live session has received the message meanwhile. A Retry
// failure fails the run (asynq retries it after RetryDelay); a Permanent
// one archives it (asynq.SkipRetry); a DeadToken removes the device and
// completes it.
func (h *DeviceHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var task DeviceTask
	if err := json.Unmarshal(t.Payload(), &task); err != nil || task.ID == "" || task.DeviceID <= 0 || len(task.Body) == 0 {
		return fmt.Errorf("bad push-device payload %.80q: %v: %w", t.Payload(), err, asynq.SkipRetry)
	}
	retried, _ := asynq.GetRetryCount(ctx)
	log := h.opts.Logger.With("msg_id", task.ID, "user_id", task.UserID, "device_id", task.DeviceID,
		"platform", task.Platform, "attempt", retried+1)
	p, ok := h.opts.Providers[task.Platform]
	if !ok {
		err := app.Errorf(app.EFailedPrecondition, "no %s provider is configured on this node", task.Platform)
		log.WarnContext(ctx, "device push failed; will retry", "err", err)
		return err
	}
	d, err := h.store.Device(ctx, task.DeviceID)
	if app.ErrorCode(err) == app.ENotFound || err == nil && (d.UserID != task.UserID || d.Platform != task.Platform || TokenSum(d.Token) != task.TokenSum) {
		h.opts.Metrics.PushDevice(DeviceStale)
		log.DebugContext(ctx, "device push skipped: the device was removed, or its token moved or changed")
		return nil
	}
	if err != nil {
		return err
	}
	if h.opts.Preferences != nil {
		// The user may have turned push off while the task waited (quiet hours).
		prefs, err := h.opts.Preferences.Get(ctx, task.UserID)
		if err != nil {
			return err
		}
		if !pushed(&prefs, task.Task) {
			log.DebugContext(ctx, "device push muted by the user's preferences")
			return nil
		}
	}
	if retried > 0 {
		delivered, err := task.Delivered(ctx, h.deliveries)
		if err != nil {
			return err
		}
		if delivered {
			log.DebugContext(ctx, "device push skipped: a live session received the message meanwhile")
			return nil
		}
	}
	m, err := Content(task.Task, d)
	if err != nil {
		return fmt.Errorf("push of %s: %v: %w", task.ID, err, asynq.SkipRetry)
	}
	sctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	err = p.Send(sctx, m)
	cancel()
	return h.outcome(ctx, log, p.Name(), d, err)
}

// outcome counts and logs the result of a send, and returns what asynq is
// to do with the task.
func (h *DeviceHandler) outcome(ctx context.Context, log *slog.Logger, provider string, d app.Device, err error) error {
	switch mobilepush.KindOf(err) {
	case 0:
		if err != nil { // not a provider's answer: the context
			h.opts.Metrics.PushSend(provider, SendRetry)
			return err
		}
		h.opts.Metrics.PushSend(provider, SendSent)
		log.DebugContext(ctx, "device push sent")
		return nil
	case mobilepush.DeadToken:
		h.opts.Metrics.PushSend(provider, SendDeadToken)
		removed, rerr := h.store.RemoveDeadDevice(ctx, d.ID, d.Token)
		if rerr != nil {
			log.WarnContext(ctx, "device push: removing the dead device failed; will retry", "err", rerr)
			return rerr
		}
		log.InfoContext(ctx, "device push: the provider says the token is dead; device removed", "removed", removed, "err", err)
		return nil
	case mobilepush.Permanent:
		h.opts.Metrics.PushSend(provider, SendPermanent)
		log.WarnContext(ctx, "device push refused for good: archived", "err", err)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	h.opts.Metrics.PushSend(provider, SendRetry)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if retried >= maxRetry {
		log.WarnContext(ctx, "device push failed for good: archived", "err", err)
	} else {
		log.InfoContext(ctx, "device push failed; will retry", "err", err)
	}
	return err
}
