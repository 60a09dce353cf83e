package ws

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/olahol/melody"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/pkg/backoff"
	"github.com/houseview/gateway/pkg/protocol"
)

// conn is one WebSocket session of a user.
//
// It follows one epoch of the user's stream and moves through the states
// of state.go. It starts subscribing, reads its first page, sends the
// connected frame and catches up: a goroutine copies the stored stream
// into the session, paced by the send buffer, while live messages only
// raise maxSeen. Once it has written everything up to maxSeen it is live:
// messages from the subscription are written as they come. A gap in the
// live seqs, a full send buffer, a restored subscription or a message of
// another epoch send it back to catching up. Each message is written once,
// in seq order. When the stored stream turns out to have a new epoch
// (Redis lost the old one), the session tells the client with a reset
// frame and follows the new one from its start.
type conn struct {
	h          *Hub
	s          *melody.Session
	user       int64
	resume     app.Resume // where the session starts reading
	sid        string     // the session's id in the SessionRegistry ("" when not counted)
	limit      int        // data messages allowed in the send buffer
	openedMS   int64      // unix ms of the handshake
	done       chan struct{}
	spaceFreed chan struct{} // a buffered message was written out (made by the first waitRoom that waits; c.mu)
	closeOne   sync.Once
	reason     atomic.Pointer[string] // why the session closed (first cause wins)
	frameTAT   int64                  // client frame rate: theoretical arrival time, unix ns (the read goroutine's)
	strikes    int                    // frames refused in a row by the frame rate (the read goroutine's)

	mu       sync.Mutex
	state    state
	ready    chan struct{} // started once the connected frame is out; made earlier only for a frame that waits
	acked    bool          // the client acknowledges: only its acks advance the delivered cursor
	ackSeq   int64         // the highest seq of epoch the client acknowledged (or the resume point)
	epoch    string        // the epoch of the stream the session follows ("" until the first read)
	last     int64         // highest seq handed to the send buffer
	maxSeen  int64         // highest live seq of epoch seen while catching up
	inflight sentQueue
	expires  time.Time   // when the session's token expires (zero: never, insecure mode)
	token    uint64      // tokenSum of the token that set expires (0: none)
	repeated bool        // a refresh sent that token again (answered once for free)
	expiry   *time.Timer // closes the session at expires (nil without a token)
	// At most one inbox frame is in the send buffer (inboxOut); newer
	// counts wait in inboxNext, replaced by newer ones still, and go out
	// when it is sent (or once the connected frame is out).
	inboxOut  bool
	inboxNext []byte

	// The read goroutine's: the highest seq each state was marked up to by
	// this session in markEpoch (a mark that raises it is free).
	markEpoch string
	markHigh  [3]int64
}

// started is the ready channel of a session whose connected frame is out.
var started = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func newConn(h *Hub, user int64, resume app.Resume) *conn {
	return &conn{h: h, user: user, resume: resume, limit: max(h.opts.BufferSize-controlSlots, 1),
		done:     make(chan struct{}),
		openedMS: time.Now().UnixMilli()}
}

// controlSlots of the send buffer are kept for control frames (connected,
// reset, error): data messages never fill them.
const controlSlots = 8

// to moves the session to state t when state.may allows it, telling the
// metrics when catching up starts or ends. c.mu is held.
func (c *conn) to(t state) bool {
	from := c.state
	if !from.may(t) {
		return false
	}
	c.state = t
	switch {
	case from.catching() && !t.catching():
		c.h.opts.Metrics.CatchUpEnded()
	case !from.catching() && t.catching():
		c.h.opts.Metrics.CatchUpStarted()
	}
	return true
}

// start subscribes, checks that the session may go on, sends the
// connected frame and catches up from the resume point.
func (c *conn) start() {
	ctx, cancel := context.WithTimeout(c.h.ctx, 10*time.Second)
	defer cancel()
	if err := c.h.subs.Acquire(ctx, c.user); err != nil {
		c.h.log.Warn("subscribe failed", "user_id", c.user, "err", err)
		c.evictWith(protocol.CloseTryAgain, ReasonRedisUnavailable)
		return
	}
	c.mu.Lock()
	ok := c.to(opening)
	c.mu.Unlock()
	if !ok { // closed while subscribing
		c.h.subs.Release(c.user)
		return
	}
	page, ok := c.open(ctx)
	if !ok || !c.sendConnected(page) {
		return
	}
	c.catchUp(&page)
}

