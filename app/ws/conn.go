package ws

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/olahol/melody"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/pkg/protocol"
)

// conn is one WebSocket session of a user.
//
// It follows one epoch of the user's stream and is either live (messages
// from the subscription are written as they come) or catching up (a
// goroutine copies the stored stream from Redis into the session, paced by
// the send buffer, while live messages only raise maxSeen). Every session
// starts catching up from its resume point; a gap in the live seqs, a full
// send buffer, a restored subscription or a message of another epoch send
// it back to catching up. Each message is written once, in seq order. When
// the stored stream turns out to have a new epoch (Redis lost the old one),
// the session tells the client with a reset frame and follows the new one
// from its start.
type conn struct {
	h          *Hub
	s          *melody.Session
	user       int64
	resume     app.Position // the client's position; Seq -1: none (the delivered cursor)
	limit      int          // data messages allowed in the send buffer
	done       chan struct{}
	upgraded   chan struct{} // closed once melody has the session
	spaceFreed chan struct{} // a buffered message was written out
	closeOne   sync.Once
	openedMS   int64                  // unix ms of the handshake
	reason     atomic.Pointer[string] // why the session closed (first cause wins)
	sid        string                 // the session's id in the SessionRegistry ("" when not counted)
	frameTAT   int64                  // client frame rate: theoretical arrival time, unix ns (the read goroutine's)
	strikes    int                    // frames refused in a row by the frame rate (the read goroutine's)

	mu         sync.Mutex
	started    bool          // the connected frame is in the send buffer
	ready      chan struct{} // closed once started, made only for a frame that came earlier
	closed     bool
	subscribed bool
	catching   bool
	acked      bool   // the client acknowledges: only its acks advance the delivered cursor
	ackSeq     int64  // the highest seq of epoch the client acknowledged (or the resume point)
	epoch      string // the epoch of the stream the session follows ("" until the first read)
	last       int64  // highest seq handed to the send buffer
	maxSeen    int64  // highest live seq of epoch seen while catching up
	reread     bool   // read the stream once more before going live
	inflight   sentQueue
	expires    time.Time   // when the session's token expires (zero: never, insecure mode)
	token      uint64      // tokenSum of the token that set expires (0: none)
	repeated   bool        // a refresh sent that token again (answered once for free)
	expiry     *time.Timer // closes the session at expires (nil without a token)
}

func newConn(h *Hub, user int64, resume app.Position) *conn {
	return &conn{h: h, user: user, resume: resume, limit: max(h.opts.BufferSize-controlSlots, 1),
		done: make(chan struct{}), upgraded: make(chan struct{}), spaceFreed: make(chan struct{}, 1), catching: true,
		openedMS: time.Now().UnixMilli()}
}

// controlSlots of the send buffer are kept for control frames (connected,
// reset, error): data messages never fill them.
const controlSlots = 8

// start subscribes, sends the connected frame and replays from the resume
// point (the client's position, or the user's delivered cursor).
func (c *conn) start() {
	ctx, cancel := context.WithTimeout(c.h.ctx, 10*time.Second)
	defer cancel()
	if err := c.h.subs.Acquire(ctx, c.user); err != nil {
		c.h.log.Warn("subscribe failed", "user_id", c.user, "err", err)
		c.evictWith(protocol.CloseTryAgain, ReasonRedisUnavailable)
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.h.subs.Release(c.user)
		return
	}
	c.subscribed = true
	c.mu.Unlock()
	page, check, err := c.h.open(ctx, c.user, c.resume, c.sid)
	if err != nil {
		c.h.log.Warn("read history failed", "user_id", c.user, "err", err)
		c.evictWith(protocol.CloseTryAgain, ReasonRedisUnavailable)
		return
	}
	// A revocation (with until) or an eviction by the session limit
	// published before this node subscribed did not reach this session;
	// both are written before their control message is published, and are
	// read with the history, after the subscription.
	if auth.AdmitUntil(c.user, check.RevokedUntil) != nil {
		c.evictWith(protocol.CloseRevoked, ReasonRevoked)
		return
	}
	if check.Evicted {
		c.evictWith(protocol.CloseTooManySessions, ReasonTooManySessions)
		return
	}
	hello := protocol.Connected{Event: protocol.EventConnected, NodeID: c.h.opts.NodeID, UserID: c.user, Epoch: page.Epoch,
		LastSeq: page.After, HeadSeq: page.Head, Truncated: page.Truncated, Reset: page.Reset,
		HeartbeatMS: c.h.opts.PingPeriod.Milliseconds(), Reconnect: c.h.opts.Reconnect}
	if page.Reset {
		c.h.opts.Metrics.StreamReset()
	}
	c.mu.Lock()
	if !c.expires.IsZero() {
		hello.Exp = c.expires.Unix()
	}
	c.mu.Unlock()
	b, _ := json.Marshal(hello)
	c.mu.Lock()
	c.epoch, c.last, c.ackSeq = page.Epoch, page.After, page.After
	err = c.s.Write(b)
	c.started = true
	if c.ready != nil {
		close(c.ready)
	}
	c.mu.Unlock()
	if err != nil {
		return
	}
	c.catchUp(&page)
}

