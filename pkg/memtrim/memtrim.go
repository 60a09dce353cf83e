// Package memtrim gives memory back to the operating system when a process
// goes quiet after its heap grew: the garbage of a burst (thousands of
// WebSocket handshakes) would otherwise stay in the resident set until the
// next garbage collection, which a quiet process may not need for minutes,
// and the Go scavenger keeps what lies under the heap goal.
package memtrim

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Options tune Run. Zero values take the defaults.
type Options struct {
	// Interval is how often the heap is looked at (default 2 s).
	Interval time.Duration
	// QuietRate is the allocation rate, in bytes per second, under which
	// the process counts as quiet (default 2 MiB/s).
	QuietRate float64
	// Slack is how much the memory held for the heap may grow over what it
	// held after the last trim before a quiet process gives it back
	// (default 25% plus 8 MiB).
	Slack func(held uint64) uint64
}

// Run looks at the heap every Interval until ctx ends. When the process is
// quiet and the memory the heap holds grew by more than Slack since the
// last trim (or the start), it collects and gives the free pages back to
// the OS (debug.FreeOSMemory). It reports each trim to onTrim (may be nil).
func Run(ctx context.Context, opts Options, onTrim func(before, after uint64)) {
	if opts.Interval <= 0 {
		opts.Interval = 2 * time.Second
	}
	if opts.QuietRate <= 0 {
		opts.QuietRate = 2 << 20
	}
	if opts.Slack == nil {
		opts.Slack = func(held uint64) uint64 { return held/4 + 8<<20 }
	}
	t := time.NewTicker(opts.Interval)
	defer t.Stop()
	prev := read()
	base := prev.held // what the heap held after the last trim
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := read()
		rate := float64(now.allocs-prev.allocs) / opts.Interval.Seconds()
		prev = now
		base = min(base, now.held) // the scavenger gave some back
		if rate < opts.QuietRate && now.held > base+opts.Slack(base) {
			debug.FreeOSMemory()
			prev = read()
			base = prev.held
			if onTrim != nil {
				onTrim(now.held, prev.held)
			}
		}
	}
}

// sample is what Run reads of the runtime.
type sample struct {
	allocs uint64 // bytes allocated since start
	held   uint64 // memory the heap holds from the OS (in use, free, not released)
}

var names = []string{
	"/gc/heap/allocs:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
}

func read() sample {
	s := make([]metrics.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return sample{allocs: v(0), held: v(1) + v(2) + v(3)}
}
