package systest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/protocol"
	"github.com/houseview/gateway/pkg/testenv"
)

// TestConformance runs the protocol's scenarios against real nodes with
// every client side by side, each as its own user: the raw reference
// client (written from docs/protocol.md alone), pkg/client and the
// JavaScript client. A scenario passes only when each client handed over
// every notification once, in order, and behaved as the protocol says.
func TestConformance(t *testing.T) {
	// The token scenario mostly waits for tokens to age: it runs beside
	// the others.
	var tokens sync.WaitGroup
	tokens.Go(func() { t.Run("10-second and caching tokens", conformTokens) })
	for _, sc := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"resume across a node kill", conformNodeKill},
		{"Redis reset", conformRedisReset},
		{"truncated history", conformTruncated},
		{"drain", conformDrain},
		{"revocation", conformRevocation},
		{"session limit", conformSessionLimit},
		{"slow consumer", conformSlowConsumer},
		{"ping", conformPing},
		{"ack after every message of a burst and of a backlog replay", conformAckEach},
		{"batched acks", conformBatchedAcks},
	} {
		t.Run(sc.name, sc.run)
	}
	tokens.Wait()
}

// running is one client of a scenario.
type running struct {
	kind   string
	user   int64
	obs    *observed
	client confClient
}

// startClients starts every kind of client, user base+i for the i-th,
// with the spec spec returns.
func startClients(t *testing.T, base int64, spec func(user int64) confSpec) []*running {
	t.Helper()
	out := make([]*running, len(clientKinds))
	for i, k := range clientKinds {
		user := base + int64(i)
		o := newObserved(fmt.Sprintf("%s client (user %d)", k.name, user))
		out[i] = &running{kind: k.name, user: user, obs: o, client: k.start(t, spec(user), o)}
	}
	return out
}