// offer takes a live message. It never blocks.
func (c *conn) offer(env *app.Envelope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		c.h.opts.Metrics.MessageDropped(DropClosed)
	case env.Epoch != c.epoch:
		// The stream was recreated, or this is a late message of the old
		// one: the stored stream says which epoch is current.
		c.catchUpLocked()
	case c.catching:
		c.maxSeen = max(c.maxSeen, env.Seq)
	case env.Seq <= c.last:
		c.h.opts.Metrics.MessageDropped(DropDuplicate) // already written (replay raced the live copy)
	case env.Seq == c.last+1 && c.inflight.n < c.limit:
		c.write(env)
	default:
		// A gap (lost on the wire) or a full buffer: read it from Redis.
		c.maxSeen = env.Seq
		c.catchUpLocked()
	}
}

// missedLive sends a live session to catch up: messages may have been lost
// on the wire (the subscription was restored).
func (c *conn) missedLive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || !c.subscribed {
		return
	}
	c.catchUpLocked()
}

// catchUpLocked starts a catch-up, or makes the running one read the stream
// once more: it may have read it before what is now missing. c.mu is held.
func (c *conn) catchUpLocked() {
	if c.catching {
		c.reread = true
		return
	}
	c.setCatching(true)
	go c.catchUp(nil)
}

// setCatching switches catch-up mode and tells the metrics. c.mu is held.
func (c *conn) setCatching(on bool) {
	if c.catching == on {
		return
	}
	c.catching = on
	if on {
		c.h.opts.Metrics.CatchUpStarted()
	} else {
		c.h.opts.Metrics.CatchUpEnded()
	}
}

// write hands a message to melody's send buffer and reports whether it
// could. c.mu is held.
func (c *conn) write(env *app.Envelope) bool {
	if err := c.s.Write(env.Raw); err != nil {
		c.h.opts.Metrics.MessageDropped(DropClosed)
		return false
	}
	c.inflight.push(env, c.limit)
	c.last = env.Seq
	return true
}

// sent is melody telling that a text frame reached the socket. For a data
// message it advances the delivered cursor (unless the client acks) and
// counts the delivery; one written as the session closed was counted as
// dropped already (markClosed).
func (c *conn) sent(frame []byte) {
	c.mu.Lock()
	env := c.inflight.pop(frame)
	closed, acked := c.closed, c.acked
	c.mu.Unlock()
	if env == nil {
		return // a control frame
	}
	if !acked {
		c.h.history.Advance(c.user, app.Position{Epoch: env.Epoch, Seq: env.Seq})
	}
	if !closed {
		m := c.h.opts.Metrics
		m.MessageDelivered()
		if env.TS > c.openedMS {
			m.DeliveryLatency(max(time.Since(time.UnixMilli(env.TS)), 0))
		}
	}
	select {
	case c.spaceFreed <- struct{}{}:
	default:
	}
}

