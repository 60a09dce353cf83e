package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-cmp/cmp"
)

// freshClone copies the files git tracks (as they are in the working tree)
// into a new directory: what a fresh clone holds, without the git-ignored
// .env or anything else left in this checkout.
func freshClone(tb testing.TB) string {
	tb.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("git ls-files: %v", err)
	}
	dir := tb.TempDir()
	for name := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the working tree
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".env")); err == nil {
		tb.Fatal(".env is tracked by git")
	}
	return dir
}

// loadCompose loads dir/docker-compose.yml as `docker compose` would: the
// environment env, dir/.env when present, the profiles, env_file resolved.
func loadCompose(dir string, env []string, profiles ...string) (*types.Project, error) {
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "docker-compose.yml")},
		cli.WithWorkingDirectory(dir), cli.WithName("gateway"), cli.WithEnv(env),
		cli.WithEnvFiles(), cli.WithDotEnv, cli.WithProfiles(profiles))
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

// mustLoadCompose is loadCompose of a fresh clone, failing on an error.
func mustLoadCompose(tb testing.TB, profiles ...string) (*types.Project, string) {
	tb.Helper()
	dir := freshClone(tb)
	p, err := loadCompose(dir, nil, profiles...)
	if err != nil {
		tb.Fatalf("docker-compose.yml does not load on a fresh clone: %v", err)
	}
	return p, dir
}

// nodes are the gateway services of docker-compose.yml.
var nodes = []string{"gateway-1", "gateway-2", "gateway-3"}

// TestComposeLoadsOnAFreshClone: docker-compose.yml loads with the
// compose-spec loader in a copy of the tracked files (no .env), in each
// profile; the nodes never seed the demo houses, demo-seed does.
func TestComposeLoadsOnAFreshClone(t *testing.T) {
	// The loader refuses what `docker compose` refuses: a required env_file
	// that is not there (as docker-compose.yml once had).
	strict := t.TempDir()
	os.WriteFile(filepath.Join(strict, "docker-compose.yml"), []byte("services:\n  a:\n    image: x\n    env_file: .env\n"), 0o644)
	if _, err := loadCompose(strict, nil); err == nil {
		t.Fatal("a compose file requiring a missing .env loaded: the loader does not resolve env_file")
	}

	base := []string{"gateway-1", "gateway-2", "gateway-3", "mysql", "nginx", "redis", "secrets-init"}
	tests := []struct {
		profiles []string
		want     []string
	}{
		{nil, base},
		{[]string{"monitoring"}, append(slices.Clone(base), "grafana", "prometheus")},
		{[]string{"demo"}, append(slices.Clone(base), "demo-seed")},
		{[]string{"deps"}, append(slices.Clone(base), "mysql-dev", "redis-dev")},
		{[]string{"redis-cluster"}, append(slices.Clone(base), "redis-c1", "redis-c2", "redis-c3", "redis-c4", "redis-c5", "redis-c6",
			"redis-cluster-init")},
	}
	dir := freshClone(t)
	for _, tt := range tests {
		p, err := loadCompose(dir, nil, tt.profiles...)
		if err != nil {
			t.Fatalf("profiles %v: docker-compose.yml does not load on a fresh clone: %v", tt.profiles, err)
		}
		got := p.ServiceNames()
		slices.Sort(got)
		slices.Sort(tt.want)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("profiles %v: services (-want +got):\n%s", tt.profiles, diff)
		}
	}

	p, _ := loadCompose(dir, nil, "demo")
	for _, n := range nodes {
		if got := *p.Services[n].Environment["GATEWAY_MYSQL_SEED_DEMO"]; got != "false" {
			t.Errorf("%s: GATEWAY_MYSQL_SEED_DEMO %q, want false (demo-seed loads the houses)", n, got)
		}
	}
	seeder := p.Services["demo-seed"]
	if diff := cmp.Diff([]string{"migrate"}, []string(seeder.Command)); diff != "" || *seeder.Environment["GATEWAY_MYSQL_SEED_DEMO"] != "true" {
		t.Errorf("demo-seed: command (-want +got):\n%s, seed %q", diff, *seeder.Environment["GATEWAY_MYSQL_SEED_DEMO"])
	}
}

// TestComposeREADMESequenceRecreatesNoNode loads the project as each
// compose command of the README and docs/operations.md sees it (the demo
// profile, then the monitoring profile, then none): every node's resolved
// configuration is the same in all of them, which is what compose
// compares to decide whether to recreate a container.
func TestComposeREADMESequenceRecreatesNoNode(t *testing.T) {
	dir := freshClone(t)
	var first *types.Project
	for _, profiles := range [][]string{{"demo"}, {"monitoring"}, nil, {"demo", "monitoring"}} {
		p, err := loadCompose(dir, nil, profiles...)
		if err != nil {
			t.Fatalf("profiles %v: %v", profiles, err)
		}
		if first == nil {
			first = p
			continue
		}
		for _, n := range append(slices.Clone(nodes), "nginx", "mysql", "redis") {
			if diff := cmp.Diff(first.Services[n], p.Services[n]); diff != "" {
				t.Errorf("profiles %v change %s (-demo +now), so compose would recreate it:\n%s", profiles, n, diff)
			}
		}
	}
}

// TestComposeEnvExample: .env.example sets nothing (every line is a
// commented example), its examples are variables the gateway reads or the
// compose file interpolates, it documents every variable the compose file
// interpolates, and it never suggests the secrets that secrets-init makes.
func TestComposeEnvExample(t *testing.T) {
	f, err := os.Open("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	compose, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	interpolated := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)`).FindAllStringSubmatch(string(compose), -1) {
		interpolated[m[1]] = true
	}
	known := map[string]bool{}
	for _, name := range EnvNames() {
		known[name] = true
	}
	example := regexp.MustCompile(`^#\s*([A-Z_][A-Z0-9_]*)=`)
	documented := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			t.Errorf(".env.example sets %q: it should only show commented examples", line)
		}
		m := example.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		documented[m[1]] = true
		if !known[m[1]] && !interpolated[m[1]] {
			t.Errorf(".env.example shows %s, which neither the gateway nor docker-compose.yml reads", m[1])
		}
		if m[1] == "GATEWAY_JWT_SECRET" || m[1] == "GATEWAY_API_KEY" {
			t.Errorf(".env.example shows %s, which secrets-init generates", m[1])
		}
	}
	for name := range interpolated {
		if !documented[name] {
			t.Errorf("docker-compose.yml interpolates %s, which .env.example does not show", name)
		}
	}
}
