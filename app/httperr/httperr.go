// Package httperr writes every HTTP error of the gateway in one format,
// {"error":{"code":"...","message":"..."}}, with the status that the one
// mapping below gives the error's code. Every HTTP handler uses it: the gin
// routes, the WebSocket handshake, the web page, the operator pages.
package httperr

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/houseview/gateway/app"
)

// StatusClientClosedRequest is nginx's 499: the client went away.
const StatusClientClosedRequest = 499

// statusByCode is the one mapping of app error codes to HTTP statuses.
// resource_exhausted is 429 (try later); an over-size body is 413 through
// WithStatus.
var statusByCode = map[string]int{
	app.EInvalidArgument:    http.StatusBadRequest,
	app.EUnauthenticated:    http.StatusUnauthorized,
	app.EPermissionDenied:   http.StatusForbidden,
	app.ENotFound:           http.StatusNotFound,
	app.EAlreadyExists:      http.StatusConflict,
	app.EFailedPrecondition: http.StatusConflict,
	app.EAborted:            http.StatusConflict,
	app.EResourceExhausted:  http.StatusTooManyRequests,
	app.EUnavailable:        http.StatusServiceUnavailable,
	app.ECanceled:           StatusClientClosedRequest,
	app.EInternal:           http.StatusInternalServerError,
}

// statusError forces a status that the code alone does not give (413 for
// bodies, 405 for methods).
type statusError struct {
	status int
	err    *app.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// WithStatus returns err answered with status instead of its code's.
func WithStatus(status int, err *app.Error) error { return &statusError{status: status, err: err} }

// Body is the error format of every endpoint.
type Body struct {
	Error Object `json:"error"`
}

// Object is the error itself.
type Object struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Classify returns the status, code and caller-safe message of err.
// Errors that are not *app.Error are internal (their text is not shown),
// but for a canceled request (499) and an exceeded deadline (503).
func Classify(err error) (int, string, string) {
	var ae *app.Error
	if !errors.As(err, &ae) {
		switch {
		case errors.Is(err, context.Canceled):
			ae = app.Errorf(app.ECanceled, "request canceled")
		case errors.Is(err, context.DeadlineExceeded):
			ae = app.Errorf(app.EUnavailable, "deadline exceeded")
		default:
			ae = app.Errorf(app.EInternal, "%s", app.ErrorMessage(err))
		}
	}
	status, ok := statusByCode[ae.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var se *statusError
	if errors.As(err, &se) {
		status = se.status
	}
	return status, ae.Code, ae.Message
}

// Write answers err and returns its status and code. A 401 carries
// WWW-Authenticate: Bearer unless the caller set the header already (the
// operator pages ask for Basic credentials); a limit's refusal
// (*app.LimitError) carries Retry-After in whole seconds, rounded up.
func Write(w http.ResponseWriter, err error) (int, string) {
	status, code, msg := Classify(err)
	h := w.Header()
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", `Bearer realm="houseview"`)
	}
	var le *app.LimitError
	if errors.As(err, &le) && le.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((le.RetryAfter+time.Second-1)/time.Second), 10))
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	b, _ := json.Marshal(Body{Error: Object{Code: code, Message: msg}})
	_, _ = w.Write(b)
	return status, code
}
