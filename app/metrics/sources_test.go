package metrics_test

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/metrics"
	"github.com/houseview/gateway/pkg/testenv"
)

// scrapeSeries returns the series of one scrape whose names start with
// one of prefixes, and how long the scrape took.
func scrapeSeries(m *metrics.Metrics, prefixes ...string) (map[string]string, time.Duration) {
	start := time.Now()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	took := time.Since(start)
	out := map[string]string{}
	for line := range strings.Lines(rec.Body.String()) {
		name, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				out[name] = v
			}
		}
	}
	return out, took
}

// TestQueuesOfAStalledRedis: asynq's queues are read through a proxy to
// the real Redis; while it holds every byte, a scrape still answers within
// the timeout without them and counts a failure (a second one too, while
// the first read is still stuck); once healed they come back.
func TestQueuesOfAStalledRedis(t *testing.T) {
	_, direct := testenv.MustRedisDB(t)
	proxy := testenv.MustProxy(t, direct.Options().Addr)
	opts := *direct.Options()
	opts.Addr = proxy.Addr
	rdb := goredis.NewClient(&opts)
	t.Cleanup(func() { rdb.Close() })
	client := asynq.NewClientFromRedisClient(rdb)
	if _, err := client.Enqueue(asynq.NewTask("t", nil), asynq.Queue("reminders"), asynq.ProcessIn(time.Hour)); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	m.WatchQueues(asynq.NewInspectorFromRedisClient(rdb), 300*time.Millisecond)

	healthy := map[string]string{
		`asynq_queue_size{queue="reminders"}`:                             "1",
		`asynq_tasks_enqueued_total{queue="reminders",state="scheduled"}`: "1",
		`gateway_metrics_source_failures_total{source="asynq"}`:           "0",
	}
	got, _ := scrapeSeries(m, `asynq_queue_size`, `asynq_tasks_enqueued_total{queue="reminders",state="scheduled"}`, `gateway_metrics_source_failures_total{source="asynq"}`)
	if diff := cmp.Diff(healthy, got); diff != "" {
		t.Errorf("healthy scrape (-want +got):\n%s", diff)
	}

	proxy.Stall()
	for i := range 2 {
		got, took := scrapeSeries(m, "asynq_")
		if len(got) != 0 || took > 2*time.Second {
			t.Errorf("stalled scrape %d took %s and has %v, want no asynq series", i+1, took, got)
		}
	}
	proxy.Heal()
	waitSeries(t, m, `asynq_queue_size{queue="reminders"}`, "1")
	// Both stalled scrapes failed: the first ran out of time, the second
	// found the first read still running.
	got, _ = scrapeSeries(m, "gateway_metrics_source_failures_total")
	if n, _ := strconv.Atoi(got[`gateway_metrics_source_failures_total{source="asynq"}`]); n < 2 {
		t.Errorf("failures after two stalled scrapes: %v, want at least 2", got)
	}
}

// waitSeries scrapes until series has value want, for up to 10 s.
func waitSeries(tb testing.TB, m *metrics.Metrics, series, want string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := scrapeSeries(m, series)
		if got[series] == want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s is %q, want %s", series, got[series], want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOutboxAgeOfALockedTable: the outbox age is read at scrape time; with
// the table locked by another session the scrape answers within the
// timeout without it and counts a failure.
func TestOutboxAgeOfALockedTable(t *testing.T) {
	env := apptest.MustEnv(t)
	m := metrics.New()
	m.WatchOutbox(env.Store, 300*time.Millisecond)
	got, _ := scrapeSeries(m, "gateway_outbox_", "gateway_metrics_source_failures_total")
	want := map[string]string{
		"gateway_outbox_oldest_age_seconds":                      "0",
		`gateway_metrics_source_failures_total{source="asynq"}`:  "0",
		`gateway_metrics_source_failures_total{source="outbox"}`: "0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("empty outbox (-want +got):\n%s", diff)
	}

	locked, release := make(chan error, 1), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		env.DB.Connection(func(conn *gorm.DB) error {
			err := conn.Exec("LOCK TABLES notification_outbox WRITE").Error
			locked <- err
			<-release
			return conn.Exec("UNLOCK TABLES").Error
		})
	}()
	if err := <-locked; err != nil {
		t.Fatal(err)
	}
	got, took := scrapeSeries(m, "gateway_outbox_")
	if len(got) != 0 || took > 2*time.Second {
		t.Errorf("scrape of a locked outbox took %s and has %v, want no outbox series", took, got)
	}
	close(release)
	<-done
	waitSeries(t, m, "gateway_outbox_oldest_age_seconds", "0")
	// The locked read counted; on a loaded machine a read right after the
	// unlock may time out too, so at least one.
	got, _ = scrapeSeries(m, "gateway_metrics_source_failures_total")
	if n, _ := strconv.Atoi(got[`gateway_metrics_source_failures_total{source="outbox"}`]); n < 1 {
		t.Errorf("outbox failures %v, want at least 1", got)
	}
}
