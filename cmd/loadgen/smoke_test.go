package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
)

// TestSmokeAgainstARealNode builds the gateway and the tool, then runs a
// tiny ramp, a tiny idle run and a short soak with churn against real
// nodes (jwt mode, a private redis-server, a fresh MariaDB database), and
// charts the ramp.
func TestSmokeAgainstARealNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gateway")
	}
	dir := t.TempDir()
	gateway, err := testenv.BuildGateway()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(testenv.RemoveGatewayBuilds)
	loadgen := filepath.Join(dir, "loadgen")
	if out, err := exec.Command("go", "build", "-o", loadgen, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build loadgen: %v\n%s", err, out)
	}
	jsonl := filepath.Join(dir, "runs.jsonl")
	common := []string{"-gateway", gateway, "-own-redis", "-json", jsonl, "-progress", "0", "-timeout", "1m"}
	runs := [][]string{
		// A smoke test, not a measurement: steps are judged by loss only (a busy
		// machine may push 94 of 100 per second, or see a 200 ms tail).
		{"ramp", "-users", "30", "-procs", "1", "-start", "100", "-factor", "2", "-step", "1s", "-max-steps", "2", "-grace", "10s",
			"-min-achieved", "0.01", "-p99-limit", "10s"},
		{"idle", "-conns", "40", "-procs", "2", "-settle", "500ms", "-window", "1s"},
		{"soak", "-users", "40", "-procs", "1", "-rate", "200", "-duration", "6s", "-churn-every", "1s", "-churn-fraction", "0.25",
			"-sample-every", "1s", "-deliver-timeout", "10s", "-chart", filepath.Join(dir, "soak.svg")},
	}
	for _, args := range runs {
		start := time.Now()
		out, err := exec.Command(loadgen, append(args, common...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("loadgen %v: %v\n%s", args, err, out)
		}
		t.Logf("loadgen %s: %.1fs\n%s", args[0], time.Since(start).Seconds(), out)
	}
	b, err := os.ReadFile(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	var got []smokeRecord
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var rec smokeRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("a JSON line that does not parse: %v\n%s", err, sc.Bytes())
		}
		got = append(got, rec)
	}
	if len(got) != 3 || got[0].Scenario != "ramp" || got[1].Scenario != "idle" || got[2].Scenario != "soak" {
		t.Fatalf("JSON lines: %+v; want a ramp, an idle and a soak run", got)
	}
	if r := got[0]; !r.OK || len(r.Results.Steps) != 2 || !r.Results.Steps[1].Complete || r.Results.Steps[1].Received != 200 {
		t.Errorf("ramp: %+v; want ok, 2 complete steps, 200 messages in the second", r)
	}
	if r := got[1]; !r.OK || r.Results.Conns != 40 || r.Results.Probe.Expected != 40 || r.Results.Probe.Unique != 40 {
		t.Errorf("idle: %+v; want ok, 40 connections, each got its probe message", r)
	}
	if r := got[2]; !r.OK || r.Results.Delivery.Expected != 1200 || r.Results.Delivery.Unique != 1200 ||
		r.Results.Churned == 0 || len(r.Results.Samples) < 6 || r.Results.Samples[0].Goroutines[0] <= 0 {
		t.Errorf("soak: %+v; want ok, 1200 messages each received once across the churn, 6+ samples with goroutines", r)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "soak.svg")); err != nil || !bytes.Contains(b, []byte("open files")) {
		t.Errorf("soak chart: %v", err)
	}
	svg := filepath.Join(dir, "ramp.svg")
	if out, err := exec.Command(loadgen, "chart", "-in", jsonl, "-out", svg).CombinedOutput(); err != nil {
		t.Fatalf("loadgen chart: %v\n%s", err, out)
	}
}

// smokeRecord is the part of a JSON line the smoke test checks.
type smokeRecord struct {
	Scenario string `json:"scenario"`
	OK       bool   `json:"ok"`
	Results  struct {
		Steps []struct {
			Received int  `json:"received"`
			Complete bool `json:"complete"`
		} `json:"steps"`
		Conns int `json:"connections"`
		Probe struct {
			Expected int `json:"expected"`
			Unique   int `json:"unique"`
		} `json:"probe_delivery"`
		Delivery struct {
			Expected int `json:"expected"`
			Unique   int `json:"unique"`
		} `json:"delivery"`
		Churned int64 `json:"churned"`
		Samples []struct {
			Goroutines []int `json:"goroutines"`
		} `json:"samples"`
	} `json:"results"`
}
