package scenario

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/cmd/loadgen/internal/delivery"
	"github.com/houseview/gateway/cmd/loadgen/internal/push"
	"github.com/houseview/gateway/cmd/loadgen/internal/report"
)

func noEnv(string) string { return "" }

func TestParseScenarioValidatesFlags(t *testing.T) {
	tests := []struct {
		scenario string
		args     []string
		wantErr  string // "" for valid
	}{
		{"ramp", nil, ""},
		{"ramp", []string{"-batch", "50", "-users", "5000"}, ""},
		{"ramp", []string{"-batch", "0"}, "-batch must be between 1"},
		{"ramp", []string{"-users", "10", "-batch", "50"}, "-batch must be between 1"},
		{"ramp", []string{"-factor", "1"}, "-factor above 1"},
		{"ramp", []string{"-grace", "50ms"}, "-grace 50ms must be at least -p99-limit 100ms"},
		{"ramp", []string{"-min-achieved", "1.5"}, "-min-achieved must be in (0, 1]"},
		{"ramp", []string{"-users", "40000", "-procs", "2"}, "20000 connections per client process"},
		{"fixed", nil, ""},
		{"fixed", []string{"-duration", "0"}, "-duration or -total must be positive"},
		{"fixed", []string{"-duration", "0", "-total", "100"}, ""},
		{"idle", nil, ""},
		{"idle", []string{"-conns", "19000", "-procs", "1"}, ""},
		{"idle", []string{"-conns", "19001", "-procs", "1"}, "19001 connections per client process"},
		{"idle", []string{"-window", "-1s"}, "-settle and -window not negative"},
		{"footprint", []string{"-messages", "1"}, "-messages at least 2"},
		{"soak", nil, ""},
		{"soak", []string{"-duration", "30s", "-sample-every", "10s"}, "at least 4 samples"},
		{"soak", []string{"-churn-fraction", "1.5"}, "-churn-fraction must be in [0, 1]"},
		{"soak", []string{"-max-rss-growth", "0"}, "must be positive"},
		{"fixed", []string{"-auth", "basic"}, `-auth "basic": want jwt or insecure`},
		{"fixed", []string{"-node-env", "GOGC"}, `-node-env "GOGC" is not KEY=VALUE`},
		{"fixed", []string{"-redis-db", "16"}, "-redis-db 16"},
		{"fixed", []string{"-progress", "100ms"}, "at least 1s"},
		{"fixed", []string{"extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.scenario+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, _, err := parseScenario(tt.scenario, tt.args, noEnv, io.Discard)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFlagSettings(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var c commonConfig
	c.register(fs, noEnv)
	fs.Int("users", 5000, "")
	fs.Duration("step", 0, "")
	if err := fs.Parse([]string{"-step", "10s", "-mysql", "secret@tcp(db)/", "-own-redis"}); err != nil {
		t.Fatal(err)
	}
	got := report.Settings(fs)
	want := map[string]any{"users": 5000.0, "step": "10s", "own-redis": true}
	for k, v := range want {
		if diff := cmp.Diff(v, got[k]); diff != "" {
			t.Errorf("setting %s (-want +got):\n%s", k, diff)
		}
	}
	if _, ok := got["mysql"]; ok {
		t.Errorf("the MySQL DSN is in the settings: %v", got["mysql"])
	}
}

func TestPrintTableFlattensTheResults(t *testing.T) {
	var b strings.Builder
	report.PrintTable(&b, "fixed", &fixedReport{Users: 3, Push: push.Report{Accepted: 2}, NodeCPU: []float64{1.5},
		Delivery: delivery.Report{LostSamples: []string{"user 1 epoch e seq 2"}}})
	out := b.String()
	for _, want := range []string{"fixed:\n  nodes ", "\n  users                ", "3\n", "  push.accepted  ", "  delivery.from_schedule_ms.p99 ",
		`  delivery.lost_samples  `, `["user 1 epoch e seq 2"]`, "  node_cpu_s  ", "[1.5]"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "users") > strings.Index(out, "push.accepted") {
		t.Errorf("rows are not in the order of the JSON line:\n%s", out)
	}
	b.Reset()
	report.PrintTable(&b, "soak", &soakReport{Samples: []soakSample{{AtS: 1}}})
	if strings.Contains(b.String(), "samples") || strings.Contains(b.String(), "t_s") {
		t.Errorf("a list of objects was printed:\n%s", b.String())
	}
}

func TestPrintTableListsARampsSteps(t *testing.T) {
	var b strings.Builder
	report.PrintTable(&b, "ramp", &rampReport{Steps: []stepResult{{Step: 0, TargetRate: 1000, Good: true}}})
	if !strings.Contains(b.String(), "verdict") || !strings.Contains(b.String(), "good") {
		t.Errorf("no table of the steps:\n%s", b.String())
	}
}
