package ws

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/olahol/melody"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
)

// conn is one WebSocket session of a user.
//
// It is either live (messages from the subscription are written as they
// come) or catching up (a goroutine copies the stored list from Redis into
// the session, paced by the send buffer, while live messages only raise
// maxSeen). Every session starts catching up from its resume point; a gap
// in the live seqs, a full send buffer or a restored subscription send it
// back to catching up. Each message is written once, in seq order.
type conn struct {
	h        *Hub
	s        *melody.Session
	user     int64
	resume   int64 // last_seq from the client, or -1
	cap      int   // data messages allowed in the send buffer
	done     chan struct{}
	upgraded chan struct{} // closed once melody has the session
	room     chan struct{} // a buffered message was written out
	closeOne sync.Once
	openedMS int64                  // unix ms of the handshake
	reason   atomic.Pointer[string] // why the session closed (first cause wins)

	mu         sync.Mutex
	closed     bool
	subscribed bool
	catching   bool
	last       int64 // highest seq handed to the send buffer
	maxSeen    int64 // highest live seq seen while catching up
	again      bool  // read the list once more before going live
	inflight   int   // data messages in the send buffer
}

func newConn(h *Hub, user int64, lastSeq string) (*conn, error) {
	resume := int64(-1)
	if lastSeq != "" {
		n, err := strconv.ParseInt(lastSeq, 10, 64)
		if err != nil || n < 0 {
			return nil, app.Errorf(app.EInvalidArgument, "last_seq must be a non-negative integer")
		}
		resume = n
	}
	return &conn{h: h, user: user, resume: resume, cap: max(h.opts.BufferSize-8, 1),
		done: make(chan struct{}), upgraded: make(chan struct{}), room: make(chan struct{}, 1), catching: true,
		openedMS: time.Now().UnixMilli()}, nil
}

// connected is the first frame of every session.
type connected struct {
	Event       string    `json:"event"`
	NodeID      string    `json:"node_id"`
	UserID      int64     `json:"user_id"`
	LastSeq     int64     `json:"last_seq"`
	HeadSeq     int64     `json:"head_seq"`
	Truncated   bool      `json:"truncated"`
	Reset       bool      `json:"reset"`
	HeartbeatMS int64     `json:"heartbeat_ms"`
	Reconnect   Reconnect `json:"reconnect"`
}

// start subscribes, sends the connected frame and replays from the resume
// point (the client's last_seq, or the user's delivered cursor).
func (c *conn) start() {
	ctx, cancel := context.WithTimeout(c.h.ctx, 10*time.Second)
	defer cancel()
	if err := c.h.subs.Acquire(ctx, c.user); err != nil {
		c.h.log.Warn("subscribe failed", "user_id", c.user, "err", err)
		c.evict(CloseTryAgain, ReasonRedisUnavailable, "cannot subscribe, try again later")
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

	after := c.resume
	if after < 0 {
		var err error
		if after, err = c.h.cursors.Get(ctx, c.user); err != nil {
			c.h.log.Warn("read cursor failed", "user_id", c.user, "err", err)
			c.evict(CloseTryAgain, ReasonRedisUnavailable, "cannot read history, try again later")
			return
		}
	}
	page, err := c.h.history.Tail(ctx, c.user, after, c.h.opts.ReplayPage)
	if err != nil {
		c.h.log.Warn("read history failed", "user_id", c.user, "err", err)
		c.evict(CloseTryAgain, ReasonRedisUnavailable, "cannot read history, try again later")
		return
	}
	hello := connected{Event: "connected", NodeID: c.h.opts.NodeID, UserID: c.user, LastSeq: after,
		HeadSeq: page.Head, Truncated: page.Truncated, HeartbeatMS: c.h.opts.PingPeriod.Milliseconds(),
		Reconnect: c.h.opts.Reconnect}
	if after > page.Head {
		// The client is ahead of the server: the seq space was reset (a
		// Redis without persistence restarted). Replay all that is stored.
		hello.Reset, after = true, 0
		if page, err = c.h.history.Tail(ctx, c.user, 0, c.h.opts.ReplayPage); err != nil {
			c.evict(CloseTryAgain, ReasonRedisUnavailable, "cannot read history, try again later")
			return
		}
	}
	if page.Truncated && len(page.Messages) > 0 {
		if first, ok := redis.Seq(page.Messages[0]); ok {
			after = first - 1
		}
	}
	b, _ := json.Marshal(hello)
	c.mu.Lock()
	c.last = after
	c.mu.Unlock()
	if err := c.s.Write(b); err != nil {
		return
	}
	c.catchUp(page)
}

// offer takes a live message. It never blocks.
func (c *conn) offer(seq int64, msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		c.h.opts.Metrics.MessageDropped(DropClosed)
	case c.catching:
		c.maxSeen = max(c.maxSeen, seq)
	case seq <= c.last:
		c.h.stats.duplicates.Add(1) // already written (replay raced the live copy)
		c.h.opts.Metrics.MessageDropped(DropDuplicate)
	case seq == c.last+1 && c.inflight < c.cap:
		c.write(seq, msg)
	default:
		// A gap (lost on the wire) or a full buffer: read it from Redis.
		c.maxSeen = seq
		c.setCatching(true)
		go c.catchUp(redis.Tail{})
	}
}

