package systest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// rawClient is the reference client of the conformance suite, written from
// docs/protocol.md alone (no package of this repository): "The client
// rule", the close code table, "Reconnecting", "Tokens" and "Limits".
type rawClient struct {
	spec confSpec
	o    *observed

	mu     sync.Mutex
	conn   *websocket.Conn
	epoch  string
	last   int64
	known  bool
	advice struct {
		BaseMS, MaxMS int64
		Jitter        float64
	}
	attempt int
	token   string // the session's token (jwt mode)
	closed  bool

	wmu   sync.Mutex // one writer
	stall atomic.Int64
	done  chan struct{}
}

func startRawClient(tb testing.TB, spec confSpec, o *observed) confClient {
	tb.Helper()
	r := &rawClient{spec: spec, o: o, done: make(chan struct{})}
	r.advice.BaseMS, r.advice.MaxMS, r.advice.Jitter = 500, 30000, 0.5
	if spec.Resume {
		r.epoch, r.last, r.known = spec.Epoch, spec.LastSeq, true
	}
	go r.run()
	tb.Cleanup(r.Close)
	o.waitFor(tb, "the first connect", func(o *observed) bool { return o.connects > 0 })
	return r
}

func (r *rawClient) Stall(d time.Duration) { r.stall.Store(time.Now().Add(d).UnixNano()) }

func (r *rawClient) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	conn := r.conn
	r.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	<-r.done
}

func (r *rawClient) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// run connects until the client is closed or a close code says stop.
func (r *rawClient) run() {
	defer close(r.done)
	for i := 0; !r.isClosed(); i++ {
		base := r.spec.URLs[i%len(r.spec.URLs)]
		code, status, wasOpen := r.session(base)
		if r.isClosed() {
			return
		}
		wait, ok := r.next(code, status, wasOpen)
		if !ok {
			r.o.gaveUp()
			return
		}
		time.Sleep(wait)
	}
}

// next is "Reconnecting" and the close code table: reconnect or stop, after
// how long.
func (r *rawClient) next(code, status int, wasOpen bool) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if wasOpen {
		r.attempt = 0
	}
	jitter := 1 - r.advice.Jitter*rand.Float64()
	backoff := time.Duration(float64(min(r.advice.MaxMS, r.advice.BaseMS<<min(r.attempt, 30)))*jitter) * time.Millisecond
	r.attempt++
	switch {
	case status == 400 || status == 403 || (status == 401 && r.spec.Tokens == nil):
		return 0, false
	case status != 0:
		return backoff, true
	case code == 1001 && wasOpen:
		return 0, true
	case code == 4001:
		return 0, r.spec.Tokens != nil
	case code == 4003 || code == 1009:
		return time.Duration(float64(r.advice.MaxMS)*jitter) * time.Millisecond, true
	case code == 4008:
		return 0, false
	}
	return backoff, true
}

// session runs one connection: it returns its close code (1006 without a
// close frame), the HTTP status of a refused handshake, and whether the
// connected frame came.
func (r *rawClient) session(base string) (code, status int, wasOpen bool) {
	q := url.Values{}
	if r.spec.Tokens != nil {
		tok, err := r.spec.Tokens.token()
		if err != nil {
			return 1006, 0, false
		}
		r.mu.Lock()
		r.token = tok
		r.mu.Unlock()
		q.Set("token", tok)
	} else {
		q.Set("user_id", fmt.Sprint(r.spec.User))
	}
	q.Set("ack", "1")
	r.mu.Lock()
	if r.known {
		q.Set("last_seq", fmt.Sprint(r.last))
		if r.epoch != "" {
			q.Set("epoch", r.epoch)
		}
	}
	r.mu.Unlock()
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws?"+q.Encode(), nil)
	if err != nil {
		if resp != nil {
			r.o.failed(fmt.Sprintf("handshake %d", resp.StatusCode))
			return 1006, resp.StatusCode, false
		}
		return 1006, 0, false
	}
	r.mu.Lock()
	r.conn = conn
	closed := r.closed
	r.mu.Unlock()
	if closed {
		conn.Close()
		return 1000, 0, false
	}
	defer conn.Close()
	s := &rawSession{r: r, conn: conn}
	defer s.stop()
	code = 1006
	for {
		if d := time.Until(time.Unix(0, r.stall.Load())); d > 0 {
			time.Sleep(d)
		}
		_, b, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				code = ce.Code
			}
			if !r.isClosed() {
				r.o.closed(code)
			}
			return code, 0, wasOpen
		}
		var f struct {
			Event        string `json:"event"`
			Epoch        string `json:"epoch"`
			Seq          int64  `json:"seq"`
			Content      string `json:"content"`
			LastSeq      int64  `json:"last_seq"`
			Exp          int64  `json:"exp"`
			Code         string `json:"code"`
			Limit        string `json:"limit"`
			RetryAfterMS int64  `json:"retry_after_ms"`
			Reconnect    struct {
				BaseMS int64   `json:"base_ms"`
				MaxMS  int64   `json:"max_ms"`
				Jitter float64 `json:"jitter"`
			} `json:"reconnect"`
		}
		if json.Unmarshal(b, &f) != nil {
			r.o.failed("bad frame")
			continue
		}
		switch f.Event {
		case "connected":
			wasOpen = true
			r.mu.Lock()
			if r.known && r.epoch != "" && r.epoch != f.Epoch {
				r.o.wasReset()
			}
			r.epoch, r.last, r.known = f.Epoch, f.LastSeq, true
			r.advice.BaseMS, r.advice.MaxMS, r.advice.Jitter = f.Reconnect.BaseMS, f.Reconnect.MaxMS, f.Reconnect.Jitter
			r.mu.Unlock()
			r.o.connected()
			s.start(f.Exp)
		case "reset":
			r.mu.Lock()
			r.epoch, r.last = f.Epoch, f.LastSeq
			r.mu.Unlock()
			r.o.wasReset()
		case "refreshed":
			s.scheduleRefresh(f.Exp)
		case "error":
			r.o.failed(f.Code)
			if f.Limit != "" {
				s.limited(time.Duration(f.RetryAfterMS) * time.Millisecond)
			}
		case "pong":
		case "":
			r.mu.Lock()
			dup := f.Epoch == r.epoch && f.Seq <= r.last
			if !dup {
				r.epoch, r.last = f.Epoch, f.Seq
			}
			r.mu.Unlock()
			if dup {
				continue
			}
			r.o.note(note{f.Epoch, f.Seq, f.Content})
			s.processed()
		}
	}
}

