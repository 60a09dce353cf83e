package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/push"
)

// consoleRoot is where the operator console is mounted.
const consoleRoot = "/console"

// StreamDescriber reads a user's stream as it is (see redis.Streams).
type StreamDescriber interface {
	Describe(ctx context.Context, user int64) (app.StreamState, error)
}

// ConsoleOptions are what the operator console shows and does: the same
// services as the REST routes, behind the operator credentials.
type ConsoleOptions struct {
	Files    fs.FS           // the page (web.Console)
	Operator gin.HandlerFunc // the operator guard (Operator)
	Presence PresenceReader  // the nodes and their connections
	Streams  StreamDescriber // a user's stream
	// Sessions lists a user's live sessions over every node (nil: the
	// session registry is off, and the console says so).
	Sessions func(ctx context.Context, user int64) ([]app.LiveSession, error)
	// Positions asks the nodes holding the user's sessions where each is
	// in the stream (redis.Conn.Positions; nil: not shown).
	Positions func(ctx context.Context, user int64) ([]app.SessionPosition, error)
	Push      PushService
	// Revocations disconnect users and lift and read revocations.
	Revocations interface {
		Disconnector
		RevokedUntil(ctx context.Context, user int64) (time.Time, error)
	}
	MaxBodyBytes int64        // as Options (DefaultMaxBodyBytes when 0)
	Logger       *slog.Logger // nil: discarded
}

// MountConsole serves the operator console at /console/ (the page and
// its API under /console/api/), every route behind opts.Operator: the
// operator's basic credentials or the API key, refusing actions that a
// browser sent from another origin, as for the asynq UI.
func MountConsole(e *gin.Engine, opts ConsoleOptions) {
	rest := &handler{opts: Options{MaxBodyBytes: app.OrDefault(opts.MaxBodyBytes, DefaultMaxBodyBytes), Sessions: opts.Revocations},
		log: cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))}
	h := &console{opts: opts, rest: rest}
	GET(e, consoleRoot, func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, consoleRoot+"/") })
	g := e.Group(consoleRoot, opts.Operator)
	GET(g, "/api/nodes", h.nodes)
	GET(g, "/api/users/:id", h.user)
	g.POST("/api/users/:id/push", h.push)
	g.POST("/api/users/:id/disconnect", rest.disconnect)
	g.DELETE("/api/users/:id/revocation", rest.liftRevocation)
	page := fileServer(opts.Files, "index.html") // one ETag cache for the page's files
	GET(g, "/", page)
	GET(g, "/:file", page)
}

// console serves the console's API.
type console struct {
	opts ConsoleOptions
	rest *handler // the REST routes' error writer, disconnect and lift
}

// nodes answers the cluster's nodes and totals (as /api/websocket/stats).
func (h *console) nodes(c *gin.Context) {
	st, err := h.opts.Presence.Stats(c.Request.Context())
	if err != nil {
		h.rest.presenceFailed(c, err)
		return
	}
	if st.Nodes == nil {
		st.Nodes = []app.NodeStats{}
	}
	c.JSON(http.StatusOK, st)
}

// userReply is the answer of GET /console/api/users/:id.
type userReply struct {
	UserID int64 `json:"user_id"`
	// Sessions are the user's live sessions, oldest first (null: the
	// session registry is off).
	Sessions     []sessionReply `json:"sessions"`
	RevokedUntil int64          `json:"revoked_until,omitempty"` // unix seconds
	Stream       streamReply    `json:"stream"`
	// Messages are the newest stored, oldest first, as sessions get them.
	Messages []json.RawMessage `json:"messages"`
}

type sessionReply struct {
	ID     string `json:"id"` // "": not counted by the session registry
	NodeID string `json:"node_id"`
	Since  int64  `json:"since"` // unix seconds
	// Position is where the session is in the stream, as its node answered
	// (null: the node did not answer in time).
	Position *positionReply `json:"position"`
}