// pushTo pushes the messages keys[from:to] to every user through base,
// one request per message (each with its idempotency key, retried).
func pushTo(t *testing.T, base string, users []int64, keys []string) {
	t.Helper()
	for _, k := range keys {
		if err := pushUsersRetryingFor(base, users, k, k, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

func userIDs(rs []*running) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.user
	}
	return out
}

// contents are the contents of notes, cut at the first '|' (the padding
// of big messages).
func contents(notes []note) []string {
	out := make([]string, len(notes))
	for i, n := range notes {
		out[i], _, _ = strings.Cut(n.Content, "|")
	}
	return out
}

// checkOnce checks that r handed over exactly want (contents, in order),
// each position once.
func checkOnce(t *testing.T, r *running, want []string) {
	t.Helper()
	o := r.obs.snapshot()
	seen := map[note]bool{}
	for _, n := range o.notes {
		p := note{Epoch: n.Epoch, Seq: n.Seq}
		if seen[p] {
			t.Errorf("%s: (%s, %d) handed over twice", o.name, n.Epoch, n.Seq)
		}
		seen[p] = true
	}
	if diff := cmp.Diff(want, contents(o.notes)); diff != "" {
		t.Errorf("%s: contents (-want +got):\n%s", o.name, diff)
	}
}

// checkQuiet checks that nothing ended r's sessions and it reported no
// error.
func checkQuiet(t *testing.T, r *running) {
	t.Helper()
	o := r.obs.snapshot()
	if len(o.closes) > 0 || len(o.errors) > 0 || o.connects != 1 {
		t.Errorf("%s: closes %v, errors %v, %d connects; want none, none, 1", o.name, o.closes, o.errors, o.connects)
	}
}

func waitAll(t *testing.T, rs []*running, n int) {
	t.Helper()
	for _, r := range rs {
		r.obs.waitNotes(t, n)
	}
}

func conformNodeKill(t *testing.T) {
	env := sharedEnv(t)
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	rs := startClients(t, 2001, func(u int64) confSpec { return confSpec{URLs: []string{a.HTTPURL, b.HTTPURL}, User: u} })
	all := keys("k", 0, 100)
	pushTo(t, b.HTTPURL, userIDs(rs), all[:50])
	waitAll(t, rs, 50)
	if err := a.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	pushTo(t, b.HTTPURL, userIDs(rs), all[50:])
	waitAll(t, rs, 100)
	for _, r := range rs {
		checkOnce(t, r, all)
		if o := r.obs.snapshot(); o.connects < 2 {
			t.Errorf("%s: %d connects, want a reconnect after the kill", o.name, o.connects)
		}
	}
}

func conformRedisReset(t *testing.T) {
	env := sharedEnv(t)
	a := MustStart(t, env)
	rs := startClients(t, 2011, func(u int64) confSpec { return confSpec{URLs: []string{a.HTTPURL}, User: u} })
	before, after := keys("before", 0, 10), keys("after", 0, 10)
	pushTo(t, a.HTTPURL, userIDs(rs), before)
	waitAll(t, rs, 10)
	if err := redisFor(t, env).FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	pushTo(t, a.HTTPURL, userIDs(rs), after)
	waitAll(t, rs, 20)
	for _, r := range rs {
		checkOnce(t, r, append(before, after...))
		if o := r.obs.snapshot(); o.resets < 1 || o.notes[10].Epoch == o.notes[9].Epoch || o.notes[10].Seq != 1 {
			t.Errorf("%s: %d resets, the first message after the flush is (%s, %d); want a reset and seq 1 of a new epoch",
				o.name, o.resets, o.notes[10].Epoch, o.notes[10].Seq)
		}
	}
}

func conformTruncated(t *testing.T) {
	env := sharedEnv(t, "GATEWAY_HISTORY_SIZE=20")
	a := MustStart(t, env)
	rs := startClients(t, 2021, func(u int64) confSpec { return confSpec{URLs: []string{a.HTTPURL}, User: u} })
	first := keys("first", 0, 5)
	pushTo(t, a.HTTPURL, userIDs(rs), first)
	waitAll(t, rs, 5)
	positions := map[int64]note{}
	for _, r := range rs {
		o := r.obs.snapshot()
		positions[r.user] = o.notes[4]
		r.client.Close()
	}
	missed := keys("missed", 0, 40) // 20 more than the history keeps
	pushTo(t, a.HTTPURL, userIDs(rs), missed)
	resumed := startClients(t, 2021, func(u int64) confSpec {
		p := positions[u]
		return confSpec{URLs: []string{a.HTTPURL}, User: u, Resume: true, Epoch: p.Epoch, LastSeq: p.Seq}
	})
	waitAll(t, resumed, 20)
	for _, r := range resumed {
		checkOnce(t, r, missed[20:])
		if o := r.obs.snapshot(); o.notes[0].Seq != 26 {
			t.Errorf("%s: resumed at seq %d, want 26 (the oldest stored)", o.name, o.notes[0].Seq)
		}
	}
}

func conformDrain(t *testing.T) {
	env := sharedEnv(t, "GATEWAY_WS_DRAIN_WINDOW=500ms")
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	rs := startClients(t, 2031, func(u int64) confSpec { return confSpec{URLs: []string{a.HTTPURL, b.HTTPURL}, User: u} })
	all := keys("d", 0, 40)
	pushTo(t, b.HTTPURL, userIDs(rs), all[:20])
	waitAll(t, rs, 20)
	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		r.obs.waitFor(t, "a reconnect", func(o *observed) bool { return o.connects == 2 })
	}
	pushTo(t, b.HTTPURL, userIDs(rs), all[20:])
	waitAll(t, rs, 40)
	for _, r := range rs {
		checkOnce(t, r, all)
		if o := r.obs.snapshot(); !cmp.Equal(o.closes, []int{protocol.CloseGoingAway}) || o.connects != 2 {
			t.Errorf("%s: closes %v, %d connects; want [1001] and a reconnect", o.name, o.closes, o.connects)
		}
	}
}

func conformRevocation(t *testing.T) {
	env := sharedEnv(t, "GATEWAY_WS_RECONNECT_MAX=1s")
	a := MustStart(t, env)
	rs := startClients(t, 2041, func(u int64) confSpec { return confSpec{URLs: []string{a.HTTPURL}, User: u} })
	disconnect := func(user int64, body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/users/%d/disconnect", a.HTTPURL, user), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("disconnect %d: %v %v", user, resp, err)
		}
		resp.Body.Close()
	}
	all := keys("r", 0, 10)
	pushTo(t, a.HTTPURL, userIDs(rs), all[:5])
	waitAll(t, rs, 5)
	// Without until: closed with 4003, back after the advised maximum.
	for _, r := range rs {
		disconnect(r.user, "")
	}
	pushTo(t, a.HTTPURL, userIDs(rs), all[5:])
	waitAll(t, rs, 10)
	for _, r := range rs {
		checkOnce(t, r, all)
		if o := r.obs.snapshot(); !cmp.Equal(o.closes, []int{protocol.CloseRevoked}) || o.connects != 2 {
			t.Errorf("%s: closes %v, %d connects; want [4003] and one reconnect", o.name, o.closes, o.connects)
		}
	}
	// With until: the reconnect is refused (403) and the client stops.
	for _, r := range rs {
		disconnect(r.user, fmt.Sprintf(`{"until":%d}`, time.Now().Add(time.Hour).Unix()))
	}
	for _, r := range rs {
		r.obs.waitFor(t, "the client to stop", func(o *observed) bool { return o.stopped })
	}
}

