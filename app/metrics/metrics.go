// Package metrics holds the gateway's Prometheus collectors on a private
// registry, with the Go runtime and process collectors, and serves them.
// *Metrics implements the small metrics interfaces the other packages
// declare (ws.Metrics, redis.PublishMetrics, subscribe.Metrics,
// coord.LimitMetrics, httpapi.Metrics, grpcapi.Metrics, reservation.Metrics,
// reminder.Metrics, webhook.Metrics and devicepush.Metrics) without them importing this package. They are the
// only counters: no package keeps its own.
package metrics

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/devicepush"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/app/redis/subscribe"
	"github.com/houseview/gateway/app/reservation"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/app/ws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one node's collectors. Create it with New.
type Metrics struct {
	reg *prometheus.Registry

	wsOpened     prometheus.Counter
	wsClosed     *prometheus.CounterVec
	wsCatchingUp prometheus.Gauge
	wsRefused    prometheus.Counter

	published *prometheus.CounterVec
	delivered prometheus.Counter
	replayed  prometheus.Counter
	dropped   *prometheus.CounterVec
	resets    prometheus.Counter
	latency   prometheus.Histogram

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	grpcRequests *prometheus.CounterVec
	grpcDuration *prometheus.HistogramVec

	transitions        *prometheus.CounterVec
	remindersScheduled prometheus.Counter
	remindersFired     prometheus.Counter
	remindersSkipped   prometheus.Counter

	webhookTasks *prometheus.CounterVec
	webhookRuns  *prometheus.CounterVec
	webhookPosts prometheus.Histogram

	pushTasks   *prometheus.CounterVec
	pushRuns    *prometheus.CounterVec
	pushDevices *prometheus.CounterVec
	pushSends   *prometheus.CounterVec

	sourceFailures *prometheus.CounterVec
	limited        *prometheus.CounterVec
}

// Label values known in advance: their series exist (at 0) from the start.
// They come from the packages that report them.
var (
	closeReasons = ws.CloseReasons
	dropReasons  = append(slices.Clone(ws.DropReasons), subscribe.DropMalformed)
	messageTypes = func() []string {
		var out []string
		for t := app.MsgReservationCreated; t <= app.MsgGenericPush; t++ {
			out = append(out, strconv.Itoa(int(t)))
		}
		return append(out, "unknown")
	}()
	transitionTo = []string{"created", string(app.StatusConfirmed), string(app.StatusRejected), string(app.StatusCancelled)}
	limits       = []string{ws.LimitHandshake, ws.LimitFrames, coord.LimitSessions, reservation.LimitReserve, reservation.LimitRemind}
)

// New returns the collectors registered on a fresh registry, together with
// the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.sessions()
	m.messages()
	m.transports()
	m.jobs()
	return m
}

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

// counterVec is a counter by label, each of values present from the start.
func counterVec(name, help, label string, values []string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label})
	for _, x := range values {
		v.WithLabelValues(x)
	}
	return v
}

// sessions makes the WebSocket sessions' and limits' collectors.
func (m *Metrics) sessions() {
	m.wsOpened = counter("gateway_ws_sessions_opened_total", "WebSocket sessions opened.")
	m.wsClosed = counterVec("gateway_ws_sessions_closed_total",
		"WebSocket sessions closed, by reason: client (close frame), error (connection broke), timeout "+
			"(no pong or a write too slow), too_big (1009), drain (1001), slow_consumer (4000), behind_history (4002), "+
			"redis_unavailable (1013), shutdown, token_expired (4001), revoked (4003), too_many_sessions (4008), "+
			"rate_limited (4029).", "reason", closeReasons)
	m.wsCatchingUp = prometheus.NewGauge(prometheus.GaugeOpts{Name: "gateway_ws_sessions_catching_up",
		Help: "WebSocket sessions reading from the stored stream now (connect, resume, a gap, a resubscription)."})
	m.wsRefused = counter("gateway_ws_frames_refused_total", "Client frames answered with an error frame.")
	m.limited = counterVec("gateway_limited_total",
		"Requests refused (or sessions closed) by a limit: handshake (per client address), frames (per session), "+
			"sessions (per user), reserve and remind (per user).", "limit", limits)
	m.reg.MustRegister(m.wsOpened, m.wsClosed, m.wsCatchingUp, m.wsRefused, m.limited)
}

// messages makes the collectors of publishing and delivering messages.
func (m *Metrics) messages() {
	m.published = counterVec("gateway_messages_published_total",
		"Messages stored and published to Redis by this node, by notification type (a republished id is not counted).",
		"type", messageTypes)
	m.delivered = counter("gateway_messages_delivered_total", "Messages written to a WebSocket.")
	m.replayed = counter("gateway_messages_replayed_total", "Messages copied from the stored history into a session (resume, catch-up).")
	m.dropped = counterVec("gateway_messages_dropped_total",
		"Messages not written to a session: duplicate (the session had it already), closed (the session was closing), "+
			"unsent (in the send buffer when the session closed; the client resumes), malformed (published without the publisher's envelope).",
		"reason", dropReasons)
	m.resets = counter("gateway_ws_stream_resets_total",
		"Sessions told that their user's stream has a new epoch because Redis lost the old one (reset frame, or connected with reset).")
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gateway_publish_to_deliver_seconds",
		Help:    "Time from a message's publish (Redis's clock) to its socket write, for messages published while the session was open.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}})
	m.reg.MustRegister(m.published, m.delivered, m.replayed, m.dropped, m.resets, m.latency)
}

