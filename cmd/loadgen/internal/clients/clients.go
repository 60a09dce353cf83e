// Package clients is the load tool's WebSocket client processes: the
// `loadgen clients` role, which holds one session per user and records
// every message, and the orchestrator's handle on such a process.
package clients

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
	"github.com/houseview/gateway/pkg/client"
	"github.com/houseview/gateway/pkg/jwtauth"
)

// Env carries the settings of a clients process, the nodes' JWT secret
// included (an environment variable does not show in ps).
const Env = "LOADGEN_CLIENTS"

// Config is what the orchestrator tells a clients process.
type Config struct {
	Nodes         []string      // http://host:port of the nodes; users are spread round-robin
	Users, Offset int           // users Offset+1 .. Offset+Users
	Out           string        // the summary file
	Duration      time.Duration // upper bound of the whole run
	Auth          string        // jwt or insecure
	Secret        []byte        // jwt mode: each user's token is minted with it
	Ack           string        // none, batch or each
	MarkRead      bool          // mark every message read as it comes
	Status        time.Duration // interval of the status lines
	LateAfter     time.Duration // first receipts later than this from their schedule count as late
	Compact       bool          // keep positions and counts, not every message (long runs)
	ChurnEvery    time.Duration // drop ChurnFraction of the sessions this often (0: never)
	ChurnFraction float64
}

const (
	dialParallel   = 64 // handshakes in flight per process
	maxReconnects  = 20 // a user gives up after this many failed (re)connects in a row
	connectTimeout = 2 * time.Minute
)

// Run is "loadgen clients": hold one WebSocket per user until SIGTERM,
// then write the summary.
func Run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	var cfg Config
	if err := json.Unmarshal([]byte(getenv(Env)), &cfg); err != nil {
		return fmt.Errorf("clients: $%s: %w", Env, err)
	}
	if len(cfg.Nodes) == 0 || cfg.Users <= 0 || cfg.Status <= 0 || (cfg.Auth == "jwt" && len(cfg.Secret) < jwtauth.MinSecretLen) {
		return errors.New("clients: nodes, users, status and (jwt) a secret must be set")
	}
	b, err := json.Marshal(hold(ctx, cfg, stdout))
	if err != nil {
		return err
	}
	return os.WriteFile(cfg.Out, b, 0o644)
}

// StatusLine is what a clients process prints on stdout, one JSON object a
// line: "progress" every interval, "ready" once every user got its
// connected frame.
type StatusLine struct {
	Event      string            `json:"event"`
	Connected  int64             `json:"connected"` // users that got a connected frame at least once
	Live       int64             `json:"live"`      // sessions open now
	Received   int64             `json:"received"`  // data messages received (repeats included)
	Reconnects int64             `json:"reconnects"`
	Failed     int64             `json:"failed"`          // users that gave up
	Steps      map[int]*StepLive `json:"steps,omitempty"` // steps that changed since the last line, cumulative
}

// StepLive is what a clients process saw of one schedule step so far.
type StepLive struct {
	Received int64             `json:"n"`
	Repeats  int64             `json:"dup"`
	Late     int64             `json:"late"` // first receipts later than the late threshold
	Hist     measure.Histogram `json:"h"`    // latency of first receipts from the scheduled send, µs
}

func (l *StepLive) add(o *StepLive) {
	l.Received, l.Repeats, l.Late = l.Received+o.Received, l.Repeats+o.Repeats, l.Late+o.Late
	l.Hist.Merge(o.Hist)
}

// Counts are what every delivery sums over the clients processes.
type Counts struct {
	Gaps       int64          `json:"gaps"`
	Reconnects int64          `json:"reconnects"`
	DialErrors int64          `json:"dial_errors"`
	Failed     int64          `json:"failed_users"`
	Events     map[string]int `json:"events,omitempty"`
	CloseCodes map[string]int `json:"close_codes,omitempty"`
}

// Add adds the counts of s.
func (c *Counts) Add(s Counts) {
	if c.Events == nil {
		c.Events, c.CloseCodes = map[string]int{}, map[string]int{}
	}
	c.Gaps, c.Reconnects, c.DialErrors, c.Failed = c.Gaps+s.Gaps, c.Reconnects+s.Reconnects, c.DialErrors+s.DialErrors, c.Failed+s.Failed
	for k, v := range s.Events {
		c.Events[k] += v
	}
	for k, v := range s.CloseCodes {
		c.CloseCodes[k] += v
	}
}

// Summary is what a clients process writes at the end.
type Summary struct {
	Counts
	Received   int64      // data messages, repeats included
	OutOfOrder int64      // a seq not above the previous of the user
	Duplicates int64      // notifications the client dropped as already handed over
	Logs       []UserLog  // every message (not compact)
	Positions  []Position // compact runs: each user's position and counts
	Churned    int64
}

// UserLog is every data message one user received, in arrival order: [index
// of its epoch in Epochs, seq, FNV-32a of its id, µs from the scheduled
// send, µs from the actual send] (-1: no time in the detail).
type UserLog struct {
	User   int64      `json:"u"`
	Epochs []string   `json:"e"`
	Msgs   [][5]int64 `json:"m"`
}

