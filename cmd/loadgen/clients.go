package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/pkg/jwtauth"
)

// jwtSecretEnv carries the nodes' JWT secret to the clients processes,
// which mint their users' tokens with it (an environment variable, not a
// flag, so it does not show in ps).
const jwtSecretEnv = "LOADGEN_JWT_SECRET"

// clientsConfig is the configuration of "loadgen clients".
type clientsConfig struct {
	nodes         []string // http://host:port of the nodes
	users         int
	offset        int // users are offset+1 .. offset+users
	out           string
	duration      time.Duration // upper bound of the whole run
	dialParallel  int
	maxReconnects int
	progress      time.Duration
	auth          string
	secret        []byte
	tokenTTL      time.Duration
	lateAfter     time.Duration // a first receipt later than this from its schedule counts as late
	compact       bool          // keep positions and counts, not every message (long runs)
	churnEvery    time.Duration // every this long, close the sessions of churnFraction of the users (0: never)
	churnFraction float64
}

func runClients(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("clients", flag.ContinueOnError)
	fs.SetOutput(stdout)
	nodes := fs.String("nodes", "http://127.0.0.1:8080", "comma-separated node base URLs; users are spread round-robin")
	var cfg clientsConfig
	fs.IntVar(&cfg.users, "users", 1000, "number of users (one WebSocket each)")
	fs.IntVar(&cfg.offset, "user-offset", 0, "users are offset+1 .. offset+users")
	fs.StringVar(&cfg.out, "out", "", "file for the summary JSON (default stdout)")
	fs.DurationVar(&cfg.duration, "duration", 15*time.Minute, "stop after this long (SIGTERM/SIGINT stop earlier)")
	fs.IntVar(&cfg.dialParallel, "dial-parallel", 64, "handshakes in flight at once")
	fs.IntVar(&cfg.maxReconnects, "max-reconnects", 20, "a user gives up after this many failed (re)connects in a row")
	fs.DurationVar(&cfg.progress, "progress", 250*time.Millisecond, "interval of the status lines on stdout")
	fs.StringVar(&cfg.auth, "auth", "jwt", "jwt: ?token=<HS256 JWT minted with $"+jwtSecretEnv+">; insecure: ?user_id=")
	fs.DurationVar(&cfg.tokenTTL, "token-ttl", 24*time.Hour, "lifetime of the minted tokens")
	fs.DurationVar(&cfg.lateAfter, "late-after", 100*time.Millisecond, "first receipts later than this from the scheduled send count as late in the status lines")
	fs.BoolVar(&cfg.compact, "compact", false, "keep each user's position and message counts instead of every message (bounded memory for long runs)")
	fs.DurationVar(&cfg.churnEvery, "churn-every", 0, "every this long, close the WebSockets of -churn-fraction of the users, which reconnect and resume (0: no churn)")
	fs.Float64Var(&cfg.churnFraction, "churn-fraction", 0.05, "share of the users whose WebSockets each churn closes, taken in turn")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.nodes = splitList(*nodes)
	cfg.secret = []byte(getenv(jwtSecretEnv))
	if err := cfg.check(); err != nil {
		return err
	}
	sum := holdClients(ctx, cfg, stdout)
	b, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	if cfg.out == "" {
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	if err := os.WriteFile(cfg.out, b, 0o644); err != nil {
		return err
	}
	return writeLine(stdout, statusLine{Event: "done", Connected: sum.Connected, Received: sum.Received,
		Reconnects: sum.Reconnects, Failed: sum.Failed})
}

func (c *clientsConfig) check() error {
	switch {
	case len(c.nodes) == 0 || c.users <= 0 || c.dialParallel <= 0 || c.progress <= 0:
		return errors.New("clients: -nodes, -users, -dial-parallel and -progress must be set")
	case c.auth == "jwt" && len(c.secret) < jwtauth.MinSecretLen:
		return fmt.Errorf("clients: -auth jwt needs $%s (%d+ bytes)", jwtSecretEnv, jwtauth.MinSecretLen)
	case c.auth != "jwt" && c.auth != "insecure":
		return fmt.Errorf("clients: -auth %q: want jwt or insecure", c.auth)
	case c.churnEvery < 0 || c.churnFraction < 0 || c.churnFraction > 1:
		return errors.New("clients: -churn-every must not be negative and -churn-fraction must be in [0, 1]")
	}
	return nil
}

var stdoutMu sync.Mutex

// writeLine prints v as one JSON line.
func writeLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// clientGroup is the users of one clients process.
type clientGroup struct {
	cfg    clientsConfig
	dialer *websocket.Dialer
	sem    chan struct{}
	steps  *liveSteps

	connected, live, received, reconnects, dialErrors, failed, churned atomic.Int64

	mu         sync.Mutex
	events     map[string]int
	closeCodes map[string]int
}

// holdClients connects every user and records until ctx ends or
// cfg.duration passes.
func holdClients(ctx context.Context, cfg clientsConfig, stdout io.Writer) clientSummary {
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	g := &clientGroup{cfg: cfg, sem: make(chan struct{}, cfg.dialParallel), steps: newLiveSteps(cfg.lateAfter),
		events: map[string]int{}, closeCodes: map[string]int{},
		dialer: &websocket.Dialer{HandshakeTimeout: 20 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 512}}
	states := make([]*userState, cfg.users)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range states {
		st := &userState{id: int64(cfg.offset + i + 1), node: cfg.nodes[i%len(cfg.nodes)], compact: cfg.compact}
		st.log.User = st.id
		states[i] = st
		wg.Go(func() { g.hold(ctx, st) })
	}

	if cfg.churnEvery > 0 && cfg.churnFraction > 0 {
		go g.churn(ctx, states)
	}
	var connectMS int64
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(cfg.progress)
	defer tick.Stop()
	status := func(event string) statusLine {
		return statusLine{Event: event, Connected: g.connected.Load(), Live: g.live.Load(),
			Received: g.received.Load(), Reconnects: g.reconnects.Load(), Failed: g.failed.Load(), Steps: g.steps.takeChanged()}
	}
loop:
	for {
		select {
		case <-done:
			break loop
		case <-tick.C:
			_ = writeLine(stdout, status("progress"))
			if connectMS == 0 && g.connected.Load() == int64(cfg.users) {
				connectMS = max(time.Since(start).Milliseconds(), 1)
				_ = writeLine(stdout, status("ready"))
			}
		}
	}
	sum := clientSummary{Users: cfg.users, Connected: g.connected.Load(), Reconnects: g.reconnects.Load(),
		DialErrors: g.dialErrors.Load(), Failed: g.failed.Load(), Received: g.received.Load(),
		Events: g.events, CloseCodes: g.closeCodes, ConnectMS: connectMS, Churned: g.churned.Load()}
	for _, st := range states {
		sum.Gaps += st.gaps
		sum.OutOfOrder += st.ooo
		if len(st.log.Msgs) > 0 {
			sum.Logs = append(sum.Logs, st.log)
		}
		if cfg.compact {
			sum.Positions = append(sum.Positions, userPosition{User: st.id, Epoch: st.epoch, Last: st.last, Unique: st.unique, Repeats: st.repeats})
		}
	}
	return sum
}

// hold keeps one user connected until ctx ends, resuming from its
// position after a drop.
func (g *clientGroup) hold(ctx context.Context, st *userState) {
	fails := 0
	for ctx.Err() == nil {
		ok, err := g.session(ctx, st)
		if ctx.Err() != nil {
			return
		}
		g.note(g.closeCodes, closeReason(err))
		if ok {
			fails = 0 // it had worked: count again from zero
		}
		fails++
		if fails > g.cfg.maxReconnects {
			g.failed.Add(1)
			return
		}
		g.reconnects.Add(1)
		t := time.NewTimer(min(100*time.Millisecond<<min(fails, 5), 3*time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// wsURL is the handshake URL of the user: its identity and, once it has a
// position, last_seq and epoch to resume from.
func (g *clientGroup) wsURL(st *userState) (string, error) {
	q := url.Values{}
	if g.cfg.auth == "jwt" {
		if st.token == "" {
			tok, err := jwtauth.Sign(g.cfg.secret, st.id, time.Now(), g.cfg.tokenTTL)
			if err != nil {
				return "", err
			}
			st.token = tok
		}
		q.Set("token", st.token)
	} else {
		q.Set("user_id", strconv.FormatInt(st.id, 10))
	}
	if st.epoch != "" {
		q.Set("last_seq", strconv.FormatInt(st.last, 10))
		q.Set("epoch", st.epoch)
	}
	return "ws" + strings.TrimPrefix(st.node, "http") + "/ws?" + q.Encode(), nil
}

// session runs one WebSocket of the user until it fails or ctx ends; ok
// says whether it got as far as the connected frame.
func (g *clientGroup) session(ctx context.Context, st *userState) (ok bool, err error) {
	u, err := g.wsURL(st)
	if err != nil {
		return false, err
	}
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	conn, resp, err := g.dialer.DialContext(ctx, u, nil)
	<-g.sem
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		g.dialErrors.Add(1)
		return false, err
	}
	g.live.Add(1)
	defer g.live.Add(-1)
	st.conn.Store(conn)
	defer st.conn.Store(nil)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // until the connected frame
	for {
		_, b, err := conn.ReadMessage()
		now := time.Now().UnixNano()
		if err != nil {
			return ok, err
		}
		var f wireFrame
		if err := json.Unmarshal(b, &f); err != nil {
			g.note(g.events, "unparsable")
			continue
		}
		switch {
		case f.Event == "connected":
			_ = conn.SetReadDeadline(time.Time{})
			ok = true
			if !st.connected {
				st.connected = true
				g.connected.Add(1)
			}
			st.follow(f)
			if f.Reset {
				g.note(g.events, "reset")
			}
		case f.Event == "reset": // the stream was recreated: follow the new epoch
			st.follow(f)
			g.note(g.events, "reset")
		case f.Event != "" || f.Seq <= 0:
			g.note(g.events, "event:"+f.Event)
		default:
			a := st.take(f, now)
			if a == arrivalNewEpoch {
				g.note(g.events, "epoch_without_reset")
			}
			g.received.Add(1)
			if f.Detail.Step != nil {
				g.steps.add(int(*f.Detail.Step), sinceNS(now, f.Detail.SchedNS), a == arrivalRepeat)
			}
		}
	}
}

func (g *clientGroup) note(m map[string]int, key string) {
	g.mu.Lock()
	m[key]++
	g.mu.Unlock()
}

func closeReason(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return strconv.Itoa(ce.Code)
	}
	if err == nil {
		return "nil"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
