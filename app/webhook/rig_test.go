package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/push"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/reservation"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/pkg/testenv"
)

var (
	_ reservation.Publisher = (*webhook.Publisher)(nil)
	_ push.Publisher        = (*webhook.Publisher)(nil)
	_ webhook.Inner         = (*redis.Publisher)(nil)
	_ webhook.Deliveries    = (*redis.Deliveries)(nil)
	_ webhook.Enqueuer      = (*asynq.Client)(nil)
)

const queue = "webhooks"

// request is what the receiver got.
type request struct {
	Header http.Header
	Body   []byte
}

// receiver is the webhook: a real HTTP server whose answers the test sets.
type receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	answers  []int // statuses of the next requests; 200 once used up
	header   http.Header
	requests []request
	change   chan struct{}
}

func newReceiver(tb testing.TB, answers ...int) *receiver {
	r := &receiver{answers: answers, header: http.Header{}, change: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.requests = append(r.requests, request{Header: req.Header.Clone(), Body: body})
	status := http.StatusOK
	if len(r.answers) > 0 {
		status, r.answers = r.answers[0], r.answers[1:]
	}
	for k, v := range r.header {
		w.Header()[k] = v
	}
	r.mu.Unlock()
	select {
	case r.change <- struct{}{}:
	default:
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte("answered by the test"))
}

// got returns the requests so far.
func (r *receiver) got() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.requests...)
}

// wait waits until the receiver has n requests.
func (r *receiver) wait(tb testing.TB, n int) []request {
	tb.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		if got := r.got(); len(got) >= n {
			return got
		}
		select {
		case <-r.change:
		case <-deadline.C:
			tb.Fatalf("the receiver got %d requests within 30s, want %d", len(r.got()), n)
		}
	}
}

// counts is a webhook.Metrics that keeps its counts.
type counts struct {
	mu    sync.Mutex
	tasks map[string]int
	runs  map[string]int
	posts int
}

func newCounts() *counts { return &counts{tasks: map[string]int{}, runs: map[string]int{}} }

func (c *counts) WebhookTask(result string) { c.mu.Lock(); c.tasks[result]++; c.mu.Unlock() }
func (c *counts) WebhookRun(result string)  { c.mu.Lock(); c.runs[result]++; c.mu.Unlock() }
func (c *counts) WebhookPost(time.Duration) { c.mu.Lock(); c.posts++; c.mu.Unlock() }

func (c *counts) snapshot() (tasks, runs map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tasks, runs = map[string]int{}, map[string]int{}
	for k, v := range c.tasks {
		tasks[k] = v
	}
	for k, v := range c.runs {
		runs[k] = v
	}
	return tasks, runs
}

// rig is the delivery core and the webhook of one deployment on a private
// Redis database: publisher, cursors, scheduler, and an asynq worker
// running the handler against a receiver.
type rig struct {
	rdb       *goredis.Client
	keys      redis.Keys
	pub       *redis.Publisher
	streams   *redis.Streams // a node's cursors; never flushed on their own
	sched     *webhook.Scheduler
	insp      *asynq.Inspector
	metrics   *counts
	recv      *receiver
	publisher *webhook.Publisher // FailPublish over pub and sched
}

// rigOptions tune a rig; zero values take the test defaults.
type rigOptions struct {
	schedule webhook.SchedulerOptions // Queue, Grace (1 s), Retention, Metrics are set
	url      string                   // default: the receiver's
	answers  []int                    // the receiver's first statuses
	format   string                   // webhook.FormatStandard ("") or FormatGateway
}

func newRig(tb testing.TB, o rigOptions) *rig {
	tb.Helper()
	db, rdb := testenv.MustRedisDB(tb)
	keys := redis.NewKeys(testenv.RandomName("wh"), db)
	r := &rig{rdb: rdb, keys: keys, metrics: newCounts(), recv: newReceiver(tb, o.answers...),
		pub:     redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{HistoryTTL: time.Hour}),
		streams: redis.NewStreams(redis.New(rdb, keys), redis.StreamsOptions{FlushInterval: time.Hour, HistoryTTL: time.Hour}),
		insp:    asynq.NewInspectorFromRedisClient(rdb)}
	so := o.schedule
	so.Queue, so.Metrics = queue, r.metrics
	if so.Grace == 0 {
		so.Grace = time.Second
	}
	client := asynq.NewClientFromRedisClient(rdb)
	r.sched = webhook.NewScheduler(client, so)
	r.publisher = webhook.NewPublisher(r.pub, r.sched, webhook.FailPublish)

	url := o.url
	if url == "" {
		url = r.recv.srv.URL
	}
	h := webhook.NewHandler(redis.NewDeliveries(redis.New(rdb, keys), time.Second), webhook.HandlerOptions{
		URL: url, Secret: []byte(secret), Format: o.format, Timeout: 2 * time.Second, Metrics: r.metrics})
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Queues: map[string]int{queue: 1}, Concurrency: 4,
		DelayedTaskCheckInterval: 100 * time.Millisecond, TaskCheckInterval: 100 * time.Millisecond,
		RetryDelayFunc: webhook.RetryDelay(time.Second), ShutdownTimeout: time.Second,
		Logger: discardLogger{}, LogLevel: asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.Handle(webhook.TaskType, h)
	if err := srv.Start(mux); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Shutdown)
	return r
}

// notification returns a message of type typ to user.
func notification(tb testing.TB, typ app.MessageType, user int64, title string) app.Message {
	tb.Helper()
	n := app.Notification{ID: app.NewMessageID(), Type: typ, UserID: user, ReservationID: 42,
		Title: title, Content: "房东已确认您的看房预约 <3 & more", Timestamp: 1700000000}
	m, err := n.Message()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// publish publishes m through the rig's FailPublish publisher.
func (r *rig) publish(tb testing.TB, m app.Message) app.Position {
	tb.Helper()
	pos, err := r.publisher.Publish(context.Background(), m)
	if err != nil {
		tb.Fatalf("publish %s: %v", m.ID, err)
	}
	return pos
}

// state waits until the webhook task of message id is in a final state
// (completed or archived) and returns it.
func (r *rig) state(tb testing.TB, id string) *asynq.TaskInfo {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := r.insp.GetTaskInfo(queue, webhook.TaskID(id))
		if err == nil && (info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived) {
			return info
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the webhook task of %s did not finish within 30s: %+v, %v", id, info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// noTask checks that message id has no webhook task.
func (r *rig) noTask(tb testing.TB, id string) {
	tb.Helper()
	if info, err := r.insp.GetTaskInfo(queue, webhook.TaskID(id)); err == nil {
		tb.Errorf("message %s has a webhook task: %+v", id, info)
	}
}

// discardLogger silences asynq.
type discardLogger struct{}

func (discardLogger) Debug(...any) {}
func (discardLogger) Info(...any)  {}
func (discardLogger) Warn(...any)  {}
func (discardLogger) Error(...any) {}
func (discardLogger) Fatal(...any) {}