// transports makes the HTTP and gRPC request collectors.
func (m *Metrics) transports() {
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gateway_http_requests_total",
		Help: "HTTP requests by route pattern (unmatched: no route), method and status code."}, []string{"route", "method", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gateway_http_request_duration_seconds",
		Help: "HTTP request latency (WebSocket upgrades excluded).", Buckets: prometheus.DefBuckets}, []string{"route", "method"})
	m.grpcRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gateway_grpc_requests_total",
		Help: "Unary gRPC calls by full method name and status code."}, []string{"method", "code"})
	m.grpcDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gateway_grpc_request_duration_seconds",
		Help: "Unary gRPC call latency.", Buckets: prometheus.DefBuckets}, []string{"method"})
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.grpcRequests, m.grpcDuration)
}

// jobs makes the collectors of reservations, reminders, webhooks and the
// scrape-time sources.
func (m *Metrics) jobs() {
	m.transitions = counterVec("gateway_reservation_transitions_total",
		"Reservation changes committed: created, confirmed, rejected, cancelled.", "to", transitionTo)
	m.remindersScheduled = counter("gateway_reminders_scheduled_total", "Reminder tasks enqueued.")
	m.remindersFired = counter("gateway_reminders_fired_total", "Reminders sent.")
	m.remindersSkipped = counter("gateway_reminders_skipped_total", "Reminders skipped: the viewing was cancelled or rejected.")
	m.webhookTasks = counterVec("gateway_webhook_tasks_total",
		"Offline webhook tasks of published messages whose type opts in: scheduled (enqueued), duplicate (the message "+
			"id has its task already: a republish, another node), failed (the enqueue failed).", "result", webhook.TaskResults)
	m.webhookRuns = counterVec("gateway_webhook_posts_total",
		"Offline webhook task runs: delivered (the receiver answered 2xx), skipped (a live session received the message), "+
			"retry (failed; retried after a backoff), archived (a refusal, a bad payload or the last retry: in the asynq UI).",
		"result", webhook.RunResults)
	m.webhookPosts = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gateway_webhook_post_duration_seconds",
		Help:    "Time of one offline webhook POST, from connecting to the answer (failures included).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}})
	m.sourceFailures = counterVec("gateway_metrics_source_failures_total",
		"Scrape-time reads of a source that failed or ran out of time (their metrics are missing from that scrape): "+
			"asynq (the reminder queues in Redis), outbox (MySQL).", "source", []string{"asynq", "outbox"})
	m.reg.MustRegister(m.transitions, m.remindersScheduled, m.remindersFired, m.remindersSkipped,
		m.webhookTasks, m.webhookRuns, m.webhookPosts, m.sourceFailures)
	m.devicePush()
}

// devicePush makes the collectors of the mobile push to users' devices.
func (m *Metrics) devicePush() {
	m.pushTasks = counterVec("gateway_push_tasks_total",
		"Device push grace tasks of published messages whose type opts in (push.types): scheduled (enqueued), duplicate "+
			"(the message id has its task already: a republish, another node), failed (the enqueue failed).", "result", webhook.TaskResults)
	m.pushRuns = counterVec("gateway_push_runs_total",
		"Device push grace task runs: fanned_out (a task per device enqueued), skipped (a live session received the message), "+
			"retry (Redis or MySQL failed; retried), archived (a bad payload or the last retry).", "result", devicepush.RunResults)
	m.pushDevices = counterVec("gateway_push_devices_total",
		"Devices of the grace task runs that fanned out: enqueued (a device task), duplicate (it had one), no_provider (no "+
			"provider configured for its platform: nothing sent), failed (the enqueue failed); and stale: device tasks that "+
			"found their device removed or its token moved to another user or changed.", "result", devicepush.DeviceResults)
	m.pushSends = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gateway_push_sends_total",
		Help: "Sends to a push provider (fcm, apns, jpush) by outcome: sent (accepted), retry (a transient failure: " +
			"retried after a backoff), permanent (refused for good: archived), dead_token (the device was removed)."},
		[]string{"provider", "result"})
	for _, p := range devicepush.ProviderNames {
		for _, r := range devicepush.SendResults {
			m.pushSends.WithLabelValues(p, r)
		}
	}
	m.reg.MustRegister(m.pushTasks, m.pushRuns, m.pushDevices, m.pushSends)
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Subscriber is what WatchSubscriber reads (subscribe.Subscriber).
type Subscriber interface {
	Resubscriptions() int64
	Healthy() error
}

