package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/pkg/client"

	"github.com/houseview/gateway/pkg/jwtauth"
)

// jwtSecretEnv carries the nodes' JWT secret to the clients processes,
// which mint their users' tokens with it (an environment variable, not a
// flag, so it does not show in ps).
const jwtSecretEnv = "LOADGEN_JWT_SECRET"

// clientsConfig is the configuration of "loadgen clients".
type clientsConfig struct {
	nodes          []string // http://host:port of the nodes
	users          int
	offset         int // users are offset+1 .. offset+users
	out            string
	duration       time.Duration // upper bound of the whole run
	dialParallel   int
	maxReconnects  int
	connectTimeout time.Duration
	ack            bool
	ackEach        bool // an ack frame per message (with ack)
	progress       time.Duration
	auth           string
	secret         []byte
	tokenTTL       time.Duration
	lateAfter      time.Duration // a first receipt later than this from its schedule counts as late
	compact        bool          // keep positions and counts, not every message (long runs)
	churnEvery     time.Duration // every this long, drop the connections of churnFraction of the users (0: never)
	churnFraction  float64
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
	fs.DurationVar(&cfg.connectTimeout, "connect-timeout", 2*time.Minute, "a user gives up when its first connect takes longer")
	fs.BoolVar(&cfg.ack, "ack", false, "acknowledge what was handed over (ack=1; the gateway then counts a message delivered only when acked), in batches")
	fs.BoolVar(&cfg.ackEach, "ack-each", false, "with -ack: one ack frame per message instead of batches")
	fs.DurationVar(&cfg.progress, "progress", 250*time.Millisecond, "interval of the status lines on stdout")
	fs.StringVar(&cfg.auth, "auth", "jwt", "jwt: ?token=<HS256 JWT minted with $"+jwtSecretEnv+">; insecure: ?user_id=")
	fs.DurationVar(&cfg.tokenTTL, "token-ttl", 24*time.Hour, "lifetime of the minted tokens")
	fs.DurationVar(&cfg.lateAfter, "late-after", 100*time.Millisecond, "first receipts later than this from the scheduled send count as late in the status lines")
	fs.BoolVar(&cfg.compact, "compact", false, "keep each user's position and message counts instead of every message (bounded memory for long runs)")
	fs.DurationVar(&cfg.churnEvery, "churn-every", 0, "every this long, drop the connections of -churn-fraction of the users, which reconnect and resume (0: no churn)")
	fs.Float64Var(&cfg.churnFraction, "churn-fraction", 0.05, "share of the users whose connections each churn drops, taken in turn")
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
		sum.Duplicates += st.dups
		if len(st.log.Msgs) > 0 {
			sum.Logs = append(sum.Logs, st.log)
		}
		if cfg.compact {
			sum.Positions = append(sum.Positions, userPosition{User: st.id, Epoch: st.epoch, Last: st.last,
				Unique: st.unique, Repeats: st.repeats, Dropped: st.dups})
		}
	}
	return sum
}

// hold keeps one user connected with a pkg/client Client until ctx ends.
// The client resumes by itself; hold records what it hands over and gives
// up after maxReconnects failed (re)connects in a row.
func (g *clientGroup) hold(ctx context.Context, st *userState) {
	opts := client.Options{URLs: []string{st.node}, Dialer: g.dialer, NoAck: !g.cfg.ack, AckEach: g.cfg.ackEach}
	if g.cfg.churnEvery > 0 {
		opts.Dialer = st.churnable(g.dialer)
	}
	if g.cfg.auth == "jwt" {
		opts.TokenFunc = func(context.Context) (string, error) {
			return jwtauth.Sign(g.cfg.secret, st.id, time.Now(), g.cfg.tokenTTL)
		}
		opts.User = st.id
	} else {
		opts.UserID = st.id
	}
	select { // the first handshakes are spread by -dial-parallel
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	c, err := g.dial(ctx, opts)
	<-g.sem
	if err != nil {
		if ctx.Err() == nil {
			g.failed.Add(1)
		}
		return
	}
	defer func() {
		c.Close()
		st.dups = c.Stats().Duplicates
	}()
	st.connected = true
	g.connected.Add(1)
	g.live.Add(1)
	live, fails := true, 0
	setLive := func(v bool) {
		if v != live {
			live = v
			g.live.Add(map[bool]int64{true: 1, false: -1}[v])
		}
	}
	defer setLive(false)
	for {
		select {
		case n, ok := <-c.Notifications():
			if !ok {
				if ctx.Err() == nil {
					g.failed.Add(1) // the client stopped by itself (a final refusal)
				}
				return
			}
			g.take(st, n)
		case e, ok := <-c.Events():
			if !ok {
				continue // closed with Notifications: returns there
			}
			switch e.Kind {
			case client.Connected:
				setLive(true)
				fails = 0
			case client.Disconnected:
				if ctx.Err() != nil {
					return
				}
				setLive(false)
				g.note(g.closeCodes, closeReason(e.Code, e.Err))
				g.reconnects.Add(1)
				if fails++; fails > g.cfg.maxReconnects {
					g.failed.Add(1)
					return
				}
			case client.Error:
				if !live {
					g.dialErrors.Add(1)
					if fails++; fails > g.cfg.maxReconnects {
						g.failed.Add(1)
						return
					}
				}
			default:
				g.note(g.events, string(e.Kind))
			}
		case <-ctx.Done():
			return
		}
	}
}

// dial connects the user's client, retrying a failed first connect as the
// client retries later ones (Dial itself only stops on a final refusal).
func (g *clientGroup) dial(ctx context.Context, opts client.Options) (*client.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.connectTimeout)
	defer cancel()
	c, err := client.Dial(ctx, opts)
	if err != nil {
		g.dialErrors.Add(1)
	}
	return c, err
}

// take records a notification the client handed over.
func (g *clientGroup) take(st *userState, n client.Notification) {
	now := time.Now().UnixNano()
	var d wireDetail
	_ = json.Unmarshal(n.Detail, &d)
	a := st.take(arrivalOf{Epoch: n.Epoch, Seq: n.Seq, ID: n.ID, Detail: d}, now)
	g.received.Add(1)
	if d.Step != nil {
		g.steps.add(int(*d.Step), sinceNS(now, d.SchedNS), a == arrivalRepeat)
	}
}

func (g *clientGroup) note(m map[string]int, key string) {
	g.mu.Lock()
	m[key]++
	g.mu.Unlock()
}

func closeReason(code int, err error) string {
	if code != 0 {
		return strconv.Itoa(code)
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
