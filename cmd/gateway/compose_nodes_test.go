package main

import (
	"net"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-cmp/cmp"
)

// volumeOf returns svc's mount of the named volume source.
func volumeOf(svc types.ServiceConfig, source string) (types.ServiceVolumeConfig, bool) {
	for _, v := range svc.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Source == source {
			return v, true
		}
	}
	return types.ServiceVolumeConfig{}, false
}

// TestComposeSecretsWiring: the one-shot secrets-init writes `gateway
// secrets init`'s files into a named volume; every node mounts that volume
// read-only, reads each generated secret through its _FILE variable from
// there, and starts only after secrets-init completed successfully.
func TestComposeSecretsWiring(t *testing.T) {
	p, _ := mustLoadCompose(t)
	initSvc := p.Services["secrets-init"]
	if len(initSvc.Volumes) != 1 || initSvc.Volumes[0].Type != types.VolumeTypeVolume || initSvc.Volumes[0].ReadOnly {
		t.Fatalf("secrets-init volumes %+v, want one named volume, writable", initSvc.Volumes)
	}
	vol := initSvc.Volumes[0]
	if diff := cmp.Diff([]string{"secrets", "init", "-dir", vol.Target}, []string(initSvc.Command)); diff != "" {
		t.Errorf("secrets-init command (-want +got):\n%s", diff)
	}
	if initSvc.Image != p.Services["gateway-1"].Image || initSvc.Build == nil {
		t.Errorf("secrets-init image %q (build %v), want the nodes' image, built", initSvc.Image, initSvc.Build)
	}
	if r := initSvc.Restart; r != "no" && r != "" {
		t.Errorf("secrets-init restart %q: a one-shot must not restart", r)
	}

	for _, name := range nodes {
		s := p.Services[name]
		v, ok := volumeOf(s, vol.Source)
		if !ok || !v.ReadOnly {
			t.Errorf("%s: mounts the secrets volume %s %v, want read-only", name, vol.Source, v)
		}
		if d, ok := s.DependsOn["secrets-init"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s: does not wait for secrets-init to complete successfully", name)
		}
		for _, sec := range generatedSecrets {
			variable := EnvName(sec.key) + "_FILE"
			got := s.Environment[variable]
			if want := path.Join(v.Target, sec.name); got == nil || *got != want {
				t.Errorf("%s: %s = %v, want %s (written by secrets init)", name, variable, got, want)
			}
			if s.Environment[EnvName(sec.key)] != nil {
				t.Errorf("%s sets %s as well as its file", name, EnvName(sec.key))
			}
		}
	}
}

// TestComposeNodesMatchTheBinary: each node sets only variables the gateway
// reads, has a distinct id, a /readyz healthcheck, no published port, an
// optional .env, waits for MySQL and Redis, and its environment over the
// image's config/docker.yaml, with the files of `gateway secrets init`, is
// a valid jwt-mode configuration for the compose network.
func TestComposeNodesMatchTheBinary(t *testing.T) {
	p, dir := mustLoadCompose(t, "monitoring")
	secrets := t.TempDir()
	if _, err := runCommand(t, nil, "secrets", "init", "-dir", secrets); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, name := range EnvNames() {
		known[name] = true
	}
	ids := map[string]bool{}
	for _, name := range nodes {
		s := p.Services[name]
		vars := map[string]string{}
		for k, v := range s.Environment {
			if !known[k] {
				t.Errorf("%s sets %s, which the gateway does not read", name, k)
			}
			if v != nil {
				vars[k] = *v
			}
		}
		if id := vars["GATEWAY_NODE_ID"]; id == "" || ids[id] {
			t.Errorf("%s: GATEWAY_NODE_ID %q missing or not distinct", name, id)
		} else {
			ids[id] = true
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
		if len(s.EnvFiles) != 1 || filepath.Base(s.EnvFiles[0].Path) != ".env" || s.EnvFiles[0].Required {
			t.Errorf("%s: env_file %+v, want an optional .env", name, s.EnvFiles)
		}

		// The secrets of the volume are the files secrets init just wrote.
		for _, sec := range generatedSecrets {
			vars[EnvName(sec.key)+"_FILE"] = filepath.Join(secrets, sec.name)
		}
		cfg, err := LoadConfig(filepath.Join(dir, "config/docker.yaml"), env(vars))
		if err != nil {
			t.Errorf("%s: config/docker.yaml with its environment: %v", name, err)
			continue
		}
		if cfg.Auth.Mode != "jwt" || cfg.APIKey == "" || cfg.MySQL.SeedDemo || len(cfg.HTTP.TrustedProxies) == 0 {
			t.Errorf("%s: auth %q, api key set %v, seed %v, trusted proxies %v", name, cfg.Auth.Mode, cfg.APIKey != "", cfg.MySQL.SeedDemo, cfg.HTTP.TrustedProxies)
		}
		if !strings.Contains(cfg.MySQL.DSN, "@tcp(mysql:3306)/") || cfg.Redis.Addr != "redis:6379" {
			t.Errorf("%s: mysql %s, redis %s: not the compose services", name, cfg.MySQL.DSN, cfg.Redis.Addr)
		}
		// The asynq UI's Prometheus is the monitoring profile's.
		if u, err := url.Parse(cfg.UI.PrometheusAddr); err != nil || u.Host != "prometheus:9090" {
			t.Errorf("%s: ui.prometheus_addr %q, want the prometheus service (:9090)", name, cfg.UI.PrometheusAddr)
		}
		if _, port, _ := net.SplitHostPort(cfg.Metrics.Addr); port != "9100" {
			t.Errorf("%s: metrics.addr %q, want :9100 (deploy/prometheus/prometheus.yml)", name, cfg.Metrics.Addr)
		}
	}
	if _, ok := p.Services["prometheus"]; !ok || !slices.Contains(p.Services["prometheus"].Profiles, "monitoring") {
		t.Error("no prometheus service in the monitoring profile")
	}
}
