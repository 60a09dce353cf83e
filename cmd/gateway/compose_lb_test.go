package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-cmp/cmp"
	"github.com/knadh/koanf/parsers/yaml"
)

// mounts returns svc's bind mounts, target -> source, failing on a source
// missing from the fresh clone.
func mounts(tb testing.TB, svc types.ServiceConfig) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, v := range svc.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		if _, err := os.Stat(v.Source); err != nil {
			tb.Errorf("%s mounts %s, missing from a fresh clone: %v", svc.Name, v.Source, err)
		}
		if !v.ReadOnly {
			tb.Errorf("%s mounts %s writable", svc.Name, v.Source)
		}
		out[v.Target] = v.Source
	}
	return out
}

// published lists a service's ports as host_ip:published->target.
func published(svc types.ServiceConfig) []string {
	var out []string
	for _, p := range svc.Ports {
		out = append(out, fmt.Sprintf("%s:%s->%d", p.HostIP, p.Published, p.Target))
	}
	return out
}

// TestComposeNginxWiring: nginx runs the repo's files (the very ones the
// nginx test runs), includes each from where compose mounts it, balances
// over exactly the nodes' HTTP and gRPC ports (through their shared
// network alias, resolved again every few seconds), and is published on
// 8080 and 9000.
func TestComposeNginxWiring(t *testing.T) {
	p, _ := mustLoadCompose(t)
	lb := p.Services["nginx"]
	m := mounts(t, lb)
	conf, err := os.ReadFile(m["/etc/nginx/nginx.conf"])
	if err != nil {
		t.Fatalf("nginx.conf: %v", err)
	}
	var included []string
	for _, inc := range regexp.MustCompile(`(?m)^\s*include\s+(\S+);`).FindAllStringSubmatch(string(conf), -1) {
		included = append(included, inc[1])
		if _, ok := m[inc[1]]; !ok {
			t.Errorf("nginx.conf includes %s, which compose does not mount", inc[1])
		}
	}
	for _, file := range []string{"gateway-log.conf", "gateway-http.conf", "gateway-grpc.conf"} {
		if src := m["/etc/nginx/"+file]; filepath.Base(src) != file || !slices.Contains(included, "/etc/nginx/"+file) {
			t.Errorf("/etc/nginx/%s: mounted from %q, included %v", file, src, slices.Contains(included, "/etc/nginx/"+file))
		}
	}
	targets := map[string]string{}
	for _, set := range regexp.MustCompile(`set\s+\$(gateway_http|gateway_grpc)\s+([^\s;]+);`).FindAllStringSubmatch(string(conf), -1) {
		targets[set[1]] = set[2]
	}
	cfg, err := LoadConfig(filepath.Join("../../config/docker.yaml"), env(map[string]string{"GATEWAY_AUTH_MODE": "insecure"}))
	if err != nil {
		t.Fatal(err)
	}
	_, httpPort, _ := net.SplitHostPort(cfg.HTTP.Addr)
	_, grpcPort, _ := net.SplitHostPort(cfg.GRPC.Addr)
	want := map[string]string{"gateway_http": "gateway:" + httpPort, "gateway_grpc": "gateway:" + grpcPort}
	if diff := cmp.Diff(want, targets); diff != "" {
		t.Errorf("nginx targets (-nodes +nginx.conf):\n%s", diff)
	}
	// "gateway" names exactly the nodes, and nginx asks Docker's DNS again
	// within seconds, so a recreated node's new address is used.
	var aliased []string
	for name, svc := range p.Services {
		if n := svc.Networks["default"]; n != nil && slices.Contains(n.Aliases, "gateway") {
			aliased = append(aliased, name)
		}
	}
	slices.Sort(aliased)
	if diff := cmp.Diff(nodes, aliased); diff != "" {
		t.Errorf("services with the network alias gateway (-nodes +got):\n%s", diff)
	}
	if !regexp.MustCompile(`(?m)^\s*resolver\s+127\.0\.0\.11\s+valid=\d+s\b`).Match(conf) {
		t.Errorf("nginx.conf has no resolver for Docker's DNS with a short validity")
	}
	if diff := cmp.Diff([]string{":8080->80", ":9000->9000"}, published(lb)); diff != "" {
		t.Errorf("nginx ports (-want +got):\n%s", diff)
	}
}

// readYAML parses a YAML file into maps.
func readYAML(tb testing.TB, file string) map[string]any {
	tb.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := yaml.Parser().Unmarshal(b)
	if err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	return m
}

