package ws

import (
	"context"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/websocket"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/pkg/protocol"
)

// clientAddr is the address a handshake is counted against: the
// connection's remote host.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
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

func (h *Hub) sessionsOf(user int64) []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Clone(h.users[user])
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// allowFrame applies the client frame rate (GCRA): FrameRate frames per
// second in bursts of as many. Refused, it returns how long until a frame
// is allowed. Only the session's read goroutine calls it.
func (c *conn) allowFrame(now time.Time) (time.Duration, bool) {
	rate := int64(c.h.opts.FrameRate)
	if rate <= 0 {
		return 0, true
	}
	interval := int64(time.Second) / rate
	t := now.UnixNano()
	tat := max(c.frameTAT, t)
	if wait := tat - t - interval*(rate-1); wait > 0 {
		return time.Duration(wait), false
	}
	c.frameTAT = tat + interval
	return 0, true
}

// startExpiry arms the timer that closes the session with 4001 when its
// token expires.
func (c *conn) startExpiry() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expires.IsZero() || c.closed {
		return
	}
	c.expiry = time.AfterFunc(time.Until(c.expires), func() {
		c.evictWith(protocol.CloseTokenExpired, ReasonTokenExpired)
	})
}

// extend moves the session's expiry to exp (a refreshed token, whose sum
// the session keeps) unless that is earlier than the current one, and
// returns the expiry. It reports false when the session is closing or its
// token has expired already.
func (c *conn) extend(exp time.Time, sum uint64) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.expiry == nil || !c.expiry.Stop() {
		return c.expires, false
	}
	if exp.After(c.expires) {
		c.expires, c.token, c.repeated = exp, sum, false
	}
	c.expiry.Reset(time.Until(c.expires))
	return c.expires, true
}
