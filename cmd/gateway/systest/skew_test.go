package systest

import (
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
)

// onlineUsers returns the user ids the node at base reports online.
func onlineUsers(tb testing.TB, base string) []int64 {
	tb.Helper()
	_, out := call(tb, "GET", base+"/api/websocket/online-users", "", "")
	var users []int64
	for _, u := range out["users"].([]any) {
		users = append(users, int64(u.(float64)))
	}
	slices.Sort(users)
	return users
}

// TestClockSkewRemindersAndPresence runs two nodes whose clocks are 2 s
// ahead and 2 s behind the machine's (and Redis's): reminders confirmed on
// either still reach both parties at their time, and presence stays right:
// each node sees the other's users throughout, and a killed node's users
// leave within presence.ttl plus the skew.
func TestClockSkewRemindersAndPresence(t *testing.T) {
	bin := skewedGateway(t)
	const ttl = 8 * time.Second
	env := sharedEnv(t, "GATEWAY_REMINDER_LEADS=2s", "GATEWAY_PRESENCE_HEARTBEAT=300ms", fmt.Sprintf("GATEWAY_PRESENCE_TTL=%s", ttl))
	fast := testenv.MustStartGateway(t, bin, append(withNode(env, "fast"), "GATEWAY_TEST_CLOCK_SKEW=2s"))
	slow := testenv.MustStartGateway(t, bin, append(withNode(env, "slow"), "GATEWAY_TEST_CLOCK_SKEW=-2s"))
	tenantA := wsDial(t, fast.HTTPURL, "user_id=1001")
	tenantB := wsDial(t, slow.HTTPURL, "user_id=1002")
	landlord := wsDial(t, fast.HTTPURL, "user_id=2001")

	// Presence, sampled on both nodes until the reminders are in.
	everyone := []int64{1001, 1002, 2001}
	var presence sync.WaitGroup
	stop := make(chan struct{})
	var wrong []string
	presence.Go(func() {
		for {
			for _, n := range []*testenv.Gateway{fast, slow} {
				if got := onlineUsers(t, n.HTTPURL); !slices.Equal(got, everyone) {
					wrong = append(wrong, fmt.Sprintf("%s saw %v", n.HTTPURL, got))
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})

	at := time.Now().Add(8 * time.Second).Truncate(time.Second)
	due := at.Add(-2 * time.Second)
	for i, c := range []struct {
		node   *testenv.Gateway
		tenant int64
	}{{fast, 1001}, {slow, 1002}} {
		body := fmt.Sprintf(`{"user_id":%d,"user_name":"租客%d","house_id":3001,"reserve_time":%q}`, c.tenant, i, at.In(shanghai()).Format("2006-01-02 15:04:05"))
		code, out := call(t, "POST", c.node.HTTPURL+"/house/reserve", "", body)
		if code != 201 {
			t.Fatalf("reserve on %s: %d %v", c.node.HTTPURL, code, out)
		}
		id := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
		if code, out := call(t, "POST", fmt.Sprintf("%s/api/reservations/%d/confirm", c.node.HTTPURL, id), "", `{"landlord_id":2001}`); code != 200 {
			t.Fatalf("confirm: %d %v", code, out)
		}
	}
	reminded := func(name string, cl *wsClient, want int) {
		for got := 0; got < want; {
			f := cl.next(t)
			if f.Type != 4 {
				continue // the booking and confirmation notices
			}
			got++
			late := time.Since(due)
			t.Logf("%s reminded %v after its time", name, late)
			if late < 0 || late >= time.Second {
				t.Errorf("%s reminded %v after its time, want within [0, 1s)", name, late)
			}
		}
	}
	reminded("tenant on the fast node", tenantA, 1)
	reminded("tenant on the slow node", tenantB, 1)
	reminded("landlord", landlord, 2)
	close(stop)
	presence.Wait()
	if len(wrong) > 0 {
		t.Errorf("presence was wrong %d times, e.g. %v", len(wrong), wrong[:min(3, len(wrong))])
	}

	// The slow node dies: its user leaves the fast node's view within the
	// TTL (its last heartbeat reads 4 s older there, so sooner).
	killed := time.Now()
	if err := slow.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for !slices.Equal(onlineUsers(t, fast.HTTPURL), []int64{1001, 2001}) {
		if time.Since(killed) > ttl+5*time.Second {
			t.Fatalf("the killed node's user still online after %v", time.Since(killed))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the killed node's user left after %v (presence.ttl %v)", time.Since(killed), ttl)
}
