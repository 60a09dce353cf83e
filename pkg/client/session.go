package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/pkg/protocol"
)

// frame is any frame the gateway sends, decoded once: a control frame
// (Event set) or a notification (Seq set).
type frame struct {
	protocol.ServerFrame
	Detail json.RawMessage `json:"detail"`
}

func (f *frame) info() ConnectedInfo {
	return ConnectedInfo{NodeID: f.NodeID, UserID: f.UserID, Epoch: f.Epoch, LastSeq: f.LastSeq, HeadSeq: f.HeadSeq,
		Truncated: f.Truncated, Reset: f.Reset, Exp: f.Exp, HeartbeatMS: f.HeartbeatMS, Reconnect: f.Reconnect,
		Counts: Counts{Unseen: f.Unseen, Unread: f.Unread}}
}

// HandshakeError is a handshake the gateway refused, with its answer.
type HandshakeError struct {
	Status  int
	Code    string
	Message string
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("handshake refused: %d %s: %s", e.Status, e.Code, e.Message)
}

// session runs one WebSocket until it ends; first (when not nil) gets nil
// once the connected frame came.
func (c *Client) session(first chan<- error) outcome {
	token, err := c.token(c.ctx)
	if err != nil {
		c.emit(Event{Kind: Error, Err: fmt.Errorf("token: %w", err)})
		return outcome{}
	}
	if err := c.learnUser(tokenUser(token)); err != nil {
		c.emit(Event{Kind: Error, Err: err})
	}
	conn, resp, err := c.opts.Dialer.DialContext(c.ctx, c.url(token), c.opts.Header)
	if err != nil {
		if resp == nil {
			c.emit(Event{Kind: Error, Err: err})
			return outcome{code: protocol.CloseAbnormal}
		}
		herr := handshakeError(resp, err)
		c.emit(Event{Kind: Error, Err: herr})
		r := outcome{code: protocol.CloseAbnormal, status: herr.Status, refusal: herr}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			r.retryAfter = time.Duration(s) * time.Second
		}
		return r
	}
	s := &liveSession{c: c, conn: conn, token: token}
	defer s.end()
	stop := context.AfterFunc(c.ctx, func() { conn.Close() })
	defer stop()
	connected, code, _ := s.read(first)
	return outcome{connected: connected, code: code}
}

// handshakeError reads the gateway's error body of a refused handshake.
func handshakeError(resp *http.Response, err error) *HandshakeError {
	defer resp.Body.Close()
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	h := &HandshakeError{Status: resp.StatusCode, Message: err.Error()}
	if json.Unmarshal(b, &body) == nil && body.Error.Code != "" {
		h.Code, h.Message = body.Error.Code, body.Error.Message
	}
	return h
}

// liveSession is one open WebSocket: its writes, timers and acks.
type liveSession struct {
	c     *Client
	conn  *websocket.Conn
	token string

	lastRead  atomic.Int64 // unix ns of the last frame, ping or pong
	pinged    atomic.Bool  // a ping is out since the last read
	ackArmed  atomic.Bool  // the ack timer runs
	wmu       sync.Mutex   // one writer at a time
	watchdog  *time.Timer
	ack       *time.Timer
	acked     Position      // the last position acknowledged (under c.mu)
	pingEvery time.Duration // silence that sends a ping (PingInterval or from heartbeat_ms)

	rmu        sync.Mutex  // guards the refresh state
	refresh    *time.Timer // asks TokenFunc for the next token
	exp        int64       // unix s the session's token expires at
	refreshing string      // a token sent in a refresh frame, not answered yet
}

// read handles frames until the connection ends; it reports whether the
// connected frame came and the close code.
func (s *liveSession) read(first chan<- error) (connected bool, code int, err error) {
	s.startTimers()
	for {
		_, b, err := s.conn.ReadMessage()
		if err != nil {
			code = protocol.CloseAbnormal
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				code = ce.Code
			}
			if s.c.ctx.Err() == nil {
				s.c.emit(Event{Kind: Disconnected, Code: code, Err: err})
			}
			return connected, code, err
		}
		s.alive()
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			s.c.emit(Event{Kind: Error, Err: fmt.Errorf("unreadable frame: %w", err)})
			continue
		}
		if !s.handle(&f, b) {
			return connected, 0, s.c.ctx.Err()
		}
		if f.Event == protocol.EventConnected {
			connected = true
			if first != nil {
				first <- nil // Dial returns: the position is taken
				first = nil
			}
		}
	}
}