// TestComposeMonitoringWiring: Prometheus scrapes every node's metrics
// listener and loads the mounted alert rules; Grafana's provisioned
// datasource is that Prometheus, its dashboard provider reads the mounted
// dashboards, and the dashboard uses the datasource; both are published
// on loopback only.
func TestComposeMonitoringWiring(t *testing.T) {
	p, _ := mustLoadCompose(t, "monitoring")
	prom := p.Services["prometheus"]
	pm := mounts(t, prom)
	conf := readYAML(t, pm["/etc/prometheus/prometheus.yml"])
	for _, rf := range conf["rule_files"].([]any) {
		if _, ok := pm[path.Join("/etc/prometheus", rf.(string))]; !ok {
			t.Errorf("prometheus.yml loads rules %s, which compose does not mount", rf)
		}
	}
	var targets []string
	for _, sc := range conf["scrape_configs"].([]any) {
		for _, st := range sc.(map[string]any)["static_configs"].([]any) {
			for _, tg := range st.(map[string]any)["targets"].([]any) {
				targets = append(targets, tg.(string))
			}
		}
	}
	var want []string
	for _, n := range nodes {
		_, port, _ := net.SplitHostPort(*p.Services[n].Environment["GATEWAY_METRICS_ADDR"])
		want = append(want, n+":"+port)
	}
	if diff := cmp.Diff(want, targets); diff != "" {
		t.Errorf("prometheus targets (-nodes +prometheus.yml):\n%s", diff)
	}

	graf := p.Services["grafana"]
	gm := mounts(t, graf)
	ds := readYAML(t, filepath.Join(gm["/etc/grafana/provisioning"], "datasources/prometheus.yml"))["datasources"].([]any)[0].(map[string]any)
	if ds["url"] != "http://prometheus:9090" {
		t.Errorf("grafana datasource url %v, want the prometheus service", ds["url"])
	}
	prov := readYAML(t, filepath.Join(gm["/etc/grafana/provisioning"], "dashboards/gateway.yml"))["providers"].([]any)[0].(map[string]any)
	dashDir := prov["options"].(map[string]any)["path"].(string)
	src, ok := gm[dashDir]
	if !ok {
		t.Fatalf("grafana reads dashboards from %s, which compose does not mount", dashDir)
	}
	b, err := os.ReadFile(filepath.Join(src, "gateway.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title      string
			Datasource *struct{ UID string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("gateway.json: %v", err)
	}
	for _, panel := range dash.Panels {
		if panel.Datasource != nil && panel.Datasource.UID != ds["uid"] {
			t.Errorf("panel %q uses datasource %q, not the provisioned %v", panel.Title, panel.Datasource.UID, ds["uid"])
		}
	}
	for _, svc := range []types.ServiceConfig{prom, graf} {
		for _, port := range published(svc) {
			if !strings.HasPrefix(port, "127.0.0.1:") {
				t.Errorf("%s published on %s, want loopback only", svc.Name, port)
			}
		}
	}
}

// TestComposeDepsProfile: the deps profile publishes MariaDB and Redis on
// loopback where config/dev.yaml (make run) and the tests look for them.
func TestComposeDepsProfile(t *testing.T) {
	p, _ := mustLoadCompose(t, "deps")
	cfg, err := LoadConfig("../../config/dev.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	mysqlAddr := regexp.MustCompile(`@tcp\(([^)]+)\)`).FindStringSubmatch(cfg.MySQL.DSN)[1]
	got := map[string][]string{"mysql-dev": published(p.Services["mysql-dev"]), "redis-dev": published(p.Services["redis-dev"])}
	want := map[string][]string{"mysql-dev": {mysqlAddr + "->3306"}, "redis-dev": {cfg.Redis.Addr + "->6379"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deps ports (-config/dev.yaml +compose):\n%s", diff)
	}
	if !strings.HasPrefix(cfg.MySQL.DSN, "root:@") {
		t.Errorf("config/dev.yaml's DSN %q is not root without a password, which mysql-dev allows", cfg.MySQL.DSN)
	}
	for _, name := range []string{"mysql-dev", "redis-dev"} {
		if s := p.Services[name]; !slices.Equal(s.Profiles, []string{"deps"}) || s.HealthCheck == nil {
			t.Errorf("%s: profiles %v, healthcheck %v: want deps only, with a healthcheck", name, s.Profiles, s.HealthCheck)
		}
	}
}