// open reads the first page and, beside it, whether the session may go
// on: a revocation (with until) or an eviction by the session limit
// published before this node subscribed did not reach the session, but
// both are written before their control message is published. It closes
// the session when it may not go on.
func (c *conn) open(ctx context.Context) (app.StreamPage, bool) {
	checked := make(chan error, 1)
	go func() { checked <- c.h.check(ctx, c.user, c.sid) }()
	page, err := c.h.read(ctx, c.user, c.resume)
	refused := <-checked
	switch {
	case err != nil:
		c.h.log.Warn("read history failed", "user_id", c.user, "err", err)
		c.evictWith(protocol.CloseTryAgain, ReasonRedisUnavailable)
	case refused == errEvicted:
		c.evictWith(protocol.CloseTooManySessions, ReasonTooManySessions)
	case app.ErrorCode(refused) == app.EPermissionDenied:
		c.evictWith(protocol.CloseRevoked, ReasonRevoked)
	case refused != nil:
		c.h.log.Warn("session check failed", "user_id", c.user, "err", refused)
		c.evictWith(protocol.CloseTryAgain, ReasonRedisUnavailable)
	default:
		return page, true
	}
	return page, false
}

// sendConnected writes the connected frame of page, the first frame of
// the session: client frames read before it were held until now.
func (c *conn) sendConnected(page app.StreamPage) bool {
	hello := protocol.Connected{Event: protocol.EventConnected, NodeID: c.h.opts.NodeID, UserID: c.user, Epoch: page.Epoch,
		LastSeq: page.After, HeadSeq: page.Head, Truncated: page.Truncated, Reset: page.Reset,
		HeartbeatMS: c.h.opts.PingPeriod.Milliseconds(), Reconnect: c.h.opts.Reconnect,
		Unseen: page.Counts.Unseen, Unread: page.Counts.Unread}
	if page.Reset {
		c.h.opts.Metrics.StreamReset()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.expires.IsZero() {
		hello.Exp = c.expires.Unix()
	}
	if c.state == opening {
		c.to(catchingUp)
	}
	c.epoch, c.last, c.ackSeq = page.Epoch, page.After, page.After
	err := c.s.Write(mustJSON(hello))
	if c.ready != nil {
		close(c.ready)
	}
	c.ready = started
	if next := c.inboxNext; next != nil && err == nil {
		c.inboxNext = nil
		c.writeInbox(next)
	}
	return err == nil && c.state != closed
}

// waitStarted waits until the connected frame is out; false when the
// session closed first.
func (c *conn) waitStarted() bool {
	c.mu.Lock()
	if c.ready == nil {
		c.ready = make(chan struct{})
	}
	ready := c.ready
	c.mu.Unlock()
	select {
	case <-ready:
		return true
	case <-c.done:
		return false
	}
}

// offer takes a live message. It never blocks.
func (c *conn) offer(env *app.Envelope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.state == closed:
		c.h.opts.Metrics.MessageDropped(DropClosed)
	case env.Epoch != c.epoch:
		// The stream was recreated, or this is a late message of the old
		// one: the stored stream says which epoch is current.
		c.readAgain()
	case c.state.catching():
		c.maxSeen = max(c.maxSeen, env.Seq)
	case env.Seq <= c.last:
		c.h.opts.Metrics.MessageDropped(DropDuplicate) // already written (replay raced the live copy)
	case env.Muted && env.Seq == c.last+1:
		c.last = env.Seq // never published; stepped over all the same
	case env.Seq == c.last+1 && c.inflight.n < c.limit:
		c.write(env)
	default:
		// A gap (lost on the wire) or a full buffer: read it from Redis.
		c.maxSeen = env.Seq
		c.readAgain()
	}
}

// inbox takes an inbox frame of the user's counts. It never blocks: one
// frame at most waits in the send buffer, the newest counts after it.
func (c *conn) inbox(frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.state == closed:
	case c.ready != started || c.inboxOut:
		c.inboxNext = frame // the newest counts replace older ones
	default:
		c.writeInbox(frame)
	}
}

// inboxPrefix starts every inbox frame.
var inboxPrefix = []byte(`{"event":"` + protocol.EventInbox + `"`)

// writeInbox hands an inbox frame to the send buffer. c.mu is held.
func (c *conn) writeInbox(frame []byte) {
	if c.s.Write(frame) == nil {
		c.inboxOut = true
	}
}