// catchUp copies stored messages after c.last into the session, then goes
// live. first, when not nil, is the first page, read already.
func (c *conn) catchUp(first *app.StreamPage) {
	page := first
	for attempt, spins := 0, 0; ; {
		if page == nil {
			c.mu.Lock()
			from, closed := app.Position{Epoch: c.epoch, Seq: c.last}, c.closed
			c.mu.Unlock()
			if closed {
				return
			}
			ctx, cancel := context.WithTimeout(c.h.ctx, 5*time.Second)
			next, err := c.h.read(ctx, c.user, from)
			cancel()
			if err != nil {
				attempt++
				c.h.log.Warn("catch-up read failed; retrying", "user_id", c.user, "attempt", attempt, "err", err)
				if !c.pause(backoff(attempt)) {
					return
				}
				continue
			}
			attempt = 0
			switch {
			case next.Reset:
				if !c.resync(next) {
					return
				}
			case next.Truncated:
				// Fell out of the stored window: the client must resume
				// to be told so.
				c.evictWith(protocol.CloseBehindHistory, ReasonBehindHistory)
				return
			}
			page = &next
		}
		for _, env := range page.Messages {
			if !c.waitRoom() {
				return
			}
			c.mu.Lock()
			if c.closed {
				c.mu.Unlock()
				return
			}
			if env.Seq == c.last+1 && c.write(env) {
				c.h.opts.Metrics.MessageReplayed()
			}
			c.mu.Unlock()
		}
		full, empty := len(page.Messages) >= c.h.opts.ReplayPage, len(page.Messages) == 0
		page = nil
		if full {
			continue
		}
		c.mu.Lock()
		if c.reread {
			c.reread = false
			c.mu.Unlock()
			continue
		}
		if c.last >= c.maxSeen || c.closed {
			c.setCatching(false)
			c.maxSeen = 0
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		// A live seq the list does not hold yet is only ever a moment
		// away (the list is written before the publish): retry, bounded.
		if empty {
			if spins++; spins > 50 {
				c.evictWith(protocol.CloseBehindHistory, ReasonBehindHistory)
				return
			}
			if !c.pause(10 * time.Millisecond) {
				return
			}
		}
	}
}

// resync makes the session follow the stream's new epoch from where page
// starts, and tells the client with a reset frame: what it stored for the
// old epoch is void. It reports whether the session is still open.
func (c *conn) resync(page app.StreamPage) bool {
	b := mustJSON(protocol.Reset{Event: protocol.EventReset, Epoch: page.Epoch, LastSeq: page.After, HeadSeq: page.Head,
		Truncated: page.Truncated})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.epoch, c.last, c.ackSeq, c.maxSeen = page.Epoch, page.After, page.After, 0
	c.h.opts.Metrics.StreamReset()
	return c.s.Write(b) == nil
}

// waitRoom waits until the send buffer has room, evicting the session when
// it makes no progress for SlowTimeout.
func (c *conn) waitRoom() bool {
	timer := time.NewTimer(c.h.opts.SlowTimeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		ok, closed := c.inflight.n < c.limit, c.closed
		c.mu.Unlock()
		if closed {
			return false
		}
		if ok {
			return true
		}
		select {
		case <-c.spaceFreed:
			if !timer.Stop() {
				<-timer.C
			}
			timer.Reset(c.h.opts.SlowTimeout)
		case <-timer.C:
			c.evictWith(protocol.CloseSlowConsumer, ReasonSlowConsumer)
			return false
		case <-c.done:
			return false
		}
	}
}

// pause waits d unless the session ends first.
func (c *conn) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.done:
		return false
	}
}

func backoff(attempt int) time.Duration {
	return min(100*time.Millisecond<<min(attempt, 5), 3*time.Second)
}

// evictWith sends a close frame of code (with its text from the
// protocol's table) straight to the socket (not through the send buffer,
// which may be full) and closes it. A client whose socket is jammed sees
// the connection drop instead of the frame. why is the Reason* label.
func (c *conn) evictWith(code int, why string) {
	c.closeOne.Do(func() {
		c.closedBecause(why)
		ws := c.s.WebsocketConnection()
		msg := websocket.FormatCloseMessage(code, protocol.Close(code).Reason)
		_ = ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		_ = ws.Close()
	})
}

// closedBecause records why the session closes, unless a cause is known.
// Once the hub is closed, every cause is the shutdown.
func (c *conn) closedBecause(why string) {
	if c.h.ctx.Err() != nil {
		why = ReasonShutdown
	}
	c.reason.CompareAndSwap(nil, &why)
}

// markClosed marks the session closed and gives back its subscription.
func (c *conn) markClosed() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.setCatching(false)
	if c.expiry != nil {
		c.expiry.Stop()
	}
	subscribed := c.subscribed
	unsent := c.inflight.n
	c.mu.Unlock()
	for range unsent {
		c.h.opts.Metrics.MessageDropped(DropUnsent)
	}
	close(c.done)
	if subscribed {
		c.h.subs.Release(c.user)
	}
}

// sentQueue holds the data messages in melody's send buffer, oldest first,
// so that melody's "sent" callback finds the message it wrote without
// parsing it again. Its ring is allocated on the first write.
type sentQueue struct {
	ring []*app.Envelope
	head int
	n    int
}

func (q *sentQueue) push(env *app.Envelope, size int) {
	if q.ring == nil {
		q.ring = make([]*app.Envelope, size)
	}
	q.ring[(q.head+q.n)%len(q.ring)] = env
	q.n++
}

// pop removes and returns the oldest message if frame is its bytes (melody
// writes in order); a frame that is not is a control frame: nil.
func (q *sentQueue) pop(frame []byte) *app.Envelope {
	if q.n == 0 || len(frame) == 0 {
		return nil
	}
	env := q.ring[q.head]
	if len(env.Raw) == 0 || &env.Raw[0] != &frame[0] {
		return nil
	}
	q.ring[q.head] = nil
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return env
}
