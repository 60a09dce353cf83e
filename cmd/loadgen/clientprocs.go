package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
)

// clientProc is a running `loadgen clients`, followed through its status
// lines.
type clientProc struct {
	*testenv.Process
	out                string
	ready, linesClosed chan struct{}
	mu                 sync.Mutex
	last               statusLine        // the latest status line
	steps              map[int]*stepLive // every step reported so far
}

// startClients spreads users firstUser+1 .. firstUser+users over procs
// clients processes (round-robin over the nodes within each) and waits
// until every user got its connected frame. It returns the processes and
// how long connecting took. cfg holds the scenario's own settings.
func (o *orch) startClients(ctx context.Context, nodes []*gatewayNode, users, procs, firstUser int, cfg clientsConfig) (clientProcs, time.Duration, error) {
	start, per := time.Now(), (users+procs-1)/procs
	cfg.Nodes, cfg.Duration, cfg.Auth, cfg.Ack, cfg.Status = urlsOf(nodes), o.cfg.timeout, o.cfg.auth, o.cfg.ack, cmp.Or(cfg.Status, 250*time.Millisecond)
	if o.cfg.auth == "jwt" {
		cfg.Secret = []byte(o.jwtSecret)
	}
	var cps clientProcs
	for i, off := 0, 0; off < users; i, off = i+1, off+per {
		name := fmt.Sprintf("clients-%s-%d-%d", o.scenario, firstUser, i+1)
		cfg.Users, cfg.Offset, cfg.Out = min(per, users-off), firstUser+off, filepath.Join(o.cfg.workdir, name+".json")
		cp, err := o.startClientProc(name, cfg)
		if err != nil {
			return cps, 0, err
		}
		cps = append(cps, cp)
	}
	deadline := time.Now().Add(readyTimeout)
	for _, cp := range cps {
		var err error
		werr := tickUntil(ctx, cp.ready, 100*time.Millisecond, func() bool {
			switch {
			case cp.HasExited():
				err = fmt.Errorf("%s exited before all users connected (%v):\n%s", cp.Name, cp.Err(), cp.LogTail(2000))
			case time.Now().After(deadline):
				err = fmt.Errorf("only %d of %d users connected within %s", cps.total(connected), users, readyTimeout)
			}
			o.progress.maybe(func() string { return fmt.Sprintf("connecting: %d of %d users", cps.total(connected), users) })
			return err != nil
		})
		if err = errors.Join(werr, err); err != nil {
			return cps, 0, err
		}
	}
	return cps, time.Since(start), nil
}

// readyTimeout bounds the start of a node and the connecting of all users.
const readyTimeout = 3 * time.Minute

func (o *orch) startClientProc(name string, cfg clientsConfig) (*clientProc, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p, err := testenv.StartProcess(testenv.ProcessOptions{Name: name, Path: o.self, Args: []string{"clients"},
		Env: append(os.Environ(), clientsEnv+"="+string(b)), LogFile: filepath.Join(o.cfg.workdir, name+".log"), Stdout: pw})
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, err
	}
	o.track(p)
	c := &clientProc{Process: p, out: cfg.Out, ready: make(chan struct{}), linesClosed: make(chan struct{}), steps: map[int]*stepLive{}}
	go c.follow(pr)
	return c, nil
}

// follow reads the status lines of the process.
func (c *clientProc) follow(r io.ReadCloser) {
	defer close(c.linesClosed)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var readyOnce sync.Once
	for sc.Scan() {
		var s statusLine
		if json.Unmarshal(sc.Bytes(), &s) != nil {
			continue
		}
		c.mu.Lock()
		c.last = s
		for k, v := range s.Steps {
			c.steps[k] = v
		}
		c.mu.Unlock()
		if s.Event == "ready" {
			readyOnce.Do(func() { close(c.ready) })
		}
	}
}

// summary stops the process and reads its summary file.
func (c *clientProc) summary() (s clientSummary, err error) {
	var ee *exec.ExitError
	if err := c.Stop(30 * time.Second); err != nil && !(errors.As(err, &ee) && !ee.Exited()) {
		return s, fmt.Errorf("%s: %w\n%s", c.Name, err, c.LogTail(2000))
	}
	<-c.linesClosed
	b, err := os.ReadFile(c.out)
	if err != nil {
		return s, fmt.Errorf("%s: no summary: %w\n%s", c.Name, err, c.LogTail(2000))
	}
	return s, json.Unmarshal(b, &s)
}

// clientProcs are the clients processes of a scenario.
type clientProcs []*clientProc

// The figures of a status line that total over the processes.
func connected(s *statusLine) int64  { return s.Connected }
func received(s *statusLine) int64   { return s.Received }
func live(s *statusLine) int64       { return s.Live }
func reconnects(s *statusLine) int64 { return s.Reconnects }

// total is f summed over the processes' latest status lines.
func (cs clientProcs) total(f func(*statusLine) int64) int64 {
	var n int64
	for _, c := range cs {
		c.mu.Lock()
		n += f(&c.last)
		c.mu.Unlock()
	}
	return n
}

// cpu is the CPU seconds the processes used.
func (cs clientProcs) cpu() float64 {
	var s float64
	for _, c := range cs {
		s += cpuSeconds(c.Pid())
	}
	return s
}

// step is what every process reported of schedule step k so far.
func (cs clientProcs) step(k int) stepLive {
	out := stepLive{Hist: histogram{}}
	for _, c := range cs {
		c.mu.Lock()
		if l := c.steps[k]; l != nil {
			out.Received, out.Repeats, out.Late = out.Received+l.Received, out.Repeats+l.Repeats, out.Late+l.Late
			out.Hist.merge(l.Hist)
		}
		c.mu.Unlock()
	}
	return out
}

// waitDelivered waits until the processes together received want data
// messages, or timeout (then it says so on w); it returns when that was.
func (cs clientProcs) waitDelivered(ctx context.Context, w io.Writer, want int64, timeout time.Duration, what string) time.Time {
	if !waitFor(ctx, timeout, func() bool { return cs.total(received) >= want }) {
		fmt.Fprintf(w, "  %s wait ended after %s with %d of %d messages\n", what, timeout, cs.total(received), want)
	}
	return time.Now()
}

// summaries stops every process (all at once) and reads the summaries.
func (cs clientProcs) summaries() ([]clientSummary, error) {
	out, errs := make([]clientSummary, len(cs)), make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { out[i], errs[i] = c.summary() })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// finish waits a second for late duplicates, then stops the processes and
// returns their summaries.
func (cs clientProcs) finish(ctx context.Context) ([]clientSummary, error) {
	if !sleepCtx(ctx, time.Second) {
		return nil, ctx.Err()
	}
	return cs.summaries()
}
