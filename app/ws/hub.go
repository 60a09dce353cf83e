package ws

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/olahol/melody"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/app/httperr"
	"github.com/houseview/gateway/pkg/jwtauth"
	"github.com/houseview/gateway/pkg/protocol"
)

// Hub owns the node's WebSocket sessions and the registry user -> sessions.
// Delivery never blocks: a message for a user is offered to that user's
// sessions only, and a session that cannot take it catches up from Redis on
// its own goroutine.
type Hub struct {
	opts     Options
	m        *melody.Melody
	history  History
	subs     Subscriptions
	presence Presence
	log      *slog.Logger
	reads    chan struct{} // a token per history read in flight (MaxReads)

	ctx    context.Context // ends when the hub is closed
	cancel context.CancelFunc

	mu    sync.RWMutex
	users map[int64][]*conn
	count int
	conns *sessionConns // melody session -> conn

	draining atomic.Bool
}

// New returns a Hub. presence may be nil.
func New(history History, subs Subscriptions, presence Presence, opts Options) *Hub {
	if opts.Auth == nil {
		panic("ws: Options.Auth is required")
	}
	opts.defaults()
	m := melody.New()
	m.Config.MaxMessageSize = opts.MaxMessageSize
	m.Config.MessageBufferSize = opts.BufferSize
	m.Config.PingPeriod = opts.PingPeriod
	m.Config.PongWait = opts.PongWait
	m.Config.WriteWait = opts.WriteWait
	m.Upgrader.ReadBufferSize = 256 // clients send only small acks
	m.Upgrader.WriteBufferSize = 1024
	m.Upgrader.WriteBufferPool = &sync.Pool{}
	m.Upgrader.CheckOrigin = originChecker(opts.AllowedOrigins)
	m.Upgrader.Error = refuseUpgrade

	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{opts: opts, m: m, history: history, subs: subs, presence: presence, log: opts.Logger,
		reads: make(chan struct{}, opts.MaxReads), ctx: ctx, cancel: cancel, users: map[int64][]*conn{}, conns: newSessionConns()}
	m.HandleConnect(h.onConnect)
	m.HandleDisconnect(h.onDisconnect)
	m.HandleMessage(h.onMessage)
	m.HandleMessageBinary(h.onBinary)
	m.HandleSentMessage(h.onSent)
	m.HandleError(h.onError)
	return h
}

