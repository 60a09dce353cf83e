package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// proc is a child process: a gateway node or a clients process. Children
// get SIGKILL when the loadgen process dies (Pdeathsig), so none outlives it.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // valid after done
}

func startProc(name, path string, args, env []string, logPath string, stdout io.Writer) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stderr = logf
	if stdout != nil {
		cmd.Stdout = stdout
	} else {
		cmd.Stdout = logf
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace, then kills. It returns the exit
// error unless the process had to be killed (then an error saying so).
func (p *proc) stop(grace time.Duration) error {
	if p.exited() {
		return p.err
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return p.err
	case <-t.C:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s did not stop within %s after SIGTERM: killed", p.name, grace)
}

// logTail returns the last n bytes of the process's log.
func (p *proc) logTail(n int64) string {
	f, err := os.Open(p.log)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}

// gatewayNode is a running `gateway serve`.
type gatewayNode struct {
	*proc
	id      string
	httpURL string
}

// waitReady polls /readyz until it answers 200.
func (n *gatewayNode) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if n.exited() {
			return fmt.Errorf("node %s exited (%v):\n%s", n.id, n.err, n.logTail(2000))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.httpURL+"/readyz", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s not ready within %s:\n%s", n.id, timeout, n.logTail(2000))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// clientProc is a running `loadgen clients`, followed through its status
// lines.
type clientProc struct {
	*proc
	out                          string
	users                        int
	connected, received, live    atomic.Int64
	reconnects, failed           atomic.Int64
	ready, finished, linesClosed chan struct{}
}

func startClients(self, name string, args, env []string, logPath, out string, users int) (*clientProc, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p, err := startProc(name, self, args, env, logPath, pw)
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, err
	}
	c := &clientProc{proc: p, out: out, users: users, ready: make(chan struct{}),
		finished: make(chan struct{}), linesClosed: make(chan struct{})}
	go c.follow(pr)
	return c, nil
}

func (c *clientProc) follow(r io.ReadCloser) {
	defer close(c.linesClosed)
	defer r.Close()
	sc := bufio.NewScanner(r)
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
	if err := c.stop(grace); err != nil && !isSignalExit(err) {
		return s, fmt.Errorf("%s: %w\n%s", c.name, err, c.logTail(2000))
	}
	<-c.linesClosed
	b, err := os.ReadFile(c.out)
	if err != nil {
		return s, fmt.Errorf("%s: no summary: %w\n%s", c.name, err, c.logTail(2000))
	}
	return s, json.Unmarshal(b, &s)
}

func isSignalExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && !ee.Exited()
}

// statusKB reads a "Vm...:  N kB" line of /proc/PID/status.
func statusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}

// cpuSeconds returns user+system CPU time of pid from /proc/PID/stat.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	// Fields after the name: state(0) ... utime(11) stime(12), in clock ticks (100/s on Linux).
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

// openFDs counts the open files of pid.
func openFDs(pid int) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}
