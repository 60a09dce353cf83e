package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/pkg/backoff"
)

// PostError is a post that failed: code app.EUnavailable when worth
// retrying (no answer, a timeout, 5xx or 429), app.EFailedPrecondition when
// not (any other status but 2xx).
type PostError struct {
	Err        *app.Error
	Status     int           // the receiver's status; 0: no answer
	RetryAfter time.Duration // the receiver's Retry-After; 0: none
}

// Error implements the error interface.
func (e *PostError) Error() string { return e.Err.Error() }

// Unwrap returns the *app.Error.
func (e *PostError) Unwrap() error { return e.Err }

// Retryable reports whether a retry may succeed.
func (e *PostError) Retryable() bool { return e.Err.Code == app.EUnavailable }

// maxErrorBody bounds how much of a failed answer is kept for the logs
// (and the asynq UI's last error); drainBody how much more is read so that
// the connection can be reused.
const (
	maxErrorBody = 256
	drainBody    = 64 << 10
)

// post sends task's body to url once, signed at now, as attempt n (from 1).
func post(ctx context.Context, client *http.Client, url string, secret []byte, task Task, n int, now time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(task.Body))
	if err != nil {
		return &PostError{Err: app.Errorf(app.EFailedPrecondition, "webhook request: %v", err)}
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "house-gateway-webhook/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Signature(secret, ts, task.Body))
	req.Header.Set(HeaderIdempotencyKey, task.ID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(n))
	resp, err := client.Do(req)
	if err != nil {
		return &PostError{Err: app.Errorf(app.EUnavailable, "webhook post: %v", err)}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainBody))
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusTooManyRequests || code >= 500:
		return &PostError{Err: app.Errorf(app.EUnavailable, "webhook answered %d: %q", code, head),
			Status: code, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now)}
	default:
		return &PostError{Err: app.Errorf(app.EFailedPrecondition, "webhook answered %d (not retried): %q", code, head), Status: code}
	}
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date. 0 when
// absent, malformed or past.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(MaxBackoff/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// RetryDelay returns the asynq RetryDelayFunc of webhook tasks: before
// retry n (0 first) base doubled n times, at most MaxBackoff, plus up to
// 10% random (so that the backlog of a receiver that was down does not
// come back at once); a longer Retry-After of the receiver wins, up to
// MaxBackoff. asynq keeps whole seconds.
func RetryDelay(base time.Duration) asynq.RetryDelayFunc {
	base = app.OrDefault(base, DefaultBackoff)
	return func(n int, err error, _ *asynq.Task) time.Duration {
		d := backoff.Spread(backoff.Delay(base, MaxBackoff, n), 0.1)
		var pe *PostError
		if errors.As(err, &pe) && pe.RetryAfter > d {
			d = min(pe.RetryAfter, MaxBackoff)
		}
		return d
	}
}
