package systest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/pkg/client"
	"github.com/houseview/gateway/pkg/jwtauth"
	"github.com/houseview/gateway/pkg/protocol"
	"github.com/houseview/gateway/pkg/testenv"
)

// MustDialClient connects a pkg/client Client and closes it when the test ends.
func MustDialClient(tb testing.TB, opts client.Options) *client.Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, opts)
	if err != nil {
		tb.Fatalf("client.Dial: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// received collects what a client hands over, and its events.
type received struct {
	mu     sync.Mutex
	notes  []client.Notification
	events []client.Event
	change chan struct{}
}

// collect reads c's notifications and events until it closes.
func collect(c *client.Client) *received {
	r := &received{change: make(chan struct{}, 1)}
	add := func(f func()) {
		r.mu.Lock()
		f()
		r.mu.Unlock()
		select {
		case r.change <- struct{}{}:
		default:
		}
	}
	go func() {
		for n := range c.Notifications() {
			add(func() { r.notes = append(r.notes, n) })
		}
	}()
	go func() {
		for e := range c.Events() {
			add(func() { r.events = append(r.events, e) })
		}
	}()
	return r
}

// waitFor waits until cond holds on what was received (30 s at most).
func (r *received) waitFor(tb testing.TB, what string, cond func(notes []client.Notification, events []client.Event) bool) {
	tb.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond(r.notes, r.events)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.change:
		case <-deadline.C:
			r.mu.Lock()
			defer r.mu.Unlock()
			tb.Fatalf("no %s within 30s: %d notifications, events %v", what, len(r.notes), r.events)
		}
	}
}

// count waits for n notifications.
func (r *received) count(tb testing.TB, n int) []client.Notification {
	tb.Helper()
	r.waitFor(tb, fmt.Sprintf("%d notifications", n), func(notes []client.Notification, _ []client.Event) bool { return len(notes) >= n })
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]client.Notification(nil), r.notes...)
}

func (r *received) hasEvent(kind client.EventKind, code int) func([]client.Notification, []client.Event) bool {
	return func(_ []client.Notification, events []client.Event) bool {
		for _, e := range events {
			if e.Kind == kind && (code == 0 || e.Code == code) {
				return true
			}
		}
		return false
	}
}

