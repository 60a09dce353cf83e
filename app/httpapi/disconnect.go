package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
)

// Disconnector closes a user's WebSocket sessions on every node and may
// refuse the user's new ones for a while (see coord.Revocations).
type Disconnector interface {
	Disconnect(ctx context.Context, user int64, until time.Time) (app.Disconnected, error)
	// Lift ends a revocation now and reports whether there was one.
	Lift(ctx context.Context, user int64) (bool, error)
}

// maxRevocation bounds "until": a revocation longer than this is a ban,
// which belongs to the identity provider.
const maxRevocation = 366 * 24 * time.Hour

// disconnectBody is the optional body of POST /api/users/:id/disconnect.
type disconnectBody struct {
	Until int64 `json:"until"` // unix seconds; refuse new sessions and refreshes until then (in the past: lift a revocation)
}

// disconnectReply is its answer.
type disconnectReply struct {
	Closed     int   `json:"closed"`               // sessions closed, over the nodes that answered
	Nodes      int   `json:"nodes"`                // nodes that held sessions of the user and answered
	Unanswered int   `json:"unanswered,omitempty"` // nodes that did not answer in time (their sessions are not counted)
	Until      int64 `json:"until,omitempty"`      // new sessions refused until then
}

// userParam reads the :id of a /api/users/:id route.
func userParam(c *gin.Context) (int64, error) {
	return app.ParseUserID(c.Param("id"), "user id")
}

// disconnect serves POST /api/users/:id/disconnect (auth.Disconnect: the
// server API key): it closes the user's sessions on every node with 4003
// and answers how many.
func (h *handler) disconnect(c *gin.Context) {
	if h.opts.Sessions == nil {
		h.fail(c, app.Errorf(app.EUnavailable, "disconnecting users is not available"))
		return
	}
	user, err := userParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	var b disconnectBody
	if err := decodeJSON(c, h.opts.MaxBodyBytes, &b, true); err != nil {
		h.fail(c, err)
		return
	}
	var until time.Time
	if b.Until != 0 {
		until = time.Unix(b.Until, 0)
		if b.Until < 0 || time.Until(until) > maxRevocation {
			h.fail(c, app.Errorf(app.EInvalidArgument, "until must be unix seconds within %d days", int(maxRevocation.Hours()/24)))
			return
		}
	}
	d, err := h.opts.Sessions.Disconnect(c.Request.Context(), user, until)
	if err != nil {
		h.log.WarnContext(c.Request.Context(), "disconnect failed", "user_id", user, "err", err.Error())
		h.fail(c, app.Errorf(app.EUnavailable, "cannot reach the nodes now; try again"))
		return
	}
	reply := disconnectReply{Closed: d.Closed, Nodes: d.Nodes, Unanswered: d.Unanswered}
	if until.After(time.Now()) {
		reply.Until = b.Until
	}
	h.log.InfoContext(c.Request.Context(), "user disconnected", "user_id", user, "closed", d.Closed, "until", reply.Until)
	c.JSON(http.StatusOK, reply)
}

// liftRevocation serves DELETE /api/users/:id/revocation (auth.Disconnect):
// the user's new sessions and token refreshes are allowed again at once.
func (h *handler) liftRevocation(c *gin.Context) {
	if h.opts.Sessions == nil {
		h.fail(c, app.Errorf(app.EUnavailable, "revocations are not available"))
		return
	}
	user, err := userParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	lifted, err := h.opts.Sessions.Lift(c.Request.Context(), user)
	if err != nil {
		h.log.WarnContext(c.Request.Context(), "lifting a revocation failed", "user_id", user, "err", err.Error())
		h.fail(c, app.Errorf(app.EUnavailable, "cannot reach Redis now; try again"))
		return
	}
	h.log.InfoContext(c.Request.Context(), "revocation lifted", "user_id", user, "lifted", lifted)
	c.JSON(http.StatusOK, gin.H{"lifted": lifted})
}
