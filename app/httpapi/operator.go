package httpapi

import (
	"cmp"
	"log/slog"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/pkg/jwtauth"
)

// callerKey is the gin context key of the auth.Caller of a request.
const callerKey = "httpapi.caller"

// allow authorizes the request for op (auth.Policy) and keeps the caller
// for the handler; a refusal answers in the error format.
func (h *handler) allow(op auth.Operation) gin.HandlerFunc {
	return allow(h.opts.Auth, op, h)
}

func allow(a *auth.Authenticator, op auth.Operation, h *handler) gin.HandlerFunc {
	basic := auth.Policy[op] == auth.Operator
	keep := auth.Policy[op].NamesUser() // only their handlers ask who acts
	query := queryTokenOps[op]
	return func(c *gin.Context) {
		cred := auth.Credentials{Bearer: jwtauth.BearerToken(c.GetHeader("Authorization"))}
		if query && cred.Bearer == "" {
			cred.Bearer = c.Query("token")
		}
		if basic {
			cred.BasicUser, cred.BasicPassword, cred.HasBasic = c.Request.BasicAuth()
			cred.Loopback = loopback(c.Request)
			cred.CrossSite = crossOrigin.Check(c.Request) != nil
		}
		caller, err := a.Authorize(op, cred)
		if err != nil {
			if basic {
				// Let a browser ask its user for the operator's credentials.
				c.Header("WWW-Authenticate", `Basic realm="gateway operators", charset="UTF-8"`)
			}
			h.fail(c, err)
			return
		}
		if keep {
			c.Set(callerKey, caller)
		}
		c.Next()
	}
}

// queryTokenOps are the operations that also take the token from a
// ?token= parameter, as the WebSocket handshake does: the HTTP catch-up
// of clients that may not be able to set headers.
var queryTokenOps = map[auth.Operation]bool{auth.Messages: true}

// callerOf returns the caller that allow authorized.
func callerOf(c *gin.Context) auth.Caller {
	v, _ := c.Get(callerKey)
	caller, _ := v.(auth.Caller)
	return caller
}

// crossOrigin marks the state-changing requests that a browser sent from
// another origin (Sec-Fetch-Site, or Origin against Host); requests
// without either header are not a browser's.
var crossOrigin = http.NewCrossOriginProtection()

// loopback reports whether r came from a loopback address (the
// connection's, not a header's).
func loopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Operator guards operator pages (the asynq UI, /metrics, pprof) for
// auth.Operate: in insecure mode loopback callers or the API key; in jwt
// mode the server API key as a bearer token, or the operator's basic
// credentials (a browser's). A state-changing request a browser sent from
// another origin is refused unless it carries the API key.
func Operator(a *auth.Authenticator, log *slog.Logger) gin.HandlerFunc {
	return allow(a, auth.Operate, &handler{log: cmp.Or(log, slog.New(slog.DiscardHandler))})
}
