package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
)

// OperatorAuth guards operator pages (the asynq UI). In insecure mode they
// are open, like everything else. In jwt mode they need the server API key
// as a bearer token, or HTTP basic auth with user and password (password
// defaults to the API key), so that a browser can log in; end users' JWTs
// are refused. With neither an API key nor a password configured the pages
// are closed (403).
type OperatorAuth struct {
	Mode     app.AuthMode
	APIKey   string
	User     string
	Password string
	Logger   *slog.Logger
}

// Middleware returns the gin middleware.
func (o OperatorAuth) Middleware() gin.HandlerFunc {
	if o.Password == "" {
		o.Password = o.APIKey
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{log: o.Logger}
	return func(c *gin.Context) {
		if o.Mode != app.AuthJWT {
			c.Next()
			return
		}
		if o.Password == "" {
			h.fail(c, app.Errorf(app.EPermissionDenied, "no api_key or ui.password configured: the operator UI is closed"))
			return
		}
		if user, pass, ok := c.Request.BasicAuth(); ok {
			if equal(user, o.User) && equal(pass, o.Password) {
				c.Next()
				return
			}
		} else if o.APIKey != "" && checkAPIKey(o.APIKey, c.GetHeader("Authorization")) == nil {
			c.Next()
			return
		}
		c.Header("WWW-Authenticate", `Basic realm="gateway operators", charset="UTF-8"`)
		c.Set(logKeyCode, app.EUnauthenticated)
		c.AbortWithStatusJSON(401, errorBody{Error: errorObject{Code: app.EUnauthenticated, Message: "operator credentials required"}})
	}
}

// equal compares in constant time, whatever the lengths.
func equal(a, b string) bool {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}
