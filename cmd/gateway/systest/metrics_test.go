package systest

import (
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// series parses a Prometheus text page into series -> value.
func series(page string) map[string]string {
	out := map[string]string{}
	for line := range strings.Lines(page) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			out[line[:i]] = line[i+1:]
		}
	}
	return out
}

// TestMetricsOfSources: a real node's /metrics has its build, its MySQL and
// Redis pools, the asynq queues (two reminders scheduled by a confirm) and
// the outbox, read at scrape time.
func TestMetricsOfSources(t *testing.T) {
	env := procEnv(t, "GATEWAY_AUTH_MODE=insecure")
	n := MustStart(t, env)
	body := fmt.Sprintf(`{"landlord_id":2001,"user_id":1001,"user_name":"张三","house_id":3001,"reserve_time":%q}`, future(48*time.Hour))
	code, out := call(t, "POST", n.HTTPURL+"/house/reserve", "", body)
	if code != 201 {
		t.Fatalf("reserve: %d %v", code, out)
	}
	id := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
	if code, out := call(t, "POST", fmt.Sprintf("%s/api/reservations/%d/confirm", n.HTTPURL, id), "", `{"landlord_id":2001}`); code != 200 {
		t.Fatalf("confirm: %d %v", code, out)
	}

	// Published rows leave the outbox in batches (reservation.Cleaner,
	// every 50 ms): wait for the empty outbox.
	got := series(scrape(t, n.HTTPURL+"/metrics", ""))
	for deadline := time.Now().Add(10 * time.Second); got[`gateway_outbox_oldest_age_seconds`] != "0" && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		got = series(scrape(t, n.HTTPURL+"/metrics", ""))
	}
	var dbName string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GATEWAY_MYSQL_DSN="); ok {
			dbName = regexp.MustCompile(`/([^/?]+)\?`).FindStringSubmatch(v)[1]
		}
	}
	want := map[string]string{
		`asynq_tasks_enqueued_total{queue="reminders",state="scheduled"}`: "2",
		`asynq_tasks_enqueued_total{queue="reminders",state="pending"}`:   "0",
		`asynq_tasks_enqueued_total{queue="reminders",state="active"}`:    "0",
		`asynq_tasks_enqueued_total{queue="reminders",state="retry"}`:     "0",
		`asynq_tasks_enqueued_total{queue="reminders",state="archived"}`:  "0",
		`asynq_tasks_enqueued_total{queue="reminders",state="completed"}`: "0",
		`asynq_queue_size{queue="reminders"}`:                             "2",
		`asynq_queue_latency_seconds{queue="reminders"}`:                  "0",
		`asynq_tasks_processed_total{queue="reminders"}`:                  "0",
		`asynq_tasks_failed_total{queue="reminders"}`:                     "0",
		`gateway_outbox_oldest_age_seconds`:                               "0",
		`gateway_metrics_source_failures_total{source="asynq"}`:           "0",
		`gateway_metrics_source_failures_total{source="outbox"}`:          "0",
	}
	present := []string{
		`go_sql_open_connections{db_name="` + dbName + `"}`,
		`go_sql_in_use_connections{db_name="` + dbName + `"}`,
		`go_sql_idle_connections{db_name="` + dbName + `"}`,
		`go_sql_wait_count_total{db_name="` + dbName + `"}`,
		`go_sql_wait_duration_seconds_total{db_name="` + dbName + `"}`,
		`gateway_redis_pool_hits_total`,
		`gateway_redis_pool_misses_total`,
		`gateway_redis_pool_timeouts_total`,
		`gateway_redis_pool_connections{state="total"}`,
		`gateway_redis_pool_connections{state="idle"}`,
		`gateway_redis_pool_stale_connections_total`,
	}
	sub := map[string]string{}
	for s := range want {
		if v, ok := got[s]; ok {
			sub[s] = v
		}
	}
	if diff := cmp.Diff(want, sub); diff != "" {
		t.Errorf("/metrics (-want +got):\n%s", diff)
	}
	for _, s := range present {
		if _, ok := got[s]; !ok {
			t.Errorf("/metrics lacks %s", s)
		}
	}
	build := regexp.MustCompile(`^gateway_build_info\{commit="[^"]+",go_version="` + regexp.QuoteMeta(runtime.Version()) + `",version="dev"\}$`)
	var builds []string
	for s, v := range got {
		if strings.HasPrefix(s, "gateway_build_info") && build.MatchString(s) && v == "1" {
			builds = append(builds, s)
		}
	}
	if len(builds) != 1 {
		t.Errorf("/metrics has %d gateway_build_info{commit,go_version=%q,version=\"dev\"} 1 series, want 1", len(builds), runtime.Version())
	}
}
