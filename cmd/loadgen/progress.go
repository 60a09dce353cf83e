package main

import (
	"fmt"
	"io"
	"time"
)

// progress prints a status line on stderr at most once per interval
// while a scenario runs.
type progress struct {
	w     io.Writer
	every time.Duration // 0: silent
	name  string
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, every time.Duration, name string) *progress {
	return &progress{w: w, every: every, name: name, start: time.Now()}
}

// maybe prints line() when the interval has passed since the last line.
func (p *progress) maybe(line func() string) {
	if p.every <= 0 || time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start).Round(time.Second)
	fmt.Fprintf(p.w, "[%s %s] %s\n", p.name, el, line())
}

// note prints a line at once (unless the progress line is off).
func (p *progress) note(format string, args ...any) {
	if p.every > 0 {
		fmt.Fprintf(p.w, format+"\n", args...)
	}
}

// cpuMeter turns cumulative CPU seconds into cores used since the last
// reading.
type cpuMeter struct {
	last float64
	at   time.Time
}

// cores is the CPU used since the previous call per second of wall time.
func (m *cpuMeter) cores(total float64) float64 {
	now := time.Now()
	var c float64
	if !m.at.IsZero() {
		if d := now.Sub(m.at).Seconds(); d > 0 {
			c = (total - m.last) / d
		}
	}
	m.last, m.at = total, now
	return c
}