// WatchSubscriber exports the node's pub/sub subscription:
// gateway_pubsub_resubscriptions_total and gateway_pubsub_healthy (1/0),
// read at each scrape. Call it once.
func (m *Metrics) WatchSubscriber(s Subscriber) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gateway_pubsub_resubscriptions_total",
			Help: "Times the node's Redis pub/sub connection was restored."},
			func() float64 { return float64(s.Resubscriptions()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gateway_pubsub_healthy",
			Help: "1 when the node's pub/sub subscription delivered its own probe recently, else 0."},
			func() float64 {
				if s.Healthy() != nil {
					return 0
				}
				return 1
			}),
	)
}

// WatchSessions exports gateway_ws_connections, read from count (the hub's
// registry) at each scrape. Call it once.
func (m *Metrics) WatchSessions(count func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gateway_ws_connections",
		Help: "WebSocket sessions open on this node."}, func() float64 { return float64(count()) }))
}

// SessionOpened implements ws.Metrics.
func (m *Metrics) SessionOpened() { m.wsOpened.Inc() }

// SessionClosed implements ws.Metrics.
func (m *Metrics) SessionClosed(reason string) { m.wsClosed.WithLabelValues(reason).Inc() }

// CatchUpStarted implements ws.Metrics.
func (m *Metrics) CatchUpStarted() { m.wsCatchingUp.Inc() }

// CatchUpEnded implements ws.Metrics.
func (m *Metrics) CatchUpEnded() { m.wsCatchingUp.Dec() }

// FrameRefused implements ws.Metrics.
func (m *Metrics) FrameRefused() { m.wsRefused.Inc() }

// MessageDelivered implements ws.Metrics.
func (m *Metrics) MessageDelivered() { m.delivered.Inc() }

// DeliveryLatency implements ws.Metrics.
func (m *Metrics) DeliveryLatency(d time.Duration) { m.latency.Observe(d.Seconds()) }

// MessageReplayed implements ws.Metrics.
func (m *Metrics) MessageReplayed() { m.replayed.Inc() }

// MessageDropped implements ws.Metrics.
func (m *Metrics) MessageDropped(reason string) { m.dropped.WithLabelValues(reason).Inc() }

// StreamReset implements ws.Metrics.
func (m *Metrics) StreamReset() { m.resets.Inc() }

// MessagePublished implements redis.PublishMetrics.
func (m *Metrics) MessagePublished(msgType string) { m.published.WithLabelValues(msgType).Inc() }

// HTTPRequest implements httpapi.Metrics.
func (m *Metrics) HTTPRequest(route, method string, status int, d time.Duration) {
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	if status != http.StatusSwitchingProtocols {
		m.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
	}
}

// GRPCRequest implements grpcapi.Metrics.
func (m *Metrics) GRPCRequest(method, code string, d time.Duration) {
	m.grpcRequests.WithLabelValues(method, code).Inc()
	m.grpcDuration.WithLabelValues(method).Observe(d.Seconds())
}

// ReservationTransition implements reservation.Metrics.
func (m *Metrics) ReservationTransition(to string) { m.transitions.WithLabelValues(to).Inc() }

// ReminderScheduled implements reminder.Metrics.
func (m *Metrics) ReminderScheduled() { m.remindersScheduled.Inc() }

// ReminderFired implements reminder.Metrics.
func (m *Metrics) ReminderFired() { m.remindersFired.Inc() }

// ReminderSkipped implements reminder.Metrics.
func (m *Metrics) ReminderSkipped() { m.remindersSkipped.Inc() }

// Limited implements ws.Metrics and coord.LimitMetrics.
func (m *Metrics) Limited(limit string) { m.limited.WithLabelValues(limit).Inc() }

// WebhookTask implements webhook.Metrics.
func (m *Metrics) WebhookTask(result string) { m.webhookTasks.WithLabelValues(result).Inc() }

// WebhookRun implements webhook.Metrics.
func (m *Metrics) WebhookRun(result string) { m.webhookRuns.WithLabelValues(result).Inc() }

// WebhookPost implements webhook.Metrics.
func (m *Metrics) WebhookPost(d time.Duration) { m.webhookPosts.Observe(d.Seconds()) }

// PushTask implements devicepush.Metrics.
func (m *Metrics) PushTask(result string) { m.pushTasks.WithLabelValues(result).Inc() }

// PushRun implements devicepush.Metrics.
func (m *Metrics) PushRun(result string) { m.pushRuns.WithLabelValues(result).Inc() }

// PushDevice implements devicepush.Metrics.
func (m *Metrics) PushDevice(result string) { m.pushDevices.WithLabelValues(result).Inc() }

// PushSend implements devicepush.Metrics.
func (m *Metrics) PushSend(provider, result string) {
	m.pushSends.WithLabelValues(provider, result).Inc()
}
