package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// redisCPU is the CPU time Redis has used: from /proc for private
// servers, else from INFO cpu (the whole server's); 0 when unknown.
func (o *orch) redisCPU() float64 {
	if len(o.redis) > 0 {
		return sumCPU(o.redisPids())
	}
	info := o.redisInfo("cpu")
	return max(lineFloat(info, "used_cpu_user:")+lineFloat(info, "used_cpu_sys:"), 0)
}

func (o *orch) redisInfo(section string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, _ := o.rdb.Client.Info(ctx, section).Result()
	return s
}

// lineValue is what follows prefix on the first line of text that starts
// with it ("used_memory:" in an INFO reply, "go_goroutines " in /metrics),
// or "".
func lineValue(text, prefix string) string {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func lineFloat(text, prefix string) float64 {
	f, err := strconv.ParseFloat(lineValue(text, prefix), 64)
	if err != nil {
		return -1
	}
	return f
}

// cpuSeconds returns user+system CPU time of pid from /proc/PID/stat, or 0.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime+stime of a /proc/PID/stat line (in USER_HZ
// ticks, 100 a second on Linux), in seconds.
func parseStatCPU(stat string) float64 {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(stat[i+1:]) // state(0) ... utime(11) stime(12)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

func sumCPU(pids []int) float64 {
	var s float64
	for _, p := range pids {
		s += cpuSeconds(p)
	}
	return s
}

// rssKB reads VmRSS of /proc/PID/status, or -1.
func rssKB(pid int) int64 {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				n, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return n
				}
			}
		}
	}
	return -1
}

// openFDs counts the open files of pid, or -1.
func openFDs(pid int) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// loadAvg is the 1, 5 and 15 minute load average, or "?".
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// loadSample is the CPU seconds the nodes and Redis had used, and the data
// messages the clients had received, at one moment.
type loadSample struct {
	at        time.Time
	nodes     []float64
	redis     float64
	delivered int64
}

func (s loadSample) node() float64 {
	var t float64
	for _, v := range s.nodes {
		t += v
	}
	return t
}

// loadMeter takes load samples of a scenario's nodes, Redis and clients,
// and turns them into the cores used since the previous reading for the
// progress line.
type loadMeter struct {
	nodes []*gatewayNode
	o     *orch
	cps   clientProcs
	last  loadSample
}

func (m *loadMeter) sample() loadSample {
	s := loadSample{at: time.Now(), redis: m.o.redisCPU(), delivered: m.cps.total(received)}
	for _, n := range m.nodes {
		s.nodes = append(s.nodes, cpuSeconds(n.Pid()))
	}
	return s
}

// cores is the CPU the nodes and Redis used per second since the last call.
func (m *loadMeter) cores() (node, redis float64) {
	s := m.sample()
	if d := s.at.Sub(m.last.at).Seconds(); !m.last.at.IsZero() && d > 0 {
		node, redis = (s.node()-m.last.node())/d, (s.redis-m.last.redis)/d
	}
	m.last = s
	return node, redis
}

// progress prints a status line on stderr at most once per interval.
type progress struct {
	w           io.Writer
	every       time.Duration // 0: silent
	name        string
	start, last time.Time
}

// maybe prints line() when the interval has passed since the last line.
func (p *progress) maybe(line func() string) {
	if p.every <= 0 || time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "[%s %s] %s\n", p.name, time.Since(p.start).Round(time.Second), line())
}

// tickUntil calls f every d until f says stop (true) or done closes (nil)
// or ctx ends (its error).
func tickUntil(ctx context.Context, done <-chan struct{}, d time.Duration, f func() bool) error {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return nil
		case <-t.C:
			if f() {
				return nil
			}
		}
	}
}

// waitFor polls cond every 20 ms until it holds (true), timeout passes or
// ctx ends (false).
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) || !sleepCtx(ctx, 20*time.Millisecond) {
			return false
		}
	}
	return true
}

// sleepCtx waits d; false means ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	return sleepUntil(ctx, nil, time.Now().Add(d))
}
