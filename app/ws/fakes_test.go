package ws_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/ws"
)

// In-memory stand-ins for the hub's dependencies, so that the ordering,
// catch-up and reset logic of a session is tested in milliseconds. What
// crosses nodes and Redis itself is tested against Redis (helpers_test.go).

// memHistory is users' streams in memory, read as redis.Streams reads
// them: positions, epochs, a stored window of window messages, cursors.
type memHistory struct {
	window int

	mu      sync.Mutex
	streams map[int64]*memStream
	gate    chan struct{} // when set, catch-up reads (not the first) wait for it
}

type memStream struct {
	epoch  string
	head   int64
	msgs   []*app.Envelope // the stored window, oldest first, ending at head
	cursor int64
}

var _ ws.History = (*memHistory)(nil)

func newMemHistory(window int) *memHistory {
	return &memHistory{window: window, streams: map[int64]*memStream{}}
}

func (h *memHistory) stream(user int64) *memStream {
	s := h.streams[user]
	if s == nil {
		s = &memStream{epoch: "e" + strconv.Itoa(len(h.streams)+1)}
		h.streams[user] = s
	}
	return s
}

// store appends a message to user's stream and returns it.
func (h *memHistory) store(user int64) *app.Envelope {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.stream(user)
	s.head++
	raw := fmt.Sprintf(`{"seq":%d,"epoch":%q,"ts":1,"type":6,"user_id":%d,"content":"m%d"}`, s.head, s.epoch, user, s.head)
	env := &app.Envelope{UserID: user, Epoch: s.epoch, Seq: s.head, TS: 1, Raw: []byte(raw)}
	s.msgs = append(s.msgs, env)
	if len(s.msgs) > h.window {
		s.msgs = s.msgs[len(s.msgs)-h.window:]
	}
	return env
}

// lose forgets user's stream, as Redis losing its data: the next message
// starts a new epoch.
func (h *memHistory) lose(user int64, epoch string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.streams[user] = &memStream{epoch: epoch}
}

func (h *memHistory) Read(ctx context.Context, user int64, from app.Resume, limit int) (app.StreamPage, error) {
	h.mu.Lock()
	gate := h.gate
	h.mu.Unlock()
	if gate != nil && !from.FromCursor {
		select {
		case <-gate:
		case <-ctx.Done():
			return app.StreamPage{}, ctx.Err()
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.stream(user)
	page := app.StreamPage{Epoch: s.epoch, Head: s.head, After: from.After.Seq}
	switch {
	case from.FromCursor:
		page.After = s.cursor
	case (from.After.Epoch != "" && from.After.Epoch != s.epoch) || from.After.Seq > s.head:
		page.After, page.Reset = 0, true
	}
	oldest := s.head - int64(len(s.msgs)) + 1
	if page.After+1 < oldest {
		page.After, page.Truncated = oldest-1, true
	}
	for _, env := range s.msgs {
		if env.Seq > page.After && len(page.Messages) < limit {
			page.Messages = append(page.Messages, env)
		}
	}
	return page, nil
}

func (h *memHistory) Advance(user int64, pos app.Position) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.stream(user); s.epoch == pos.Epoch {
		s.cursor = max(s.cursor, pos.Seq)
	}
}

// memSubs subscribes at once.
type memSubs struct{}

func (memSubs) Acquire(context.Context, int64) error { return nil }
func (memSubs) Release(int64)                        {}

// memNode is a hub on memHistory behind a loopback HTTP server; publish
// stores a message and offers it live, as the node's subscription would.
type memNode struct {
	hub     *ws.Hub
	history *memHistory
	srv     *httptest.Server
	metrics *recordMetrics
}

func startMemNode(tb testing.TB, window int, tune func(*ws.Options)) *memNode {
	tb.Helper()
	n := &memNode{history: newMemHistory(window), metrics: newRecordMetrics()}
	opts := ws.Options{NodeID: "mem", Auth: apptest.NewAuth(app.AuthInsecure, nil, ""), Metrics: n.metrics}
	if tune != nil {
		tune(&opts)
	}
	n.hub = ws.New(n.history, memSubs{}, nil, opts)
	mux := http.NewServeMux()
	mux.Handle("/ws", n.hub)
	n.srv = httptest.NewServer(mux)
	tb.Cleanup(func() {
		n.srv.CloseClientConnections()
		n.srv.Close()
		n.hub.Close()
	})
	return n
}

func (n *memNode) url(query string) string {
	return "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/ws?" + query
}

// publish stores k messages of user and offers each live.
func (n *memNode) publish(user int64, k int) {
	for range k {
		n.hub.Deliver(n.history.store(user))
	}
}

// lost stores k messages of user that never arrive live (lost on the
// wire).
func (n *memNode) lost(user int64, k int) {
	for range k {
		n.history.store(user)
	}
}
