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
