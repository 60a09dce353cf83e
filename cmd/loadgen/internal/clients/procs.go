package clients

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
	"github.com/houseview/gateway/pkg/testenv"
)

// Proc is a running `loadgen clients`, followed through its status lines.
type Proc struct {
	*testenv.Process
	out                string
	ready, linesClosed chan struct{}
	mu                 sync.Mutex
	last               StatusLine        // the latest status line
	steps              map[int]*StepLive // every step reported so far
}

// Start runs self (this executable) as `clients` process name with cfg,
// its log in logFile.
func Start(self, name, logFile string, cfg Config) (*Proc, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p, err := testenv.StartProcess(testenv.ProcessOptions{Name: name, Path: self, Args: []string{"clients"},
		Env: append(os.Environ(), Env+"="+string(b)), LogFile: logFile, Stdout: pw})
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, err
	}
	c := &Proc{Process: p, out: cfg.Out, ready: make(chan struct{}), linesClosed: make(chan struct{}), steps: map[int]*StepLive{}}
	go c.follow(pr)
	return c, nil
}

// Ready is closed once every user of the process got its connected frame.
func (c *Proc) Ready() <-chan struct{} { return c.ready }

// follow reads the status lines of the process.
func (c *Proc) follow(r io.ReadCloser) {
	defer close(c.linesClosed)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var readyOnce sync.Once
	for sc.Scan() {
		var s StatusLine
		if json.Unmarshal(sc.Bytes(), &s) != nil {
			continue
		}
		c.mu.Lock()
		c.last = s
		maps.Copy(c.steps, s.Steps)
		c.mu.Unlock()
		if s.Event == "ready" {
			readyOnce.Do(func() { close(c.ready) })
		}
	}
}

// summary stops the process and reads its summary file.
func (c *Proc) summary() (s Summary, err error) {
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

// Procs are the clients processes of a scenario.
type Procs []*Proc

// Total sums the figures of the processes' latest status lines.
func (cs Procs) Total() StatusLine {
	var t StatusLine
	for _, c := range cs {
		c.mu.Lock()
		s := c.last
		c.mu.Unlock()
		t.Connected, t.Live, t.Received = t.Connected+s.Connected, t.Live+s.Live, t.Received+s.Received
		t.Reconnects, t.Failed = t.Reconnects+s.Reconnects, t.Failed+s.Failed
	}
	return t
}

// CPU is the CPU seconds the processes used.
func (cs Procs) CPU() float64 {
	var s float64
	for _, c := range cs {
		s += measure.CPUSeconds(c.Pid())
	}
	return s
}

// Step is what every process reported of schedule step k so far.
func (cs Procs) Step(k int) StepLive {
	out := StepLive{Hist: measure.Histogram{}}
	for _, c := range cs {
		c.mu.Lock()
		if l := c.steps[k]; l != nil {
			out.add(l)
		}
		c.mu.Unlock()
	}
	return out
}

// WaitDelivered waits until the processes together received want data
// messages, or timeout (then it says so on w); it returns when that was.
func (cs Procs) WaitDelivered(ctx context.Context, w io.Writer, want int64, timeout time.Duration, what string) time.Time {
	if !measure.WaitFor(ctx, timeout, func() bool { return cs.Total().Received >= want }) {
		fmt.Fprintf(w, "  %s wait ended after %s with %d of %d messages\n", what, timeout, cs.Total().Received, want)
	}
	return time.Now()
}

// Summaries stops every process (all at once) and reads the summaries.
func (cs Procs) Summaries() ([]Summary, error) {
	out, errs := make([]Summary, len(cs)), make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { out[i], errs[i] = c.summary() })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// Finish waits a second for late duplicates, then stops the processes and
// returns their summaries.
func (cs Procs) Finish(ctx context.Context) ([]Summary, error) {
	if !measure.Sleep(ctx, time.Second) {
		return nil, ctx.Err()
	}
	return cs.Summaries()
}
