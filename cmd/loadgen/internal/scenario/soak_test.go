package scenario

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGrowthOf(t *testing.T) {
	sample := func(rss int64, gor, fds int) soakSample {
		return soakSample{RSSKB: []int64{rss}, Goroutines: []int{gor}, OpenFiles: []int{fds}}
	}
	// The first quarter warms up and is left out.
	flat := []soakSample{sample(10, 1, 1), sample(10, 1, 1), sample(100, 50, 20), sample(100, 50, 20),
		sample(101, 51, 20), sample(99, 50, 20), sample(100, 50, 20), sample(100, 50, 20)}
	if diff := cmp.Diff(soakGrowth{RSSKB: [2]float64{100, 100}, GoroutineN: [2]float64{50, 50}, OpenFileN: [2]float64{20, 20}}, growthOf(flat)); diff != "" {
		t.Errorf("flat (-want +got):\n%s", diff)
	}
	leak := []soakSample{sample(100, 50, 20), sample(100, 50, 20), sample(100, 50, 20), sample(100, 50, 20),
		sample(150, 70, 20), sample(160, 75, 20), sample(200, 100, 20), sample(200, 100, 20)}
	got := growthOf(leak)
	if got.RSS != 1 || got.Goroutines != 1 || got.OpenFiles != 0 {
		t.Errorf("leak: %+v, want RSS and goroutines doubled", got)
	}
	r := &soakReport{Growth: got, MaxRSSGrowth: 0.25, MaxCountGrowth: 0.1}
	want := []string{"RSS grew 100% (limit 25%)"} // goroutines: +50 only, not above the absolute floor
	if diff := cmp.Diff(want, r.failures()); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
}
