package main

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
	ramp := func(batch int, rates ...float64) runRecord {
		rep := &rampReport{Users: 5000, Nodes: 1, Batch: batch, P99LimitMS: 100}
		for i, r := range rates {
			rep.Steps = append(rep.Steps, stepResult{Step: i, TargetRate: r, Received: 10, Complete: true, Good: i < len(rates)-1,
				P50MS: 0.5 * float64(i+1), P90MS: 2 * float64(i+1), P99MS: 10 * float64(i+1) * float64(i+1)})
		}
		rep.LastGoodRate = rates[len(rates)-2]
		return runRecord{Scenario: "ramp", OK: true, Results: rep}
	}
	var b bytes.Buffer
	for _, rec := range []runRecord{ramp(1, 1000, 1200, 1440), {Scenario: "idle", Results: &idleReport{Conns: 3}}, ramp(50, 1000, 1200, 1440, 1728)} {
		line, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	return b.Bytes()
}

func TestRampChartHasThePercentileSeries(t *testing.T) {
	runs, _, err := readChartRuns(bytes.NewReader(testRampRecords(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Batch != 1 || runs[1].Batch != 50 || len(runs[1].Steps) != 4 {
		t.Fatalf("ramp runs read: %+v", runs)
	}
	path := filepath.Join(t.TempDir(), "ramp.svg")
	if err := writeRampChart(runs, path); err != nil {
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
	if err := run(t.Context(), []string{"chart", "-in", in, "-out", out}, noEnv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(out); err != nil || !bytes.HasPrefix(b, []byte("<?xml")) {
		t.Fatalf("chart wrote %q, %v", b[:min(len(b), 40)], err)
	}
	if err := os.WriteFile(in, []byte(`{"scenario":"idle","results":{}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"chart", "-in", in, "-out", out}, noEnv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "no ramp or soak run") {
		t.Fatalf("chart of a file without ramps: err = %v", err)
	}
}
