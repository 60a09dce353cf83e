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
)

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
}

func runClients(ctx context.Context, args []string, stdout io.Writer) error {
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
	fs.DurationVar(&cfg.progress, "progress", 250*time.Millisecond, "interval of the progress lines on stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.nodes = splitList(*nodes)
	if len(cfg.nodes) == 0 || cfg.users <= 0 || cfg.dialParallel <= 0 {
		return errors.New("clients: -nodes, -users and -dial-parallel must be set")
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

// statusLine is what a clients process prints on stdout, one JSON per line:
// "progress" every interval, "ready" once every user got its connected
// frame, "done" after the summary is written.
type statusLine struct {
	Event      string `json:"event"`
	Connected  int64  `json:"connected"` // users that got a connected frame at least once
	Live       int64  `json:"live"`      // sessions open now
	Received   int64  `json:"received"`  // data messages received (duplicates included)
	Reconnects int64  `json:"reconnects"`
	Failed     int64  `json:"failed"` // users that gave up
}

var stdoutMu sync.Mutex

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

// msgRecord is one received data message.
type msgRecord struct {
	User      int64  `json:"u"`
	Epoch     string `json:"e"`
	Seq       int64  `json:"s"`
	ID        string `json:"i"`
	LatencyUS int64  `json:"l"` // receive time - sent_ns of the detail; -1 without sent_ns
	DueUS     int64  `json:"d"` // receive time - due_ns of the detail; -1 without due_ns
}

// clientSummary is what a clients process writes at the end.
type clientSummary struct {
	Users      int            `json:"users"`
	Connected  int64          `json:"connected"`
	Reconnects int64          `json:"reconnects"`
	DialErrors int64          `json:"dial_errors"`
	Failed     int64          `json:"failed"`
	Received   int64          `json:"received"`
	Gaps       int64          `json:"gaps"`         // a seq more than one above the previous of the user
	OutOfOrder int64          `json:"out_of_order"` // a seq not above the previous of the user
	Events     map[string]int `json:"events"`       // non-data frames other than connected
	CloseCodes map[string]int `json:"close_codes"`  // why sessions ended before the stop
	ConnectMS  int64          `json:"connect_ms"`   // time until every user was connected (0: never)
	Messages   []msgRecord    `json:"messages"`
}

// wireFrame is the part of a gateway frame the clients read.
type wireFrame struct {
	Event   string `json:"event"`
	Epoch   string `json:"epoch"`
	LastSeq int64  `json:"last_seq"`
	Reset   bool   `json:"reset"`
	Seq     int64  `json:"seq"`
	ID      string `json:"id"`
	UserID  int64  `json:"user_id"`
	Detail  struct {
		SentNS int64 `json:"sent_ns"`
		DueNS  int64 `json:"due_ns"`
	} `json:"detail"`
}

// userState is owned by the user's goroutine until the group is done.
type userState struct {
	id        int64
	node      string
	epoch     string // the epoch of the user's stream that last belongs to
	last      int64  // highest seq received
	connected bool
	msgs      []msgRecord
	gaps      int64
	ooo       int64
}

type clientGroup struct {
	cfg    clientsConfig
	dialer *websocket.Dialer
	sem    chan struct{}

	connected, live, received, reconnects, dialErrors, failed atomic.Int64

	mu         sync.Mutex
	events     map[string]int
	closeCodes map[string]int
}

// holdClients connects every user and records until ctx ends or
// cfg.duration passes.
func holdClients(ctx context.Context, cfg clientsConfig, stdout io.Writer) clientSummary {
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	g := &clientGroup{cfg: cfg, sem: make(chan struct{}, cfg.dialParallel),
		events: map[string]int{}, closeCodes: map[string]int{},
		dialer: &websocket.Dialer{HandshakeTimeout: 20 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 512}}
	states := make([]*userState, cfg.users)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range states {
		st := &userState{id: int64(cfg.offset + i + 1), node: cfg.nodes[i%len(cfg.nodes)]}
		states[i] = st
		wg.Go(func() { g.hold(ctx, st) })
	}

	var connectMS int64
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(cfg.progress)
	defer tick.Stop()
	status := func(event string) statusLine {
		return statusLine{Event: event, Connected: g.connected.Load(), Live: g.live.Load(),
			Received: g.received.Load(), Reconnects: g.reconnects.Load(), Failed: g.failed.Load()}
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
		Events: g.events, CloseCodes: g.closeCodes, ConnectMS: connectMS}
	for _, st := range states {
		sum.Gaps += st.gaps
		sum.OutOfOrder += st.ooo
		sum.Messages = append(sum.Messages, st.msgs...)
	}
	return sum
}

// hold keeps one user connected until ctx ends, resuming with last_seq
// after a drop.
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

// session runs one WebSocket of the user until it fails or ctx ends; ok
// says whether it got as far as the connected frame.
func (g *clientGroup) session(ctx context.Context, st *userState) (ok bool, err error) {
	q := url.Values{"user_id": {strconv.FormatInt(st.id, 10)}}
	if st.epoch != "" {
		q.Set("last_seq", strconv.FormatInt(st.last, 10))
		q.Set("epoch", st.epoch)
	}
	u := "ws" + strings.TrimPrefix(st.node, "http") + "/ws?" + q.Encode()
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
		if f.Event == "connected" {
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
			continue
		}
		if f.Event == "reset" { // the stream was recreated: follow the new epoch
			st.follow(f)
			g.note(g.events, "reset")
			continue
		}
		if f.Event != "" || f.Seq <= 0 {
			g.note(g.events, "event:"+f.Event)
			continue
		}
		lat, due := int64(-1), int64(-1)
		if f.Detail.SentNS > 0 {
			lat = (now - f.Detail.SentNS) / 1000
		}
		if f.Detail.DueNS > 0 {
			due = (now - f.Detail.DueNS) / 1000
		}
		switch {
		case f.Epoch != st.epoch:
			g.note(g.events, "epoch_without_reset") // never expected: the gateway sends a reset frame first
			st.epoch, st.last = f.Epoch, f.Seq-1
		case f.Seq <= st.last:
			st.ooo++
		case f.Seq > st.last+1:
			st.gaps++
		}
		st.last = max(st.last, f.Seq)
		st.msgs = append(st.msgs, msgRecord{User: st.id, Epoch: f.Epoch, Seq: f.Seq, ID: f.ID, LatencyUS: lat, DueUS: due})
		g.received.Add(1)
	}
}

// follow takes the position a connected or reset frame gives: the epoch
// of the user's stream and the seq its messages continue after.
func (st *userState) follow(f wireFrame) {
	st.epoch, st.last = f.Epoch, f.LastSeq
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

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, strings.TrimRight(p, "/"))
		}
	}
	return out
}
