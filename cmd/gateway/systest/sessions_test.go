package systest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/pkg/jwtauth"
	"github.com/houseview/gateway/pkg/testenv"
)

// TestDisconnectAcrossNodes: POST /api/users/{id}/disconnect on one node
// closes the user's sessions on both nodes with 4003 and answers the
// count; until refuses new handshakes until then, and then lets them in.
func TestDisconnectAcrossNodes(t *testing.T) {
	env := procEnv(t, "GATEWAY_JWT_SECRET="+secret, "GATEWAY_API_KEY="+apiKey,
		"GATEWAY_PRESENCE_HEARTBEAT=300ms", "GATEWAY_PRESENCE_TTL=2s")
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	tok := mustSign(t, 1001, time.Hour)
	var sessions []*wsClient
	for _, n := range []*testenv.Gateway{a, a, b} {
		sessions = append(sessions, wsDial(t, n.HTTPURL, "token="+tok))
	}
	other := wsDial(t, b.HTTPURL, "token="+mustSign(t, 1002, time.Hour))
	path := a.HTTPURL + "/api/users/1001/disconnect"
	if code, _ := call(t, "POST", path, "", ""); code != http.StatusUnauthorized {
		t.Errorf("without the api key: %d, want 401", code)
	}
	if code, _ := call(t, "POST", path, tok, ""); code != http.StatusUnauthorized {
		t.Errorf("with a user token: %d, want 401", code)
	}
	until := time.Now().Add(3 * time.Second).Unix()
	code, out := call(t, "POST", path, apiKey, fmt.Sprintf(`{"until":%d}`, until))
	if diff := cmp.Diff(map[string]any{"closed": 3.0, "nodes": 2.0, "until": float64(until)}, out); code != 200 || diff != "" {
		t.Errorf("disconnect: %d (-want +got):\n%s", code, diff)
	}
	for i, s := range sessions {
		if c := s.closeCode(t); c != 4003 {
			t.Errorf("session %d closed with %d, want 4003", i, c)
		}
	}
	if code := wsStatus(t, b.HTTPURL, "token="+tok); code != http.StatusForbidden {
		t.Errorf("handshake while revoked: %d, want 403", code)
	}
	deadline := time.Unix(until, 0)
	for time.Now().Before(deadline) {
		time.Sleep(time.Until(deadline))
	}
	wsDial(t, b.HTTPURL, "token="+tok) // allowed again
	other.conn.WriteJSON(map[string]string{"action": "refresh", "token": mustSign(t, 1002, time.Hour)})
	if f := other.next(t); f.Event != "refreshed" {
		t.Errorf("another user's session: %+v", f)
	}
}

// closeCode reads until the connection ends and returns its close code.
func (c *wsClient) closeCode(tb testing.TB) int {
	tb.Helper()
	for {
		select {
		case _, ok := <-c.frames:
			if ok {
				continue
			}
			var ce *websocket.CloseError
			if err := <-c.end; errors.As(err, &ce) {
				return ce.Code
			}
			return 0
		case <-time.After(15 * time.Second):
			tb.Fatal("connection did not end")
		}
	}
}

// wsStatus is the HTTP status of a handshake (101 when it succeeds).
func wsStatus(tb testing.TB, base, query string) int {
	tb.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws?"+query, nil)
	if err == nil {
		conn.Close()
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		tb.Fatal(err)
	}
	return resp.StatusCode
}

func mustSign(tb testing.TB, user int64, ttl time.Duration) string {
	tb.Helper()
	tok, err := jwtauth.Sign([]byte(secret), user, time.Now(), ttl)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// TestSessionLimitSurvivesAKilledNode: with one session per user and the
// refuse policy, a second session is refused on the other node; once the
// node holding the first is killed (SIGKILL: nothing cleaned up), its
// session stops counting after presence.ttl and the user gets in again.
func TestSessionLimitSurvivesAKilledNode(t *testing.T) {
	env := sharedEnv(t, "GATEWAY_LIMITS_SESSIONS_PER_USER=1", "GATEWAY_LIMITS_SESSION_POLICY=refuse")
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	wsDial(t, a.HTTPURL, "user_id=1001")
	if code := wsStatus(t, b.HTTPURL, "user_id=1001"); code != http.StatusTooManyRequests {
		t.Fatalf("second session on the other node: %d, want 429", code)
	}
	if err := a.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	deadline := killed.Add(15 * time.Second)
	for wsStatus(t, b.HTTPURL, "user_id=1001") != http.StatusSwitchingProtocols {
		if time.Now().After(deadline) {
			t.Fatal("the killed node's session still counts after 15s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if took := time.Since(killed); took > 5*time.Second {
		t.Errorf("admitted again %v after the kill, want within presence.ttl (2s) and a refresh", took)
	}
}