// ServeHTTP authenticates the request and upgrades it: GET /ws?user_id=U
// (insecure mode) or ?token=JWT / Authorization: Bearer (jwt mode), with an
// optional &last_seq=N&epoch=E and &ack=1. Refusals answer before the
// upgrade.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.draining.Load() {
		httperr.Write(w, app.Errorf(app.EUnavailable, "node is shutting down; connect to another node"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if h.opts.Handshakes != nil {
		if err := h.opts.Handshakes.AllowAddr(ctx, LimitHandshake, clientAddr(r)); err != nil {
			httperr.Write(w, err)
			return
		}
	}
	user, exp, token, err := h.authenticate(ctx, r)
	if err != nil {
		httperr.Write(w, err)
		return
	}
	q := r.URL.Query()
	resume, err := resumeFrom(q)
	if err != nil {
		httperr.Write(w, err)
		return
	}
	acks, err := ackMode(q)
	if err != nil {
		httperr.Write(w, err)
		return
	}
	sid, err := h.admitSession(ctx, r, user)
	if err != nil {
		httperr.Write(w, err)
		return
	}
	c := newConn(h, user, resume)
	c.acked, c.sid, c.expires, c.token = acks, sid, exp, token
	// melody runs the whole session inside HandleRequest. Run it on a fresh
	// goroutine and return once the upgrade is done: the HTTP handler's
	// goroutine, its deep stack and net/http's per-connection buffers are
	// then freed instead of held for the session's life (~20 KB per idle
	// connection). onConnect finds c in the request's context.
	up := &upgrading{c: c, done: make(chan struct{})}
	r = r.WithContext(withUpgrading(r.Context(), up))
	returned := make(chan struct{})
	// w and r are arguments, not captures, so that nothing holds them once
	// the upgrade is done.
	go func(w http.ResponseWriter, r *http.Request) {
		defer close(returned)
		if err := h.m.HandleRequest(w, r); err != nil {
			// The upgrader has answered the client already.
			h.log.Debug("websocket upgrade failed", "user_id", user, "err", err)
			h.release(c)
		}
	}(w, r)
	select {
	case <-up.done:
	case <-returned:
	}
}

// connOf is the conn of s: from onConnect until a while after
// onDisconnect, since melody may report a frame sent (which advances the
// delivered cursor) after it reported the session closed.
func (h *Hub) connOf(s *melody.Session) *conn { return h.conns.get(s) }

func (h *Hub) onConnect(s *melody.Session) {
	up := upgradingOf(s.Request.Context())
	c := up.c
	c.s = s
	h.conns.add(s, c)
	s.Request = nil // nothing reads it later; it would pin the headers for the session's life
	close(up.done)
	h.opts.Metrics.CatchUpStarted() // every session starts catching up
	h.add(c)
	h.opts.Metrics.SessionOpened()
	c.startExpiry()
	go c.start()
}

func (h *Hub) onDisconnect(s *melody.Session) {
	c := h.connOf(s)
	if c == nil {
		return
	}
	c.markClosed()
	h.remove(c)
	h.release(c)
	// melody's writer may still report the frame it wrote as the session
	// closed (at most one, right after its write returned): keep s's conn
	// findable a write timeout longer.
	time.AfterFunc(h.opts.WriteWait, func() { h.conns.forget(s) })
	reason := ReasonError
	if r := c.reason.Load(); r != nil {
		reason = *r
	}
	h.opts.Metrics.SessionClosed(reason)
}

func (h *Hub) onSent(s *melody.Session, msg []byte) {
	if c := h.connOf(s); c != nil {
		c.sent(msg)
	}
}

func (h *Hub) onError(s *melody.Session, err error) {
	c := h.connOf(s)
	if c == nil {
		return
	}
	switch {
	case errors.Is(err, melody.ErrMessageBufferFull):
		// Only control frames can get here (data is metered): evict.
		go c.evictWith(protocol.CloseSlowConsumer, ReasonSlowConsumer)
	case errors.Is(err, melody.ErrWriteClosed), errors.Is(err, melody.ErrSessionClosed):
	default:
		c.closedBecause(errorReason(err))
	}
}

// errorReason names the read or write error that ended a session.
func errorReason(err error) string {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		return ReasonClient
	case errors.Is(err, websocket.ErrReadLimit):
		return ReasonTooBig
	case errors.As(err, &ne) && ne.Timeout():
		return ReasonTimeout
	default:
		return ReasonError
	}
}

func (h *Hub) add(c *conn) {
	h.mu.Lock()
	first := len(h.users[c.user]) == 0
	h.users[c.user] = append(h.users[c.user], c)
	h.count++
	n := h.count
	h.mu.Unlock()
	if h.presence != nil {
		h.presence.SetConnections(n)
		if first {
			h.presence.UserOnline(c.user)
		}
	}
}

func (h *Hub) remove(c *conn) {
	h.mu.Lock()
	list := h.users[c.user]
	for i, x := range list {
		if x == c {
			list[i] = list[len(list)-1]
			list = list[:len(list)-1]
			h.count--
			break
		}
	}
	last := len(list) == 0
	if last {
		delete(h.users, c.user)
	} else {
		h.users[c.user] = list
	}
	n := h.count
	h.mu.Unlock()
	if h.presence != nil {
		h.presence.SetConnections(n)
		if last {
			h.presence.UserOffline(c.user)
		}
	}
}

// authenticate returns the user a handshake speaks for (auth.Subscribe),
// when its token expires (zero in insecure mode) and the token's sum
// (tokenSum): the token (?token= or Authorization: Bearer) decides in jwt
// mode, the user_id parameter in insecure mode.
func (h *Hub) authenticate(ctx context.Context, r *http.Request) (int64, time.Time, uint64, error) {
	q := r.URL.Query()
	tok := q.Get("token")
	if tok == "" {
		tok = jwtauth.BearerToken(r.Header.Get("Authorization"))
	}
	caller, err := h.opts.Auth.Authorize(auth.Subscribe, auth.Credentials{Bearer: tok})
	if err != nil {
		return 0, time.Time{}, 0, err
	}
	var claimed int64
	if v := q.Get("user_id"); v != "" {
		if claimed, err = app.ParseUserID(v, "user_id"); err != nil {
			return 0, time.Time{}, 0, err
		}
	}
	user, err := caller.Actor(claimed, "user_id")
	if err != nil {
		return 0, time.Time{}, 0, err
	}
	if caller.Expires().IsZero() {
		return user, time.Time{}, 0, nil
	}
	return user, caller.Expires(), tokenSum(tok), nil
}

