package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/metrics"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/subscribe"
)

// exportedNames returns the name of every metric a node's registry exports,
// wired as cmd/gateway wires it, against the real MariaDB and Redis (with
// one reminder queue, so that asynq's metrics exist): what its collectors
// describe and what a scrape gathers.
func exportedNames(tb testing.TB) map[string]bool {
	tb.Helper()
	env := apptest.MustEnv(tb)
	if _, err := asynq.NewClientFromRedisClient(env.Redis).Enqueue(asynq.NewTask("t", nil), asynq.Queue("reminders"), asynq.ProcessIn(time.Hour)); err != nil {
		tb.Fatal(err)
	}
	m := metrics.New()
	m.WatchSubscriber(subscribe.New(redis.New(env.Redis, env.Keys), subscribe.Options{NodeID: "alerts"}))
	m.WatchSessions(func() int { return 0 })
	m.WatchJWKS(func() int { return 0 })
	m.BuildInfo("dev", "unknown")
	sqlDB, err := env.DB.DB()
	if err != nil {
		tb.Fatal(err)
	}
	m.WatchDB(sqlDB, "gateway")
	m.WatchRedisPool(env.Redis)
	m.WatchQueues(asynq.NewInspectorFromRedisClient(env.Redis), 5*time.Second)
	m.WatchOutbox(env.Store, 5*time.Second)

	names := map[string]bool{}
	descs := make(chan *prometheus.Desc)
	go func() { m.Registry().Describe(descs); close(descs) }()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		if s := fqName.FindStringSubmatch(d.String()); s != nil {
			names[s[1]] = true
		}
	}
	families, err := m.Registry().Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range families {
		names[f.GetName()] = true
	}
	return names
}

// promqlNames returns the metric names an expression selects: identifiers
// outside strings, label matchers, ranges and grouping clauses that are not
// functions, aggregations or keywords.
func promqlNames(expr string) []string {
	for _, re := range []string{`"(?:[^"\\]|\\.)*"`, `'(?:[^'\\]|\\.)*'`, `\{[^}]*\}`, `\[[^\]]*\]`,
		`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`} {
		expr = regexp.MustCompile(re).ReplaceAllString(expr, " ")
	}
	keywords := []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"}
	var out []string
	ident := regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	for _, loc := range ident.FindAllStringIndex(expr, -1) {
		name, rest := expr[loc[0]:loc[1]], strings.TrimSpace(expr[loc[1]:])
		if loc[0] > 0 && strings.ContainsRune("0123456789.", rune(expr[loc[0]-1])) {
			continue // an exponent or unit of a number
		}
		if strings.HasPrefix(rest, "(") || slices.Contains(keywords, strings.ToLower(name)) {
			continue
		}
		out = append(out, name)
	}
	return out
}

func TestPromqlNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`up{job="gateway"} == 0`, []string{"up"}},
		{`histogram_quantile(0.99, sum by (le) (rate(a_bucket{x=~"y|z"}[5m]))) > 0.5`, []string{"a_bucket"}},
		{`sum(rate(a_total{code=~"5.."}[5m])) / sum(rate(b_total[5m])) > 1e3`, []string{"a_total", "b_total"}},
		{`max by (queue) (delta(c{state="retry"}[30m])) > 10 and on (queue) d`, []string{"c", "d"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, promqlNames(tt.expr)); diff != "" {
			t.Errorf("promqlNames(%q) (-want +got):\n%s", tt.expr, diff)
		}
	}
}

// known reports whether name is exported, or is a histogram's series of an
// exported histogram, or is Prometheus's own up.
func known(names map[string]bool, name string) bool {
	if names[name] || name == "up" {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && names[base] {
			return true
		}
	}
	return false
}

// rule is one alerting rule of deploy/prometheus/alerts.yml.
type rule struct {
	Alert, Expr string
	Labels      map[string]string
	Annotations map[string]string
}

// alertRules reads deploy/prometheus/alerts.yml.
func alertRules(tb testing.TB) []rule {
	tb.Helper()
	b, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		tb.Fatal(err)
	}
	m, err := yaml.Parser().Unmarshal(b)
	if err != nil {
		tb.Fatalf("alerts.yml: %v", err)
	}
	j, _ := json.Marshal(m)
	var file struct{ Groups []struct{ Rules []rule } }
	if err := json.Unmarshal(j, &file); err != nil {
		tb.Fatal(err)
	}
	var rules []rule
	for _, g := range file.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// TestAlertRulesUseExportedMetrics: every alert of
// deploy/prometheus/alerts.yml is named, has a severity and a summary, and
// selects only metrics a node exports; so does every query of the Grafana
// dashboard.
func TestAlertRulesUseExportedMetrics(t *testing.T) {
	names := exportedNames(t)
	rules := alertRules(t)
	if len(rules) < 10 {
		t.Fatalf("%d rules in alerts.yml", len(rules))
	}
	seen := map[string]bool{}
	for _, r := range rules {
		if r.Alert == "" || seen[r.Alert] || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
			t.Errorf("rule %q: needs a distinct name, labels.severity and annotations.summary", r.Alert)
		}
		seen[r.Alert] = true
		for _, n := range promqlNames(r.Expr) {
			if !known(names, n) {
				t.Errorf("alert %s: %s is not a metric the gateway exports (expr %s)", r.Alert, n, r.Expr)
			}
		}
	}

	b, err := os.ReadFile("../../deploy/grafana/dashboards/gateway.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	queries := 0
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			queries++
			for _, n := range promqlNames(target.Expr) {
				if !known(names, n) {
					t.Errorf("dashboard panel %q: %s is not a metric the gateway exports (expr %s)", p.Title, n, target.Expr)
				}
			}
		}
	}
	if queries < 20 {
		t.Errorf("the dashboard has %d queries", queries)
	}
}

// TestAlertsAreDocumented: docs/operations.md says what each alert means
// and what to do.
func TestAlertsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range alertRules(t) {
		if !strings.Contains(string(doc), "| `"+r.Alert+"` |") {
			t.Errorf("docs/operations.md has no row for alert %s", r.Alert)
		}
	}
}
