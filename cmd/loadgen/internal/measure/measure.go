// Package measure holds the figures and the clock of the load tool:
// nearest-rank quantiles, latency histograms, CPU, RSS and open files from
// /proc, and the paced waits the scenarios run on.
package measure

import (
	"context"
	"maps"
	"math"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Quantiles returns the nearest-rank quantiles qs of vs (sorted in place).
func Quantiles(vs []int64, qs ...float64) []float64 {
	out := make([]float64, len(qs))
	if len(vs) == 0 {
		return out
	}
	slices.Sort(vs)
	for i, q := range qs {
		out[i] = float64(vs[NearestRank(q, len(vs))])
	}
	return out
}

// NearestRank is the index of quantile q among n sorted values.
func NearestRank(q float64, n int) int {
	return min(max(int(math.Ceil(q*float64(n)-1e-9))-1, 0), n-1)
}

// LatencyStats summarizes latencies, in milliseconds.
type LatencyStats struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// Latencies summarizes microsecond latencies (sorted in place).
func Latencies(us []int64) LatencyStats {
	if len(us) == 0 {
		return LatencyStats{}
	}
	q := Quantiles(us, 0.5, 0.9, 0.99, 0.999, 1)
	return LatencyStats{Count: len(us), P50: q[0] / 1000, P90: q[1] / 1000, P99: q[2] / 1000,
		P999: q[3] / 1000, Max: q[4] / 1000, Mean: Round3(Sum(us) / float64(len(us)) / 1000)}
}

// Histogram counts microsecond latencies in log-linear buckets: exact
// below 64 µs, then 32 buckets per power of two (a bucket reads as its
// largest value, at most 1/32 too high).
type Histogram map[int]int64

func bucketOf(us int64) int {
	if us < 64 {
		return int(max(us, 0))
	}
	e := bits.Len64(uint64(us)) - 6
	return e*32 + int(us>>e)
}

func bucketTop(b int) int64 {
	if b < 64 {
		return int64(b)
	}
	e, m := b/32-1, int64(b%32+32)
	return (m+1)<<e - 1
}

// Add counts one latency.
func (h Histogram) Add(us int64) { h[bucketOf(us)]++ }

// Merge adds the counts of o.
func (h Histogram) Merge(o Histogram) {
	for b, n := range o {
		h[b] += n
	}
}

// Quantile is the nearest-rank quantile q, as its bucket's top, or 0.
func (h Histogram) Quantile(q float64) int64 {
	n := int64(Sum(slices.Collect(maps.Values(h))))
	if n == 0 {
		return 0
	}
	buckets := slices.Sorted(maps.Keys(h))
	rank, seen := int64(NearestRank(q, int(n))), int64(0)
	for _, b := range buckets {
		if seen += h[b]; seen > rank {
			return bucketTop(b)
		}
	}
	return bucketTop(buckets[len(buckets)-1])
}

// QuantileMS is Quantile q in milliseconds.
func (h Histogram) QuantileMS(q float64) float64 { return float64(h.Quantile(q)) / 1000 }

// Sum is the sum of vs.
func Sum[T int | int64 | float64](vs []T) float64 {
	var t T
	for _, v := range vs {
		t += v
	}
	return float64(t)
}

// Round2 rounds to two decimals.
func Round2(f float64) float64 { return math.Round(f*100) / 100 }

// Round3 rounds to three decimals.
func Round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// MS is d in milliseconds.
func MS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// LineValue is what follows prefix on the first line of text that starts
// with it ("used_memory:" in an INFO reply, "go_goroutines " in /metrics,
// "VmRSS:" in /proc/PID/status), or "".
func LineValue(text, prefix string) string {
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// LineFloat is LineValue as a number, or -1.
func LineFloat(text, prefix string) float64 {
	f, err := strconv.ParseFloat(LineValue(text, prefix), 64)
	if err != nil {
		return -1
	}
	return f
}

func proc(pid int, file string) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + file)
	return string(b)
}

// CPUSeconds is the user+system CPU time of pid: utime+stime of
// /proc/PID/stat (in USER_HZ ticks, 100 a second on Linux), or 0.
func CPUSeconds(pid int) float64 {
	stat := proc(pid, "stat")
	i := strings.LastIndexByte(stat, ')')
	if f := strings.Fields(stat[i+1:]); i >= 0 && len(f) >= 13 { // state(0) ... utime(11) stime(12)
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		return (ut + st) / 100
	}
	return 0
}

// RSSKB reads VmRSS of /proc/PID/status, or -1.
func RSSKB(pid int) int64 { return StatusKB(pid, "VmRSS:") }

// StatusKB reads the field named by prefix (a size in kB, e.g. "VmHWM:")
// of /proc/PID/status, or -1.
func StatusKB(pid int, prefix string) int64 {
	if f := strings.Fields(LineValue(proc(pid, "status"), prefix)); len(f) > 0 {
		if v, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			return v
		}
	}
	return -1
}

// OpenFDs counts the open files of pid, or -1.
func OpenFDs(pid int) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// LoadAvg is the 1, 5 and 15 minute load average, or "?".
func LoadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// TickUntil calls f every d until f says stop (true) or done closes (nil)
// or ctx ends (its error).
func TickUntil(ctx context.Context, done <-chan struct{}, d time.Duration, f func() bool) error {
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

// WaitFor polls cond every 20 ms until it holds (true), timeout passes or
// ctx ends (false).
func WaitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) || !Sleep(ctx, 20*time.Millisecond) {
			return false
		}
	}
	return true
}

// Sleep waits d; false means ctx ended first.
func Sleep(ctx context.Context, d time.Duration) bool {
	return SleepUntil(ctx, nil, time.Now().Add(d))
}

// SleepUntil waits until t; false means stop or ctx came first.
func SleepUntil(ctx context.Context, stop <-chan struct{}, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-stop:
	case <-ctx.Done():
	}
	return false
}
