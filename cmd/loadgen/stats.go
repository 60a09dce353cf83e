package main

import (
	"math"
	"math/bits"
	"slices"
)

// quantiles returns the nearest-rank quantiles qs of vs (sorted in place).
func quantiles(vs []int64, qs ...float64) []float64 {
	out := make([]float64, len(qs))
	if len(vs) == 0 {
		return out
	}
	slices.Sort(vs)
	for i, q := range qs {
		out[i] = float64(vs[nearestRank(q, len(vs))])
	}
	return out
}

// nearestRank is the index of quantile q among n sorted values.
func nearestRank(q float64, n int) int {
	rank := int(math.Ceil(q*float64(n)-1e-9)) - 1
	return min(max(rank, 0), n-1)
}

// latencyStats summarizes latencies, in milliseconds.
type latencyStats struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// latencies summarizes microsecond latencies (sorted in place).
func latencies(us []int64) latencyStats {
	if len(us) == 0 {
		return latencyStats{}
	}
	q := quantiles(us, 0.5, 0.9, 0.99, 0.999, 1)
	var sum float64
	for _, v := range us {
		sum += float64(v)
	}
	return latencyStats{Count: len(us), P50: q[0] / 1000, P90: q[1] / 1000, P99: q[2] / 1000,
		P999: q[3] / 1000, Max: q[4] / 1000, Mean: round3(sum / float64(len(us)) / 1000)}
}

// histogram counts microsecond latencies in log-linear buckets: exact
// below 64 µs, then 32 buckets per power of two (at most 1/32 too high,
// since a bucket reads as its largest value). The clients send it to the
// orchestrator for the progress line.
type histogram map[int]int64

// bucketOf is the bucket of us (negative counts as 0).
func bucketOf(us int64) int {
	if us < 64 {
		return int(max(us, 0))
	}
	e := bits.Len64(uint64(us)) - 6
	return e*32 + int(us>>e)
}

// bucketTop is the largest value of bucket b.
func bucketTop(b int) int64 {
	if b < 64 {
		return int64(b)
	}
	e, m := b/32-1, int64(b%32+32)
	return (m+1)<<e - 1
}

func (h histogram) add(us int64) { h[bucketOf(us)]++ }

func (h histogram) merge(o histogram) {
	for b, n := range o {
		h[b] += n
	}
}

// quantile is the nearest-rank quantile q, as its bucket's top, or 0.
func (h histogram) quantile(q float64) int64 {
	var n int64
	buckets := make([]int, 0, len(h))
	for b, c := range h {
		n += c
		buckets = append(buckets, b)
	}
	if n == 0 {
		return 0
	}
	slices.Sort(buckets)
	rank := int64(nearestRank(q, int(n)))
	var seen int64
	for _, b := range buckets {
		if seen += h[b]; seen > rank {
			return bucketTop(b)
		}
	}
	return bucketTop(buckets[len(buckets)-1])
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
