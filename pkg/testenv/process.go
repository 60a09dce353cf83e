package testenv

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ProcessOptions say how to start a child process.
type ProcessOptions struct {
	Name string   // names the process in errors ("node a", "redis-server")
	Path string   // the executable
	Args []string // its arguments
	Env  []string // its whole environment
	// LogFile, when set, receives the process's stderr, and its stdout
	// unless Stdout is set; without it both are kept in memory (Logs).
	LogFile string
	// Stdout, when set, receives the process's stdout instead of the log.
	Stdout io.Writer
	Dir    string // its working directory ("": this process's)
}

// Process is a running child process. It gets SIGKILL when the thread
// that started it dies (Pdeathsig), so a test binary or tool killed by
// its timeout leaves no child behind.
type Process struct {
	Name    string
	cmd     *exec.Cmd
	logFile string
	logs    *SyncBuffer // the log, when it is kept in memory
	exited  chan struct{}
	err     error // the exit, valid once exited is closed
}

// StartProcess starts a child process as opts say.
func StartProcess(opts ProcessOptions) (*Process, error) {
	p := &Process{Name: opts.Name, logFile: opts.LogFile, exited: make(chan struct{})}
	var log io.Writer
	var logf *os.File
	if opts.LogFile != "" {
		f, err := os.Create(opts.LogFile)
		if err != nil {
			return nil, err
		}
		logf, log = f, f
	} else {
		p.logs = &SyncBuffer{}
		log = p.logs
	}
	stdout := log
	if opts.Stdout != nil {
		stdout = opts.Stdout
	}
	p.cmd = exec.Command(opts.Path, opts.Args...)
	p.cmd.Env, p.cmd.Dir = opts.Env, opts.Dir
	p.cmd.Stdout, p.cmd.Stderr = stdout, log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		if logf != nil {
			logf.Close()
		}
		return nil, fmt.Errorf("start %s: %w", opts.Name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		if logf != nil {
			logf.Close()
		}
		close(p.exited)
	}()
	return p, nil
}

func mustStart(tb testing.TB, opts ProcessOptions) *Process {
	tb.Helper()
	p, err := StartProcess(opts)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return p
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Kill sends SIGKILL; it returns an error once the process has exited.
func (p *Process) Kill() error { return p.cmd.Process.Kill() }

func (p *Process) kill() {
	_ = p.Kill()
	<-p.exited
}

// Exited is closed once the process has exited and its output is read.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// HasExited reports whether the process has exited.
func (p *Process) HasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Err is how the process exited (nil for status 0); valid once Exited is
// closed.
func (p *Process) Err() error { return p.err }

// Wait waits until the process exits and returns how it exited.
func (p *Process) Wait() error {
	<-p.exited
	return p.err
}

// Stop sends SIGTERM, waits up to grace, then kills. It returns how the
// process exited, or an error saying it had to be killed.
func (p *Process) Stop(grace time.Duration) error {
	if p.HasExited() {
		return p.err
	}
	_ = p.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.exited:
		return p.err
	case <-t.C:
	}
	p.kill()
	return fmt.Errorf("%s did not stop within %s after SIGTERM: killed", p.Name, grace)
}

// LogFile is the path of the process's log, or "" when it is kept in
// memory.
func (p *Process) LogFile() string { return p.logFile }

// Logs returns the process's log so far.
func (p *Process) Logs() string {
	if p.logs != nil {
		return p.logs.String()
	}
	b, _ := os.ReadFile(p.logFile)
	return string(b)
}

// LogTail returns the last n bytes of the process's log, trimmed.
func (p *Process) LogTail(n int64) string {
	if p.logs != nil {
		s := p.logs.String()
		return strings.TrimSpace(s[max(0, int64(len(s))-n):])
	}
	f, err := os.Open(p.logFile)
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

// SyncBuffer is a bytes.Buffer that a logger's goroutines and a test may
// share.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