// Position is where one user's stream stood at the end of a compact run.
type Position struct {
	User    int64  `json:"u"`
	Epoch   string `json:"e"`
	Last    int64  `json:"s"`   // the last seq processed
	Unique  int64  `json:"n"`   // messages above the position when they came
	Repeats int64  `json:"dup"` // messages at or behind it, handed over
	Dropped int64  `json:"cd"`  // resent by the gateway, dropped by the client
}

// wireDetail is the detail the pusher puts in every message.
type wireDetail struct {
	SchedNS int64  `json:"sched_ns"`
	SentNS  int64  `json:"sent_ns"`
	Step    *int32 `json:"step"`
}

// IDHash is the FNV-32a of a message id: summaries and pushed results keep
// it instead of the id.
func IDHash(id string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return h.Sum32()
}

// sinceNS is now - then in µs, or -1 without then.
func sinceNS(now, then int64) int64 {
	if then <= 0 {
		return -1
	}
	return max(now-then, 0) / 1000
}

// userState is one user of a clients process, owned by its goroutine.
type userState struct {
	id, last     int64  // last: the seq processed last (the resume position)
	epoch, node  string // epoch: the stream the position belongs to
	log          UserLog
	gaps, ooo    int64
	dups         int64 // dropped by the client as duplicates
	unique, reps int64 // data messages above, and at or behind, the position when they came
	compact      bool
	conn         atomic.Pointer[net.Conn] // the open session's TCP connection, for the churn
	live         bool
}

// take records a data message received at now (unix ns) and moves the
// position; it says whether the message was a repeat.
func (st *userState) take(epoch string, seq int64, id string, d wireDetail, now int64) (repeat bool) {
	switch {
	case epoch != st.epoch: // the first of an epoch: the stream starts where the gateway said
		st.epoch, st.last = epoch, seq-1
	case seq <= st.last:
		repeat = true
		st.ooo++
	case seq > st.last+1:
		st.gaps++
	}
	if repeat {
		st.reps++
	} else {
		st.unique++
	}
	st.last = max(st.last, seq)
	if !st.compact {
		e := slices.Index(st.log.Epochs, epoch)
		if e < 0 {
			e, st.log.Epochs = len(st.log.Epochs), append(st.log.Epochs, epoch)
		}
		st.log.Msgs = append(st.log.Msgs, [5]int64{int64(e), seq, int64(IDHash(id)), sinceNS(now, d.SchedNS), sinceNS(now, d.SentNS)})
	}
	return repeat
}

// group is the users of one clients process.
type group struct {
	cfg    Config
	dialer *websocket.Dialer
	sem    chan struct{}

	connected, live, received, reconnects, dialErrors, failed, churned atomic.Int64

	mu                 sync.Mutex
	events, closeCodes map[string]int
	steps              map[int]*StepLive
	changed            map[int]bool
}

func newGroup(cfg Config) *group {
	return &group{cfg: cfg, sem: make(chan struct{}, dialParallel), events: map[string]int{}, closeCodes: map[string]int{},
		steps: map[int]*StepLive{}, changed: map[int]bool{},
		dialer: &websocket.Dialer{HandshakeTimeout: 20 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 512}}
}

