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

// Run looks at the heap every interval (2 s when 0) until ctx ends. When
// the process is quiet (it allocates under 2 MiB/s) and the memory the heap
// holds grew by more than a quarter plus 8 MiB since the last trim (or the
// start), it collects and gives the free pages back to the OS
// (debug.FreeOSMemory). It reports each trim to onTrim (may be nil).
func Run(ctx context.Context, interval time.Duration, onTrim func(before, after uint64)) {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	t := time.NewTicker(interval)
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
		rate := float64(now.allocs-prev.allocs) / interval.Seconds()
		prev = now
		base = min(base, now.held) // the scavenger gave some back
		if rate < 2<<20 && now.held > base+base/4+8<<20 {
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
