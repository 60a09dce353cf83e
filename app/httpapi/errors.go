package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httperr"
)

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
