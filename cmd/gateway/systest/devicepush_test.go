package systest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/devicepush"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/client"
	"github.com/houseview/gateway/pkg/mobilepush/mobilepushtest"
	"github.com/houseview/gateway/pkg/testenv"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// providers are the stand-ins of a device push test.
type providers struct {
	fcm   *mobilepushtest.FCM
	apns  *mobilepushtest.APNs
	jpush *mobilepushtest.JPush
}

// pushEnv is a cluster's environment with every provider on, aimed at
// stand-ins: the FCM key from a file (GATEWAY_PUSH_FCM_CREDENTIALS_FILE),
// the APNs stand-in's certificate trusted through SSL_CERT_FILE; a grace
// of an hour (tests run the grace tasks when they want), retries after a
// second, at most two.
func pushEnv(tb testing.TB) ([]string, providers) {
	p := providers{fcm: mobilepushtest.NewFCM(tb), apns: mobilepushtest.NewAPNs(tb), jpush: mobilepushtest.NewJPush(tb)}
	dir := tb.TempDir()
	keyFile := filepath.Join(dir, "fcm.json")
	if err := os.WriteFile(keyFile, p.fcm.ServiceAccountJSON(), 0o600); err != nil {
		tb.Fatal(err)
	}
	return sharedEnv(tb, "SSL_CERT_FILE="+p.apns.CertFile(tb, dir),
		"GATEWAY_PUSH_FCM_CREDENTIALS_FILE="+keyFile, "GATEWAY_PUSH_FCM_ENDPOINT="+p.fcm.URL(),
		"GATEWAY_PUSH_APNS_KEY="+string(p.apns.AuthKey()), "GATEWAY_PUSH_APNS_KEY_ID="+mobilepushtest.APNsKeyID,
		"GATEWAY_PUSH_APNS_TEAM_ID="+mobilepushtest.APNsTeamID, "GATEWAY_PUSH_APNS_TOPIC="+mobilepushtest.APNsTopic,
		"GATEWAY_PUSH_APNS_ENVIRONMENT=sandbox", "GATEWAY_PUSH_APNS_ENDPOINT="+p.apns.URL(),
		"GATEWAY_PUSH_JPUSH_APP_KEY="+mobilepushtest.JPushAppKey, "GATEWAY_PUSH_JPUSH_MASTER_SECRET="+mobilepushtest.JPushMasterSecret,
		"GATEWAY_PUSH_JPUSH_ENDPOINT="+p.jpush.URL(),
		"GATEWAY_PUSH_GRACE=1h", "GATEWAY_PUSH_TYPES=confirmed,push", "GATEWAY_PUSH_BACKOFF=1s", "GATEWAY_PUSH_MAX_BACKOFF=2s"), p
}

// pushTasks reads and runs the device push tasks of a cluster's Redis.
type pushTasks struct{ insp *asynq.Inspector }

// run runs message id's grace task now.
func (ts pushTasks) run(tb testing.TB, id string) {
	tb.Helper()
	if err := ts.insp.RunTask(devicepush.DefaultQueue, devicepush.TaskID(id)); err != nil {
		tb.Fatalf("run the push task of %s: %v", id, err)
	}
}

// done waits until task id finished and returns it.
func (ts pushTasks) done(tb testing.TB, id string) *asynq.TaskInfo {
	tb.Helper()
	var info *asynq.TaskInfo
	testenv.Eventually(tb, 30*time.Second, "push task "+id+" finished", func() bool {
		var err error
		info, err = ts.insp.GetTaskInfo(devicepush.DefaultQueue, id)
		return err == nil && (info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived)
	})
	return info
}

// register registers a device of user in the cluster's database.
func register(tb testing.TB, store *mysql.Store, user int64, p app.Platform, token string) app.Device {
	tb.Helper()
	d := app.Device{UserID: user, Platform: p, Token: token}
	if _, err := store.RegisterDevice(context.Background(), &d, 0); err != nil {
		tb.Fatal(err)
	}
	return d
}