// hold connects every user and records until ctx ends or cfg.Duration
// passes.
func hold(ctx context.Context, cfg Config, stdout io.Writer) Summary {
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	g := newGroup(cfg)
	states := make([]*userState, cfg.Users)
	var wg sync.WaitGroup
	for i := range states {
		st := &userState{id: int64(cfg.Offset + i + 1), node: cfg.Nodes[i%len(cfg.Nodes)], compact: cfg.Compact}
		st.log.User = st.id
		states[i] = st
		wg.Go(func() { g.hold(ctx, st) })
	}
	if cfg.ChurnEvery > 0 && cfg.ChurnFraction > 0 {
		go g.churn(ctx, states)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	enc, ready := json.NewEncoder(stdout), false // status lines come from this goroutine only
	_ = measure.TickUntil(context.Background(), done, cfg.Status, func() bool {
		_ = enc.Encode(g.status("progress"))
		if !ready && g.connected.Load() == int64(cfg.Users) {
			ready = true
			_ = enc.Encode(g.status("ready"))
		}
		return false
	})
	sum := Summary{Counts: Counts{Reconnects: g.reconnects.Load(), DialErrors: g.dialErrors.Load(), Failed: g.failed.Load(),
		Events: g.events, CloseCodes: g.closeCodes}, Received: g.received.Load(), Churned: g.churned.Load()}
	for _, st := range states {
		sum.Gaps, sum.OutOfOrder, sum.Duplicates = sum.Gaps+st.gaps, sum.OutOfOrder+st.ooo, sum.Duplicates+st.dups
		if len(st.log.Msgs) > 0 {
			sum.Logs = append(sum.Logs, st.log)
		}
		if cfg.Compact {
			sum.Positions = append(sum.Positions, Position{User: st.id, Epoch: st.epoch, Last: st.last,
				Unique: st.unique, Repeats: st.reps, Dropped: st.dups})
		}
	}
	return sum
}

// status is a status line with the steps that changed since the last one.
func (g *group) status(event string) StatusLine {
	s := StatusLine{Event: event, Connected: g.connected.Load(), Live: g.live.Load(), Received: g.received.Load(),
		Reconnects: g.reconnects.Load(), Failed: g.failed.Load()}
	g.mu.Lock()
	defer g.mu.Unlock()
	for k := range g.changed {
		if s.Steps == nil {
			s.Steps = map[int]*StepLive{}
		}
		l := &StepLive{Hist: measure.Histogram{}}
		l.add(g.steps[k])
		s.Steps[k] = l
	}
	clear(g.changed)
	return s
}

// hold keeps one user connected with a pkg/client Client until ctx ends.
// The client resumes by itself; hold records what it hands over and gives
// up after maxReconnects failed (re)connects in a row.
func (g *group) hold(ctx context.Context, st *userState) {
	c, err := g.dial(ctx, st)
	if err != nil {
		if ctx.Err() == nil {
			g.failed.Add(1)
		}
		return
	}
	defer func() {
		c.Close()
		st.dups = c.Stats().Duplicates
		g.setLive(st, false)
	}()
	g.connected.Add(1)
	g.setLive(st, true)
	fails := 0
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
			if g.cfg.MarkRead {
				_ = c.MarkRead(n) // refused only while reconnecting: that message stays unread
			}
		case e, ok := <-c.Events():
			if ok && !g.event(ctx, st, e, &fails) {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// event follows a client event; false means the user is done.
func (g *group) event(ctx context.Context, st *userState, e client.Event, fails *int) bool {
	switch e.Kind {
	case client.Connected:
		g.setLive(st, true)
		*fails = 0
		return true
	case client.Disconnected:
		if ctx.Err() != nil {
			return false
		}
		g.setLive(st, false)
		g.note(g.closeCodes, closeReason(e.Code, e.Err))
		g.reconnects.Add(1)
	case client.Error:
		if st.live {
			return true
		}
		g.dialErrors.Add(1)
	case client.Inbox:
		return true // inbox counts: routine
	default:
		g.note(g.events, string(e.Kind))
		return true
	}
	if *fails++; *fails > maxReconnects {
		g.failed.Add(1)
		return false
	}
	return true
}

func (g *group) setLive(st *userState, v bool) {
	if v != st.live {
		st.live = v
		g.live.Add(map[bool]int64{true: 1, false: -1}[v])
	}
}

// dial connects the user's client (the first handshakes spread by
// dialParallel); client.Dial retries a failed first connect as the client
// retries later ones, until connectTimeout.
func (g *group) dial(ctx context.Context, st *userState) (*client.Client, error) {
	opts := client.Options{URLs: []string{st.node}, Dialer: g.dialer, NoAck: g.cfg.Ack == "none", AckEach: g.cfg.Ack == "each"}
	if g.cfg.ChurnEvery > 0 {
		own := *g.dialer // remembers the TCP connection, so that the churn can drop it
		own.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				st.conn.Store(&c)
			}
			return c, err
		}
		opts.Dialer = &own
	}
	if g.cfg.Auth == "jwt" {
		opts.User = st.id
		opts.TokenFunc = func(context.Context) (string, error) {
			return jwtauth.Sign(g.cfg.Secret, st.id, time.Now(), 24*time.Hour)
		}
	} else {
		opts.UserID = st.id
	}
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-g.sem }()
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	c, err := client.Dial(ctx, opts)
	if err != nil {
		g.dialErrors.Add(1)
	}
	return c, err
}

// take records a notification the client handed over.
func (g *group) take(st *userState, n client.Notification) {
	now := time.Now().UnixNano()
	var d wireDetail
	_ = json.Unmarshal(n.Detail, &d)
	repeat := st.take(n.Epoch, n.Seq, n.ID, d, now)
	g.received.Add(1)
	if d.Step == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	k, us := int(*d.Step), sinceNS(now, d.SchedNS)
	l := g.steps[k]
	if l == nil {
		l = &StepLive{Hist: measure.Histogram{}}
		g.steps[k] = l
	}
	g.changed[k] = true
	switch {
	case repeat:
		l.Repeats++
		return
	case us > g.cfg.LateAfter.Microseconds():
		l.Late++
	}
	l.Received++
	if us >= 0 {
		l.Hist.Add(us)
	}
}

func (g *group) note(m map[string]int, key string) {
	g.mu.Lock()
	m[key]++
	g.mu.Unlock()
}

// churn drops, every ChurnEvery, the connections of the next ChurnFraction
// of the users (in turn, so every user is churned alike), as a failing
// network would: each client reconnects and resumes from its position.
func (g *group) churn(ctx context.Context, states []*userState) {
	per, next := max(int(math.Ceil(g.cfg.ChurnFraction*float64(len(states)))), 1), 0
	_ = measure.TickUntil(ctx, nil, g.cfg.ChurnEvery, func() bool {
		for range per {
			if c := states[next].conn.Swap(nil); c != nil {
				_ = (*c).Close()
				g.churned.Add(1)
			}
			next = (next + 1) % len(states)
		}
		return false
	})
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
