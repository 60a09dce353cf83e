package metrics_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/houseview/gateway/app/devicepush"
	"github.com/houseview/gateway/app/grpcapi"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/metrics"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/subscribe"
	"github.com/houseview/gateway/app/reminder"
	"github.com/houseview/gateway/app/reservation"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/app/ws"
)

// *Metrics is every package's metrics consumer.
var (
	_ ws.Metrics           = (*metrics.Metrics)(nil)
	_ redis.PublishMetrics = (*metrics.Metrics)(nil)
	_ subscribe.Metrics    = (*metrics.Metrics)(nil)
	_ httpapi.Metrics      = (*metrics.Metrics)(nil)
	_ grpcapi.Metrics      = (*metrics.Metrics)(nil)
	_ reservation.Metrics  = (*metrics.Metrics)(nil)
	_ reminder.Metrics     = (*metrics.Metrics)(nil)
	_ webhook.Metrics      = (*metrics.Metrics)(nil)
	_ devicepush.Metrics   = (*metrics.Metrics)(nil)
	_ metrics.Subscriber   = (*subscribe.Subscriber)(nil)
)

// value returns the value of a series (name{labels}) as
// GET /metrics shows it, failing when it is absent.
func value(tb testing.TB, m *metrics.Metrics, series string) string {
	tb.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if name, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && name == series {
			return v
		}
	}
	tb.Fatalf("series %s not exposed", series)
	return ""
}

func TestSessionCollectors(t *testing.T) {
	m := metrics.New()
	reg := m.Registry()
	m.WatchSessions(func() int { return 1 })
	for range 3 {
		m.SessionOpened()
	}
	m.SessionClosed(ws.ReasonClient)
	m.SessionClosed(ws.ReasonSlowConsumer)
	m.CatchUpStarted()
	m.CatchUpStarted()
	m.CatchUpEnded()
	m.FrameRefused()
	m.Limited(ws.LimitFrames)
	m.SessionClosed(ws.ReasonTokenExpired)
	for _, tt := range []struct {
		series string
		want   string
	}{
		{"gateway_ws_connections", "1"},
		{"gateway_ws_sessions_opened_total", "3"},
		{`gateway_ws_sessions_closed_total{reason="client"}`, "1"},
		{`gateway_ws_sessions_closed_total{reason="slow_consumer"}`, "1"},
		{`gateway_ws_sessions_closed_total{reason="drain"}`, "0"},
		{"gateway_ws_sessions_catching_up", "1"},
		{"gateway_ws_frames_refused_total", "1"},
		{`gateway_ws_sessions_closed_total{reason="token_expired"}`, "1"},
		{`gateway_limited_total{limit="frames"}`, "1"},
		{`gateway_limited_total{limit="remind"}`, "0"},
	} {
		if got := value(t, m, tt.series); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.series, got, tt.want)
		}
	}
	// Every close reason the hub names is a series from the start.
	for _, r := range ws.CloseReasons {
		value(t, m, `gateway_ws_sessions_closed_total{reason="`+r+`"}`)
	}
	if n := testutil.CollectAndCount(reg, "gateway_ws_sessions_closed_total"); n != 13 {
		t.Errorf("closed reasons exposed: %d, want 13", n)
	}
	if n := testutil.CollectAndCount(reg, "gateway_limited_total"); n != 5 {
		t.Errorf("limits exposed: %d, want 5", n)
	}
}

func TestMessageCollectors(t *testing.T) {
	m := metrics.New()
	m.MessagePublished("1")
	m.MessagePublished("1")
	m.MessagePublished("unknown")
	m.MessageDelivered()
	m.MessageReplayed()
	m.MessageDropped(ws.DropDuplicate)
	m.DeliveryLatency(3 * time.Millisecond)
	m.DeliveryLatency(2 * time.Second)
	for _, tt := range []struct{ series, want string }{
		{`gateway_messages_published_total{type="1"}`, "2"},
		{`gateway_messages_published_total{type="6"}`, "0"},
		{`gateway_messages_published_total{type="unknown"}`, "1"},
		{"gateway_messages_delivered_total", "1"},
		{"gateway_messages_replayed_total", "1"},
		{`gateway_messages_dropped_total{reason="duplicate"}`, "1"},
		{`gateway_messages_dropped_total{reason="unsent"}`, "0"},
		{"gateway_publish_to_deliver_seconds_count", "2"},
		{`gateway_publish_to_deliver_seconds_bucket{le="0.005"}`, "1"},
		{`gateway_publish_to_deliver_seconds_bucket{le="2.5"}`, "2"},
		{"gateway_publish_to_deliver_seconds_sum", "2.003"},
	} {
		if got := value(t, m, tt.series); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.series, got, tt.want)
		}
	}
	if n := testutil.CollectAndCount(m.Registry(), "gateway_messages_published_total"); n != 7 {
		t.Errorf("published types exposed: %d, want 7 (1-6, unknown)", n)
	}
}

