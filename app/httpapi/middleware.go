package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httperr"
	"github.com/houseview/gateway/pkg/requestid"
)

// logKeyCode is the gin context key under which fail leaves the error code
// for the access log.
const logKeyCode = "httpapi.error_code"

// accessLog logs one line per request: method, route, status, latency and
// (from the context) request_id. It never logs headers (so neither
// Authorization nor a token) nor the query.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		if !log.Enabled(c.Request.Context(), level) {
			return // build nothing for a line nobody writes
		}
		route := routeOf(c)
		attrs := []slog.Attr{
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("latency", time.Since(start)),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
		}
		if code := c.GetString(logKeyCode); code != "" {
			attrs = append(attrs, slog.String("code", code))
		}
		log.LogAttrs(c.Request.Context(), level, "http request", attrs...)
	}
}

// recovery turns a panic into a 500 in the error format.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.ErrorContext(c.Request.Context(), "panic serving request",
				"method", c.Request.Method, "route", c.FullPath(),
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			c.Set(logKeyCode, app.EInternal)
			c.Abort()
			if !c.Writer.Written() {
				httperr.Write(c.Writer, app.Errorf(app.EInternal, "internal error"))
			}
		}()
		c.Next()
	}
}

// bodyLimit refuses bodies announced larger than the limit and caps the
// others; decodeJSON reports a cap hit as 413.
func (h *handler) bodyLimit(c *gin.Context) {
	limit := h.opts.MaxBodyBytes
	if c.Request.ContentLength > limit {
		h.fail(c, bodyTooLarge(limit))
		return
	}
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	c.Next()
}

// bodyTooLarge is the error of a body over limit bytes.
func bodyTooLarge(limit int64) error {
	return httperr.WithStatus(http.StatusRequestEntityTooLarge,
		app.Errorf(app.EResourceExhausted, "request body exceeds %d bytes", limit))
}

// fail answers err in the error format (httperr) and stops the chain.
// Internal errors are logged with their real text, which the caller never
// sees.
func (h *handler) fail(c *gin.Context, err error) {
	status, code, _ := httperr.Classify(err)
	if status >= 500 && code != app.EUnavailable {
		h.log.ErrorContext(c.Request.Context(), "request failed",
			"method", c.Request.Method, "route", c.FullPath(), "code", code, "err", err.Error())
	}
	c.Set(logKeyCode, code)
	c.Abort()
	httperr.Write(c.Writer, err)
}

// notAllowed is the error of a method that a known route does not serve.
func notAllowed(c *gin.Context) error {
	return httperr.WithStatus(http.StatusMethodNotAllowed, app.Errorf(app.EInvalidArgument,
		"method %s not allowed on %s", c.Request.Method, c.Request.URL.Path))
}

// Metrics counts requests. It must not block.
type Metrics interface {
	// HTTPRequest counts a request: route is the matched route pattern
	// ("unmatched" when none), method one of the standard methods or
	// "other". status 101 is a WebSocket upgrade, whose d (the session's
	// lifetime) is not a request's duration.
	HTTPRequest(route, method string, status int, d time.Duration)
}

// requestID takes the caller's X-Request-ID if it is sane (requestid.Valid)
// or makes one, answers with it and puts it in the request's context, where
// the logger finds it.
func requestID(c *gin.Context) {
	id := requestid.Ensure(c.GetHeader(requestid.Header))
	c.Header(requestid.Header, id)
	c.Request = c.Request.WithContext(requestid.NewContext(c.Request.Context(), id))
	c.Next()
}

// observe reports every request to m.
func observe(m Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		if status == http.StatusOK && c.IsWebsocket() {
			// Hijacked by the upgrade: gin never saw the 101.
			status = http.StatusSwitchingProtocols
		}
		m.HTTPRequest(routeOf(c), methodLabel(c.Request.Method), status, time.Since(start))
	}
}

// routeOf is the route pattern of the request, "unmatched" when none.
func routeOf(c *gin.Context) string {
	if route := c.FullPath(); route != "" {
		return route
	}
	return "unmatched"
}

// methodLabel bounds the method label: clients may send any token.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}