type positionReply struct {
	Epoch string `json:"epoch"`
	Sent  int64  `json:"sent_seq"`
	Acked int64  `json:"acked_seq"`
	Acks  bool   `json:"acks"`
	State string `json:"state"`
}

type streamReply struct {
	Epoch     string `json:"epoch"` // "": the user has no stream
	HeadSeq   int64  `json:"head_seq"`
	Delivered int64  `json:"delivered_seq"`
	Stored    int64  `json:"stored"`
}

// user answers one user's live sessions, revocation, stream and newest
// stored messages.
func (h *console) user(c *gin.Context) {
	user, err := userParam(c)
	if err != nil {
		h.rest.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	st, err := h.opts.Streams.Describe(ctx, user)
	if err != nil {
		h.rest.fail(c, app.Errorf(app.EUnavailable, "cannot read the stream of user %d now", user))
		return
	}
	reply := userReply{UserID: user, Messages: make([]json.RawMessage, 0, len(st.Recent)),
		Stream: streamReply{Epoch: st.Epoch, HeadSeq: st.Head, Delivered: st.Delivered, Stored: st.Stored}}
	for _, env := range st.Recent {
		reply.Messages = append(reply.Messages, env.Raw)
	}
	if reply.Sessions, err = h.sessions(ctx, user); err != nil {
		h.rest.fail(c, err)
		return
	}
	if until, err := h.opts.Revocations.RevokedUntil(ctx, user); err == nil && until.After(time.Now()) {
		reply.RevokedUntil = until.Unix()
	}
	c.JSON(http.StatusOK, reply)
}

// sessions lists user's live sessions: those the registry counts, each
// with the position its node answered, then any session a node answered
// that the registry does not count. Nil when neither is available.
func (h *console) sessions(ctx context.Context, user int64) ([]sessionReply, error) {
	var out []sessionReply
	if h.opts.Sessions != nil {
		live, err := h.opts.Sessions(ctx, user)
		if err != nil {
			return nil, app.Errorf(app.EUnavailable, "cannot read the sessions of user %d now", user)
		}
		out = make([]sessionReply, 0, len(live))
		for _, s := range live {
			out = append(out, sessionReply{ID: s.ID, NodeID: s.NodeID, Since: s.Since.Unix()})
		}
	}
	if h.opts.Positions == nil {
		return out, nil
	}
	positions, err := h.opts.Positions(ctx, user)
	if err != nil {
		h.rest.log.WarnContext(ctx, "reading session positions failed", "user_id", user, "err", err)
	}
	if out == nil {
		out = make([]sessionReply, 0, len(positions))
	}
	for _, p := range positions {
		pos := &positionReply{Epoch: p.Epoch, Sent: p.Sent, Acked: p.Acked, Acks: p.Acks, State: p.State}
		i := slices.IndexFunc(out, func(s sessionReply) bool { return p.Session != "" && s.ID == p.Session })
		if i < 0 {
			out = append(out, sessionReply{ID: p.Session, NodeID: p.NodeID, Since: p.SinceMS / 1000})
			i = len(out) - 1
		}
		out[i].Position = pos
	}
	return out, nil
}

// push publishes a test notification (a generic push, type 6) to the
// user: {"title","content"}, checked as POST /api/push checks them.
func (h *console) push(c *gin.Context) {
	user, err := userParam(c)
	if err != nil {
		h.rest.fail(c, err)
		return
	}
	var body struct {
		Title   string `json:"title"`
		Content string `json:"content"`
	}
	if err := decodeJSON(c, h.rest.opts.MaxBodyBytes, &body, false); err != nil {
		h.rest.fail(c, err)
		return
	}
	results, err := h.opts.Push.Push(c.Request.Context(), push.Request{UserIDs: []int64{user}, Title: body.Title,
		Content: body.Content, Detail: json.RawMessage(`{"source":"console"}`)})
	if err != nil {
		h.rest.fail(c, err)
		return
	}
	h.rest.log.InfoContext(c.Request.Context(), "console push", "user_id", user)
	c.JSON(http.StatusOK, pushReply{Results: results})
}
