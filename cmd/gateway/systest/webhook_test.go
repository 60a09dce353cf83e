package systest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"google.golang.org/grpc/metadata"

	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/pkg/client"
	"github.com/houseview/gateway/pkg/testenv"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

const webhookSecret = "whsec-test-0123456789abcdef0123456789"

// hook is the platform's webhook in a test: a real HTTP server that
// answers the statuses it is given, then 200.
type hook struct {
	srv *httptest.Server

	mu      sync.Mutex
	answers []int
	posts   []hookPost
	change  chan struct{}
}

// hookPost is one request the hook got, and what it answered.
type hookPost struct {
	Header http.Header
	Body   []byte
	Status int
}

func newHook(tb testing.TB, answers ...int) *hook {
	h := &hook{answers: answers, change: make(chan struct{}, 1)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		status := http.StatusNoContent
		if len(h.answers) > 0 {
			status, h.answers = h.answers[0], h.answers[1:]
		}
		h.posts = append(h.posts, hookPost{Header: r.Header.Clone(), Body: body, Status: status})
		h.mu.Unlock()
		select {
		case h.change <- struct{}{}:
		default:
		}
		w.WriteHeader(status)
	}))
	tb.Cleanup(h.srv.Close)
	return h
}

func (h *hook) got() []hookPost {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookPost(nil), h.posts...)
}

// wait waits for n posts.
func (h *hook) wait(tb testing.TB, n int) []hookPost {
	tb.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		if got := h.got(); len(got) >= n {
			return got
		}
		select {
		case <-h.change:
		case <-deadline.C:
			tb.Fatalf("the webhook got %d posts within 30s, want %d", len(h.got()), n)
		}
	}
}

// hookEnv is a cluster's environment with the webhook on: a grace of an
// hour unless a type has its own (tests run those tasks when they want), a
// first retry after a second.
func hookEnv(tb testing.TB, h *hook, types string, extra ...string) []string {
	return sharedEnv(tb, append([]string{"GATEWAY_WEBHOOK_URL=" + h.srv.URL + "/push", "GATEWAY_WEBHOOK_SECRET=" + webhookSecret,
		"GATEWAY_WEBHOOK_GRACE=1h", "GATEWAY_WEBHOOK_TYPES=" + types, "GATEWAY_WEBHOOK_BACKOFF=1s"}, extra...)...)
}

// tasks reads the webhook tasks of a cluster's Redis.
type tasks struct{ insp *asynq.Inspector }

func webhookTasks(tb testing.TB, env []string) tasks {
	return tasks{insp: asynq.NewInspectorFromRedisClient(redisFor(tb, env))}
}

// run runs message id's webhook task now.
func (ts tasks) run(tb testing.TB, id string) {
	tb.Helper()
	if err := ts.insp.RunTask(webhook.DefaultQueue, webhook.TaskID(id)); err != nil {
		tb.Fatalf("run the webhook task of %s: %v", id, err)
	}
}

