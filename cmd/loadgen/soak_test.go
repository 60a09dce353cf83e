package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompactDelivery(t *testing.T) {
	p := newPusher(pushPlan{compact: true})
	for _, m := range []struct {
		user int64
		seq  int64
	}{{1, 1}, {1, 2}, {1, 3}, {2, 1}, {2, 2}, {3, 1}} {
		p.record(pushAnswer{UserID: m.user, Epoch: "e1", Seq: m.seq}, 0)
	}
	pushed := p.perUser
	tests := []struct {
		name      string
		positions []userPosition
		want      soakDelivery
	}{
		{"all there", []userPosition{{1, "e1", 3, 3, 0, 0}, {2, "e1", 2, 2, 0, 0}, {3, "e1", 1, 1, 0, 0}, {4, "e1", 0, 0, 0, 0}},
			soakDelivery{Expected: 6, Unique: 6}},
		{"one short, one repeat", []userPosition{{1, "e1", 2, 2, 1, 0}, {2, "e1", 2, 2, 0, 0}, {3, "e1", 1, 1, 0, 0}},
			soakDelivery{Expected: 6, Unique: 5, Duplicated: 1, Lost: 1, OffPosition: 1}},
		{"a resend the client dropped", []userPosition{{1, "e1", 3, 3, 0, 2}, {2, "e1", 2, 2, 0, 0}, {3, "e1", 1, 1, 0, 0}},
			soakDelivery{Expected: 6, Unique: 6, Duplicated: 2}},
		{"a user missing, one unexpected", []userPosition{{1, "e1", 3, 3, 0, 0}, {2, "e1", 3, 3, 0, 0}},
			soakDelivery{Expected: 6, Unique: 6, Lost: 1, Unexpected: 1, OffPosition: 2}},
		{"another epoch", []userPosition{{1, "e2", 3, 3, 0, 0}, {2, "e1", 2, 2, 0, 0}, {3, "e1", 1, 1, 0, 0}},
			soakDelivery{Expected: 6, Unique: 6, OffPosition: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := compactDelivery(pushed, 6, []clientSummary{{Positions: tt.positions}})
			got.CloseCodes, got.Events = nil, nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

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

func TestSoakChart(t *testing.T) {
	rep := &soakReport{Users: 10, TargetRate: 100, ChurnFraction: 0.05, ChurnEveryS: 10}
	for i := range 5 {
		rep.Samples = append(rep.Samples, soakSample{AtS: float64(i * 60), RSSKB: []int64{40000, -1},
			Goroutines: []int{400, 410}, OpenFiles: []int{200, 210}})
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "direct.svg")
	if err := writeSoakChart(rep, path); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RSS (MiB)", "goroutines", "open files", "node 2", "minutes since the first push"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("chart lacks %s", want)
		}
	}

	// loadgen chart draws it again from the JSON line.
	line, err := json.Marshal(runRecord{Scenario: "soak", OK: true, Results: rep})
	if err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(dir, "runs.jsonl"), filepath.Join(dir, "soak.svg")
	if err := os.WriteFile(in, append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"chart", "-in", in, "-out", out}, noEnv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); !bytes.Equal(b, svg) {
		t.Errorf("loadgen chart drew another soak chart")
	}
}