// envValue is the value of key in env.
func envValue(env []string, key string) string {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

// TestDevicePushOnceAcrossNodesAndResets: two nodes with every provider
// configured; a push to an offline user with an FCM and an APNs device,
// sent on both nodes with one idempotency key and again after Redis lost
// the user's stream (before and after its grace task ran), reaches each
// device once, authorized as each provider wants; a user online gets
// none; a JPush that is down for a while gets the push once it is up.
func TestDevicePushOnceAcrossNodesAndResets(t *testing.T) {
	env, p := pushEnv(t)
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	store := mysql.NewStore(apptest.MustMySQL(t, envValue(env, "GATEWAY_MYSQL_DSN")))
	rdb := redisFor(t, env)
	ts, keys := pushTasks{insp: asynq.NewInspectorFromRedisClient(rdb)}, redis.NewKeys("gw", rdb.Options().DB)
	fcm := register(t, store, 1001, app.PlatformFCM, "fcm-token-1001")
	apns := register(t, store, 1001, app.PlatformAPNs, strings.Repeat("ab", 32))

	req := &housev1.PushRequest{UserIds: []int64{1001}, Title: "t", Content: "once", IdempotencyKey: "order-7:shipped", Webhook: true}
	first := pushREST(t, a.HTTPURL, `{"user_ids":[1001],"title":"t","content":"once","idempotency_key":"order-7:shipped","webhook":true}`)[0]
	id := first["id"].(string)
	reset := func() {
		t.Helper()
		if err := rdb.Del(context.Background(), keys.Stream(1001), keys.Messages(1001)).Err(); err != nil {
			t.Fatal(err)
		}
		if again := pushGRPC(t, b.GRPCAddr, req)[0]; again.GetId() != id {
			t.Fatalf("after the reset: id %s, want %s", again.GetId(), id)
		}
	}
	pushGRPC(t, b.GRPCAddr, req)
	reset()
	ts.run(t, id)
	for _, d := range []app.Device{fcm, apns} {
		if info := ts.done(t, devicepush.DeviceTaskID(id, d.ID)); info.State != asynq.TaskStateCompleted {
			t.Errorf("device %d: %v (%s)", d.ID, info.State, info.LastErr)
		}
	}
	reset()
	f, ap := p.fcm.Requests(), p.apns.Requests()
	if len(f) != 1 || len(ap) != 1 || f[0].Token != fcm.Token || ap[0].Token != apns.Token {
		t.Fatalf("sends: fcm %+v, apns %+v; want one to each device", f, ap)
	}
	if f[0].Header.Get("Authorization") != "Bearer access-1" || !strings.HasPrefix(ap[0].Header.Get("Authorization"), "bearer ") {
		t.Errorf("Authorization: fcm %q, apns %q", f[0].Header.Get("Authorization"), ap[0].Header.Get("Authorization"))
	}

	online(t, a, store, ts, rdb, keys, 1002, true)
	online(t, b, store, ts, rdb, keys, 1004, false)
	downThenUp(t, b, store, p, ts)
	scheduled, sent := 0, 0
	for _, n := range []*testenv.Gateway{a, b} {
		page := scrape(t, n.HTTPURL+"/metrics", "")
		scheduled += metricValue(page, `gateway_push_tasks_total{result="scheduled"}`)
		sent += metricValue(page, `gateway_push_sends_total{provider="fcm",result="sent"}`)
	}
	if scheduled != 4 || sent != 1 {
		t.Errorf("the nodes scheduled %d grace tasks and sent %d FCM pushes; want 4 and 1", scheduled, sent)
	}
	code, out := call(t, "GET", a.HTTPURL+"/asynq/api/queues", "", "")
	if fmt.Sprint(out["queues"]) == "" || code != 200 || !strings.Contains(fmt.Sprint(out["queues"]), "queue:push") {
		t.Errorf("the asynq UI's queues: %d %v; want the push queue", code, out["queues"])
	}
}

// online: a push to a user with a live session that received it (noAck:
// a session that does not acknowledge) or acknowledged it (an acking
// session, counted only once it acks) within the grace is not sent to
// the user's device.
func online(t *testing.T, n *testenv.Gateway, store *mysql.Store, ts pushTasks, rdb *goredis.Client, keys redis.Keys, user int64, noAck bool) {
	t.Helper()
	d := register(t, store, user, app.PlatformFCM, fmt.Sprintf("fcm-token-%d", user))
	got := collect(MustDialClient(t, client.Options{URLs: []string{n.HTTPURL}, UserID: user, NoAck: noAck, AckEach: !noAck}))
	id := pushREST(t, n.HTTPURL, fmt.Sprintf(`{"user_ids":[%d],"title":"t","content":"live","webhook":true}`, user))[0]["id"].(string)
	got.count(t, 1)
	// The client may read a frame a moment before its node records it as
	// written (or acknowledged): wait until the delivery is in Redis.
	testenv.Eventually(t, 30*time.Second, "the delivery recorded", func() bool {
		c, _ := rdb.HGet(context.Background(), keys.Stream(user), redis.StreamCursor).Int64()
		return c >= 1
	})
	ts.run(t, id)
	ts.done(t, devicepush.TaskID(id))
	if _, err := ts.insp.GetTaskInfo(devicepush.DefaultQueue, devicepush.DeviceTaskID(id, d.ID)); err == nil {
		t.Errorf("the online user's device has a push task")
	}
}

// downThenUp: JPush answers 503 for a while; once it is up the push is
// delivered, once.
func downThenUp(t *testing.T, n *testenv.Gateway, store *mysql.Store, p providers, ts pushTasks) {
	t.Helper()
	d := register(t, store, 1003, app.PlatformJPush, "1a0018970aa0b1c2d3e")
	p.jpush.Always(&mobilepushtest.Answer{Status: http.StatusServiceUnavailable, Body: `{"error":{"code":1030,"message":"Internal service timeout"}}`})
	id := pushREST(t, n.HTTPURL, `{"user_ids":[1003],"title":"t","content":"later","webhook":true}`)[0]["id"].(string)
	ts.run(t, id)
	p.jpush.Wait(t, 2)
	p.jpush.Always(nil)
	if info := ts.done(t, devicepush.DeviceTaskID(id, d.ID)); info.State != asynq.TaskStateCompleted {
		t.Errorf("JPush task %v (%s), want completed", info.State, info.LastErr)
	}
	var ok int
	for _, r := range p.jpush.Requests() {
		if r.Status == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("JPush accepted %d pushes, want 1", ok)
	}
}

// metricValue is the value of series in a /metrics page, 0 when absent.
func metricValue(page, series string) int {
	for line := range strings.SplitSeq(page, "\n") {
		var v int
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			if _, err := fmt.Sscan(rest, &v); err == nil {
				return v
			}
		}
	}
	return 0
}