// behind sends a live session to catch up (after a resubscription).
func (c *conn) behind() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || !c.subscribed {
		return
	}
	if c.catching {
		// The running catch-up may have read the list before what was
		// lost: make it read again.
		c.again = true
		return
	}
	c.setCatching(true)
	go c.catchUp(redis.Tail{})
}

// setCatching switches catch-up mode and keeps the hub's count. c.mu is held.
func (c *conn) setCatching(on bool) {
	if c.catching == on {
		return
	}
	c.catching = on
	if on {
		c.h.stats.catching.Add(1)
	} else {
		c.h.stats.catching.Add(-1)
	}
}

// write hands msg to melody's send buffer and reports whether it could.
// c.mu is held.
func (c *conn) write(seq int64, msg []byte) bool {
	if err := c.s.Write(msg); err != nil {
		c.h.opts.Metrics.MessageDropped(DropClosed)
		return false
	}
	c.last = seq
	c.inflight++
	c.h.stats.written.Add(1)
	return true
}

// sent is melody telling that a data message reached the socket. One
// written as the session closed was counted as dropped already (shut).
func (c *conn) sent(seq int64, msg []byte) {
	c.mu.Lock()
	c.inflight--
	closed := c.closed
	c.mu.Unlock()
	c.h.cursors.Advance(c.user, seq)
	if !closed {
		m := c.h.opts.Metrics
		m.MessageDelivered()
		if ts, ok := redis.Timestamp(msg); ok && ts > c.openedMS {
			m.DeliveryLatency(max(time.Since(time.UnixMilli(ts)), 0))
		}
	}
	select {
	case c.room <- struct{}{}:
	default:
	}
}

// catchUp copies stored messages after c.last into the session, then goes
// live. first, when it holds messages, is the first page already read.
func (c *conn) catchUp(first redis.Tail) {
	page, initial := first, first.Messages != nil
	for attempt, spins := 0, 0; ; {
		if page.Messages == nil {
			c.mu.Lock()
			after, closed := c.last, c.closed
			c.mu.Unlock()
			if closed {
				return
			}
			ctx, cancel := context.WithTimeout(c.h.ctx, 5*time.Second)
			var err error
			page, err = c.h.history.Tail(ctx, c.user, after, c.h.opts.ReplayPage)
			cancel()
			if err != nil {
				attempt++
				c.h.log.Warn("catch-up read failed; retrying", "user_id", c.user, "attempt", attempt, "err", err)
				if !c.pause(backoff(attempt)) {
					return
				}
				page = redis.Tail{}
				continue
			}
			attempt = 0
			if page.Head < after || (page.Truncated && !initial) {
				// Reset or fell out of the stored window: the client must
				// resume to be told so.
				c.evict(CloseSlowConsumer, ReasonBehindHistory, "behind the stored history, resume with last_seq")
				return
			}
		}
		initial = false
		for _, msg := range page.Messages {
			seq, ok := redis.Seq(msg)
			if !ok {
				continue
			}
			if !c.waitRoom() {
				return
			}
			c.mu.Lock()
			if c.closed {
				c.mu.Unlock()
				return
			}
			if seq == c.last+1 && c.write(seq, msg) {
				c.h.stats.replayed.Add(1)
				c.h.opts.Metrics.MessageReplayed()
			}
			c.mu.Unlock()
		}
		full, empty := len(page.Messages) >= c.h.opts.ReplayPage, len(page.Messages) == 0
		page = redis.Tail{}
		if full {
			continue
		}
		c.mu.Lock()
		if c.again {
			c.again = false
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
				c.evict(CloseSlowConsumer, ReasonBehindHistory, "history out of step, resume with last_seq")
				return
			}
			if !c.pause(10 * time.Millisecond) {
				return
			}
		}
	}
}

// waitRoom waits until the send buffer has room, evicting the session when
// it makes no progress for SlowTimeout.
func (c *conn) waitRoom() bool {
	timer := time.NewTimer(c.h.opts.SlowTimeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		ok, closed := c.inflight < c.cap, c.closed
		c.mu.Unlock()
		if closed {
			return false
		}
		if ok {
			return true
		}
		select {
		case <-c.room:
			if !timer.Stop() {
				<-timer.C
			}
			timer.Reset(c.h.opts.SlowTimeout)
		case <-timer.C:
			c.h.stats.slow.Add(1)
			c.evict(CloseSlowConsumer, ReasonSlowConsumer, "slow consumer, resume with last_seq")
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

// evict sends a close frame straight to the socket (not through the send
// buffer, which may be full) and closes it. A client whose socket is jammed
// sees the connection drop instead of the frame. why is the Reason* label.
func (c *conn) evict(code int, why, text string) {
	c.closeOne.Do(func() {
		c.closedBecause(why)
		ws := c.s.WebsocketConnection()
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
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

// shut marks the session closed and gives back its subscription.
func (c *conn) shut() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.setCatching(false)
	subscribed := c.subscribed
	unsent := c.inflight
	c.mu.Unlock()
	for range unsent {
		c.h.opts.Metrics.MessageDropped(DropUnsent)
	}
	close(c.done)
	if subscribed {
		c.h.subs.Release(c.user)
	}
}
