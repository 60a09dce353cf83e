package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/push"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/pkg/testenv"
)

// env is a push service on a real publisher and a private Redis database.
type env struct {
	svc  *push.Service
	rdb  *goredis.Client
	keys redis.Keys
}

// at is the clock of the test services.
var at = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// newEnv returns a push service allowing maxBatch user ids.
func newEnv(tb testing.TB, maxBatch int) *env {
	tb.Helper()
	db, rdb := testenv.MustRedisDB(tb)
	keys := redis.NewKeys(testenv.RandomName("push-"), db)
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{})
	svc := push.New(pub, push.Options{MaxBatch: maxBatch, Now: func() time.Time { return at }})
	return &env{svc: svc, rdb: rdb, keys: keys}
}

// stored returns the messages stored for user, oldest first.
func (e *env) stored(tb testing.TB, user int64) []app.Notification {
	tb.Helper()
	raw, err := e.rdb.LRange(context.Background(), e.keys.Messages(user), 0, -1).Result()
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]app.Notification, len(raw))
	for i, s := range raw {
		if err := json.Unmarshal([]byte(s), &out[i]); err != nil {
			tb.Fatalf("stored %q: %v", s, err)
		}
	}
	return out
}

func TestPushStoresOneMessagePerUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	first, err := e.svc.Push(ctx, push.Request{UserIDs: []int64{7}, Title: "warm-up", Content: "c"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Push(ctx, push.Request{
		UserIDs: []int64{9, 7, 9, 8}, Title: "系统通知", Content: "明天停水",
		Detail: json.RawMessage(` {"area": "朝阳", "n": 2} `),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []push.Result{{UserID: 9, Seq: 1}, {UserID: 7, Seq: 2}, {UserID: 8, Seq: 1}}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b push.Result) bool {
		return a.UserID == b.UserID && a.Seq == b.Seq
	})); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	for _, r := range got {
		msgs := e.stored(t, r.UserID)
		last := msgs[len(msgs)-1]
		wantMsg := app.Notification{ID: r.ID, Seq: r.Seq, Epoch: r.Epoch, Type: app.MsgGenericPush, UserID: r.UserID,
			Title: "系统通知", Content: "明天停水", Timestamp: at.Unix(),
			Detail: map[string]any{"area": "朝阳", "n": float64(2)}}
		if diff := cmp.Diff(wantMsg, last); diff != "" {
			t.Errorf("user %d message (-want +got):\n%s", r.UserID, diff)
		}
		if len(r.ID) != 32 || r.ID == first[0].ID || r.Epoch == "" {
			t.Errorf("user %d id %q", r.UserID, r.ID)
		}
	}
	if n := len(e.stored(t, 9)); n != 1 {
		t.Errorf("duplicate id 9 stored %d messages", n)
	}
}

func TestPushWithoutDetailOmitsIt(t *testing.T) {
	e := newEnv(t, 0)
	for _, detail := range []string{"", "null", " null "} {
		if _, err := e.svc.Push(context.Background(), push.Request{UserIDs: []int64{1}, Title: "t", Detail: json.RawMessage(detail)}); err != nil {
			t.Fatalf("detail %q: %v", detail, err)
		}
	}
	raw, _ := e.rdb.LRange(context.Background(), e.keys.Messages(1), 0, -1).Result()
	for _, s := range raw {
		if strings.Contains(s, `"detail"`) {
			t.Errorf("stored %s", s)
		}
	}
}

