package measure

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQuantiles(t *testing.T) {
	tests := []struct {
		name string
		vs   []int64
		qs   []float64
		want []float64
	}{
		{"empty", nil, []float64{0.5}, []float64{0}},
		{"one", []int64{7}, []float64{0.5, 0.99, 1}, []float64{7, 7, 7}},
		{"nearest rank", []int64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5}, []float64{0.5, 0.9, 0.99, 1}, []float64{5, 9, 10, 10}},
		{"p99 of 100 is the 99th", seq(1, 100), []float64{0.99, 0.999}, []float64{99, 100}},
		{"p99 of 1000 is the 990th", seq(1, 1000), []float64{0.5, 0.9, 0.99}, []float64{500, 900, 990}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Quantiles(tt.vs, tt.qs...)); diff != "" {
				t.Errorf("quantiles (-want +got):\n%s", diff)
			}
		})
	}
}

func seq(from, to int64) []int64 {
	var out []int64
	for v := to; v >= from; v-- {
		out = append(out, v)
	}
	return out
}

func TestLatencies(t *testing.T) {
	got := Latencies([]int64{3000, 1000, 2000, 4000})
	want := LatencyStats{Count: 4, P50: 2, P90: 4, P99: 4, P999: 4, Max: 4, Mean: 2.5}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("latencies (-want +got):\n%s", diff)
	}
}

func TestHistogramBucketsAreTightUpperBounds(t *testing.T) {
	prev := -1
	for _, v := range []int64{-5, 0, 1, 63, 64, 65, 127, 128, 1000, 99_999, 100_000, 1 << 40} {
		b := bucketOf(v)
		if b < prev {
			t.Errorf("bucketOf(%d) = %d, below the bucket of a smaller value (%d)", v, b, prev)
		}
		prev = b
		top := bucketTop(b)
		if top < max(v, 0) || float64(top-max(v, 0)) > float64(max(v, 0))/32 {
			t.Errorf("bucketTop(bucketOf(%d)) = %d: want at least the value and at most 1/32 above", v, top)
		}
	}
}

func TestHistogramQuantile(t *testing.T) {
	tests := []struct {
		name string
		vs   []int64
		q    float64
		want int64
	}{
		{"empty", nil, 0.99, 0},
		{"exact below 64", []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9},
		{"max", []int64{10, 20, 30}, 1, 30},
		{"bucket top", []int64{100, 100, 100, 5000}, 0.5, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Histogram{}
			for _, v := range tt.vs {
				h.Add(v)
			}
			other := Histogram{}
			other.Merge(h)
			if got := other.Quantile(tt.q); got != tt.want {
				t.Errorf("quantile(%v) = %d, want %d", tt.q, got, tt.want)
			}
		})
	}
}
