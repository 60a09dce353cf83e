package systest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/client"
	"github.com/houseview/gateway/pkg/jwtauth"
)

// The three clients of the protocol conformance suite
// (conformance_test.go): the raw reference client written from
// docs/protocol.md (conformance_raw_test.go), pkg/client, and the
// JavaScript client driven through web/test/conformance-driver.js. Each
// reports what it handed over and what happened into an observed.

// confSpec is how a scenario connects a client.
type confSpec struct {
	URLs    []string
	User    int64
	Tokens  *tokenSource // jwt mode; nil: insecure mode (user_id)
	AckEach bool         // ack every notification as it is processed (else in batches)
	Ping    time.Duration
	// From resumes after (Epoch, LastSeq) when Resume is set.
	Resume  bool
	Epoch   string
	LastSeq int64
}

// confClient is one client under test.
type confClient interface {
	// Stall stops reading from the connection for d (a frozen app).
	Stall(d time.Duration)
	Close()
}

// clientKind starts one kind of client.
type clientKind struct {
	name  string
	start func(tb testing.TB, spec confSpec, o *observed) confClient
}

var clientKinds = []clientKind{
	{"raw", startRawClient},
	{"go", startGoClient},
	{"js", startJSClient},
}

// note is a notification a client handed over.
type note struct {
	Epoch   string
	Seq     int64
	Content string
}

// observed is what one client reported, in order.
type observed struct {
	name string

	mu       sync.Mutex
	notes    []note
	closes   []int    // close codes of the sessions that ended
	errors   []string // error codes (refusals, error frames, fatal closes)
	connects int
	resets   int
	stopped  bool // the client gave up for good
	change   chan struct{}
}

func newObserved(name string) *observed { return &observed{name: name, change: make(chan struct{}, 1)} }

func (o *observed) update(f func()) {
	o.mu.Lock()
	f()
	o.mu.Unlock()
	select {
	case o.change <- struct{}{}:
	default:
	}
}

func (o *observed) note(n note)     { o.update(func() { o.notes = append(o.notes, n) }) }
func (o *observed) closed(code int) { o.update(func() { o.closes = append(o.closes, code) }) }
func (o *observed) failed(c string) { o.update(func() { o.errors = append(o.errors, c) }) }
func (o *observed) connected()      { o.update(func() { o.connects++ }) }
func (o *observed) wasReset()       { o.update(func() { o.resets++ }) }
func (o *observed) gaveUp()         { o.update(func() { o.stopped = true }) }
func (o *observed) describe() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	last := o.notes
	if len(last) > 5 {
		last = last[len(last)-5:]
	}
	return fmt.Sprintf("%s: %d notes (last %v), closes %v, errors %v, connects %d, resets %d, stopped %t",
		o.name, len(o.notes), last, o.closes, o.errors, o.connects, o.resets, o.stopped)
}

// waitFor waits until cond holds on what the client reported (60 s at most).
func (o *observed) waitFor(tb testing.TB, what string, cond func(o *observed) bool) {
	tb.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		o.mu.Lock()
		ok := cond(o)
		o.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-o.change:
		case <-deadline.C:
			tb.Fatalf("%s: no %s within 60s: %s", o.name, what, o.describe())
		}
	}
}

// waitNotes waits for n notifications.
func (o *observed) waitNotes(tb testing.TB, n int) {
	tb.Helper()
	o.waitFor(tb, fmt.Sprintf("%d notifications", n), func(o *observed) bool { return len(o.notes) >= n })
}

func (o *observed) snapshot() observed {
	o.mu.Lock()
	defer o.mu.Unlock()
	return observed{name: o.name, notes: slices.Clone(o.notes), closes: slices.Clone(o.closes), errors: slices.Clone(o.errors),
		connects: o.connects, resets: o.resets, stopped: o.stopped}
}

// tokenSource mints the tokens of one user for every kind of client and
// counts the asks: fresh mints a new token on each ask; caching hands back
// the last one until less than reuseLeft of it is left (as
// oauth2.ReuseTokenSource does with its expiry delta).
type tokenSource struct {
	user      int64
	ttl       time.Duration
	caching   bool
	reuseLeft time.Duration

	mu    sync.Mutex
	last  string
	exp   time.Time
	calls atomic.Int64
}

func (s *tokenSource) token() (string, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.caching && s.last != "" && time.Until(s.exp) > s.reuseLeft {
		return s.last, nil
	}
	// Whole seconds: a token minted in the same second as the last one would
	// be the same token.
	now := time.Now()
	if !s.exp.IsZero() && now.Add(s.ttl).Unix() <= s.exp.Unix() {
		now = s.exp.Add(time.Second).Add(-s.ttl)
	}
	tok, err := jwtauth.Sign([]byte(secret), s.user, now, s.ttl)
	if err != nil {
		return "", err
	}
	s.last, s.exp = tok, time.Unix(now.Add(s.ttl).Unix(), 0)
	return tok, nil
}

