package systest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/pkg/testenv"
)

// TestBinaryConfigCheck: `gateway config check` exits 0 with "ok" or 1
// with every problem on stderr.
func TestBinaryConfigCheck(t *testing.T) {
	tests := []struct {
		name       string
		env        []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"valid", []string{"GATEWAY_AUTH_MODE=insecure", "GATEWAY_REDIS_ADR=x"}, 0,
			[]string{"warning: unknown environment variable GATEWAY_REDIS_ADR is ignored; did you mean GATEWAY_REDIS_ADDR?", "ok"}, nil},
		{"invalid", []string{"GATEWAY_JWT_SECRET=short", "GATEWAY_WORKER_CONCURRENCY=0", "GATEWAY_TIMEZONE=Mars/Olympus"}, 1, nil, []string{
			"gateway: config ",
			"config worker.concurrency (GATEWAY_WORKER_CONCURRENCY): ",
			"config timezone (GATEWAY_TIMEZONE): ",
			"config jwt.secret (GATEWAY_JWT_SECRET): jwt auth needs a secret of at least 32 bytes",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binary, "config", "check")
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, tt.env...)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, &stdout, &stderr)
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout.String(), want+"\n") {
					t.Errorf("stdout lacks %q:\n%s", want, &stdout)
				}
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, &stderr)
				}
			}
		})
	}
}

// buildGateway builds the gateway with extra go build flags.
func buildGateway(tb testing.TB, flags ...string) string {
	tb.Helper()
	bin, err := testenv.BuildGateway(flags...)
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

func versionOf(tb testing.TB, bin string) string {
	tb.Helper()
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		tb.Fatalf("%s version: %v", bin, err)
	}
	return string(out)
}

// TestBinaryVersionFromLdflags: -ldflags set the version and commit, as the
// Makefile and the Dockerfile do.
func TestBinaryVersionFromLdflags(t *testing.T) {
	got := versionOf(t, buildGateway(t, "-ldflags", "-X main.version=v9.8.7 -X main.commit=0123abc"))
	want := fmt.Sprintf("version: v9.8.7\ncommit:  0123abc\ngo:      %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("version (-want +got):\n%s", diff)
	}
}

// TestBinaryVersionFromVCS: without -ldflags the commit is the revision go
// build stamped, which it does only in a checkout whose .git is a directory
// (not in a git worktree, whose .git is a file).
func TestBinaryVersionFromVCS(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	bin := buildGateway(t, "-buildvcs=true")
	if info, err := exec.Command("go", "version", "-m", bin).Output(); err != nil || !strings.Contains(string(info), "vcs.revision=") {
		t.Skipf("go build stamped no revision here (%v)", err)
	}
	if got, want := versionOf(t, bin), "commit:  "+strings.TrimSpace(string(head)); !strings.Contains(got, want) {
		t.Errorf("version of a VCS-stamped build lacks %q:\n%s", want, got)
	}
}

// TestBinaryServeWarnsAndReadsSecretFiles: serve logs the GATEWAY_*
// variables it does not know, and reads the API key from the file named by
// GATEWAY_API_KEY_FILE.
func TestBinaryServeWarnsAndReadsSecretFiles(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "api_key")
	if err := os.WriteFile(keyFile, []byte(apiKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := MustStart(t, procEnv(t, "GATEWAY_AUTH_MODE=insecure", "GATEWAY_API_KEY_FILE="+keyFile, "GATEWAY_JWT_SECRETS=typo"))
	body := `{"user_ids":[1001],"title":"t","content":"c"}`
	if code, out := call(t, "POST", n.HTTPURL+"/api/push", apiKey, body); code != 200 {
		t.Errorf("push with the key from the file: %d %v", code, out)
	}
	if code, _ := call(t, "POST", n.HTTPURL+"/api/push", apiKey+"-other", body); code != 401 {
		t.Errorf("push with another key: %d, want 401", code)
	}
	var warnings []map[string]any
	for line := range strings.Lines(n.Logs()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "unknown environment variable is ignored" {
			warnings = append(warnings, map[string]any{"name": rec["name"], "did_you_mean": rec["did_you_mean"]})
		}
	}
	want := []map[string]any{{"name": "GATEWAY_JWT_SECRETS", "did_you_mean": "GATEWAY_JWT_SECRET"}}
	if diff := cmp.Diff(want, warnings); diff != "" {
		t.Errorf("warnings logged (-want +got):\n%s", diff)
	}
}

// TestHelpAndMistakesAtTheCommandLine: -h prints the flags and exits 0; a
// mistake prints one line and exits 1.
func TestHelpAndMistakesAtTheCommandLine(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"serve", "-h"}, 0, "usage of gateway serve:"},
		{[]string{"migrate", "-help"}, 0, "usage of gateway migrate:"},
		{[]string{"token", "-nope"}, 1, "gateway: token: flag provided but not defined: -nope (gateway token -h lists its flags)\n"},
	} {
		out, err := exec.Command(binary, tt.args...).CombinedOutput()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		}
		if code != tt.wantCode || !strings.Contains(string(out), tt.want) || tt.wantCode == 1 && string(out) != tt.want {
			t.Errorf("gateway %v: exit %d, printed %q; want %d and %q", tt.args, code, out, tt.wantCode, tt.want)
		}
	}
}
