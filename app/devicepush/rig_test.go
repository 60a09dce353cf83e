package devicepush_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/devicepush"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/pkg/mobilepush"
	"github.com/houseview/gateway/pkg/mobilepush/mobilepushtest"
	"github.com/houseview/gateway/pkg/testenv"
)

var (
	_ devicepush.Store = (*mysql.Store)(nil)
	_ webhook.Target   = webhook.Targets(nil)
)

const queue = "push"

// counts is a devicepush.Metrics that keeps its counts.
type counts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counts) add(k string) { c.mu.Lock(); c.m[k]++; c.mu.Unlock() }

func (c *counts) PushTask(r string)        { c.add("task:" + r) }
func (c *counts) PushRun(r string)         { c.add("run:" + r) }
func (c *counts) PushDevice(r string)      { c.add("device:" + r) }
func (c *counts) PushSend(p, r string)     { c.add("send:" + p + ":" + r) }
func (c *counts) snapshot() map[string]int { c.mu.Lock(); defer c.mu.Unlock(); return clone(c.m) }

func clone(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// rig is one deployment's delivery core and device push on a private
// Redis database and MySQL database, with a stand-in of each provider and
// an asynq worker running both handlers.
type rig struct {
	rdb       *goredis.Client
	keys      redis.Keys
	streams   *redis.Streams
	store     *mysql.Store
	insp      *asynq.Inspector
	metrics   *counts
	fcm       *mobilepushtest.FCM
	apns      *mobilepushtest.APNs
	jpush     *mobilepushtest.JPush
	publisher *webhook.Publisher
}

func newRig(tb testing.TB) *rig { return newRigWith(tb, nil, nil) }

// newRigWith is newRig whose handlers apply prefs (over the rig's store
// when prefs is nil and now is set) with the clock now.
func newRigWith(tb testing.TB, prefs func(*mysql.Store, goredis.UniversalClient, redis.Keys) devicepush.Preferences, now func() time.Time) *rig {
	tb.Helper()
	db, rdb := testenv.MustRedisDB(tb)
	keys := redis.NewKeys(testenv.RandomName("dp"), db)
	conn := redis.New(rdb, keys)
	r := &rig{rdb: rdb, keys: keys, metrics: &counts{m: map[string]int{}}, insp: asynq.NewInspectorFromRedisClient(rdb),
		streams: redis.NewStreams(conn, redis.StreamsOptions{FlushInterval: time.Hour, HistoryTTL: time.Hour}),
		store:   mysql.NewStore(apptest.MustMySQL(tb, testenv.MustDatabase(tb))),
		fcm:     mobilepushtest.NewFCM(tb), apns: mobilepushtest.NewAPNs(tb), jpush: mobilepushtest.NewJPush(tb)}
	client := asynq.NewClientFromRedisClient(rdb)
	sched := devicepush.NewScheduler(client, devicepush.SchedulerOptions{Grace: time.Second, Queue: queue, MaxRetry: 3, Metrics: r.metrics})
	r.publisher = webhook.NewPublisher(redis.NewPublisher(conn, redis.PublisherOptions{HistoryTTL: time.Hour}), sched, webhook.FailPublish)

	deliveries := redis.NewDeliveries(conn, time.Second)
	opts := devicepush.HandlerOptions{Providers: r.providers(tb), Queue: queue, MaxRetry: 5, Timeout: 5 * time.Second, Metrics: r.metrics, Now: now}
	if prefs != nil {
		opts.Preferences = prefs(r.store, rdb, keys)
	}
	delay := devicepush.RetryDelay(500*time.Millisecond, 5*time.Second)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Queues: map[string]int{queue: 1}, Concurrency: 8,
		DelayedTaskCheckInterval: 100 * time.Millisecond, TaskCheckInterval: 100 * time.Millisecond,
		RetryDelayFunc: delay, ShutdownTimeout: time.Second, Logger: discardLogger{}, LogLevel: asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.Handle(devicepush.TaskType, devicepush.NewHandler(deliveries, r.store, client, opts))
	mux.Handle(devicepush.DeviceTaskType, devicepush.NewDeviceHandler(deliveries, r.store, opts))
	if err := srv.Start(mux); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Shutdown)
	return r
}

// providers are the stand-ins' providers.
func (r *rig) providers(tb testing.TB) devicepush.Providers {
	f, err := mobilepush.NewFCM(mobilepush.FCMConfig{ServiceAccountJSON: r.fcm.ServiceAccountJSON(), BaseURL: r.fcm.URL()})
	if err != nil {
		tb.Fatal(err)
	}
	a, err := mobilepush.NewAPNs(mobilepush.APNsConfig{AuthKey: r.apns.AuthKey(), KeyID: mobilepushtest.APNsKeyID,
		TeamID: mobilepushtest.APNsTeamID, Topic: mobilepushtest.APNsTopic, Host: r.apns.URL(), HTTPClient: r.apns.Client()})
	if err != nil {
		tb.Fatal(err)
	}
	j, err := mobilepush.NewJPush(mobilepush.JPushConfig{AppKey: mobilepushtest.JPushAppKey,
		MasterSecret: mobilepushtest.JPushMasterSecret, BaseURL: r.jpush.URL()})
	if err != nil {
		tb.Fatal(err)
	}
	return devicepush.Providers{app.PlatformFCM: f, app.PlatformAPNs: a, app.PlatformJPush: j}
}

// device registers a device of user.
func (r *rig) device(tb testing.TB, user int64, p app.Platform, token, locale string) app.Device {
	tb.Helper()
	d := app.Device{UserID: user, Platform: p, Token: token, Locale: locale}
	if _, err := r.store.RegisterDevice(context.Background(), &d, 0); err != nil {
		tb.Fatal(err)
	}
	return d
}

// confirmation is the confirmation of reservation 42 to tenant user, as
// the reservation service publishes it.
func confirmation(tb testing.TB, user int64) app.Message {
	tb.Helper()
	res := app.Reservation{ID: 42, HouseID: 3001, HouseTitle: "精装修两室一厅", LandlordID: 2001, TenantID: user,
		TenantName: "张三", ReserveTime: time.Date(2030, 5, 1, 15, 0, 0, 0, time.UTC), Status: app.StatusConfirmed}
	n := app.Notification{ID: app.NewMessageID(), Type: app.MsgReservationConfirmed, UserID: user, ReservationID: 42,
		Title: "预约已确认", Content: "房东已确认您对《精装修两室一厅》的看房预约，看房时间 2030-05-01 15:00:00",
		Timestamp: 1700000000, Detail: res.JSON()}
	m, err := n.Message()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// publish publishes m through the rig's publisher.
func (r *rig) publish(tb testing.TB, m app.Message) app.Position {
	tb.Helper()
	pos, err := r.publisher.Publish(context.Background(), m)
	if err != nil {
		tb.Fatalf("publish %s: %v", m.ID, err)
	}
	return pos
}

// final waits until the task id of type's queue is completed or archived
// and returns it.
func (r *rig) final(tb testing.TB, id string) *asynq.TaskInfo {
	tb.Helper()
	var info *asynq.TaskInfo
	testenv.Eventually(tb, 30*time.Second, "task "+id+" finished", func() bool {
		var err error
		info, err = r.insp.GetTaskInfo(queue, id)
		return err == nil && (info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived)
	})
	return info
}

// discardLogger silences asynq.
type discardLogger struct{}

func (discardLogger) Debug(...any) {}
func (discardLogger) Info(...any)  {}
func (discardLogger) Warn(...any)  {}
func (discardLogger) Error(...any) {}
func (discardLogger) Fatal(...any) {}
