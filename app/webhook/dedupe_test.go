package webhook_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/pkg/testenv"
)

// TestOnePostPerMessage: publishing a message again (an outbox retry), from
// a second node, or after Redis lost the user's stream (a new epoch and
// seq) schedules nothing more, before and after the post, within the
// retention: one post, keyed by the message id.
func TestOnePostPerMessage(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, rigOptions{schedule: webhook.SchedulerOptions{Grace: 2 * time.Second}})
	other := webhook.NewPublisher(r.pub, webhook.NewScheduler(asynq.NewClientFromRedisClient(r.rdb),
		webhook.SchedulerOptions{Queue: queue, Grace: 2 * time.Second, Metrics: r.metrics}), webhook.FailPublish) // node b
	m := notification(t, app.MsgReservationConfirmed, 1001, "预约已确认")
	first := r.publish(t, m)
	r.publish(t, m)
	if _, err := other.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
	reset := func() app.Position {
		t.Helper()
		if err := r.rdb.Del(ctx, r.keys.Stream(1001), r.keys.Messages(1001)).Err(); err != nil {
			t.Fatal(err)
		}
		pos := r.publish(t, m)
		if pos.Epoch == first.Epoch {
			t.Fatalf("republished after a reset in epoch %s, want a new one", pos.Epoch)
		}
		return pos
	}
	reset() // before the task ran

	r.recv.wait(t, 1)
	if info := r.state(t, m.ID); info.State != asynq.TaskStateCompleted {
		t.Fatalf("state %v, want completed", info.State)
	}
	reset() // after the post, within the retention
	if _, err := other.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}

	posts := r.recv.got()
	if len(posts) != 1 || posts[0].Header.Get(webhook.HeaderIdempotencyKey) != m.ID {
		t.Errorf("posts %v, want one keyed %s", posts, m.ID)
	}
	tasks, _ := r.metrics.snapshot()
	if diff := cmp.Diff(map[string]int{webhook.TaskScheduled: 1, webhook.TaskDuplicate: 5}, tasks); diff != "" {
		t.Errorf("schedules (-want +got):\n%s", diff)
	}
	if info, err := r.insp.GetTaskInfo(queue, webhook.TaskID(m.ID)); err != nil || info.State != asynq.TaskStateCompleted {
		t.Errorf("task after the republishes: %+v, %v; want the completed one", info, err)
	}
}

// TestScheduleFailure: when Redis refuses the enqueue, a FailPublish
// publisher reports it (the message itself is published: the caller's
// retry republishes it harmlessly and schedules again), a KeepPublish one
// reports the publish as done; both count the failure.
func TestScheduleFailure(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("wh"), db)
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{HistoryTTL: time.Hour})
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	// Redis refuses connections (nothing listens): the enqueue fails at once.
	dead := goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	down := asynq.NewClientFromRedisClient(dead)
	metrics := newCounts()
	sched := webhook.NewScheduler(down, webhook.SchedulerOptions{Queue: queue, Metrics: metrics})

	m := notification(t, app.MsgReservationConfirmed, 1001, "预约已确认")
	_, err = webhook.NewPublisher(pub, sched, webhook.FailPublish).Publish(ctx, m)
	if app.ErrorCode(err) != app.EUnavailable {
		t.Errorf("FailPublish: Publish = %v, want unavailable", err)
	}
	pushed := notification(t, app.MsgGenericPush, 1001, "push")
	pushed.Webhook = true
	positions, err := webhook.NewPublisher(pub, sched, webhook.KeepPublish).PublishBatch(ctx, []app.Message{pushed})
	if err != nil || len(positions) != 1 || positions[0].Seq != 2 {
		t.Errorf("KeepPublish: PublishBatch = %v, %v; want seq 2 and no error", positions, err)
	}
	if n, _ := rdb.LLen(ctx, keys.Messages(1001)).Result(); n != 2 {
		t.Errorf("%d messages stored, want both", n)
	}
	tasks, _ := metrics.snapshot()
	if diff := cmp.Diff(map[string]int{webhook.TaskFailed: 2}, tasks); diff != "" {
		t.Errorf("schedules (-want +got):\n%s", diff)
	}
}
