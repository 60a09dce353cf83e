package main

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-cmp/cmp"
)

// TestComposeFileMatchesTheBinary loads docker-compose.yml with the
// compose-spec loader (as docker compose would) and checks it against the
// configuration the binary reads, so that the file cannot rot.
func TestComposeFileMatchesTheBinary(t *testing.T) {
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	project, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "docker-compose.yml")}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) {
		o.SetProjectName("gateway", true)
		o.Profiles = []string{"monitoring"}
		o.SkipResolveEnvironment = true // .env is the operator's, not in the repo
	})
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	names := project.ServiceNames()
	slices.Sort(names)
	if diff := cmp.Diff([]string{"gateway-1", "gateway-2", "gateway-3", "mysql", "nginx", "prometheus", "redis"}, names); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}

	known := map[string]bool{}
	for _, k := range Keys() {
		known[EnvName(k)] = true
	}
	nodeIDs := map[string]bool{}
	for _, name := range []string{"gateway-1", "gateway-2", "gateway-3"} {
		s := project.Services[name]
		for env := range s.Environment {
			if !known[env] {
				t.Errorf("%s sets %s, which the gateway does not read", name, env)
			}
		}
		id := s.Environment["GATEWAY_NODE_ID"]
		if id == nil || nodeIDs[*id] {
			t.Errorf("%s: GATEWAY_NODE_ID missing or not distinct", name)
		} else {
			nodeIDs[*id] = true
		}
		if s.HealthCheck == nil || !strings.Contains(strings.Join(s.HealthCheck.Test, " "), "/readyz") {
			t.Errorf("%s: no /readyz healthcheck", name)
		}
		for _, dep := range []string{"mysql", "redis"} {
			if d, ok := s.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s: does not wait for %s to be healthy", name, dep)
			}
		}
		if len(s.Ports) != 0 {
			t.Errorf("%s publishes ports: clients must go through nginx", name)
		}
		if len(s.EnvFiles) != 1 || filepath.Base(s.EnvFiles[0].Path) != ".env" {
			t.Errorf("%s: env_file %v, want .env", name, s.EnvFiles)
		}
	}
	for _, name := range []string{"mysql", "redis"} {
		if project.Services[name].HealthCheck == nil {
			t.Errorf("%s has no healthcheck", name)
		}
	}
	if img := project.Services["mysql"].Image; img != "mysql:8" {
		t.Errorf("mysql image %q", img)
	}

	// nginx: the repo's config files, published on 8080 (HTTP/WS) and 9000 (gRPC).
	lb := project.Services["nginx"]
	var published []string
	for _, p := range lb.Ports {
		published = append(published, p.Published+"->"+strconv.FormatUint(uint64(p.Target), 10))
	}
	if diff := cmp.Diff([]string{"8080->80", "9000->9000"}, published); diff != "" {
		t.Errorf("nginx ports (-want +got):\n%s", diff)
	}
	for _, v := range lb.Volumes {
		if _, err := os.Stat(v.Source); err != nil {
			t.Errorf("nginx mounts %s: %v", v.Source, err)
		}
	}

	// The secrets the nodes need come from .env: .env.example documents them.
	example := readEnvExample(t, filepath.Join(dir, ".env.example"))
	for _, want := range []string{"GATEWAY_JWT_SECRET", "GATEWAY_API_KEY"} {
		if !slices.Contains(example, want) {
			t.Errorf(".env.example lacks %s", want)
		}
	}
	for _, name := range example {
		if !known[name] {
			t.Errorf(".env.example sets %s, which the gateway does not read", name)
		}
	}
	// And the image's config file is valid for the binary (with those secrets).
	getenv := env(map[string]string{"GATEWAY_JWT_SECRET": secret, "GATEWAY_API_KEY": apiKey})
	if cfg, err := LoadConfig(filepath.Join(dir, "config/docker.yaml"), getenv); err != nil {
		t.Errorf("config/docker.yaml: %v", err)
	} else if cfg.Auth.Mode != "jwt" || !strings.Contains(cfg.MySQL.DSN, "@tcp(mysql:3306)/") || cfg.Redis.Addr != "redis:6379" {
		t.Errorf("config/docker.yaml: %+v", cfg)
	}
}

func readEnvExample(tb testing.TB, path string) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "=")
		names = append(names, name)
	}
	return names
}
