package systest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app/redis"
)

// Helpers of the fault tests: plain calls that goroutines may make, and
// the consistency check of reservations against their notifications.

// answer is one HTTP answer of a fault test: the status and the error code
// of the body ("" for a success), or the transport error.
type answer struct {
	Status int
	Code   string
	Err    error
}

// try sends a JSON request; unlike call it never stops the test.
func try(method, url, body string) answer {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return answer{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{Err: err}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return answer{Status: resp.StatusCode, Err: fmt.Errorf("non-JSON answer %q", raw)}
	}
	return answer{Status: resp.StatusCode, Code: out.Error.Code}
}

// bookingsUnlimited lifts the per-tenant booking limit (10 a minute by
// default) for the fault tests, which book dozens for a few tenants.
const bookingsUnlimited = "GATEWAY_LIMITS_RESERVATIONS_PER_MINUTE=1000000"

// mustBook books house 3001 for tenant at a time i hours (+2) ahead and
// returns the reservation id.
func mustBook(tb testing.TB, base string, tenant int64, i int) int64 {
	tb.Helper()
	body := fmt.Sprintf(`{"user_id":%d,"user_name":"租客","house_id":3001,"reserve_time":%q}`, tenant, future(time.Duration(i+2)*time.Hour))
	code, out := call(tb, "POST", base+"/house/reserve", "", body)
	if code != 201 {
		tb.Fatalf("reserve: %d %v", code, out)
	}
	return int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
}

// openDB opens the gateway's database of dsn for the test's own queries.
func openDB(tb testing.TB, dsn string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// waitOutboxEmpty waits until every outbox row has been published and
// deleted (by a request, the cleaner or a relay).
func waitOutboxEmpty(tb testing.TB, db *sql.DB, within time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		var n int
		err := db.QueryRow("SELECT COUNT(*) FROM notification_outbox").Scan(&n)
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("outbox still holds %d rows (%v) after %v", n, err, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// noticeKey is one notification: its reservation and type.
type noticeKey struct {
	Reservation int64
	Type        int
}

// notices counts the notifications stored for users in Redis (every
// published message is kept there: history.size is far above these tests'
// counts), by reservation and type.
func notices(tb testing.TB, rdb *goredis.Client, keys redis.Keys, users ...int64) map[noticeKey]int {
	tb.Helper()
	out := map[noticeKey]int{}
	for _, u := range users {
		raw, err := rdb.LRange(context.Background(), keys.Messages(u), 0, -1).Result()
		if err != nil {
			tb.Fatal(err)
		}
		for _, s := range raw {
			var m struct {
				Type          int   `json:"type"`
				ReservationID int64 `json:"reservation_id"`
			}
			if err := json.Unmarshal([]byte(s), &m); err != nil {
				tb.Fatalf("stored message %q: %v", s, err)
			}
			out[noticeKey{m.ReservationID, m.Type}]++
		}
	}
	return out
}

// checkConsistent checks each reservation's stored status against the
// notifications delivered: created (type 1) once; confirmed (type 2) once
// if it got confirmed (these tests cancel only confirmed ones), else never;
// cancelled (type 3) once if cancelled, else never. It returns the count
// of reservations by status.
func checkConsistent(tb testing.TB, db *sql.DB, got map[noticeKey]int, ids []int64) map[string]int {
	tb.Helper()
	byStatus := map[string]int{}
	for _, id := range ids {
		var status string
		if err := db.QueryRow("SELECT status FROM reservations WHERE id = ?", id).Scan(&status); err != nil {
			tb.Fatalf("reservation %d: %v", id, err)
		}
		byStatus[status]++
		want := map[int]int{1: 1}
		switch status {
		case "confirmed":
			want[2] = 1
		case "cancelled":
			want[2], want[3] = 1, 1
		}
		for typ := 1; typ <= 3; typ++ {
			if n := got[noticeKey{id, typ}]; n != want[typ] {
				tb.Errorf("reservation %d is %s but has %d notifications of type %d, want %d", id, status, n, typ, want[typ])
			}
		}
	}
	return byStatus
}