func conformSessionLimit(t *testing.T) {
	env := sharedEnv(t, "GATEWAY_LIMITS_SESSIONS_PER_USER=1")
	a := MustStart(t, env)
	rs := startClients(t, 2051, func(u int64) confSpec { return confSpec{URLs: []string{a.HTTPURL}, User: u} })
	newer := map[int64]*wsClient{}
	for _, r := range rs {
		newer[r.user] = wsDial(t, a.HTTPURL, fmt.Sprintf("user_id=%d", r.user))
	}
	for _, r := range rs {
		r.obs.waitFor(t, "the client to stop", func(o *observed) bool { return o.stopped })
		if o := r.obs.snapshot(); !cmp.Equal(o.closes, []int{protocol.CloseTooManySessions}) || o.connects != 1 {
			t.Errorf("%s: closes %v, %d connects; want [4008] and no reconnect", o.name, o.closes, o.connects)
		}
	}
	pushTo(t, a.HTTPURL, userIDs(rs), []string{"to-the-newer"})
	for _, r := range rs {
		if f := newer[r.user].next(t); f.Seq != 1 {
			t.Errorf("the newer session of user %d got %+v", r.user, f)
		}
	}
}

func conformSlowConsumer(t *testing.T) {
	env := sharedEnv(t, "GATEWAY_WS_SLOW_TIMEOUT=500ms", "GATEWAY_HISTORY_SIZE=2000")
	a := MustStart(t, env)
	proxy := testenv.MustProxy(t, strings.TrimPrefix(a.HTTPURL, "http://"))
	proxy.SetReadBuffer(16 << 10)
	rs := startClients(t, 2061, func(u int64) confSpec { return confSpec{URLs: []string{"http://" + proxy.Addr}, User: u} })
	// The network stops carrying the sessions' bytes: the node's socket
	// buffers fill, its send queues stay full, and it closes the sessions.
	proxy.Stall()
	all := keys("s", 0, 1500)
	pad := "|" + strings.Repeat("x", 3900)
	for _, k := range all {
		if err := pushUsersRetryingFor(a.HTTPURL, userIDs(rs), k+pad, k, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "3 slow consumers closed", func() bool {
		return series(scrape(t, a.HTTPURL+"/metrics", ""))[`gateway_ws_sessions_closed_total{reason="slow_consumer"}`] == "3"
	})
	// The network comes back; what the old connections still held is
	// dropped with them, and the clients resume on new ones.
	proxy.SetReadBuffer(0)
	proxy.Cut()
	proxy.Heal()
	waitAll(t, rs, len(all))
	for _, r := range rs {
		checkOnce(t, r, all)
		if o := r.obs.snapshot(); o.connects < 2 {
			t.Errorf("%s: %d connects, want a reconnect after the slow consumer's close", o.name, o.connects)
		}
	}
}

func conformPing(t *testing.T) {
	env := sharedEnv(t)
	a := MustStart(t, env)
	rs := startClients(t, 2071, func(u int64) confSpec {
		return confSpec{URLs: []string{a.HTTPURL}, User: u, Ping: 200 * time.Millisecond}
	})
	// Each client pings every 200 ms of silence; the gateway answers them
	// all, and limits none.
	before := series(scrape(t, a.HTTPURL+"/metrics", ""))[`gateway_limited_total{limit="frames"}`]
	time.Sleep(3 * time.Second)
	pushTo(t, a.HTTPURL, userIDs(rs), []string{"after-pings"})
	waitAll(t, rs, 1)
	for _, r := range rs {
		checkOnce(t, r, []string{"after-pings"})
		checkQuiet(t, r)
	}
	if after := series(scrape(t, a.HTTPURL+"/metrics", ""))[`gateway_limited_total{limit="frames"}`]; after != before {
		t.Errorf("frames limited: %s before the pings, %s after", before, after)
	}
}

// cursorOf reads user's delivered cursor from the Redis of env (the
// default namespace).
func cursorOf(t *testing.T, env []string, user int64) int64 {
	t.Helper()
	rdb := redisFor(t, env)
	n, _ := rdb.HGet(context.Background(), redis.NewKeys("gw", rdb.Options().DB).Stream(user), redis.StreamCursor).Int64()
	return n
}

func conformAckEach(t *testing.T) {
	env := sharedEnv(t, "GATEWAY_LIMITS_CLIENT_FRAMES_PER_SECOND=5")
	a := MustStart(t, env)
	rs := startClients(t, 2081, func(u int64) confSpec { return confSpec{URLs: []string{a.HTTPURL}, User: u, AckEach: true} })
	burst := keys("burst", 0, 500)
	pushTo(t, a.HTTPURL, userIDs(rs), burst)
	waitAll(t, rs, 500)
	positions := map[int64]note{}
	for _, r := range rs {
		checkOnce(t, r, burst)
		checkQuiet(t, r)
		waitFor(t, "cursor at 500", func() bool { return cursorOf(t, env, r.user) == 500 })
		positions[r.user] = r.obs.snapshot().notes[499]
		r.client.Close()
	}
	backlog := keys("backlog", 0, 600)
	pushTo(t, a.HTTPURL, userIDs(rs), backlog)
	replayed := startClients(t, 2081, func(u int64) confSpec {
		p := positions[u]
		return confSpec{URLs: []string{a.HTTPURL}, User: u, AckEach: true, Resume: true, Epoch: p.Epoch, LastSeq: p.Seq}
	})
	waitAll(t, replayed, 600)
	for _, r := range replayed {
		checkOnce(t, r, backlog)
		checkQuiet(t, r)
		waitFor(t, "cursor at 1100", func() bool { return cursorOf(t, env, r.user) == 1100 })
	}
}

func conformBatchedAcks(t *testing.T) {
	env := sharedEnv(t, "GATEWAY_LIMITS_CLIENT_FRAMES_PER_SECOND=5")
	a := MustStart(t, env)
	rs := startClients(t, 2091, func(u int64) confSpec { return confSpec{URLs: []string{a.HTTPURL}, User: u} })
	burst := keys("b", 0, 500)
	pushTo(t, a.HTTPURL, userIDs(rs), burst)
	waitAll(t, rs, 500)
	for _, r := range rs {
		checkOnce(t, r, burst)
		checkQuiet(t, r)
		waitFor(t, "cursor at 500", func() bool { return cursorOf(t, env, r.user) == 500 })
	}
}

// conformTokens: in jwt mode with 10-second tokens, every client keeps one
// session for several token lifetimes, with a token source that mints a
// new token on every ask and with a caching one (the same token until 3 s
// before it expires). The sources are asked a few times per token, never
// in a loop, and no session ends.
func conformTokens(t *testing.T) {
	env := procEnv(t, "GATEWAY_JWT_SECRET="+secret, "GATEWAY_AUTH_MODE=jwt", "GATEWAY_API_KEY="+apiKey)
	a := MustStart(t, env)
	start := time.Now()
	var all []*running
	sources := map[int64]*tokenSource{}
	for i, caching := range []bool{false, true} {
		all = append(all, startClients(t, 2101+10*int64(i), func(u int64) confSpec {
			sources[u] = &tokenSource{user: u, ttl: 10 * time.Second, caching: caching, reuseLeft: 3 * time.Second}
			return confSpec{URLs: []string{a.HTTPURL}, User: u, Tokens: sources[u]}
		})...)
	}
	// Three token lifetimes.
	waitFor(t, "25 s", func() bool { return time.Since(start) > 25*time.Second })
	pushTo(t, a.HTTPURL, userIDs(all), []string{"after-25s"})
	waitAll(t, all, 1)
	elapsed := time.Since(start)
	for _, r := range all {
		checkOnce(t, r, []string{"after-25s"})
		checkQuiet(t, r)
		s := sources[r.user]
		calls, most := s.calls.Load(), int64(3+elapsed.Seconds()/3)
		if calls < 4 || calls > most {
			t.Errorf("%s (caching %t): %d token asks in %v, want 4 to %d", r.obs.name, s.caching, calls, elapsed.Round(time.Second), most)
		}
	}
}
