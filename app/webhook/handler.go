package webhook

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
)

// HandlerOptions configure a Handler.
type HandlerOptions struct {
	// URL receives the posts; empty: this node cannot post, and its tasks
	// fail (and are retried) until a node that can takes them.
	URL     string
	Secret  []byte        // signs the posts: its key is SigningKey's (FormatStandard) or the secret (FormatGateway)
	Format  string        // FormatStandard ("": it) or FormatGateway
	Timeout time.Duration // one post, from connecting to the answer (DefaultTimeout)
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics Metrics // nil: not counted
}

// Handler runs webhook tasks.
type Handler struct {
	deliveries Deliveries
	opts       HandlerOptions
	client     *http.Client
	signer     signer
}

var _ asynq.Handler = (*Handler)(nil)

// NewHandler returns the task handler, checking deliveries through d.
func NewHandler(d Deliveries, opts HandlerOptions) *Handler {
	opts.Timeout = app.OrDefault(opts.Timeout, DefaultTimeout)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 16 // the worker's posts run concurrently
	client := &http.Client{Transport: transport, Timeout: opts.Timeout,
		// A signed post is not sent elsewhere: a redirect is the receiver's
		// answer (3xx, archived).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s := signer{format: cmp.Or(opts.Format, FormatStandard), secret: opts.Secret}
	if s.format == FormatStandard {
		// A secret that SigningKey refuses is refused by the settings
		// first; here it signs as it is.
		s.key, _ = SigningKey(string(opts.Secret))
		if s.key == nil {
			s.key = opts.Secret
		}
	}
	return &Handler{deliveries: d, opts: opts, client: client, signer: s}
}

// ProcessTask posts a task's notification unless a live session received
// it. A post that may succeed later (no answer, timeout, 5xx, 429) fails
// the run, and asynq retries it after RetryDelay; any other status, or a
// bad payload, archives it (asynq.SkipRetry), as does the last retry. Each
// run checks the delivery again: a user who came online while the
// receiver was down gets no post.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var task Task
	if err := json.Unmarshal(t.Payload(), &task); err != nil || task.ID == "" || task.UserID <= 0 || len(task.Body) == 0 {
		h.count(RunArchived)
		return fmt.Errorf("bad webhook payload %.80q: %v: %w", t.Payload(), err, asynq.SkipRetry)
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	log := h.opts.Logger.With("msg_id", task.ID, "user_id", task.UserID, "type", int(task.Type), "attempt", retried+1)
	failed := func(err error) error {
		if retried >= maxRetry {
			h.count(RunArchived)
			log.WarnContext(ctx, "webhook failed for good: archived", "err", err)
		} else {
			h.count(RunRetry)
			log.WarnContext(ctx, "webhook failed; will retry", "err", err)
		}
		return err
	}
	if h.opts.URL == "" {
		return failed(app.Errorf(app.EFailedPrecondition, "webhook.url is not set on this node"))
	}
	delivered, err := task.Delivered(ctx, h.deliveries)
	if err != nil {
		return failed(err)
	}
	if delivered {
		h.count(RunSkipped)
		log.DebugContext(ctx, "webhook skipped: a live session received the message")
		return nil
	}
	start := time.Now()
	err = post(ctx, h.client, h.opts.URL, h.signer, task, retried+1, h.opts.Now())
	if h.opts.Metrics != nil {
		h.opts.Metrics.WebhookPost(time.Since(start))
	}
	var pe *PostError
	switch {
	case err == nil:
		h.count(RunDelivered)
		log.InfoContext(ctx, "webhook delivered")
		return nil
	case errors.As(err, &pe) && !pe.Retryable():
		h.count(RunArchived)
		log.WarnContext(ctx, "webhook refused: archived", "status", pe.Status, "err", err)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return failed(err)
}

func (h *Handler) count(result string) {
	if h.opts.Metrics != nil {
		h.opts.Metrics.WebhookRun(result)
	}
}