// ---- pkg/client ----

type goClient struct {
	c     *client.Client
	stall atomic.Int64 // unix ns until which Notifications is not read
}

func startGoClient(tb testing.TB, spec confSpec, o *observed) confClient {
	tb.Helper()
	opts := client.Options{URLs: spec.URLs, AckEach: spec.AckEach, PingInterval: spec.Ping}
	if spec.Tokens != nil {
		opts.TokenFunc = func(context.Context) (string, error) { return spec.Tokens.token() }
	} else {
		opts.UserID = spec.User
	}
	if spec.Resume {
		opts.LastSeq, opts.Epoch = spec.LastSeq, spec.Epoch
	}
	g := &goClient{c: MustDialClient(tb, opts)}
	// The client closes its events before its notifications; the events
	// reader may still hold the last ones (the close that stopped it) when
	// the notifications end: it is given up only once both are read.
	eventsRead := make(chan struct{})
	go func() {
		for n := range g.c.Notifications() {
			if d := time.Until(time.Unix(0, g.stall.Load())); d > 0 {
				time.Sleep(d)
			}
			o.note(note{n.Epoch, n.Seq, n.Content})
		}
		<-eventsRead
		if g.c.Err() != nil {
			o.gaveUp()
		}
	}()
	go func() {
		defer close(eventsRead)
		for e := range g.c.Events() {
			switch e.Kind {
			case client.Connected:
				o.connected()
			case client.Disconnected:
				o.closed(e.Code)
			case client.Reset:
				o.wasReset()
			case client.Error:
				o.failed(e.Err.Error())
			}
		}
	}()
	// Dial returns after the first connected frame, which the events may
	// not have reported yet.
	o.waitFor(tb, "the first connect", func(o *observed) bool { return o.connects > 0 })
	return g
}

func (g *goClient) Stall(d time.Duration) { g.stall.Store(time.Now().Add(d).UnixNano()) }
func (g *goClient) Close()                { g.c.Close() }

// ---- the JavaScript client ----

type jsClient struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	inMu  sync.Mutex
	done  chan struct{}
	close sync.Once
}

func startJSClient(tb testing.TB, spec confSpec, o *observed) confClient {
	tb.Helper()
	node, flags := mustNode(tb)
	opts := map[string]any{"urls": spec.URLs, "ackEach": spec.AckEach, "pingMs": spec.Ping.Milliseconds(), "token": spec.Tokens != nil}
	if spec.Tokens == nil {
		opts["userId"] = spec.User
	}
	if spec.Resume {
		opts["lastSeq"], opts["epoch"] = spec.LastSeq, spec.Epoch
	}
	arg, _ := json.Marshal(opts)
	cmd := exec.Command(node, append(flags, "../../../web/test/conformance-driver.js", string(arg))...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	j := &jsClient{cmd: cmd, in: in, done: make(chan struct{})}
	go func() {
		defer close(j.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l struct {
				Kind, Epoch, Content string
				Seq                  int64
				Code                 any // a close code (number) or an error code (string)
				WillReconnect        bool
			}
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			switch l.Kind {
			case "note":
				o.note(note{l.Epoch, l.Seq, l.Content})
			case "connected":
				o.connected()
			case "disconnected":
				code, _ := l.Code.(float64)
				if code != 1000 {
					o.closed(int(code))
					if !l.WillReconnect {
						o.gaveUp()
					}
				}
			case "reset":
				o.wasReset()
			case "error":
				o.failed(fmt.Sprint(l.Code))
			case "token":
				tok, err := spec.Tokens.token()
				if err != nil {
					tb.Error(err)
				}
				j.send(map[string]any{"token": tok})
			}
		}
	}()
	tb.Cleanup(j.Close)
	o.waitFor(tb, "the first connect", func(o *observed) bool { return o.connects > 0 })
	return j
}

func (j *jsClient) send(v any) {
	b, _ := json.Marshal(v)
	j.inMu.Lock()
	defer j.inMu.Unlock()
	_, _ = j.in.Write(append(b, '\n'))
}

func (j *jsClient) Stall(d time.Duration) {
	j.send(map[string]any{"cmd": "stall", "ms": d.Milliseconds()})
}

func (j *jsClient) Close() {
	j.close.Do(func() {
		j.send(map[string]any{"cmd": "close"})
		select {
		case <-j.done:
		case <-time.After(5 * time.Second):
		}
		_ = j.cmd.Process.Kill()
		_ = j.cmd.Wait()
	})
}