// startTimers sets up the session's liveness (pings both ways) and the
// ack timer.
func (s *liveSession) startTimers() {
	s.pingEvery = s.c.opts.PingInterval
	if s.pingEvery <= 0 {
		s.pingEvery = defaultPingInterval
	}
	s.alive()
	s.conn.SetPongHandler(func(string) error { s.alive(); return nil })
	s.conn.SetPingHandler(func(data string) error {
		s.alive()
		s.wmu.Lock()
		defer s.wmu.Unlock()
		err := s.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	s.watchdog = time.AfterFunc(s.pingEvery, s.watch)
	s.ack = time.AfterFunc(time.Hour, s.sendAck)
	s.ack.Stop()
}

// handle acts on one frame (raw: its bytes) and reports whether the
// client still runs.
func (s *liveSession) handle(f *frame, raw []byte) bool {
	c := s.c
	switch f.Event {
	case protocol.EventConnected:
		c.connects.Add(1)
		s.connected(f.info())
	case protocol.EventReset:
		s.reset(f.info())
	case protocol.EventInbox:
		counts := Counts{Unseen: f.Unseen, Unread: f.Unread}
		c.mu.Lock()
		c.counts = counts
		c.mu.Unlock()
		c.emit(Event{Kind: Inbox, Counts: counts})
	case protocol.EventRefreshed:
		s.refreshed(f.Exp)
		c.emit(Event{Kind: Refreshed, Info: ConnectedInfo{Exp: f.Exp}})
	case protocol.EventError:
		if f.Limit != "" {
			s.limited(time.Duration(f.RetryAfterMS) * time.Millisecond)
		}
		c.emit(Event{Kind: Error, Err: fmt.Errorf("gateway: %s: %s", f.Code, f.Message)})
	case "":
		n := Notification{Notification: f.Notification, Detail: f.Detail, Raw: raw}
		if f.Seq > 0 && !s.deliver(&n) {
			return false
		}
	}
	return true
}

// Liveness defaults: without Options.PingInterval the client pings after
// the gateway's advised heartbeat plus a margin (the gateway's own pings
// normally come first, so an idle client sends nothing).
const (
	defaultPingInterval = 20 * time.Second
	heartbeatMargin     = 5 * time.Second
	writeWait           = 10 * time.Second
)

func (s *liveSession) alive() {
	s.lastRead.Store(time.Now().UnixNano())
	s.pinged.Store(false)
}

// watch runs when the connection may have been silent for pingEvery: it
// pings a connection silent that long, and closes one that stayed silent
// PongTimeout after the ping.
func (s *liveSession) watch() {
	o := s.c.opts
	silent := time.Since(time.Unix(0, s.lastRead.Load()))
	switch {
	case silent < s.pingEvery:
		s.watchdog.Reset(s.pingEvery - silent)
	case !s.pinged.Load():
		s.pinged.Store(true)
		s.wmu.Lock()
		err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(o.PongTimeout))
		s.wmu.Unlock()
		if err == nil {
			s.watchdog.Reset(o.PongTimeout)
		}
	case silent >= s.pingEvery+o.PongTimeout:
		s.c.emit(Event{Kind: Error, Err: fmt.Errorf("no answer to a ping within %v: closing the connection", o.PongTimeout)})
		s.conn.Close() // the read fails, and a reconnect follows
	default:
		s.watchdog.Reset(s.pingEvery + o.PongTimeout - silent)
	}
}

// connected takes the gateway's position from a connected frame.
func (s *liveSession) connected(info ConnectedInfo) {
	c := s.c
	if err := c.learnUser(info.UserID); err != nil {
		c.emit(Event{Kind: Error, Err: err})
	}
	c.mu.Lock()
	if info.Reconnect.MaxMS > 0 {
		c.advice = info.Reconnect
	}
	old, known := c.pos, c.known
	kind := EventKind("")
	switch {
	case info.Reset || (known && old.Epoch != "" && old.Epoch != info.Epoch):
		kind = Reset
	case info.Truncated || (known && info.LastSeq > old.Seq):
		kind = Truncated
	}
	c.pos, c.known = Position{Epoch: info.Epoch, Seq: info.LastSeq}, true
	s.acked = c.pos
	c.counts, c.live = info.Counts, s
	c.mu.Unlock()
	if c.opts.PingInterval <= 0 && info.HeartbeatMS > 0 {
		s.pingEvery = time.Duration(info.HeartbeatMS)*time.Millisecond + heartbeatMargin
	}
	s.save()
	c.emit(Event{Kind: Connected, Info: info, Counts: info.Counts})
	if kind != "" {
		c.emit(Event{Kind: kind, Info: info, Counts: info.Counts})
	}
	s.scheduleRefresh(info.Exp)
}

func (s *liveSession) reset(info ConnectedInfo) {
	c := s.c
	c.mu.Lock()
	c.pos, c.known = Position{Epoch: info.Epoch, Seq: info.LastSeq}, true
	s.acked = c.pos
	c.counts = info.Counts
	c.mu.Unlock()
	s.save()
	c.emit(Event{Kind: Reset, Info: info, Counts: info.Counts})
}

// deliver hands a notification over once (a seq not above the position in
// the same epoch is a duplicate) and reports whether the client still runs.
func (s *liveSession) deliver(n *Notification) bool {
	c := s.c
	c.mu.Lock()
	pos := c.pos
	c.mu.Unlock()
	if n.Epoch == pos.Epoch && n.Seq <= pos.Seq {
		c.duplicates.Add(1)
		return true
	}
	if n.Epoch != pos.Epoch && pos.Epoch != "" {
		// A notification of another epoch always follows a reset frame;
		// if one did not, follow the stream anyway.
		c.emit(Event{Kind: Reset, Info: ConnectedInfo{Epoch: n.Epoch, LastSeq: n.Seq - 1}})
	}
	select {
	case c.notes <- *n:
	case <-c.ctx.Done():
		return false
	}
	c.mu.Lock()
	c.pos, c.known = Position{Epoch: n.Epoch, Seq: n.Seq}, true
	c.mu.Unlock()
	c.delivered.Add(1)
	s.save()
	switch {
	case c.opts.NoAck:
	case c.opts.AckEach:
		_ = s.ackNow()
	case s.ackArmed.CompareAndSwap(false, true):
		s.ack.Reset(c.opts.AckInterval)
	}
	return true
}

func (s *liveSession) save() {
	c := s.c
	if c.opts.Store == nil {
		return
	}
	c.mu.Lock()
	user, pos := c.user, c.pos
	c.mu.Unlock()
	if user == 0 {
		return
	}
	if err := c.opts.Store.Save(user, pos); err != nil {
		c.emit(Event{Kind: Error, Err: fmt.Errorf("save position: %w", err)})
	}
}

// sendAck acknowledges what was handed over since the last ack.
func (s *liveSession) sendAck() {
	s.ackArmed.Store(false)
	_ = s.ackNow()
}

// ackNow sends an ack for the position if it moved since the last one.
func (s *liveSession) ackNow() error {
	c := s.c
	c.mu.Lock()
	pos, acked := c.pos, s.acked
	c.mu.Unlock()
	if pos.Seq <= 0 || pos == acked {
		return nil
	}
	if err := s.write(mustJSON(protocol.Ack{Action: protocol.ActionAck, Seq: pos.Seq, Epoch: pos.Epoch})); err != nil {
		return err
	}
	c.mu.Lock()
	s.acked = pos
	c.mu.Unlock()
	return nil
}

// scheduleRefresh arms the refresh of a token that expires at exp (unix
// seconds) by the protocol's rule (protocol.RefreshDelay), when TokenFunc
// can give a new one.
func (s *liveSession) scheduleRefresh(exp int64) {
	c := s.c
	if exp <= 0 || c.opts.TokenFunc == nil {
		return
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.exp = exp
	if s.refresh != nil {
		s.refresh.Stop()
	}
	d, ok := protocol.RefreshDelay(time.Now(), time.Unix(exp, 0), c.opts.RefreshBefore)
	if !ok {
		return // too late: the session ends with 4001 and the reconnect gets a new token
	}
	s.refresh = time.AfterFunc(d, s.refreshNow)
}

// refreshNow asks TokenFunc for a token and sends it, once per token: the
// session's own token handed back (a caching source) is not sent, and
// TokenFunc is asked again by the same rule.
func (s *liveSession) refreshNow() {
	c := s.c
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	tok, err := c.opts.TokenFunc(ctx)
	cancel()
	s.rmu.Lock()
	exp := s.exp
	same := err == nil && tok == s.token
	if err == nil && !same {
		s.token, s.refreshing = tok, tok
	}
	s.rmu.Unlock()
	if err != nil || same {
		if err != nil {
			c.emit(Event{Kind: Error, Err: fmt.Errorf("refresh token: %w", err)})
		}
		s.scheduleRefresh(exp)
		return
	}
	_ = s.write(mustJSON(protocol.Refresh{Action: protocol.ActionRefresh, Token: tok}))
}

func (s *liveSession) refreshed(exp int64) {
	s.rmu.Lock()
	s.refreshing = ""
	s.rmu.Unlock()
	s.scheduleRefresh(exp)
}

// limited follows an error frame of a limit: a refresh it dropped is sent
// again after retry.
func (s *liveSession) limited(retry time.Duration) {
	s.rmu.Lock()
	tok := s.refreshing
	s.rmu.Unlock()
	if tok == "" {
		return
	}
	time.AfterFunc(retry, func() {
		s.rmu.Lock()
		again := s.refreshing == tok
		s.rmu.Unlock()
		if again {
			_ = s.write(mustJSON(protocol.Refresh{Action: protocol.ActionRefresh, Token: tok}))
		}
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (s *liveSession) write(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return s.conn.WriteMessage(websocket.TextMessage, b)
}

func (s *liveSession) end() {
	s.c.mu.Lock()
	if s.c.live == s {
		s.c.live = nil
	}
	s.c.mu.Unlock()
	s.rmu.Lock()
	refresh := s.refresh
	s.exp = 0
	s.rmu.Unlock()
	for _, t := range []*time.Timer{s.watchdog, s.ack, refresh} {
		if t != nil {
			t.Stop()
		}
	}
	if !s.c.opts.NoAck && s.c.ctx.Err() != nil {
		_ = s.ackNow() // the last acknowledgement on Close
	}
	s.conn.Close()
}