// missedLive makes the session read the stored stream: messages may have
// been lost on the wire (the subscription was restored).
func (c *conn) missedLive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readAgain()
}

// readAgain makes the session read the stored stream: a live one starts
// catching up, one that reads it already reads it once more (it may have
// read it before what is now missing). c.mu is held.
func (c *conn) readAgain() {
	switch c.state {
	case opening, catchingUp:
		c.to(rereading)
	case live:
		c.to(catchingUp)
		go c.catchUp(nil)
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
	closing, acked, freed := c.state == closed, c.acked, c.spaceFreed
	if env == nil && bytes.HasPrefix(frame, inboxPrefix) {
		c.inboxOut = false
		if next := c.inboxNext; next != nil && !closing {
			c.inboxNext = nil
			c.writeInbox(next)
		}
	}
	c.mu.Unlock()
	if env == nil {
		return // a control frame
	}
	if !acked {
		c.h.history.Advance(c.user, app.Position{Epoch: env.Epoch, Seq: env.Seq})
	}
	if !closing {
		m := c.h.opts.Metrics
		m.MessageDelivered()
		if env.TS > c.openedMS {
			m.DeliveryLatency(max(time.Since(time.UnixMilli(env.TS)), 0))
		}
	}
	select {
	case freed <- struct{}{}: // nil (never blocks) until a catch-up waited for room
	default:
	}
}

// catchUp copies stored messages after c.last into the session until it
// is live or closed. first, when not nil, is the first page, read already.
func (c *conn) catchUp(first *app.StreamPage) {
	page, spins := first, 0
	for {
		if page == nil {
			next, ok := c.nextPage()
			if !ok {
				return
			}
			page = &next
		}
		if !c.replay(page) {
			return
		}
		if len(page.Messages) >= c.h.opts.ReplayPage {
			page = nil // more is stored
			continue
		}
		switch c.settle() {
		case settledLive, settledClosed:
			return
		case settleBehind:
			// A live seq the list does not hold yet is only ever a
			// moment away (the list is written before the publish):
			// read again, bounded.
			if len(page.Messages) == 0 {
				if spins++; spins > 50 {
					c.evictWith(protocol.CloseBehindHistory, ReasonBehindHistory)
					return
				}
				if !c.pause(10 * time.Millisecond) {
					return
				}
			}
		}
		page = nil
	}
}

// nextPage reads the stored stream after c.last, retrying with a backoff
// while Redis does not answer. A page of a new epoch resets the session to
// it; a truncated one (the session fell out of the stored window) closes
// the session, whose client must resume to be told so.
func (c *conn) nextPage() (app.StreamPage, bool) {
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		from, closing := app.Resume{After: app.Position{Epoch: c.epoch, Seq: c.last}}, c.state == closed
		c.mu.Unlock()
		if closing {
			return app.StreamPage{}, false
		}
		ctx, cancel := context.WithTimeout(c.h.ctx, 5*time.Second)
		page, err := c.h.read(ctx, c.user, from)
		cancel()
		switch {
		case err != nil:
			c.h.log.Warn("catch-up read failed; retrying", "user_id", c.user, "attempt", attempt+1, "err", err)
			if !c.pause(backoff.Delay(200*time.Millisecond, 3*time.Second, attempt)) {
				return page, false
			}
		case page.Reset:
			return page, c.resync(page)
		case page.Truncated:
			c.evictWith(protocol.CloseBehindHistory, ReasonBehindHistory)
			return page, false
		default:
			return page, true
		}
	}
}

// replay writes the page's messages that follow c.last, waiting for room
// in the send buffer; false once the session is closing.
func (c *conn) replay(page *app.StreamPage) bool {
	for _, env := range page.Messages {
		if !c.waitRoom() {
			return false
		}
		c.mu.Lock()
		if c.state == closed {
			c.mu.Unlock()
			return false
		}
		switch {
		case env.Seq != c.last+1:
		case env.Muted:
			// Kept for the list only: the session steps over it, and the
			// client sees the gap in seqs.
			c.last = env.Seq
		case c.write(env):
			c.h.opts.Metrics.MessageReplayed()
		}
		c.mu.Unlock()
	}
	return true
}

// What a catch-up found when it had read everything stored (settle).
type settled int

const (
	settledLive   settled = iota // wrote all it saw live: the session is live
	settledClosed                // the session closed
	settleReread                 // something may be missing from what it read: read again
	settleBehind                 // a live seq is not stored yet: read again shortly
)

