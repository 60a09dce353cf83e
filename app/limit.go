package app

import (
	"fmt"
	"time"
)

// LimitError is a refusal by a limit (a rate, a count): code
// EResourceExhausted, with the wait after which a retry may succeed. The
// transports answer it with 429 and Retry-After (HTTP), RESOURCE_EXHAUSTED
// with RetryInfo (gRPC).
type LimitError struct {
	Err        *Error
	Limit      string        // the limit's name, e.g. "reserve"
	RetryAfter time.Duration // 0: unknown
}

// Error implements the error interface.
func (e *LimitError) Error() string { return e.Err.Error() }

// Unwrap returns the *Error, so that ErrorCode and ErrorMessage read it.
func (e *LimitError) Unwrap() error { return e.Err }

// Limited returns the refusal of limit, retryable after retryAfter.
func Limited(limit string, retryAfter time.Duration, format string, args ...any) *LimitError {
	return &LimitError{Err: &Error{Code: EResourceExhausted, Message: fmt.Sprintf(format, args...)},
		Limit: limit, RetryAfter: retryAfter}
}
