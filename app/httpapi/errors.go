package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
)

// StatusClientClosedRequest is nginx's 499: the client went away.
const StatusClientClosedRequest = 499

// statusByCode is the one mapping of app error codes to HTTP statuses.
//
// resource_exhausted: the REST layer itself only produces it for an over-size
// body, which is answered 413 (bodyTooLarge forces it with a statusError). Any other
// resource_exhausted (a quota or rate limit from the service) means "try
// later" and is 429, the table's entry.
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

// errorBody is the error format of every endpoint.
type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// classify returns the status, code and caller-safe message of err.
func classify(err error) (int, string, string) {
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

// fail answers err in the error format and stops the chain. Internal errors
// are logged with their real text, which the caller never sees.
func (h *handler) fail(c *gin.Context, err error) {
	status, code, msg := classify(err)
	if status >= 500 && code != app.EUnavailable {
		h.log.ErrorContext(c.Request.Context(), "request failed",
			"method", c.Request.Method, "route", c.FullPath(), "code", code, "err", err.Error())
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="houseview"`)
	}
	c.Set(logKeyCode, code)
	c.AbortWithStatusJSON(status, errorBody{Error: errorObject{Code: code, Message: msg}})
}