// checkExactlyOnce checks that notes are the contents want, in order, each
// once, with seqs counting from first within one epoch.
func checkExactlyOnce(tb testing.TB, notes []client.Notification, want []string, first int64) {
	tb.Helper()
	got := make([]string, len(notes))
	for i, n := range notes {
		got[i] = n.Content
		if n.Seq != first+int64(i) || n.Epoch != notes[0].Epoch {
			tb.Fatalf("notification %d is seq %d of epoch %q, want seq %d of %q", i, n.Seq, n.Epoch, first+int64(i), notes[0].Epoch)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		tb.Fatalf("contents (-want +got):\n%s", diff)
	}
}

func keys(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

// TestClientResumesAcrossKillAndDrain: the Go client is given three nodes;
// its node is killed with SIGKILL, then the next one drains (SIGTERM),
// while pushes flow. It hands over every notification once, in order.
func TestClientResumesAcrossKillAndDrain(t *testing.T) {
	const n = 300
	env := sharedEnv(t, "GATEWAY_WS_DRAIN_WINDOW=1s")
	a, b, c := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b")), MustStart(t, withNode(env, "c"))
	cl := MustDialClient(t, client.Options{URLs: []string{a.HTTPURL, b.HTTPURL, c.HTTPURL}, UserID: 1001, AckInterval: 50 * time.Millisecond})
	got := collect(cl)

	// One pusher, in order, in the background while the faults happen;
	// each phase releases the next block of pushes.
	release := make(chan int, 3)
	var wg sync.WaitGroup
	wg.Go(func() {
		i := 0
		for to := range release {
			for ; i < to; i++ {
				if err := pushRetrying(c.HTTPURL, 1001, fmt.Sprintf("k-%d", i)); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	push := func(to int) { release <- to }
	connects := func(k int) func([]client.Notification, []client.Event) bool {
		return func(_ []client.Notification, events []client.Event) bool {
			seen := 0
			for _, e := range events {
				if e.Kind == client.Connected {
					seen++
				}
			}
			return seen >= k
		}
	}
	push(n / 3)
	got.count(t, n/6)
	if err := a.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	push(2 * n / 3)
	got.waitFor(t, "a reconnect to b", connects(2))
	got.count(t, n/2)
	if err := b.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	push(n)
	close(release)
	got.waitFor(t, "the drain's 1001", got.hasEvent(client.Disconnected, protocol.CloseGoingAway))
	got.waitFor(t, "a reconnect to c", connects(3))
	checkExactlyOnce(t, got.count(t, n), keys("k", 0, n), 1)
	wg.Wait()

	var nodes []string
	got.mu.Lock()
	for _, e := range got.events {
		if e.Kind == client.Connected {
			nodes = append(nodes, e.Info.NodeID)
		}
	}
	got.mu.Unlock()
	if diff := cmp.Diff([]string{"a", "b", "c"}, nodes); diff != "" {
		t.Errorf("nodes connected to (-want +got):\n%s", diff)
	}
	if p := cl.Position(); p.Seq != n {
		t.Errorf("position %+v, want seq %d", p, n)
	}
}

// TestClientFollowsReset: the user's stream is lost in Redis (FLUSHDB)
// while the client is connected; the next pushes come under a new epoch,
// the client reports the reset and hands them over from seq 1; a new
// client started from the stored position resumes in the new epoch.
func TestClientFollowsReset(t *testing.T) {
	env := sharedEnv(t)
	a := MustStart(t, withNode(env, "a"))
	store := &client.MemoryStore{}
	cl := MustDialClient(t, client.Options{URLs: []string{a.HTTPURL}, UserID: 1001, Store: store})
	got := collect(cl)
	for i := range 3 {
		if err := pushRetrying(a.HTTPURL, 1001, fmt.Sprintf("old-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	old := got.count(t, 3)
	checkExactlyOnce(t, old, keys("old", 0, 3), 1)

	if err := redisFor(t, env).FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := pushRetrying(a.HTTPURL, 1001, fmt.Sprintf("new-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	notes := got.count(t, 5)
	checkExactlyOnce(t, notes[3:], keys("new", 0, 2), 1)
	if notes[3].Epoch == old[0].Epoch {
		t.Fatalf("the new stream kept epoch %q", old[0].Epoch)
	}
	got.waitFor(t, "a reset event", got.hasEvent(client.Reset, 0))
	cl.Close()
	pos, ok, _ := store.Load(1001)
	if want := (client.Position{Epoch: notes[3].Epoch, Seq: 2}); !ok || pos != want {
		t.Fatalf("stored position %+v, want %+v", pos, want)
	}

	if err := pushRetrying(a.HTTPURL, 1001, "after"); err != nil {
		t.Fatal(err)
	}
	again := collect(MustDialClient(t, client.Options{URLs: []string{a.HTTPURL}, UserID: 1001, Store: store}))
	checkExactlyOnce(t, again.count(t, 1), []string{"after"}, 3)
}

// TestClientDetectsAStalledConnection: the network path to the node goes
// silent (bytes held, nothing closed); the client finds out with its pings
// within PingInterval+PongTimeout, reconnects by the direct path, and
// hands over what was pushed meanwhile.
func TestClientDetectsAStalledConnection(t *testing.T) {
	env := sharedEnv(t)
	a := MustStart(t, withNode(env, "a"))
	proxy := testenv.MustProxy(t, strings.TrimPrefix(a.HTTPURL, "http://"))
	cl := MustDialClient(t, client.Options{URLs: []string{"http://" + proxy.Addr, a.HTTPURL}, UserID: 1001,
		PingInterval: 300 * time.Millisecond, PongTimeout: 300 * time.Millisecond})
	got := collect(cl)
	if err := pushRetrying(a.HTTPURL, 1001, "k-0"); err != nil {
		t.Fatal(err)
	}
	got.count(t, 1)
	proxy.Partition() // this path stays silent, old connections and new
	for i := 1; i < 20; i++ {
		if err := pushRetrying(a.HTTPURL, 1001, fmt.Sprintf("k-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	checkExactlyOnce(t, got.count(t, 20), keys("k", 0, 20), 1)
	got.waitFor(t, "the dead connection noticed", got.hasEvent(client.Disconnected, 0))
}

// TestClientRefusedHandshakeIsFinal: a jwt-mode node refuses a bad fixed
// token; Dial returns the refusal at once instead of retrying forever.
func TestClientRefusedHandshakeIsFinal(t *testing.T) {
	a := MustStart(t, procEnv(t, "GATEWAY_JWT_SECRET=0123456789abcdef0123456789abcdef"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := client.Dial(ctx, client.Options{URLs: []string{a.HTTPURL}, Token: "not-a-jwt"})
	var h *client.HandshakeError
	if !errors.As(err, &h) || h.Status != 401 || h.Code != "unauthenticated" {
		t.Fatalf("Dial: %v, want a 401 unauthenticated HandshakeError", err)
	}
}

// TestClientRefreshesItsToken: in jwt mode the client asks TokenFunc for a
// new token before the session's one expires and sends it in-band; the
// session outlives several token lifetimes. A client with a fixed token
// is closed with 4001 at its expiry and stops (the token cannot be renewed).
func TestClientRefreshesItsToken(t *testing.T) {
	env := procEnv(t, "GATEWAY_JWT_SECRET="+secret, "GATEWAY_AUTH_MODE=jwt", "GATEWAY_API_KEY="+apiKey)
	a := MustStart(t, env)
	mint := func(ttl time.Duration) string {
		tok, err := jwtauth.Sign([]byte(secret), 1001, time.Now(), ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	refreshing := collect(MustDialClient(t, client.Options{URLs: []string{a.HTTPURL},
		TokenFunc: func(context.Context) (string, error) { return mint(3 * time.Second), nil }, RefreshBefore: 2 * time.Second}))
	fixed := MustDialClient(t, client.Options{URLs: []string{a.HTTPURL}, Token: mint(2 * time.Second)})
	fixedGot := collect(fixed)

	fixedGot.waitFor(t, "the fixed token's 4001", fixedGot.hasEvent(client.Disconnected, protocol.CloseTokenExpired))
	refreshing.waitFor(t, "three refreshes", func(_ []client.Notification, events []client.Event) bool {
		n := 0
		for _, e := range events {
			if e.Kind == client.Refreshed {
				n++
			}
		}
		return n >= 3
	})
	if err := pushRetrying(a.HTTPURL, 1001, "after-refreshes"); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, refreshing.count(t, 1), []string{"after-refreshes"}, 1)
	refreshing.mu.Lock()
	for _, e := range refreshing.events {
		if e.Kind == client.Disconnected {
			t.Errorf("the refreshing client was disconnected: %+v", e)
		}
	}
	refreshing.mu.Unlock()

	// The fixed token cannot be renewed: the client stops at the 4001
	// (protocol.Decide: a fresh token is needed and there is no source).
	for range fixed.Notifications() {
	}
	if err := fixed.Err(); err == nil || !strings.Contains(err.Error(), "4001") {
		t.Errorf("Err() = %v, want the 4001", fixed.Err())
	}
}
