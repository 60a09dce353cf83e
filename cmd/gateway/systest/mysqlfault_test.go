package systest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

// TestMySQLRestartMidRequests kills MariaDB while confirms and cancels
// flow through a node, and starts it again: while it is down every request
// answers 503 unavailable (never 500) and /readyz 503; afterwards no
// reservation is half-transitioned and every transition that committed
// (also those whose answer was lost to the kill) was notified exactly once.
func TestMySQLRestartMidRequests(t *testing.T) {
	const n = 60
	db := testenv.MustMariaDB(t)
	dsn := testenv.DSNOn(db.ServerDSN(), "gw")
	env := append(sharedEnv(t, bookingsUnlimited), "GATEWAY_MYSQL_DSN="+dsn) // the last one counts
	node := MustStart(t, withNode(env, "a"))
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = mustBook(t, node.HTTPURL, 1001+int64(i%5), i)
	}

	// Each reservation is confirmed, and every other one then cancelled, by
	// workers that retry a 503 until it goes through. A 409 after a 503
	// means the first try had committed before the kill took its answer.
	var (
		done, unavailable, ambiguous atomic.Int64
		mu                           sync.Mutex
		unexpected                   []string
	)
	run := func(path, body string) {
		url := node.HTTPURL + path
		retried := false
		for {
			a := try("POST", url, body)
			switch {
			case a.Err == nil && a.Status == 200:
				done.Add(1)
				return
			case a.Err == nil && a.Status == 503 && a.Code == "unavailable":
				unavailable.Add(1)
				retried = true
				time.Sleep(20 * time.Millisecond) // pace the retries
				continue
			case a.Err == nil && a.Status == 409 && a.Code == "failed_precondition" && retried:
				done.Add(1)
				ambiguous.Add(1)
				return
			}
			mu.Lock()
			unexpected = append(unexpected, fmt.Sprintf("POST %s: %+v", path, a))
			mu.Unlock()
			return
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range work {
				run(fmt.Sprintf("/api/reservations/%d/confirm", ids[i]), `{"landlord_id":2001}`)
				if i%2 == 0 {
					run(fmt.Sprintf("/api/reservations/%d/cancel", ids[i]), fmt.Sprintf(`{"user_id":%d,"reason":"有事"}`, 1001+i%5))
				}
			}
		})
	}
	wg.Go(func() {
		for i := range ids {
			work <- i
		}
		close(work)
	})

	// Kill the database a quarter of the way through; start it again once
	// requests have met it down.
	waitFor(t, "transitions before the kill", func() bool { return done.Load() >= n/4 })
	db.Kill()
	waitFor(t, "503s while the database is down", func() bool { return unavailable.Load() >= 20 })
	if a := try("GET", node.HTTPURL+"/readyz", ""); a.Status != 503 || a.Code != "unavailable" {
		t.Errorf("/readyz while the database is down: %+v, want 503 unavailable", a)
	}
	db.Start()
	wg.Wait()
	if len(unexpected) > 0 {
		t.Fatalf("%d unexpected answers, e.g. %v", len(unexpected), unexpected[:min(5, len(unexpected))])
	}
	t.Logf("%d transitions (%d had committed when their answer was a 503), %d answers 503 while the database was down",
		done.Load(), ambiguous.Load(), unavailable.Load())

	sqlDB := openDB(t, dsn)
	waitOutboxEmpty(t, sqlDB, 30*time.Second)
	rdb := redisFor(t, env)
	keys := redis.NewKeys("gw", rdb.Options().DB)
	got := notices(t, rdb, keys, 1001, 1002, 1003, 1004, 1005, 2001)
	byStatus := checkConsistent(t, sqlDB, got, ids)
	if byStatus["confirmed"] != n/2 || byStatus["cancelled"] != n/2 {
		t.Errorf("statuses %v, want %d confirmed and %d cancelled", byStatus, n/2, n/2)
	}
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	testenv.Eventually(tb, time.Minute, what, cond)
}