func TestPushRefusesInvalidRequests(t *testing.T) {
	e := newEnv(t, 3)
	ok := push.Request{UserIDs: []int64{1}, Title: "t", Content: "c"}
	with := func(f func(r *push.Request)) push.Request {
		r := ok
		f(&r)
		return r
	}
	tests := []struct {
		name string
		req  push.Request
		msg  string
	}{
		{"no user ids", with(func(r *push.Request) { r.UserIDs = nil }), "user_ids is required"},
		{"over the batch limit", with(func(r *push.Request) { r.UserIDs = []int64{1, 2, 3, 4} }), "user_ids has 4 entries, at most 3"},
		{"zero id", with(func(r *push.Request) { r.UserIDs = []int64{1, 0} }), "user_ids must be positive integers, got 0"},
		{"negative id", with(func(r *push.Request) { r.UserIDs = []int64{-5} }), "user_ids must be positive integers, got -5"},
		{"missing title", with(func(r *push.Request) { r.Title = "" }), "title is required"},
		{"blank title", with(func(r *push.Request) { r.Title = " \t" }), "title is required"},
		{"long title", with(func(r *push.Request) { r.Title = strings.Repeat("题", 129) }), "title is longer than 128 characters"},
		{"long content", with(func(r *push.Request) { r.Content = strings.Repeat("x", 4097) }), "content is longer than 4096 characters"},
		{"invalid utf-8", with(func(r *push.Request) { r.Content = "\xff" }), "content is not valid UTF-8 (byte 0)"},
		{"invalid utf-8 title", with(func(r *push.Request) { r.Title = "题\xe9" }), "title is not valid UTF-8 (byte 3)"},
		{"newline in title", with(func(r *push.Request) { r.Title = "a\nb" }), "title must not contain line breaks or tabs (U+000A at character 2)"},
		{"bidi override in content", with(func(r *push.Request) { r.Content = "pay \u202e0001" }), "content must not contain bidi control characters (U+202E at character 5)"},
		{"zero-width in title", with(func(r *push.Request) { r.Title = "\u200b" }), "title must not contain zero-width characters (U+200B at character 1)"},
		{"detail array", with(func(r *push.Request) { r.Detail = json.RawMessage(`[1]`) }), "detail must be a JSON object"},
		{"detail string", with(func(r *push.Request) { r.Detail = json.RawMessage(`"x"`) }), "detail must be a JSON object"},
		{"detail broken", with(func(r *push.Request) { r.Detail = json.RawMessage(`{"a":`) }), "detail must be a JSON object"},
		{"detail too large", with(func(r *push.Request) {
			r.Detail = json.RawMessage(`{"a":"` + strings.Repeat("x", push.MaxMessageBytes) + `"}`)
		}), "detail is larger than 65536 bytes"},
		{"message too large", with(func(r *push.Request) {
			r.Content = strings.Repeat("<", 4096) // escaped as \u003c: 6 bytes each
			r.Detail = json.RawMessage(`{"a":"` + strings.Repeat("x", 50<<10) + `"}`)
		}), "message is 75904 bytes encoded, at most 65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Push(context.Background(), tt.req)
			if code := app.ErrorCode(err); code != app.EInvalidArgument {
				t.Fatalf("code %q (%v), want %q", code, err, app.EInvalidArgument)
			}
			if tt.msg != "" {
				if diff := cmp.Diff(tt.msg, app.ErrorMessage(err)); diff != "" {
					t.Errorf("message (-want +got):\n%s", diff)
				}
			}
		})
	}
	for _, user := range []int64{1, 2, 3, 4} {
		if n := len(e.stored(t, user)); n != 0 {
			t.Errorf("refused requests stored %d messages for user %d", n, user)
		}
	}
}

func TestPushReportsRedisFailure(t *testing.T) {
	// A real client on a port nothing listens on.
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	svc := push.New(redis.NewPublisher(redis.New(rdb, redis.NewKeys("push-down", 1)), redis.PublisherOptions{}), push.Options{})
	_, err := svc.Push(context.Background(), push.Request{UserIDs: []int64{1, 2}, Title: "t"})
	if app.ErrorCode(err) != app.EUnavailable || app.ErrorMessage(err) != "push not stored; retry" {
		t.Errorf("err = %v, want unavailable: push not stored; retry", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := svc.Push(ctx, push.Request{UserIDs: []int64{1}, Title: "t"}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled push: err = %v, want context.Canceled", err)
	}
}

// TestIdempotencyKeyMakesRetriesSafe: the same key twice delivers once and
// answers the same results; another key is a new push.
func TestIdempotencyKeyMakesRetriesSafe(t *testing.T) {
	env := apptest.MustEnv(t)
	svc := push.New(env.Publisher, push.Options{})
	ctx := context.Background()
	req := push.Request{UserIDs: []int64{1001, 1002}, Title: "t", Content: "c", IdempotencyKey: "order-42:shipped"}
	first, err := svc.Push(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.Push(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("retry results (-first +retry):\n%s", diff)
	}
	if n := len(env.Messages(t, 1001)); n != 1 {
		t.Errorf("user 1001 has %d messages after a retried push, want 1", n)
	}
	req.IdempotencyKey = "order-42:delivered"
	other, err := svc.Push(ctx, req)
	if err != nil || other[0].Seq != 2 {
		t.Errorf("a new key: %+v %v", other, err)
	}
	for _, bad := range []string{"has space", "semi;colon", strings.Repeat("k", 129)} {
		req.IdempotencyKey = bad
		if _, err := svc.Push(ctx, req); app.ErrorCode(err) != app.EInvalidArgument {
			t.Errorf("key %q: %v", bad, err)
		}
	}
}

// TestWebhookFlagSchedulesThePost: a push that asks for the offline
// webhook gets a webhook task per user; one that does not, none.
func TestWebhookFlagSchedulesThePost(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	pub := redis.NewPublisher(redis.New(e.rdb, e.keys), redis.PublisherOptions{})
	sched := webhook.NewScheduler(asynq.NewClientFromRedisClient(e.rdb), webhook.SchedulerOptions{Grace: time.Hour})
	svc := push.New(webhook.NewPublisher(pub, sched, webhook.KeepPublish), push.Options{})
	asked, err := svc.Push(ctx, push.Request{UserIDs: []int64{7, 8}, Title: "t", Content: "c", Webhook: true})
	if err != nil {
		t.Fatal(err)
	}
	unasked, err := svc.Push(ctx, push.Request{UserIDs: []int64{7}, Title: "t", Content: "c"})
	if err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspectorFromRedisClient(e.rdb)
	got := map[string]bool{}
	for _, r := range append(asked, unasked...) {
		_, err := insp.GetTaskInfo(webhook.DefaultQueue, webhook.TaskID(r.ID))
		got[fmt.Sprintf("%d/%d", r.UserID, r.Seq)] = err == nil
	}
	if diff := cmp.Diff(map[string]bool{"7/1": true, "8/1": true, "7/2": false}, got); diff != "" {
		t.Errorf("webhook task by user/seq (-want +got):\n%s", diff)
	}
}
