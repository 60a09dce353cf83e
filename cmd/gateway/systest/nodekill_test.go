package systest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

// TestNodeKilledDuringTransitions kills a node (SIGKILL) while confirms and
// cancels run against it, some of them committed in MySQL but not yet
// published to Redis: the other node's outbox relay publishes what the
// dead node committed, so every reservation's status matches the
// notifications its parties got, each exactly once.
//
// Node a reaches Redis through a proxy. Partitioning the proxy holds a's
// Redis calls, so a cancel sent then commits (row and outbox, one
// transaction) and hangs in its publish: the kill lands between commit
// and publish for certain, besides whatever else is in flight.
func TestNodeKilledDuringTransitions(t *testing.T) {
	const n = 80
	env := sharedEnv(t, bookingsUnlimited)
	proxy := testenv.MustProxy(t, testenv.RedisAddr())
	a := MustStart(t, append(withNode(env, "a"), "GATEWAY_REDIS_ADDR="+proxy.Addr))
	b := MustStart(t, withNode(env, "b"))
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = mustBook(t, b.HTTPURL, 1001+int64(i%5), i)
	}
	cancelBody := func(i int) string { return fmt.Sprintf(`{"user_id":%d,"reason":"有事"}`, 1001+i%5) }

	// Workers confirm each reservation on node a and cancel every other one.
	var (
		done      atomic.Int64
		confirmed sync.Map // index -> true: confirmed and not to be cancelled by a worker
		mu        sync.Mutex
		errs      []string
	)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range work {
				url := fmt.Sprintf("%s/api/reservations/%d/", a.HTTPURL, ids[i])
				ans := try("POST", url+"confirm", `{"landlord_id":2001}`)
				if ans.Err == nil && ans.Status == 200 && i%2 == 0 {
					ans = try("POST", url+"cancel", cancelBody(i))
				} else if ans.Err == nil && ans.Status == 200 {
					confirmed.Store(i, true)
				}
				switch {
				case ans.Err != nil:
					return // node a is gone
				case ans.Status != 200:
					mu.Lock()
					errs = append(errs, fmt.Sprintf("%s: %+v", url, ans))
					mu.Unlock()
				}
				done.Add(1)
			}
		})
	}
	wg.Go(func() {
		defer close(work)
		for i := range ids {
			select {
			case work <- i:
			case <-a.Exited():
				return
			}
		}
	})

	// Half-way, hold a's Redis and cancel some confirmed reservations: they
	// commit and wait to publish. Then kill a.
	waitFor(t, "transitions on node a", func() bool { return done.Load() >= n/2 })
	partitioned := time.Now().UTC().Truncate(time.Millisecond)
	proxy.Partition()
	outbox := openDB(t, dsnOf(env))
	held := 0
	confirmed.Range(func(k, _ any) bool {
		i := k.(int)
		wg.Go(func() { try("POST", fmt.Sprintf("%s/api/reservations/%d/cancel", a.HTTPURL, ids[i]), cancelBody(i)) })
		held++
		return held < 5
	})
	// Only cancels commit now (a confirm first schedules its reminders in
	// Redis); each leaves the landlord's notice in the outbox.
	waitFor(t, "cancels committed but not published", func() bool {
		var rows int
		err := outbox.QueryRow("SELECT COUNT(*) FROM notification_outbox WHERE user_id = 2001 AND created_at >= ?", partitioned).Scan(&rows)
		return err == nil && rows >= held
	})
	if err := a.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("answers other than 200 before the kill: %v", errs)
	}

	waitOutboxEmpty(t, outbox, 30*time.Second)
	rdb := redisFor(t, env)
	keys := redis.NewKeys("gw", rdb.Options().DB)
	got := notices(t, rdb, keys, 1001, 1002, 1003, 1004, 1005, 2001)
	byStatus := checkConsistent(t, outbox, got, ids)
	t.Logf("after the kill: %v", byStatus)
	if byStatus["cancelled"] < held {
		t.Errorf("%d cancelled, want at least the %d held ones", byStatus["cancelled"], held)
	}
}

// dsnOf returns the GATEWAY_MYSQL_DSN of a node environment (the last).
func dsnOf(env []string) string {
	dsn := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GATEWAY_MYSQL_DSN="); ok {
			dsn = v
		}
	}
	return dsn
}