// rawSession is one connection's timers: acks, refreshes, pings.
type rawSession struct {
	r    *rawClient
	conn *websocket.Conn

	mu         sync.Mutex
	ack        *time.Timer
	refresh    *time.Timer
	pingStop   chan struct{}
	exp        int64
	refreshing string
	ended      bool
}

func (s *rawSession) write(v any) {
	s.r.wmu.Lock()
	defer s.r.wmu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_ = s.conn.WriteJSON(v)
}

func (s *rawSession) start(exp int64) {
	s.scheduleRefresh(exp)
	if s.r.spec.Ping > 0 {
		s.mu.Lock()
		s.pingStop = make(chan struct{})
		stop := s.pingStop
		s.mu.Unlock()
		go func() {
			t := time.NewTicker(s.r.spec.Ping)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					s.write(map[string]string{"action": "ping"})
				case <-stop:
					return
				}
			}
		}()
	}
	s.processed() // ack the position the session continues after
}

// processed acks the position: at once (AckEach) or within a second.
func (s *rawSession) processed() {
	if s.r.spec.AckEach {
		s.sendAck()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ack == nil && !s.ended {
		s.ack = time.AfterFunc(time.Second, func() {
			s.mu.Lock()
			s.ack = nil
			s.mu.Unlock()
			s.sendAck()
		})
	}
}

func (s *rawSession) sendAck() {
	s.r.mu.Lock()
	epoch, last := s.r.epoch, s.r.last
	s.r.mu.Unlock()
	if last > 0 {
		s.write(map[string]any{"action": "ack", "seq": last, "epoch": epoch})
	}
}

// scheduleRefresh is "Tokens": halfway through what is left, or 30 s
// before exp when that is later; nothing with less than 1 s left.
func (s *rawSession) scheduleRefresh(exp int64) {
	if exp == 0 || s.r.spec.Tokens == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exp, s.refreshing = exp, ""
	if s.refresh != nil {
		s.refresh.Stop()
	}
	left := time.Until(time.Unix(exp, 0))
	if left < time.Second || s.ended {
		return
	}
	s.refresh = time.AfterFunc(left-min(30*time.Second, left/2), s.refreshNow)
}

// refreshNow sends a new token once; the session's own token is not sent.
func (s *rawSession) refreshNow() {
	tok, err := s.r.spec.Tokens.token()
	s.r.mu.Lock()
	same := tok == s.r.token
	if err == nil && !same {
		s.r.token = tok
	}
	s.r.mu.Unlock()
	s.mu.Lock()
	exp := s.exp
	s.mu.Unlock()
	if err != nil || same {
		s.scheduleRefresh(exp)
		return
	}
	s.mu.Lock()
	s.refreshing = tok
	s.mu.Unlock()
	s.write(map[string]string{"action": "refresh", "token": tok})
}

// limited sends a refresh that a limit dropped again after retry.
func (s *rawSession) limited(retry time.Duration) {
	s.mu.Lock()
	tok := s.refreshing
	s.mu.Unlock()
	if tok != "" {
		time.AfterFunc(retry, func() { s.write(map[string]string{"action": "refresh", "token": tok}) })
	}
}

func (s *rawSession) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	for _, t := range []*time.Timer{s.ack, s.refresh} {
		if t != nil {
			t.Stop()
		}
	}
	if s.pingStop != nil {
		close(s.pingStop)
	}
}
