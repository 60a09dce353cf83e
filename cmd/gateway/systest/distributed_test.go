package systest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/client"
	"github.com/houseview/gateway/pkg/testenv"
)

// TestRedisClusterMode runs two nodes on a Redis Cluster of 3 masters with
// a replica each: users spread over every master get live messages across
// nodes, stored ones and resumes, reminders are scheduled and fired
// through asynq on the cluster; then a master is killed mid-stream and its
// replica takes over: every message pushed after the failover arrives,
// once.
func TestRedisClusterMode(t *testing.T) {
	cl := testenv.MustRedisCluster(t, 3, 1)
	env := sharedEnv(t, "GATEWAY_REDIS_MODE=cluster", "GATEWAY_REDIS_ADDRS="+strings.Join(cl.Addrs(), ","),
		"GATEWAY_REDIS_DB=0", "GATEWAY_REMINDER_LEADS=2s")
	keys := redis.NewKeys("gw", 0)
	// Users whose channels cover the three masters, the victim's (1003's)
	// master to be killed last.
	users := []int64{1001, 1002, 1003, 1004, 1005, 1006}
	masters := map[string]bool{}
	for _, u := range users {
		masters[cl.MasterOf(redis.Slot(keys.Channel(u))).Addr] = true
	}
	if len(masters) != 3 {
		t.Fatalf("users %v live on %d masters; want 3", users, len(masters))
	}
	distributedFlow(t, env, users, func() {
		cl.KillMasterAndWaitFailover(redis.Slot(keys.Channel(1003)), 60*time.Second)
	})
}

// TestRedisSentinelMode: the same flow on a master with one replica and
// three sentinels; the sentinels promote the replica mid-stream.
func TestRedisSentinelMode(t *testing.T) {
	s := testenv.MustSentinel(t, "gwmaster")
	env := sharedEnv(t, "GATEWAY_REDIS_MODE=sentinel", "GATEWAY_REDIS_ADDRS="+strings.Join(s.Addrs(), ","),
		"GATEWAY_REDIS_MASTER_NAME=gwmaster", "GATEWAY_REDIS_DB=0", "GATEWAY_REMINDER_LEADS=2s")
	distributedFlow(t, env, []int64{1001, 1002, 1003}, func() { s.KillMasterAndWaitFailover(60 * time.Second) })
}

