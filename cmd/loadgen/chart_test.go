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

	"github.com/google/go-cmp/cmp"
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

func TestRampSVGIsXMLWithThePercentileSeries(t *testing.T) {
	runs, err := readRampRuns(bytes.NewReader(testRampRecords(t)))
	if err != nil {
		t.Fatal(err)
	}
	svg := rampSVG(runs)
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var series []string
	points := map[string]int{}
	var current string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, svg)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		for _, a := range el.Attr {
			switch {
			case el.Name.Local == "g" && a.Name.Local == "data-series":
				current = a.Value
				series = append(series, a.Value)
			case el.Name.Local == "polyline" && a.Name.Local == "points":
				points[current] = len(strings.Fields(a.Value))
			}
		}
	}
	want := []string{"p50 batch 1", "p90 batch 1", "p99 batch 1", "p50 batch 50", "p90 batch 50", "p99 batch 50"}
	if diff := cmp.Diff(want, series); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	wantPoints := map[string]int{"p50 batch 1": 3, "p90 batch 1": 3, "p99 batch 1": 3, "p50 batch 50": 4, "p90 batch 50": 4, "p99 batch 50": 4}
	if diff := cmp.Diff(wantPoints, points); diff != "" {
		t.Errorf("points per series (-want +got):\n%s", diff)
	}
	for _, s := range []string{"p99 limit 100 ms", "last good 1440 msg/s", "offered rate"} {
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

func TestNiceStep(t *testing.T) {
	for in, want := range map[float64]float64{0.7: 1, 1: 1, 1.5: 2, 3: 5, 7: 10, 1100: 2000, 2600: 5000} {
		if got := niceStep(in); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", in, got, want)
		}
	}
}
