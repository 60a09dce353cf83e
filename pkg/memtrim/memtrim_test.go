package memtrim_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/memtrim"
)

var sink [][]byte

// TestTrimsAfterABurst: garbage of a burst is given back once the process
// is quiet, and the heap holds about its live objects again.
func TestTrimsAfterABurst(t *testing.T) {
	trims := make(chan [2]uint64, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go memtrim.Run(ctx, 50*time.Millisecond, func(before, after uint64) {
		select {
		case trims <- [2]uint64{before, after}:
		default:
		}
	})
	runtime.GC()
	for range 400 {
		sink = append(sink, make([]byte, 256<<10)) // 100 MiB
	}
	sink = nil // garbage now
	select {
	case got := <-trims:
		if got[0] < 64<<20 || got[1] > got[0]/2 {
			t.Errorf("trim %d MiB -> %d MiB, want most of 100 MiB given back", got[0]>>20, got[1]>>20)
		}
	case <-ctx.Done():
		t.Fatal("no trim after a 100 MiB burst")
	}
}
