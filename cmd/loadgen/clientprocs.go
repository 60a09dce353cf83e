package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
)

// clientProc is a running `loadgen clients`, followed through its status
// lines.
type clientProc struct {
	*testenv.Process
	out                          string
	users                        int
	connected, received, live    atomic.Int64
	reconnects, failed           atomic.Int64
	ready, finished, linesClosed chan struct{}

	mu    sync.Mutex
	steps map[int]*stepLive
}

// clientOpts are the settings of the clients processes of a scenario.
type clientOpts struct {
	lateAfter     time.Duration // the ramp's p99 limit
	status        time.Duration // interval of their status lines
	compact       bool          // positions and counts instead of every message
	churnEvery    time.Duration // close churnFraction of the sessions this often (0: never)
	churnFraction float64
}

// startClients spreads users firstUser+1 .. firstUser+users over procs
// clients processes (round-robin over the nodes within each) and waits
// until every user got its connected frame. It returns the processes and
// how long connecting took.
func (o *orch) startClients(ctx context.Context, nodes []*gatewayNode, users, procs, firstUser int, opts clientOpts) (clientProcs, time.Duration, error) {
	start := time.Now()
	per := (users + procs - 1) / procs
	if opts.status <= 0 {
		opts.status = 250 * time.Millisecond
	}
	env := append(os.Environ(), jwtSecretEnv+"="+o.jwtSecret)
	var cps clientProcs
	for i, off := 0, 0; off < users; i, off = i+1, off+per {
		n := min(per, users-off)
		name := fmt.Sprintf("clients-%s-%d-%d", o.scenario, firstUser, i+1)
		out := filepath.Join(o.cfg.workdir, name+".json")
		args := []string{"clients", "-nodes", strings.Join(urlsOf(nodes), ","), "-users", strconv.Itoa(n),
			"-user-offset", strconv.Itoa(firstUser + off), "-out", out, "-duration", o.cfg.timeout.String(),
			"-auth", o.cfg.auth, "-progress", opts.status.String()}
		switch o.cfg.ack {
		case "batch":
			args = append(args, "-ack")
		case "each":
			args = append(args, "-ack", "-ack-each")
		}
		if opts.lateAfter > 0 {
			args = append(args, "-late-after", opts.lateAfter.String())
		}
		if opts.compact {
			args = append(args, "-compact")
		}
		if opts.churnEvery > 0 {
			args = append(args, "-churn-every", opts.churnEvery.String(), "-churn-fraction", strconv.FormatFloat(opts.churnFraction, 'g', -1, 64))
		}
		cp, err := startClientProc(o.self, name, args, env, filepath.Join(o.cfg.workdir, name+".log"), out, n)
		if err != nil {
			return cps, 0, err
		}
		o.track(cp.Process)
		cps = append(cps, cp)
	}
	deadline := time.NewTimer(o.cfg.readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for _, cp := range cps {
	wait:
		for {
			select {
			case <-cp.ready:
				break wait
			case <-cp.Exited():
				return cps, 0, fmt.Errorf("%s exited before all users connected (%v):\n%s", cp.Name, cp.Err(), cp.LogTail(2000))
			case <-deadline.C:
				return cps, 0, fmt.Errorf("only %d of %d users connected within %s", cps.connected(), users, o.cfg.readyTimeout)
			case <-ctx.Done():
				return cps, 0, ctx.Err()
			case <-tick.C:
				o.progress.maybe(func() string { return fmt.Sprintf("connecting: %d of %d users", cps.connected(), users) })
			}
		}
	}
	return cps, time.Since(start), nil
}

func startClientProc(self, name string, args, env []string, logPath, out string, users int) (*clientProc, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p, err := testenv.StartProcess(testenv.ProcessOptions{Name: name, Path: self, Args: args, Env: env, LogFile: logPath, Stdout: pw})
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, err
	}
	c := &clientProc{Process: p, out: out, users: users, ready: make(chan struct{}),
		finished: make(chan struct{}), linesClosed: make(chan struct{}), steps: map[int]*stepLive{}}
	go c.follow(pr)
	return c, nil
}

// follow reads the status lines of the process.
func (c *clientProc) follow(r io.ReadCloser) {
	defer close(c.linesClosed)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	readyOnce, doneOnce := false, false
	for sc.Scan() {
		var s statusLine
		if json.Unmarshal(sc.Bytes(), &s) != nil {
			continue
		}
		c.connected.Store(s.Connected)
		c.received.Store(s.Received)
		c.live.Store(s.Live)
		c.reconnects.Store(s.Reconnects)
		c.failed.Store(s.Failed)
		if len(s.Steps) > 0 {
			c.mu.Lock()
			for k, v := range s.Steps {
				c.steps[k] = v
			}
			c.mu.Unlock()
		}
		if s.Event == "ready" && !readyOnce {
			readyOnce = true
			close(c.ready)
		}
		if s.Event == "done" && !doneOnce {
			doneOnce = true
			close(c.finished)
		}
	}
}

// summary stops the process and reads its summary file.
func (c *clientProc) summary(grace time.Duration) (clientSummary, error) {
	var s clientSummary
	if err := c.Stop(grace); err != nil && !isSignalExit(err) {
		return s, fmt.Errorf("%s: %w\n%s", c.Name, err, c.LogTail(2000))
	}
	<-c.linesClosed
	b, err := os.ReadFile(c.out)
	if err != nil {
		return s, fmt.Errorf("%s: no summary: %w\n%s", c.Name, err, c.LogTail(2000))
	}
	return s, json.Unmarshal(b, &s)
}

func isSignalExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && !ee.Exited()
}

// clientProcs are the clients processes of a scenario.
type clientProcs []*clientProc

func (cs clientProcs) sum(f func(*clientProc) int64) int64 {
	var n int64
	for _, c := range cs {
		n += f(c)
	}
	return n
}

func (cs clientProcs) connected() int64 {
	return cs.sum(func(c *clientProc) int64 { return c.connected.Load() })
}
func (cs clientProcs) received() int64 {
	return cs.sum(func(c *clientProc) int64 { return c.received.Load() })
}
func (cs clientProcs) live() int64 { return cs.sum(func(c *clientProc) int64 { return c.live.Load() }) }
func (cs clientProcs) reconnects() int64 {
	return cs.sum(func(c *clientProc) int64 { return c.reconnects.Load() })
}

func (cs clientProcs) pids() []int {
	out := make([]int, len(cs))
	for i, c := range cs {
		out[i] = c.Pid()
	}
	return out
}

// step is what every process reported of schedule step k so far.
func (cs clientProcs) step(k int) stepLive {
	out := stepLive{Hist: histogram{}}
	for _, c := range cs {
		c.mu.Lock()
		if l := c.steps[k]; l != nil {
			out.Received += l.Received
			out.Repeats += l.Repeats
			out.Late += l.Late
			out.Hist.merge(l.Hist)
		}
		c.mu.Unlock()
	}
	return out
}

// summaries stops every process (all at once) and reads the summaries.
func (cs clientProcs) summaries() ([]clientSummary, error) {
	out := make([]clientSummary, len(cs))
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { out[i], errs[i] = c.summary(30 * time.Second) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// waitReceived waits until the processes together received want data
// messages, or timeout; it returns when that was, and false on timeout.
func (cs clientProcs) waitReceived(ctx context.Context, want int64, timeout time.Duration) (time.Time, bool) {
	ok := waitFor(ctx, timeout, func() bool { return cs.received() >= want })
	return time.Now(), ok
}