// admitSession counts a new session of user before the upgrade and
// returns its id in the registry ("" when not counted). A request that the
// upgrader will refuse (not an upgrade, a foreign origin) is not counted:
// it must not close the user's oldest session.
func (h *Hub) admitSession(ctx context.Context, r *http.Request, user int64) (string, error) {
	if h.opts.Sessions == nil || !websocket.IsWebSocketUpgrade(r) || !h.m.Upgrader.CheckOrigin(r) {
		// Nothing to count: ask auth about a revocation on its own.
		return "", h.opts.Auth.Admit(ctx, user)
	}
	id, until, err := h.opts.Sessions.Admit(ctx, user)
	if err != nil {
		return "", err
	}
	return id, auth.AdmitUntil(user, until)
}

// release stops counting c in the session registry.
func (h *Hub) release(c *conn) {
	if h.opts.Sessions != nil && c.sid != "" {
		h.opts.Sessions.Release(c.user, c.sid)
	}
}

// Revoke closes every session of user on this node with 4003 (an operator
// disconnected the user) and returns how many it closed. It never blocks.
func (h *Hub) Revoke(user int64) int {
	n := 0
	for _, c := range h.sessionsOf(user) {
		if c.isClosed() {
			continue
		}
		n++
		go c.evictWith(protocol.CloseRevoked, ReasonRevoked)
	}
	return n
}

// Evict closes user's session named session with 4008, if this node holds
// it: the user opened more sessions than allowed and it is the oldest (or
// it is no longer counted). It never blocks.
func (h *Hub) Evict(user int64, session string) {
	for _, c := range h.sessionsOf(user) {
		if c.sid == session {
			go c.evictWith(protocol.CloseTooManySessions, ReasonTooManySessions)
		}
	}
}

// Positions returns where each of user's sessions on this node is in the
// user's stream (the operator console shows them). It never blocks on a
// session's writes.
func (h *Hub) Positions(user int64) []app.SessionPosition {
	conns := h.sessionsOf(user)
	out := make([]app.SessionPosition, 0, len(conns))
	for _, c := range conns {
		out = append(out, c.position(h.opts.NodeID))
	}
	return out
}

func (h *Hub) sessionsOf(user int64) []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Clone(h.users[user])
}

// onBinary answers a binary frame with an error frame: the protocol is
// JSON text frames.
func (h *Hub) onBinary(s *melody.Session, _ []byte) {
	if c := h.frameFrom(s); c != nil && c.charge() {
		c.reject("binary frames are not accepted: send JSON text frames")
	}
}

// onMessage handles a client frame. Acks of what was delivered and a
// refresh with the session's own token cost nothing; every other frame is
// charged against the frame rate (conn.charge), and one over it is dropped.
func (h *Hub) onMessage(s *melody.Session, msg []byte) {
	c := h.frameFrom(s)
	if c == nil {
		return
	}
	f, err := decodeFrame(msg)
	if err != nil {
		if c.charge() {
			c.reject(app.ErrorMessage(err))
		}
		return
	}
	switch f.Action {
	case protocol.ActionAck:
		c.onAck(f.Epoch, *f.Seq)
	case protocol.ActionRefresh:
		c.onRefresh(f.Token)
	case protocol.ActionPing:
		if c.charge() {
			_ = c.s.Write(pongFrame)
		}
	case protocol.ActionMark:
		c.onMark(f)
	}
}

// frameFrom returns the session's conn once its connected frame is out
// (a frame read earlier waits for it, so that connected is always the
// first frame the client gets), or nil when the session is closing.
func (h *Hub) frameFrom(s *melody.Session) *conn {
	c := h.connOf(s)
	if c == nil || !c.waitStarted() || c.reason.Load() != nil {
		return nil // closing: frames read meanwhile are ignored
	}
	return c
}

