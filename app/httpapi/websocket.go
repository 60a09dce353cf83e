package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
)

// PresenceReader reads the cluster-wide presence of WebSocket users (see
// coord.Presence).
type PresenceReader interface {
	// Online returns every user with a session on a live node, sorted.
	Online(ctx context.Context) ([]int64, error)
	// Stats returns the live nodes and the cluster totals.
	Stats(ctx context.Context) (app.ClusterStats, error)
}

// onlineReply is the answer of GET /api/websocket/online-users.
type onlineReply struct {
	Users []int64 `json:"users"`
	Count int     `json:"count"`
}

// onlineUsers serves GET /api/websocket/online-users.
func (h *handler) onlineUsers(c *gin.Context) {
	users, err := h.opts.Presence.Online(c.Request.Context())
	if err != nil {
		h.presenceFailed(c, err)
		return
	}
	if users == nil {
		users = []int64{}
	}
	c.JSON(http.StatusOK, onlineReply{Users: users, Count: len(users)})
}

// websocketStats serves GET /api/websocket/stats.
func (h *handler) websocketStats(c *gin.Context) {
	st, err := h.opts.Presence.Stats(c.Request.Context())
	if err != nil {
		h.presenceFailed(c, err)
		return
	}
	if st.Nodes == nil {
		st.Nodes = []app.NodeStats{}
	}
	c.JSON(http.StatusOK, st)
}

// presenceFailed answers a presence read error: Redis trouble is logged
// and answered 503, a gone client as such.
func (h *handler) presenceFailed(c *gin.Context, err error) {
	if c.Request.Context().Err() != nil {
		h.fail(c, c.Request.Context().Err())
		return
	}
	h.log.WarnContext(c.Request.Context(), "presence read failed", "route", c.FullPath(), "err", err.Error())
	h.fail(c, app.Errorf(app.EUnavailable, "presence is unavailable"))
}
