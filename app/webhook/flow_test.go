package webhook_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/webhook"
)

// TestOfflineUserIsPostedOnceSigned: a confirmation to a user without a
// session is posted once, after the grace, with the notification as body,
// a valid signature and the message id as idempotency key. Types that are
// not listed, and pushes that did not ask, get no task.
func TestOfflineUserIsPostedOnceSigned(t *testing.T) {
	r := newRig(t, rigOptions{schedule: webhook.SchedulerOptions{Types: webhook.Types{
		app.MsgReservationConfirmed: 0, app.MsgGenericPush: 0}}})
	m := notification(t, app.MsgReservationConfirmed, 1001, "预约已确认")
	published := time.Now()
	r.publish(t, m)
	unlisted := notification(t, app.MsgReservationCreated, 1001, "新的看房预约")
	r.publish(t, unlisted)
	unasked := notification(t, app.MsgGenericPush, 1001, "a push that did not ask")
	r.publish(t, unasked)
	asked := notification(t, app.MsgGenericPush, 1002, "a push that asked")
	asked.Webhook = true
	r.publish(t, asked)

	r.recv.wait(t, 2)
	if late := time.Since(published); late < time.Second {
		t.Errorf("posted %v after the publish, before the grace of 1s", late)
	}
	if info := r.state(t, m.ID); info.State != asynq.TaskStateCompleted {
		t.Errorf("task state %v, want completed", info.State)
	}
	r.state(t, asked.ID)
	r.noTask(t, unlisted.ID)
	r.noTask(t, unasked.ID)
	got := r.recv.got()
	if len(got) != 2 {
		t.Fatalf("%d posts, want 2 (the confirmation and the push that asked)", len(got))
	}
	for _, req := range got {
		want := m
		if req.Header.Get(webhook.HeaderIdempotencyKey) == asked.ID {
			want = asked
		}
		if diff := cmp.Diff(string(want.Payload), string(req.Body)); diff != "" {
			t.Errorf("body is not the notification (-want +got):\n%s", diff)
		}
		heads := []string{req.Header.Get("Content-Type"), req.Header.Get(webhook.HeaderIdempotencyKey), req.Header.Get(webhook.HeaderAttempt)}
		if diff := cmp.Diff([]string{"application/json", want.ID, "1"}, heads); diff != "" {
			t.Errorf("Content-Type, Idempotency-Key, X-Gateway-Attempt (-want +got):\n%s", diff)
		}
		// Standard Webhooks, checked by the specification's own library.
		verifier, _ := standardwebhooks.NewWebhookRaw([]byte(secret))
		if err := verifier.Verify(req.Body, req.Header); err != nil || req.Header.Get(webhook.HeaderWebhookID) != want.ID {
			t.Errorf("signature: %v; webhook-id %q, want %q", err, req.Header.Get(webhook.HeaderWebhookID), want.ID)
		}
		if req.Header.Get(webhook.HeaderSignature) != "" {
			t.Errorf("the standard format also sent %s", webhook.HeaderSignature)
		}
	}
	tasks, runs := r.metrics.snapshot()
	if diff := cmp.Diff(map[string]int{webhook.TaskScheduled: 2}, tasks); diff != "" {
		t.Errorf("schedules (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{webhook.RunDelivered: 2}, runs); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
}

// TestGatewayFormat: with webhook.format gateway a post carries
// X-Gateway-Timestamp and X-Gateway-Signature (Verify), as receivers
// written against them expect, and no Standard Webhooks headers.
func TestGatewayFormat(t *testing.T) {
	r := newRig(t, rigOptions{format: webhook.FormatGateway})
	m := notification(t, app.MsgReservationConfirmed, 1001, "预约已确认")
	r.publish(t, m)
	req := r.recv.wait(t, 1)[0]
	if err := webhook.Verify([]byte(secret), req.Header.Get(webhook.HeaderTimestamp), req.Header.Get(webhook.HeaderSignature),
		req.Body, time.Now(), webhook.DefaultTolerance); err != nil {
		t.Errorf("signature: %v", err)
	}
	if req.Header.Get(webhook.HeaderWebhookSignature) != "" || req.Header.Get(webhook.HeaderIdempotencyKey) != m.ID {
		t.Errorf("headers %v: want no webhook-signature and the Idempotency-Key", req.Header)
	}
}

// TestDeliveredMessageIsNotPosted: a message whose delivery a session's
// cursor recorded before the task ran is skipped, in its epoch or (after
// Redis lost the stream) in the new one.
func TestDeliveredMessageIsNotPosted(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, rigOptions{})
	m := notification(t, app.MsgReservationConfirmed, 1001, "预约已确认")
	pos := r.publish(t, m)
	r.streams.Advance(1001, pos)
	if err := r.streams.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	lost := notification(t, app.MsgReservationReminder, 1002, "看房提醒")
	r.publish(t, lost)
	if err := r.rdb.Del(ctx, r.keys.Stream(1002)).Err(); err != nil { // Redis loses the stream
		t.Fatal(err)
	}
	again := r.publish(t, lost) // the outbox publishes it again: new epoch
	r.streams.Advance(1002, again)
	if err := r.streams.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{m.ID, lost.ID} {
		if info := r.state(t, id); info.State != asynq.TaskStateCompleted {
			t.Errorf("task of %s: state %v, want completed", id, info.State)
		}
	}
	if n := len(r.recv.got()); n != 0 {
		t.Errorf("%d posts for delivered messages", n)
	}
	_, runs := r.metrics.snapshot()
	if diff := cmp.Diff(map[string]int{webhook.RunSkipped: 2}, runs); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
}

// TestRetriesThenOneDelivery: a receiver that is down (5xx, 429, or not
// listening) gets the post again after a backoff, with the same
// idempotency key, until it takes it; then nothing more.
func TestRetriesThenOneDelivery(t *testing.T) {
	tests := []struct {
		name    string
		answers []int // the receiver's first statuses; nil: not listening at first
		want    []string
	}{
		{"503 then 200", []int{503}, []string{"1", "2"}},
		{"500, 429, then 200", []int{500, 429}, []string{"1", "2", "3"}},
		{"connection refused, then 200", nil, []string{"2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := rigOptions{answers: tt.answers, schedule: webhook.SchedulerOptions{MaxRetry: 5}}
			var l net.Listener
			if tt.answers == nil {
				var err error
				if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
					t.Fatal(err)
				}
				o.url = "http://" + l.Addr().String() + "/hook"
				l.Close() // down: nothing listens there yet
			}
			r := newRig(t, o)
			m := notification(t, app.MsgReservationConfirmed, 1001, "预约已确认")
			r.publish(t, m)
			if l != nil {
				r.waitRetry(t, m.ID)
				up, err := net.Listen("tcp", l.Addr().String())
				if err != nil {
					t.Skipf("cannot listen on %s again: %v", l.Addr(), err)
				}
				srv := &http.Server{Handler: http.HandlerFunc(r.recv.serve)}
				go srv.Serve(up)
				t.Cleanup(func() { srv.Close() })
			}
			if info := r.state(t, m.ID); info.State != asynq.TaskStateCompleted {
				t.Fatalf("state %v (%s), want completed", info.State, info.LastErr)
			}
			var attempts []string
			for _, req := range r.recv.got() {
				attempts = append(attempts, req.Header.Get(webhook.HeaderAttempt))
				if k := req.Header.Get(webhook.HeaderIdempotencyKey); k != m.ID {
					t.Errorf("Idempotency-Key %q, want %q", k, m.ID)
				}
			}
			if diff := cmp.Diff(tt.want, attempts); diff != "" {
				t.Errorf("attempts the receiver saw (-want +got):\n%s", diff)
			}
			_, runs := r.metrics.snapshot()
			if diff := cmp.Diff(map[string]int{webhook.RunRetry: len(tt.want) - 1 + boolInt(tt.answers == nil), webhook.RunDelivered: 1}, runs); diff != "" {
				t.Errorf("runs (-want +got):\n%s", diff)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// waitRetry waits until the task of message id failed once.
func (r *rig) waitRetry(tb testing.TB, id string) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := r.insp.GetTaskInfo(queue, webhook.TaskID(id))
		if err == nil && info.Retried > 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the webhook task of %s did not fail within 30s: %+v, %v", id, info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRefusalsAreArchived: a 4xx other than 429, a redirect, and a task
// out of retries are archived (visible in the asynq UI) and counted.
func TestRefusalsAreArchived(t *testing.T) {
	tests := []struct {
		name     string
		answers  []int
		maxRetry int
		url      string
		posts    int
		runs     map[string]int
		lastErr  string
	}{
		{"400", []int{400}, 5, "", 1, map[string]int{webhook.RunArchived: 1}, "webhook answered 400 (not retried)"},
		{"410", []int{410}, 5, "", 1, map[string]int{webhook.RunArchived: 1}, "webhook answered 410"},
		{"a redirect", []int{302}, 5, "", 1, map[string]int{webhook.RunArchived: 1}, "webhook answered 302"},
		{"500 until out of retries", []int{500, 500}, 1, "", 2, map[string]int{webhook.RunRetry: 1, webhook.RunArchived: 1}, "webhook answered 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, rigOptions{answers: tt.answers, url: tt.url, schedule: webhook.SchedulerOptions{MaxRetry: tt.maxRetry}})
			m := notification(t, app.MsgReservationCancelled, 1001, "预约已取消")
			r.publish(t, m)
			info := r.state(t, m.ID)
			if info.State != asynq.TaskStateArchived || !strings.Contains(info.LastErr, tt.lastErr) {
				t.Errorf("state %v, last error %q; want archived with %q", info.State, info.LastErr, tt.lastErr)
			}
			if n := len(r.recv.got()); n != tt.posts {
				t.Errorf("%d posts, want %d", n, tt.posts)
			}
			_, runs := r.metrics.snapshot()
			if diff := cmp.Diff(tt.runs, runs); diff != "" {
				t.Errorf("runs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNodeWithoutURLFailsTheTask: a worker whose node has no webhook.url
// fails the task, to be retried (by a node that has one); a payload that
// does not parse is archived at once.
func TestNodeWithoutURLFailsTheTask(t *testing.T) {
	h := webhook.NewHandler(nil, webhook.HandlerOptions{})
	task := asynq.NewTask(webhook.TaskType, []byte(`{"id":"m1","user_id":7,"type":2,"epoch":"e","seq":1,"body":{"id":"m1"}}`))
	err := h.ProcessTask(context.Background(), task)
	if app.ErrorCode(err) != app.EFailedPrecondition || !strings.Contains(err.Error(), "webhook.url") || errors.Is(err, asynq.SkipRetry) {
		t.Errorf("ProcessTask = %v, want a retried failed_precondition naming webhook.url", err)
	}
	if err := h.ProcessTask(context.Background(), asynq.NewTask(webhook.TaskType, []byte(`{"id":""}`))); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("ProcessTask of a bad payload = %v, want SkipRetry", err)
	}
}