// distributedFlow is the scenario of both modes; failover kills the Redis
// master of user 1003 and returns once a replica took over.
func distributedFlow(t *testing.T, env []string, users []int64, failover func()) {
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))

	// Live delivery across nodes: sessions on a, pushes through b.
	got := map[int64]*received{}
	for _, u := range users {
		got[u] = collect(MustDialClient(t, client.Options{URLs: []string{a.HTTPURL, b.HTTPURL}, UserID: u}))
	}
	for _, u := range users {
		if err := pushPatiently(b.HTTPURL, u, fmt.Sprint("live-", u)); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range users {
		checkExactlyOnce(t, got[u].count(t, 1), []string{fmt.Sprint("live-", u)}, 1)
	}

	// Stored messages of an offline user, and a resume.
	for i := range 3 {
		if err := pushPatiently(a.HTTPURL, 3001, fmt.Sprint("stored-", i)); err != nil {
			t.Fatal(err)
		}
	}
	offline := wsDial(t, b.HTTPURL, "user_id=3001&last_seq=1")
	for want := int64(2); want <= 3; want++ {
		if f := offline.next(t); f.Seq != want {
			t.Fatalf("resumed frame %+v; want seq %d", f, want)
		}
	}

	// A reminder scheduled on one node and fired by a worker.
	tenant, landlord := wsDial(t, a.HTTPURL, "user_id=1501"), wsDial(t, b.HTTPURL, "user_id=2001")
	at := time.Now().Add(5 * time.Second).Truncate(time.Second)
	body := fmt.Sprintf(`{"user_id":1501,"user_name":"张三","house_id":3001,"reserve_time":%q}`, at.In(shanghai()).Format("2006-01-02 15:04:05"))
	code, out := call(t, "POST", a.HTTPURL+"/house/reserve", "", body)
	if code != 201 {
		t.Fatalf("reserve: %d %v", code, out)
	}
	id := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
	if code, out := call(t, "POST", fmt.Sprintf("%s/api/reservations/%d/confirm", b.HTTPURL, id), "", `{"landlord_id":2001}`); code != 200 {
		t.Fatalf("confirm: %d %v", code, out)
	}
	for _, c := range []*wsClient{tenant, landlord} {
		for c.next(t).Type != 4 { // the booking and confirmation notices come first
		}
	}

	// The asynq UI reads the same Redis; presence is whole on either node.
	code, queues := call(t, "GET", b.HTTPURL+"/asynq/api/queues", "", "")
	if code != 200 || !strings.Contains(fmt.Sprint(queues["queues"]), "reminders") {
		t.Errorf("asynq UI queues: %d %v", code, queues)
	}
	_, online := call(t, "GET", a.HTTPURL+"/api/websocket/online-users", "", "")
	if n, _ := online["count"].(float64); int(n) < len(users)+3 {
		t.Errorf("online users %v; want at least the %d connected", online, len(users)+3)
	}

	// The victim's master fails over while messages flow to the victim:
	// pushes go on, paced, until 50 were pushed after the failover.
	const victim, afterCount = 1003, 50
	var over atomic.Bool
	var after, n int
	var wg sync.WaitGroup
	wg.Go(func() {
		after = -1
		for i := 0; after < 0 || i < after+afterCount; i++ {
			if after < 0 && over.Load() {
				after = i
			}
			if err := pushPatiently(b.HTTPURL, victim, fmt.Sprint("fo-", i)); err != nil {
				t.Error(err)
				return
			}
			n = i + 1
			time.Sleep(5 * time.Millisecond)
		}
	})
	got[victim].count(t, 1+30)
	start := time.Now()
	failover()
	over.Store(true)
	t.Logf("failover took %s", time.Since(start).Round(time.Millisecond))
	wg.Wait()
	if t.Failed() {
		return
	}
	// Every message pushed after the failover arrives, once (a reset may
	// replay, under the new epoch, messages from before it).
	got[victim].waitFor(t, "every message pushed after the failover", func(notes []client.Notification, _ []client.Event) bool {
		return len(contentsFrom(notes, "fo-", after, n)) == n-after
	})
	// The stream may have lost its last writes with the old master: it was
	// rebased into a new epoch, which the client was told of.
	got[victim].waitFor(t, "a reset to the new epoch", got[victim].hasEvent(client.Reset, 0))
	for _, u := range users {
		if err := pushPatiently(b.HTTPURL, u, fmt.Sprint("final-", u)); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range users {
		got[u].waitFor(t, fmt.Sprint("final message of ", u), func(notes []client.Notification, _ []client.Event) bool {
			return countContent(notes, fmt.Sprint("final-", u)) >= 1
		})
	}
	for _, n := range []*testenv.Gateway{a, b} {
		testenv.MustWaitReady(t, n.HTTPURL)
	}
	for _, u := range users {
		got[u].mu.Lock()
		notes := append([]client.Notification(nil), got[u].notes...)
		got[u].mu.Unlock()
		if c := countContent(notes, fmt.Sprint("final-", u)); c != 1 {
			t.Errorf("user %d got its final message %d times", u, c)
		}
		if u != victim {
			continue
		}
		for k, c := range contentsFrom(notes, "fo-", after, n) {
			if c != 1 {
				t.Errorf("%s (pushed after the failover) arrived %d times", k, c)
			}
		}
	}
}

// contentsFrom counts, among notes, the contents prefix+i for i in
// [from, to).
func contentsFrom(notes []client.Notification, prefix string, from, to int) map[string]int {
	want := map[string]bool{}
	for i := from; i < to; i++ {
		want[fmt.Sprint(prefix, i)] = true
	}
	out := map[string]int{}
	for _, n := range notes {
		if want[n.Content] {
			out[n.Content]++
		}
	}
	return out
}

func countContent(notes []client.Notification, content string) int {
	c := 0
	for _, n := range notes {
		if n.Content == content {
			c++
		}
	}
	return c
}
