package mobilepush

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kind classifies a failed send by what the caller should do next.
type Kind int

const (
	// Retry: a transient failure (5xx, 429, timeout, connection error); send
	// again later, not before Error.RetryAfter when it is set.
	Retry Kind = iota + 1
	// Permanent: the request or the configuration is wrong (bad request,
	// bad credentials); sending the same message again will fail again.
	Permanent
	// DeadToken: the device token is no longer valid; remove the device.
	DeadToken
)

// String returns "retry", "permanent" or "dead_token".
func (k Kind) String() string {
	switch k {
	case Retry:
		return "retry"
	case Permanent:
		return "permanent"
	case DeadToken:
		return "dead_token"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is the error every Provider.Send returns.
type Error struct {
	Kind     Kind
	Provider string // "fcm", "apns" or "jpush"
	// Status is the provider's HTTP status, 0 when no response came.
	Status int
	// Reason is the provider's own code: an FCM errorCode or status, an
	// APNs reason, a JPush error code; empty when there was none.
	Reason string
	// Message is the provider's human-readable error text, if any.
	Message string
	// RetryAfter is the provider's requested delay (Retry only; 0 when not
	// given).
	RetryAfter time.Duration
	// Err is the underlying error (transport, context, token minting), if any.
	Err error
}

// Error describes the failure in one line.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mobilepush: %s: %s", e.Provider, e.Kind)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain, or 0.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// IsRetry reports whether err is a transient failure worth retrying.
func IsRetry(err error) bool { return KindOf(err) == Retry }

// IsPermanent reports whether err is a failure that a retry will not cure.
func IsPermanent(err error) bool { return KindOf(err) == Permanent }

// IsDeadToken reports whether err says the device token is gone.
func IsDeadToken(err error) bool { return KindOf(err) == DeadToken }

// RetryAfter returns the delay the provider asked for, if err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.Kind == Retry && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// statusKind is the default Kind of an HTTP error status.
func statusKind(status int) Kind {
	if status == http.StatusTooManyRequests || status >= 500 {
		return Retry
	}
	return Permanent
}

// maxRetryAfter caps a provider's Retry-After, in seconds (one day).
const maxRetryAfter = 24 * 60 * 60

// parseRetryAfter reads a Retry-After value (delay-seconds or HTTP-date)
// relative to now, capped at one day. It returns 0 for an absent, malformed
// or past value.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, maxRetryAfter)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter*time.Second)
	}
	return 0
}