// settle decides what a catch-up that read everything stored does next.
func (c *conn) settle() settled {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.state == closed:
		return settledClosed
	case c.state == rereading:
		c.to(catchingUp)
		return settleReread
	case c.last >= c.maxSeen:
		c.to(live)
		c.maxSeen = 0
		return settledLive
	}
	return settleBehind
}

// resync makes the session follow the stream's new epoch from where page
// starts, and tells the client with a reset frame: what it stored for the
// old epoch is void. It reports whether the session is still open.
func (c *conn) resync(page app.StreamPage) bool {
	b := mustJSON(protocol.Reset{Event: protocol.EventReset, Epoch: page.Epoch, LastSeq: page.After, HeadSeq: page.Head,
		Truncated: page.Truncated, Unseen: page.Counts.Unseen, Unread: page.Counts.Unread})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == closed {
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
		ok, closing := c.inflight.n < c.limit, c.state == closed
		if !ok && c.spaceFreed == nil {
			// Made when first needed (a session that never fills its
			// buffer saves it), under the lock that sent takes to pop.
			c.spaceFreed = make(chan struct{}, 1)
		}
		freed := c.spaceFreed
		c.mu.Unlock()
		if closing {
			return false
		}
		if ok {
			return true
		}
		select {
		case <-freed:
			timer.Reset(c.h.opts.SlowTimeout) // since Go 1.23 no stale tick survives a Reset
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

// markClosed closes the session's state and gives back its subscription.
func (c *conn) markClosed() {
	c.mu.Lock()
	was := c.state
	if !c.to(closed) {
		c.mu.Unlock()
		return
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	unsent := c.inflight.n
	c.mu.Unlock()
	for range unsent {
		c.h.opts.Metrics.MessageDropped(DropUnsent)
	}
	close(c.done)
	if was.subscribed() {
		c.h.subs.Release(c.user)
	}
}

// position is where the session is in its user's stream.
func (c *conn) position(node string) app.SessionPosition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return app.SessionPosition{Session: c.sid, NodeID: node, SinceMS: c.openedMS, Epoch: c.epoch, Sent: c.last, Acked: c.ackSeq,
		Acks: c.acked, State: c.state.String()}
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == closed
}

// ---- client frames (the session's read goroutine) ----

// onAck records the client's acknowledgement of seq in epoch ("" = the
// session's): from now on only acks advance the delivered cursor. An ack
// of another epoch is stale (sent before a reset) and ignored. Only an ack
// that raises the acknowledged seq is free; one of a seq the session never
// sent is refused.
func (c *conn) onAck(epoch string, seq int64) {
	c.mu.Lock()
	stale, unsent := epoch != "" && epoch != c.epoch, seq > c.last
	raised := !stale && !unsent && seq > c.ackSeq
	if !stale && !unsent {
		c.acked = true
		c.h.history.Advance(c.user, app.Position{Epoch: c.epoch, Seq: seq})
		c.ackSeq = max(c.ackSeq, seq)
	}
	c.mu.Unlock()
	if !raised && c.charge() && unsent && !stale {
		c.reject("ack of a seq that was not sent")
	}
}

// onMark marks messages of the user's inbox (the seqs of the session's
// epoch unless the frame names one). A mark that raises the highest seq
// this session marked with that state in that epoch (up_to and all: the
// newest) is free, so that a client marking every message as it shows it
// is never limited; the others are charged, and one over the frame rate
// is dropped before it reaches Redis. A mark that raises but changes
// nothing was a free Redis call: at most one per stored seq and state.
// A refused mark is answered with an error frame; the new counts reach
// every session of the user through the subscription (Hub.Inbox).
func (c *conn) onMark(f protocol.ClientFrame) {
	m := app.InboxMark{State: f.State, Epoch: f.Epoch, All: f.All}
	if f.Seq != nil {
		m.Seq = *f.Seq
	}
	if f.UpTo != nil {
		m.UpTo = *f.UpTo
	}
	c.mu.Lock()
	if m.Epoch == "" {
		m.Epoch = c.epoch
	}
	last := c.last
	c.mu.Unlock()
	if c.markEpoch != m.Epoch {
		c.markEpoch, c.markHigh = m.Epoch, [3]int64{}
	}
	i := markIndex[m.State]
	top := max(m.Seq, m.UpTo)
	if m.All {
		top = last
	}
	if top <= c.markHigh[i] && !c.charge() {
		return // dropped before it costs Redis anything
	}
	if c.h.opts.Inbox == nil {
		c.refuse(app.Errorf(app.EUnavailable, "the inbox is not available on this node"))
		return
	}
	ctx, cancel := context.WithTimeout(c.h.ctx, 5*time.Second)
	res, err := c.h.opts.Inbox.Mark(ctx, c.user, m)
	cancel()
	if err != nil {
		if app.ErrorCode(err) == "" || app.ErrorCode(err) == app.EInternal {
			c.h.log.Warn("inbox mark failed", "user_id", c.user, "err", err)
			err = app.Errorf(app.EUnavailable, "the inbox is unavailable; send the mark again later")
		}
		if top > c.markHigh[i] && !c.charge() {
			return
		}
		c.refuse(err)
		return
	}
	if m.All {
		top = res.Head
	}
	c.markHigh[i] = max(c.markHigh[i], top)
}

// markIndex is a state's slot in conn.markHigh (decodeFrame checked it).
var markIndex = map[string]int{protocol.StateSeen: 0, protocol.StateRead: 1, protocol.StateArchived: 2}

// onRefresh extends the session to the expiry of a new token of its user.
// The token the session has already (a caching token source hands it
// back) is answered with the unchanged expiry, the first time at no cost;
// any other is charged and verified, and never shortens the session.
func (c *conn) onRefresh(token string) {
	sum := tokenSum(token)
	c.mu.Lock()
	same, exp := sum != 0 && sum == c.token, c.expires
	free := same && !c.repeated
	c.repeated = c.repeated || same
	c.mu.Unlock()
	if !free && !c.charge() {
		return
	}
	if same && time.Now().Before(exp) {
		_ = c.s.Write(mustJSON(protocol.Refreshed{Event: protocol.EventRefreshed, Exp: exp.Unix()}))
		return
	}
	ctx, cancel := context.WithTimeout(c.h.ctx, 2*time.Second)
	exp, err := c.h.opts.Auth.Refresh(ctx, c.user, token)
	cancel()
	if err != nil {
		c.refuse(err)
		return
	}
	exp, ok := c.extend(exp, sum)
	if !ok {
		c.refuse(app.Errorf(app.EFailedPrecondition, "the session's token has expired; reconnect with a new one"))
		return
	}
	_ = c.s.Write(mustJSON(protocol.Refreshed{Event: protocol.EventRefreshed, Exp: exp.Unix()}))
}

// charge counts a costly frame against the frame rate and reports whether
// it may be handled. The first frame over the rate is answered with an
// error frame saying when to send again; a client that sends another
// FrameRate frames before then is closed with 4029.
func (c *conn) charge() bool {
	retry, ok := c.allowFrame(time.Now())
	if ok {
		c.strikes = 0
		return true
	}
	c.strikes++
	switch {
	case c.strikes == 1:
		c.h.opts.Metrics.Limited(LimitFrames)
		c.h.opts.Metrics.FrameRefused()
		_ = c.s.Write(mustJSON(frameLimitError(c.h.opts.FrameRate, retry)))
	case c.strikes > c.h.opts.FrameRate:
		c.evictWith(protocol.CloseRateLimited, ReasonRateLimited)
	}
	return false
}

// allowFrame applies the client frame rate (GCRA): FrameRate frames per
// second in bursts of as many. Refused, it returns how long until a frame
// is allowed.
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

func (c *conn) reject(message string) {
	c.refuse(app.Errorf(app.EInvalidArgument, "%s", message))
}

// refuse answers a client frame with an error frame of err's code and
// caller-safe message.
func (c *conn) refuse(err error) {
	c.h.opts.Metrics.FrameRefused()
	_ = c.s.Write(mustJSON(protocol.Error{Event: protocol.EventError, Code: app.ErrorCode(err), Message: app.ErrorMessage(err)}))
}

// ---- token expiry ----

// startExpiry arms the timer that closes the session with 4001 when its
// token expires.
func (c *conn) startExpiry() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expires.IsZero() || c.state == closed {
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
	if c.state == closed || c.expiry == nil || !c.expiry.Stop() {
		return c.expires, false
	}
	if exp.After(c.expires) {
		c.expires, c.token, c.repeated = exp, sum, false
	}
	c.expiry.Reset(time.Until(c.expires))
	return c.expires, true
}