func TestRequestCollectors(t *testing.T) {
	m := metrics.New()
	m.HTTPRequest("/house/reserve", "POST", 201, 20*time.Millisecond)
	m.HTTPRequest("/house/reserve", "POST", 409, 10*time.Millisecond)
	m.HTTPRequest("/ws", "GET", 101, time.Hour) // an upgrade: counted, not timed
	m.GRPCRequest("/house.v1.House/ReserveHouse", "OK", time.Millisecond)
	m.GRPCRequest("/house.v1.House/ReserveHouse", "AlreadyExists", time.Millisecond)
	for _, tt := range []struct{ series, want string }{
		{`gateway_http_requests_total{code="201",method="POST",route="/house/reserve"}`, "1"},
		{`gateway_http_requests_total{code="409",method="POST",route="/house/reserve"}`, "1"},
		{`gateway_http_requests_total{code="101",method="GET",route="/ws"}`, "1"},
		{`gateway_http_request_duration_seconds_count{method="POST",route="/house/reserve"}`, "2"},
		{`gateway_grpc_requests_total{code="OK",method="/house.v1.House/ReserveHouse"}`, "1"},
		{`gateway_grpc_requests_total{code="AlreadyExists",method="/house.v1.House/ReserveHouse"}`, "1"},
		{`gateway_grpc_request_duration_seconds_count{method="/house.v1.House/ReserveHouse"}`, "2"},
	} {
		if got := value(t, m, tt.series); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.series, got, tt.want)
		}
	}
	if n := testutil.CollectAndCount(m.Registry(), "gateway_http_request_duration_seconds"); n != 1 {
		t.Errorf("http duration series: %d, want 1 (the upgrade is not timed)", n)
	}
}

func TestReservationAndReminderCollectors(t *testing.T) {
	m := metrics.New()
	m.ReservationTransition("created")
	m.ReservationTransition("confirmed")
	m.ReservationTransition("created")
	m.ReminderScheduled()
	m.ReminderScheduled()
	m.ReminderFired()
	m.ReminderSkipped()
	for _, tt := range []struct{ series, want string }{
		{`gateway_reservation_transitions_total{to="created"}`, "2"},
		{`gateway_reservation_transitions_total{to="confirmed"}`, "1"},
		{`gateway_reservation_transitions_total{to="cancelled"}`, "0"},
		{"gateway_reminders_scheduled_total", "2"},
		{"gateway_reminders_fired_total", "1"},
		{"gateway_reminders_skipped_total", "1"},
	} {
		if got := value(t, m, tt.series); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.series, got, tt.want)
		}
	}
}

func TestWebhookCollectors(t *testing.T) {
	m := metrics.New()
	m.WebhookTask(webhook.TaskScheduled)
	m.WebhookTask(webhook.TaskDuplicate)
	m.WebhookTask(webhook.TaskScheduled)
	m.WebhookRun(webhook.RunRetry)
	m.WebhookRun(webhook.RunDelivered)
	m.WebhookPost(30 * time.Millisecond)
	m.WebhookPost(2 * time.Second)
	for _, tt := range []struct{ series, want string }{
		{`gateway_webhook_tasks_total{result="scheduled"}`, "2"},
		{`gateway_webhook_tasks_total{result="duplicate"}`, "1"},
		{`gateway_webhook_tasks_total{result="failed"}`, "0"},
		{`gateway_webhook_posts_total{result="delivered"}`, "1"},
		{`gateway_webhook_posts_total{result="retry"}`, "1"},
		{`gateway_webhook_posts_total{result="skipped"}`, "0"},
		{`gateway_webhook_posts_total{result="archived"}`, "0"},
		{"gateway_webhook_post_duration_seconds_count", "2"},
		{`gateway_webhook_post_duration_seconds_bucket{le="0.05"}`, "1"},
	} {
		if got := value(t, m, tt.series); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.series, got, tt.want)
		}
	}
}

// subscriber is a metrics.Subscriber whose state the test sets.
type subscriber struct {
	resubs  atomic.Int64
	healthy atomic.Bool
}

func (s *subscriber) Resubscriptions() int64 { return s.resubs.Load() }
func (s *subscriber) Healthy() error {
	if s.healthy.Load() {
		return nil
	}
	return errors.New("stale")
}

func TestWatchSubscriberReadsAtScrape(t *testing.T) {
	m := metrics.New()
	s := &subscriber{}
	m.WatchSubscriber(s)
	if got := value(t, m, "gateway_pubsub_healthy"); got != "0" {
		t.Errorf("healthy = %s, want 0", got)
	}
	s.healthy.Store(true)
	s.resubs.Store(2)
	if got := value(t, m, "gateway_pubsub_healthy"); got != "1" {
		t.Errorf("healthy = %s, want 1", got)
	}
	if got := value(t, m, "gateway_pubsub_resubscriptions_total"); got != "2" {
		t.Errorf("resubscriptions = %s, want 2", got)
	}
}

// TestRuntimeCollectorsAndPrivateRegistries: each Metrics has its own
// registry (so many can exist in one process) with the Go and process
// collectors, and the handler answers in the text format.
func TestRuntimeCollectorsAndPrivateRegistries(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.MessageDelivered()
	if got := value(t, b, "gateway_messages_delivered_total"); got != "0" {
		t.Errorf("a second Metrics shares the first's counter: %s", got)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_open_fds"} {
		if n := testutil.CollectAndCount(a.Registry(), name); n != 1 {
			t.Errorf("%s: %d series, want 1", name, n)
		}
	}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("GET /metrics: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}
