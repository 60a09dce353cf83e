package app

import (
	"errors"
	"fmt"
	"time"
)

// Error codes, named after gRPC's canonical codes. Each transport maps them
// once: see httpapi and grpcapi.
const (
	ECanceled           = "canceled"
	EInvalidArgument    = "invalid_argument"
	ENotFound           = "not_found"
	EAlreadyExists      = "already_exists"
	EPermissionDenied   = "permission_denied"
	EUnauthenticated    = "unauthenticated"
	EFailedPrecondition = "failed_precondition"
	EAborted            = "aborted"
	EResourceExhausted  = "resource_exhausted"
	EUnavailable        = "unavailable"
	EInternal           = "internal"
)

// Error is the product's error: a code from the list above and a message that
// is safe to show to the caller.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: the code of the first *Error in its
// chain, "" for nil and EInternal for any other error.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EInternal
	}
}

// ErrorMessage returns the caller-safe message of err. Errors that are not
// *Error are internal and their text is not shown.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}

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
