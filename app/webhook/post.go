package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
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

// signer signs a post in a format (FormatStandard or FormatGateway).
type signer struct {
	format string
	secret []byte // FormatGateway's HMAC key: the secret as it is
	key    []byte // FormatStandard's: SigningKey of the secret
}

// sign sets the signature headers of a post of task sent at ts.
func (s signer) sign(h http.Header, task Task, ts int64) {
	if s.format == FormatGateway {
		h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		h.Set(HeaderSignature, Signature(s.secret, ts, task.Body))
		return
	}
	h.Set(HeaderWebhookID, task.ID)
	h.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderWebhookSignature, StandardSignature(s.key, task.ID, ts, task.Body))
}

// post sends task's body to url once, signed at now, as attempt n (from 1).
func post(ctx context.Context, client *http.Client, url string, s signer, task Task, n int, now time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(task.Body))
	if err != nil {
		return &PostError{Err: app.Errorf(app.EFailedPrecondition, "webhook request: %v", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "house-gateway-webhook/1")
	s.sign(req.Header, task, now.Unix())
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

// The headers of a webhook request besides Content-Type and User-Agent.
const (
	// HeaderTimestamp is when the request was signed, in unix seconds.
	HeaderTimestamp = "X-Gateway-Timestamp"
	// HeaderSignature is Signature(secret, timestamp, body).
	HeaderSignature = "X-Gateway-Signature"
	// HeaderIdempotencyKey is the message id: the same on every attempt,
	// node and republish of one notification.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderAttempt counts the attempts of this notification, from 1.
	HeaderAttempt = "X-Gateway-Attempt"
)

// DefaultTolerance is how far from the receiver's clock Verify accepts a
// timestamp: a captured request cannot be replayed later than this.
const DefaultTolerance = 5 * time.Minute

// signaturePrefix names the algorithm in HeaderSignature.
const signaturePrefix = "sha256="

// Signature returns the value of HeaderSignature for body sent at ts (unix
// seconds): "sha256=" and the lower-case hex HMAC-SHA256, keyed with
// secret, of the timestamp's decimal digits, ".", and the body's bytes.
func Signature(secret []byte, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(strconv.AppendInt(nil, ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a webhook request as a receiver should: timestamp and
// signature are its HeaderTimestamp and HeaderSignature, body its raw
// body. The signature must be body's at that timestamp, and the timestamp
// within tolerance of now. It returns nil or an app.EUnauthenticated error.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || ts <= 0 {
		return app.Errorf(app.EUnauthenticated, "%s is not unix seconds", HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return app.Errorf(app.EUnauthenticated, "%s is %s away from now, more than %s", HeaderTimestamp, d.Abs().Round(time.Second), tolerance)
	}
	if !strings.HasPrefix(signature, signaturePrefix) {
		return app.Errorf(app.EUnauthenticated, "%s does not start with %s", HeaderSignature, signaturePrefix)
	}
	if !hmac.Equal([]byte(signature), []byte(Signature(secret, ts, body))) {
		return app.Errorf(app.EUnauthenticated, "%s does not match the body", HeaderSignature)
	}
	return nil
}