// done waits until message id's webhook task finished (completed or
// archived) and returns it.
func (ts tasks) done(tb testing.TB, id string) *asynq.TaskInfo {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := ts.insp.GetTaskInfo(webhook.DefaultQueue, webhook.TaskID(id))
		if err == nil && (info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived) {
			return info
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the webhook task of %s did not finish within 30s: %+v, %v", id, info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// has reports whether message id has a webhook task.
func (ts tasks) has(id string) bool {
	_, err := ts.insp.GetTaskInfo(webhook.DefaultQueue, webhook.TaskID(id))
	return err == nil
}

// pushREST pushes to users through POST /api/push and returns the results.
func pushREST(tb testing.TB, base, body string) []map[string]any {
	tb.Helper()
	code, out := call(tb, "POST", base+"/api/push", apiKey, body)
	if code != 200 {
		tb.Fatalf("push %s: %d %v", body, code, out)
	}
	var results []map[string]any
	for _, r := range out["results"].([]any) {
		results = append(results, r.(map[string]any))
	}
	return results
}

// pushGRPC pushes through gRPC Push.
func pushGRPC(tb testing.TB, addr string, req *housev1.PushRequest) []*housev1.PushResult {
	tb.Helper()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+apiKey)
	reply, err := housev1.NewHouseClient(dial(tb, addr)).Push(ctx, req)
	if err != nil {
		tb.Fatalf("grpc push: %v", err)
	}
	return reply.GetResults()
}

// checkPost checks that p is the signed post of a notification of type
// typ to user, keyed by its id, and returns the id.
func checkPost(tb testing.TB, p hookPost, typ int, user int64) string {
	tb.Helper()
	var n struct {
		ID     string `json:"id"`
		Type   int    `json:"type"`
		UserID int64  `json:"user_id"`
		Seq    int64  `json:"seq"`
	}
	if err := json.Unmarshal(p.Body, &n); err != nil {
		tb.Fatalf("post body %q: %v", p.Body, err)
	}
	if n.Type != typ || n.UserID != user || n.ID == "" || n.Seq != 0 {
		tb.Errorf("posted %s, want a notification of type %d to %d without seq", p.Body, typ, user)
	}
	verifier, _ := standardwebhooks.NewWebhookRaw([]byte(webhookSecret)) // Standard Webhooks, the default format
	if err := verifier.Verify(p.Body, p.Header); err != nil || p.Header.Get(webhook.HeaderWebhookID) != n.ID {
		tb.Errorf("signature of %s: %v (webhook-id %q)", p.Body, err, p.Header.Get(webhook.HeaderWebhookID))
	}
	if k := p.Header.Get(webhook.HeaderIdempotencyKey); k != n.ID {
		tb.Errorf("Idempotency-Key %q, want the message id %q", k, n.ID)
	}
	return n.ID
}

// TestWebhookOfflineUser: a confirmation to a tenant with no session is
// posted once after its type's grace, signed, keyed by its id; the
// booking notice (grace of an hour) waits; a push that did not ask is
// never scheduled, one that asked (gRPC) is; the node's metrics count it
// all, with the webhooks queue among asynq's.
func TestWebhookOfflineUser(t *testing.T) {
	h := newHook(t)
	env := hookEnv(t, h, "created,confirmed:1s,push")
	n := MustStart(t, withNode(env, "a"))
	ts := webhookTasks(t, env)

	body := fmt.Sprintf(`{"user_id":1001,"user_name":"张三","house_id":3001,"reserve_time":%q}`, future(48*time.Hour))
	code, out := call(t, "POST", n.HTTPURL+"/house/reserve", "", body)
	if code != 201 {
		t.Fatalf("reserve: %d %v", code, out)
	}
	id := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
	confirmed := time.Now()
	if code, out := call(t, "POST", fmt.Sprintf("%s/api/reservations/%d/confirm", n.HTTPURL, id), "", `{"landlord_id":2001}`); code != 200 {
		t.Fatalf("confirm: %d %v", code, out)
	}
	post := h.wait(t, 1)[0]
	if late := time.Since(confirmed); late < time.Second {
		t.Errorf("posted %v after the confirm, before the grace of 1s", late)
	}
	msgID := checkPost(t, post, 2, 1001)
	if info := ts.done(t, msgID); info.State != asynq.TaskStateCompleted {
		t.Errorf("task state %v, want completed", info.State)
	}

	unasked := pushREST(t, n.HTTPURL, `{"user_ids":[1002],"title":"t","content":"no webhook"}`)
	asked := pushGRPC(t, n.GRPCAddr, &housev1.PushRequest{UserIds: []int64{1002}, Title: "t", Content: "webhook", Webhook: true})
	if ts.has(unasked[0]["id"].(string)) || !ts.has(asked[0].GetId()) {
		t.Errorf("webhook tasks: push without the flag %v, with it %v; want false, true", ts.has(unasked[0]["id"].(string)), ts.has(asked[0].GetId()))
	}
	if got := h.got(); len(got) != 1 {
		t.Errorf("%d posts, want 1", len(got))
	}
	code, out = call(t, "GET", n.HTTPURL+"/asynq/api/queues", "", "")
	if queues, _ := json.Marshal(out["queues"]); code != 200 || !strings.Contains(string(queues), `"queue":"webhooks"`) {
		t.Errorf("the asynq UI's queues: %d %s; want the webhooks queue", code, queues)
	}
	page := scrape(t, n.HTTPURL+"/metrics", "")
	for _, want := range []string{
		`gateway_webhook_tasks_total{result="scheduled"} 3`, // the booking, the confirmation, the push that asked
		`gateway_webhook_posts_total{result="delivered"} 1`,
		`gateway_webhook_post_duration_seconds_count 1`,
		`asynq_tasks_enqueued_total{queue="webhooks",state="scheduled"} 2`,
		`asynq_tasks_enqueued_total{queue="webhooks",state="completed"} 1`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestWebhookNotForReceivedMessages: nothing is posted for a push that a
// connected user received, nor for one sent while the user was away and
// received on reconnecting (resuming from its position) before the task
// ran; one to a user who stays away is.
func TestWebhookNotForReceivedMessages(t *testing.T) {
	h := newHook(t)
	env := hookEnv(t, h, "push")
	n := MustStart(t, withNode(env, "a"))
	ts := webhookTasks(t, env)
	push := func(users, content string) []map[string]any {
		return pushREST(t, n.HTTPURL, fmt.Sprintf(`{"user_ids":[%s],"title":"t","content":%q,"webhook":true}`, users, content))
	}

	// A session's node records a delivery in memory at once and writes it
	// to Redis within a second; the task asks the node for it. The test
	// waits until it is in Redis: the client may read a frame a moment
	// before its node records it as written.
	rdb := redisFor(t, env)
	keys := redis.NewKeys("gw", rdb.Options().DB)
	recorded := func(seq int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if c, _ := rdb.HGet(context.Background(), keys.Stream(1001), redis.StreamCursor).Int64(); c >= seq {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the delivery of seq %d was not recorded within 30s", seq)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	online := MustDialClient(t, client.Options{URLs: []string{n.HTTPURL}, UserID: 1001})
	got := collect(online)
	live := push("1001", "while online")
	got.count(t, 1)
	recorded(1)
	ts.run(t, live[0]["id"].(string))
	ts.done(t, live[0]["id"].(string))

	away := online.Position()
	online.Close()
	missed := push("1001,1002", "while away") // 1002 never connects
	back := collect(MustDialClient(t, client.Options{URLs: []string{n.HTTPURL}, UserID: 1001, LastSeq: away.Seq, Epoch: away.Epoch}))
	if notes := back.count(t, 1); notes[0].Content != "while away" {
		t.Fatalf("after the reconnect got %+v, want the message sent while away", notes)
	}
	recorded(2)
	for _, r := range missed {
		ts.run(t, r["id"].(string))
		ts.done(t, r["id"].(string))
	}

	posts := h.got()
	if len(posts) != 1 {
		t.Fatalf("%d posts, want 1 (to the user who stayed away)", len(posts))
	}
	checkPost(t, posts[0], 6, 1002)
	page := scrape(t, n.HTTPURL+"/metrics", "")
	for _, want := range []string{`gateway_webhook_posts_total{result="skipped"} 2`, `gateway_webhook_posts_total{result="delivered"} 1`} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestWebhookRetriesUntilTheReceiverIsUp: an API-only node schedules, a
// worker-only node posts. A receiver answering 503, then 500, gets the
// post again after the backoff until it takes it: three attempts of one
// message, one 2xx, each signed anew, counted as retries and one delivery.
func TestWebhookRetriesUntilTheReceiverIsUp(t *testing.T) {
	h := newHook(t, http.StatusServiceUnavailable, http.StatusInternalServerError)
	env := hookEnv(t, h, "push:1s")
	api := MustStart(t, append(withNode(env, "api"), "GATEWAY_WORKER_ENABLED=false"))
	worker := MustStart(t, append(withNode(env, "worker"), "GATEWAY_API_ENABLED=false"))
	ts := webhookTasks(t, env)
	res := pushREST(t, api.HTTPURL, `{"user_ids":[1001],"title":"t","content":"c","webhook":true}`)
	id := res[0]["id"].(string)
	if info := ts.done(t, id); info.State != asynq.TaskStateCompleted {
		t.Fatalf("task state %v (%s), want completed", info.State, info.LastErr)
	}
	posts := h.got()
	var attempts, statuses []string
	for _, p := range posts {
		checkPost(t, p, 6, 1001)
		attempts = append(attempts, p.Header.Get(webhook.HeaderAttempt))
		statuses = append(statuses, fmt.Sprint(p.Status))
	}
	if strings.Join(attempts, ",") != "1,2,3" || strings.Join(statuses, ",") != "503,500,204" {
		t.Errorf("attempts %v answered %v; want 1,2,3 answered 503,500,204", attempts, statuses)
	}
	for n, wants := range map[*testenv.Gateway][]string{
		api: {`gateway_webhook_tasks_total{result="scheduled"} 1`, `gateway_webhook_posts_total{result="retry"} 0`},
		worker: {`gateway_webhook_posts_total{result="retry"} 2`, `gateway_webhook_posts_total{result="delivered"} 1`,
			`gateway_webhook_posts_total{result="archived"} 0`, `gateway_webhook_tasks_total{result="scheduled"} 0`},
	} {
		page := scrape(t, n.HTTPURL+"/metrics", "")
		for _, want := range wants {
			if !strings.Contains(page, want) {
				t.Errorf("/metrics of %s lacks %s", n.HTTPURL, want)
			}
		}
	}
}

// TestWebhookOnceAcrossNodesAndResets: two nodes, both running workers,
// get the same push (one idempotency key) and a reservation's events; the
// user's stream is lost (a Redis reset: new epoch) and the push sent again
// before and after its post. One post per message.
func TestWebhookOnceAcrossNodesAndResets(t *testing.T) {
	h := newHook(t)
	env := hookEnv(t, h, "confirmed:1s,push")
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	ts := webhookTasks(t, env)
	rdb := redisFor(t, env)
	keys := redis.NewKeys("gw", rdb.Options().DB)
	req := &housev1.PushRequest{UserIds: []int64{1001}, Title: "t", Content: "once", IdempotencyKey: "order-42:shipped", Webhook: true}
	first := pushREST(t, a.HTTPURL, `{"user_ids":[1001],"title":"t","content":"once","idempotency_key":"order-42:shipped","webhook":true}`)[0]
	pushGRPC(t, b.GRPCAddr, req)
	reset := func() {
		t.Helper()
		if err := rdb.Del(context.Background(), keys.Stream(1001), keys.Messages(1001)).Err(); err != nil {
			t.Fatal(err)
		}
		again := pushGRPC(t, b.GRPCAddr, req)[0]
		if again.GetId() != first["id"] || again.GetEpoch() == first["epoch"] {
			t.Fatalf("after the reset: id %s epoch %s; want id %s in a new epoch", again.GetId(), again.GetEpoch(), first["id"])
		}
	}
	reset()
	id := first["id"].(string)
	ts.run(t, id)
	ts.done(t, id)
	reset()

	body := fmt.Sprintf(`{"user_id":1002,"user_name":"李四","house_id":3001,"reserve_time":%q}`, future(50*time.Hour))
	code, out := call(t, "POST", a.HTTPURL+"/house/reserve", "", body)
	if code != 201 {
		t.Fatalf("reserve: %d %v", code, out)
	}
	rid := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
	if code, out := call(t, "POST", fmt.Sprintf("%s/api/reservations/%d/confirm", b.HTTPURL, rid), "", `{"landlord_id":2001}`); code != 200 {
		t.Fatalf("confirm: %d %v", code, out)
	}
	posts := h.wait(t, 2)
	confirmID := checkPost(t, posts[1], 2, 1002)
	ts.done(t, confirmID)

	posts = h.got()
	if len(posts) != 2 {
		t.Fatalf("%d posts, want 2: the push once, the confirmation once", len(posts))
	}
	if checkPost(t, posts[0], 6, 1001) != id {
		t.Errorf("first post is not the push %s", id)
	}
	tasks := 0
	for _, n := range []*testenv.Gateway{a, b} {
		page := scrape(t, n.HTTPURL+"/metrics", "")
		for _, line := range strings.Split(page, "\n") {
			var c int
			if _, err := fmt.Sscanf(line, `gateway_webhook_tasks_total{result="scheduled"} %d`, &c); err == nil {
				tasks += c
			}
		}
	}
	if tasks != 2 {
		t.Errorf("the nodes scheduled %d tasks, want 2 (the push, the confirmation)", tasks)
	}
}
