// Package report writes what a run of the load tool measured: its JSON
// line (the run's conditions, settings and results) and the table printed
// after the run.
package report

import (
	"bytes"
	"cmp"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
)

// private names the flags left out of a run's recorded settings.
var private = map[string]bool{"mysql": true, "workdir": true, "json": true, "keep": true, "progress": true}

// Settings is the value of every flag of fs, for the JSON line:
// numbers and booleans as such, the rest as strings.
func Settings(fs *flag.FlagSet) map[string]any {
	out := map[string]any{}
	fs.VisitAll(func(f *flag.Flag) {
		v := f.Value.String()
		if n, err := strconv.ParseFloat(v, 64); private[f.Name] {
			return
		} else if err == nil {
			out[f.Name] = n
		} else if b, err := strconv.ParseBool(v); err == nil {
			out[f.Name] = b
		} else {
			out[f.Name] = v
		}
	})
	return out
}

// Record is the JSON line a run writes.
type Record struct {
	Scenario   string         `json:"scenario"`
	OK         bool           `json:"ok"`
	Failures   []string       `json:"failures,omitempty"`
	Conditions Conditions     `json:"conditions"`
	Settings   map[string]any `json:"settings"` // every flag of the command
	Results    any            `json:"results"`
}

// Conditions describe the machine and the build a run measured.
type Conditions struct {
	Time          string   `json:"time"` // start, UTC
	DurationS     float64  `json:"duration_s"`
	CPUs          int      `json:"cpus"`
	LoadAvgStart  string   `json:"load_avg_start"` // 1, 5 and 15 minutes
	LoadAvgEnd    string   `json:"load_avg_end"`
	Gateway       string   `json:"gateway_binary"`
	GatewayCommit string   `json:"gateway_commit"` // the commit `gateway version` prints, else the binary's vcs stamp, else "unknown"
	AuthMode      string   `json:"auth_mode"`
	Ack           string   `json:"ack"`
	NodeSettings  []string `json:"node_settings"` // what the tool sets on every node (secrets, ports, database left out)
	NodeEnv       []string `json:"node_env"`      // -node-env
	OwnRedis      bool     `json:"own_redis"`
	RedisVersion  string   `json:"redis_version"`
	GoVersion     string   `json:"loadgen_go_version"`
}

// GatewayCommit asks the binary (`gateway version`), then its build
// information (vcs.revision), and says "unknown" when neither knows.
func GatewayCommit(path string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, path, "version").Output()
	if c := measure.LineValue(string(out), "commit:"); c != "" && c != "unknown" {
		return c
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	vcs := map[string]string{}
	for _, s := range info.Settings {
		vcs[s.Key] = s.Value
	}
	rev := cmp.Or(vcs["vcs.revision"], "unknown")
	if rev != "unknown" && vcs["vcs.modified"] == "true" {
		rev += "-dirty"
	}
	return rev
}

// Write appends the JSON line to path, or prints it on w.
func Write(w io.Writer, path string, rec Record) error {
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
	_, err = f.Write(b)
	if err = errors.Join(err, f.Close()); err == nil {
		fmt.Fprintf(w, "JSON line appended to %s\n", path)
	}
	return err
}

// PrintTable writes the results as a table: a row per number, string or
// list of them, in the order of the JSON line, with the names of nested
// objects joined by dots; lists of objects are left out (a ramp's steps are
// a table of their own).
func PrintTable(w io.Writer, title string, rep any) {
	var rows [][2]string
	var flatten func(prefix string, v json.RawMessage)
	flatten = func(prefix string, v json.RawMessage) {
		if len(v) > 0 && v[0] == '{' {
			dec := json.NewDecoder(bytes.NewReader(v))
			_, _ = dec.Token()
			for dec.More() {
				k, _ := dec.Token()
				var sub json.RawMessage
				_ = dec.Decode(&sub)
				flatten(prefix+k.(string)+".", sub)
			}
		} else if !bytes.HasPrefix(v, []byte("[{")) {
			rows = append(rows, [2]string{strings.TrimSuffix(prefix, "."), string(v)})
		}
	}
	b, _ := json.Marshal(rep)
	flatten("", b)
	fmt.Fprintf(w, "%s:\n", title)
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r[0], r[1])
	}
	if s, ok := rep.(interface{ PrintSteps(io.Writer) }); ok {
		s.PrintSteps(w)
	}
}