// Deliver offers a message published on its user's channel to the user's
// sessions on this node. It never blocks.
func (h *Hub) Deliver(env *app.Envelope) {
	var counts []byte
	if env.HasCounts {
		counts = inboxFrame(env.Counts)
	}
	h.mu.RLock()
	for _, c := range h.users[env.UserID] {
		c.offer(env)
		if counts != nil {
			c.inbox(counts)
		}
	}
	h.mu.RUnlock()
}

// Inbox tells user's sessions on this node the user's inbox counts (after
// a mark), with one inbox frame encoded once. It never blocks.
func (h *Hub) Inbox(user int64, counts app.InboxCounts) {
	frame := inboxFrame(counts)
	h.mu.RLock()
	for _, c := range h.users[user] {
		c.inbox(frame)
	}
	h.mu.RUnlock()
}

func inboxFrame(counts app.InboxCounts) []byte {
	return mustJSON(protocol.Inbox{Event: protocol.EventInbox, Unseen: counts.Unseen, Unread: counts.Unread})
}

// read reads a page of user's stream, at most MaxReads at once on the
// node.
func (h *Hub) read(ctx context.Context, user int64, from app.Resume) (app.StreamPage, error) {
	select {
	case h.reads <- struct{}{}:
	case <-ctx.Done():
		return app.StreamPage{}, ctx.Err()
	}
	defer func() { <-h.reads }()
	return h.history.Read(ctx, user, from, h.opts.ReplayPage)
}

// errEvicted refuses a session that the session limit closed before its
// node could tell it.
var errEvicted = errors.New("the session limit closed this session")

// check tells whether a session that starts may go on, read once its node
// is subscribed to the user's channel: nil; errEvicted; an
// EPermissionDenied error while the user is revoked; or another error when
// it cannot be told.
func (h *Hub) check(ctx context.Context, user int64, session string) error {
	if h.opts.Sessions == nil || session == "" {
		return h.opts.Auth.Admit(ctx, user)
	}
	check, err := h.opts.Sessions.Check(ctx, user, session)
	switch {
	case err != nil:
		return err
	case check.Evicted:
		return errEvicted
	}
	return auth.AdmitUntil(user, check.RevokedUntil)
}

// Resubscribed makes every session of user catch up from the stored list:
// messages published while the subscription was down never arrived.
func (h *Hub) Resubscribed(user int64) {
	h.mu.RLock()
	for _, c := range h.users[user] {
		c.missedLive()
	}
	h.mu.RUnlock()
}

// Connections returns how many sessions the node holds.
func (h *Hub) Connections() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.count
}

// Drain refuses new sessions and closes the open ones with 1001, spread
// evenly over window so their clients do not reconnect all at once. It
// returns when all are closed or ctx ends.
func (h *Hub) Drain(ctx context.Context, window time.Duration) {
	h.draining.Store(true)
	h.mu.RLock()
	var all []*conn
	for _, list := range h.users {
		all = append(all, list...)
	}
	h.mu.RUnlock()
	if len(all) == 0 {
		return
	}
	// Spread the closes evenly over the window: at every tick, close as
	// many as are due by now (a tick per session would fall behind with
	// thousands of sessions and overrun the window).
	const tick = 10 * time.Millisecond
	start := time.Now()
	t := time.NewTicker(tick)
	defer t.Stop()
	done := 0
	for done < len(all) {
		due := len(all)
		if elapsed := time.Since(start); window > 0 && elapsed < window {
			due = max(1, int(int64(len(all))*int64(elapsed)/int64(window)))
		}
		for ; done < min(due, len(all)); done++ {
			all[done].evictWith(protocol.CloseGoingAway, ReasonDrain)
		}
		if done == len(all) {
			return
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			for _, rest := range all[done:] {
				rest.evictWith(protocol.CloseGoingAway, ReasonDrain)
			}
			return
		}
	}
}

// Close ends every session at once and stops the hub's background work.
func (h *Hub) Close() error {
	h.draining.Store(true)
	h.cancel()
	return h.m.Close()
}
