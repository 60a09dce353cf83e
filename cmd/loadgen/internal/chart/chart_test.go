package chart

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testRampRecords are the JSON lines of two ramps and a run of another
// scenario.
func testRampRecords(t *testing.T) []byte {
	t.Helper()
	ramp := func(batch int, rates ...float64) map[string]any {
		var steps []map[string]any
		for i, r := range rates {
			steps = append(steps, map[string]any{"step": i, "target_rate": r, "received": 10, "complete": true, "good": i < len(rates)-1,
				"p50_ms": 0.5 * float64(i+1), "p90_ms": 2 * float64(i+1), "p99_ms": 10 * float64(i+1) * float64(i+1)})
		}
		return map[string]any{"scenario": "ramp", "ok": true, "results": map[string]any{"users": 5000, "nodes": 1, "batch": batch,
			"p99_limit_ms": 100, "last_good_rate": rates[len(rates)-2], "steps": steps}}
	}
	var b bytes.Buffer
	for _, rec := range []any{ramp(1, 1000, 1200, 1440), map[string]any{"scenario": "idle", "results": map[string]any{"connections": 3}},
		ramp(50, 1000, 1200, 1440, 1728)} {
		line, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	return b.Bytes()
}

func TestRampChartHasThePercentileSeries(t *testing.T) {
	runs, _, err := read(bytes.NewReader(testRampRecords(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Batch != 1 || runs[1].Batch != 50 || len(runs[1].Steps) != 4 {
		t.Fatalf("ramp runs read: %+v", runs)
	}
	path := filepath.Join(t.TempDir(), "ramp.svg")
	if err := writeRamp(runs, path); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
	}
	for _, s := range []string{"p50 batch 1, last good 1200 msg/s", "p99 batch 50, last good 1440 msg/s", "p99 limit 100 ms", "offered rate"} {
		if !bytes.Contains(svg, []byte(s)) {
			t.Errorf("the SVG does not say %q", s)
		}
	}
}

func TestChartCommand(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "runs.jsonl"), filepath.Join(dir, "ramp.svg")
	if err := os.WriteFile(in, testRampRecords(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Run([]string{"-in", in, "-out", out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(out); err != nil || !bytes.HasPrefix(b, []byte("<?xml")) {
		t.Fatalf("chart wrote %q, %v", b[:min(len(b), 40)], err)
	}
	if err := os.WriteFile(in, []byte(`{"scenario":"idle","results":{}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Run([]string{"-in", in, "-out", out}, io.Discard); err == nil || !strings.Contains(err.Error(), "no ramp or soak run") {
		t.Fatalf("chart of a file without ramps: err = %v", err)
	}
}

func TestSoakChart(t *testing.T) {
	var samples []map[string]any
	for i := range 5 {
		samples = append(samples, map[string]any{"t_s": i * 60, "rss_kb": []int64{40000, -1}, "goroutines": []int{400, 410},
			"open_files": []int{200, 210}, "sessions": 10})
	}
	rep := map[string]any{"users": 10, "target_rate": 100, "churn_fraction": 0.05, "churn_every_s": 10, "samples": samples}
	dir := t.TempDir()
	path := filepath.Join(dir, "direct.svg")
	if err := WriteSoak(rep, path); err != nil {
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
	line, err := json.Marshal(map[string]any{"scenario": "soak", "ok": true, "results": rep})
	if err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(dir, "runs.jsonl"), filepath.Join(dir, "soak.svg")
	if err := os.WriteFile(in, append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Run([]string{"-in", in, "-out", out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); !bytes.Equal(b, svg) {
		t.Errorf("loadgen chart drew another soak chart")
	}
}
