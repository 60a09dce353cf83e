package main

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// scenarioReport is the outcome of a scenario: its results (the "results"
// of the JSON line), a table for people, and the checks that did not hold
// (lost, duplicated, ...), which make the run fail.
type scenarioReport interface {
	printTable(w io.Writer)
	failures() []string
}

// runRecord is the JSON line a run writes.
type runRecord struct {
	Scenario   string         `json:"scenario"`
	OK         bool           `json:"ok"`
	Failures   []string       `json:"failures,omitempty"`
	Conditions conditions     `json:"conditions"`
	Settings   map[string]any `json:"settings"` // every flag of the command
	Results    scenarioReport `json:"results"`
}

// conditions describe the machine and the build a run measured.
type conditions struct {
	Time          string   `json:"time"` // start, UTC
	DurationS     float64  `json:"duration_s"`
	CPUs          int      `json:"cpus"`
	LoadAvgStart  string   `json:"load_avg_start"` // 1, 5 and 15 minutes
	LoadAvgEnd    string   `json:"load_avg_end"`
	Gateway       string   `json:"gateway_binary"`
	GatewayCommit string   `json:"gateway_commit"` // `gateway version`, else the binary's vcs stamp, else "unknown"
	AuthMode      string   `json:"auth_mode"`
	Ack           string   `json:"ack"`           // the clients' acks: none, batch or each
	NodeSettings  []string `json:"node_settings"` // what the tool sets on every node (secrets, ports, database left out)
	NodeEnv       []string `json:"node_env"`      // -node-env
	OwnRedis      bool     `json:"own_redis"`
	RedisVersion  string   `json:"redis_version"`
	GoVersion     string   `json:"loadgen_go_version"`
}

// conditions of the run so far (started at start, load average load0).
func (o *orch) conditions(start time.Time, load0 string) conditions {
	return conditions{Time: start.UTC().Format(time.RFC3339), DurationS: round2(time.Since(start).Seconds()),
		CPUs: runtime.NumCPU(), LoadAvgStart: load0, LoadAvgEnd: loadAvg(),
		Gateway: o.cfg.gateway, GatewayCommit: gatewayCommit(o.cfg.gateway), AuthMode: o.cfg.auth, Ack: o.cfg.ack,
		NodeSettings: append([]string{"GATEWAY_AUTH_MODE=" + o.cfg.auth}, nodeSettings...), NodeEnv: append([]string{}, o.cfg.nodeEnv...),
		OwnRedis: o.cfg.ownRedis, RedisVersion: o.rdb.version(), GoVersion: runtime.Version()}
}

// gatewayCommit asks the binary (`gateway version`), then its build
// information (vcs.revision), and says "unknown" when neither knows.
func gatewayCommit(path string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, path, "version").Output(); err == nil {
		if line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n"); line != "" {
			return line
		}
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// writeRecord appends the JSON line to path, or prints it on w.
func writeRecord(w io.Writer, path string, rec runRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "" {
		_, err = w.Write(b)
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(w, "JSON line appended to %s\n", path)
	return nil
}

// cpuShare is CPU seconds per delivered message in µs (0 without messages).
func cpuShare(seconds float64, messages int64) float64 {
	if messages <= 0 {
		return 0
	}
	return round2(seconds * 1e6 / float64(messages))
}

// roundAll rounds CPU seconds for the report.
func roundAll(vs []float64) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = round2(v)
	}
	return out
}

// printRows writes a two-column table under a title.
func printRows(w io.Writer, title string, rows [][2]string) {
	fmt.Fprintf(w, "%s:\n", title)
	width := 0
	for _, r := range rows {
		width = max(width, len([]rune(r[0])))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %s%s  %s\n", r[0], strings.Repeat(" ", width-len([]rune(r[0]))), r[1])
	}
}
