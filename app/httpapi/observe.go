package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/pkg/requestid"
)

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
