package ws_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/jwtauth"
	"github.com/houseview/gateway/pkg/protocol"
)

// jwtNode is a jwt-mode node whose users may be revoked through c's
// Revocations.
func jwtNode(tb testing.TB, c *cluster, id string, tune func(*ws.Options)) *node {
	tb.Helper()
	return startNode(tb, c, id, func(o *ws.Options) {
		o.Auth = auth.New(auth.Options{Mode: app.AuthJWT, Verify: jwtauth.NewVerifier([]byte(secret), nil).Claims,
			Revocations: coord.NewRevocations(redis.New(c.rdb, c.keys), time.Second)})
		if tune != nil {
			tune(o)
		}
	})
}

// tokenFor signs a token of user that expires after ttl (whole seconds).
func tokenFor(tb testing.TB, user int64, ttl time.Duration) (string, time.Time) {
	tb.Helper()
	now := time.Now()
	tok, err := jwtauth.Sign([]byte(secret), user, now, ttl)
	if err != nil {
		tb.Fatal(err)
	}
	return tok, time.Unix(now.Add(ttl).Unix(), 0)
}

// closedWith waits for the connection to end and returns its close code
// and text (0 when it ended without a close frame).
func (c *client) closedWith(tb testing.TB) (int, string) {
	tb.Helper()
	_, err := c.readUntilClosed(tb)
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text
	}
	return 0, err.Error()
}

func (c *client) send(tb testing.TB, v any) {
	tb.Helper()
	if err := c.conn.WriteJSON(v); err != nil {
		tb.Fatal(err)
	}
}

type closing struct {
	Code int
	Text string
}

func TestSessionEndsWhenItsTokenExpires(t *testing.T) {
	c := newCluster(t)
	a := jwtNode(t, c, "a", nil)
	tok, exp := tokenFor(t, 1001, 2*time.Second)
	cl := dial(t, a.url("token="+tok))
	if f := cl.connected(t); f.Exp != exp.Unix() {
		t.Errorf("connected exp %d, want %d", f.Exp, exp.Unix())
	}
	code, text := cl.closedWith(t)
	if diff := cmp.Diff(closing{protocol.CloseTokenExpired, "token expired"}, closing{code, text}); diff != "" {
		t.Errorf("close (-want +got):\n%s", diff)
	}
	if now := time.Now(); now.Before(exp) || now.After(exp.Add(2*time.Second)) {
		t.Errorf("closed at %v, want at the token's expiry %v", now, exp)
	}
	eventually(t, "counted", func() bool { return a.metrics.count("closed:"+ws.ReasonTokenExpired) == 1 })

	// Insecure mode has no tokens: no exp, no timer.
	i := startNode(t, c, "i", nil)
	if f := dial(t, i.url("user_id=1001")).connected(t); f.Exp != 0 {
		t.Errorf("insecure connected exp %d, want 0", f.Exp)
	}
}

func TestRefreshExtendsTheSession(t *testing.T) {
	c := newCluster(t)
	a := jwtNode(t, c, "a", nil)
	tok, exp := tokenFor(t, 1001, 2*time.Second)
	cl := dial(t, a.url("token="+tok))
	cl.connected(t)
	fresh, freshExp := tokenFor(t, 1001, time.Hour)
	cl.send(t, map[string]string{"action": "refresh", "token": fresh})
	if f := cl.next(t); f.Event != "refreshed" || f.Exp != freshExp.Unix() {
		t.Fatalf("after refresh: %+v, want refreshed with exp %d", f, freshExp.Unix())
	}
	// Past the old expiry the session still delivers.
	time.Sleep(time.Until(exp.Add(time.Second)))
	c.push(t, 1001, 1)
	if got := cl.seqs(t, 1); !cmp.Equal(got, []int64{1}) {
		t.Errorf("after the old expiry: %v", got)
	}
}

// TestRefreshWithoutExtension: a caching token source hands back the
// session's own token; the refresh is answered with the unchanged exp, the
// first time without counting against the frame rate. A valid token that
// expires earlier does not shorten the session. Repeating the same token
// over and over is charged like any costly frame.
func TestRefreshWithoutExtension(t *testing.T) {
	c := newCluster(t)
	a := jwtNode(t, c, "a", func(o *ws.Options) { o.FrameRate = 2 })
	tok, exp := tokenFor(t, 1001, time.Hour)
	cl := dial(t, a.url("token="+tok))
	cl.connected(t)
	shorter, _ := tokenFor(t, 1001, time.Minute)
	for _, token := range []string{tok, shorter, tok} { // free, charged, charged: within the rate of 2
		cl.send(t, map[string]string{"action": "refresh", "token": token})
		if f := cl.next(t); f.Event != "refreshed" || f.Exp != exp.Unix() {
			t.Fatalf("refresh: %+v, want refreshed with the unchanged exp %d", f, exp.Unix())
		}
	}
	if n := a.metrics.count("limited:" + ws.LimitFrames); n != 0 {
		t.Errorf("the frame limit refused %d refreshes", n)
	}
	cl.send(t, map[string]string{"action": "refresh", "token": tok})
	if f := cl.next(t); f.Event != "error" || f.Limit != ws.LimitFrames {
		t.Errorf("a fourth refresh within the second: %+v, want the frame limit's error", f)
	}
}

func TestRefreshRefusedChangesNothing(t *testing.T) {
	c := newCluster(t)
	a := jwtNode(t, c, "a", nil)
	tok, exp := tokenFor(t, 1001, 3*time.Second)
	cl := dial(t, a.url("token="+tok))
	cl.connected(t)
	other, _ := tokenFor(t, 1002, time.Hour)
	expired, err := jwtauth.Sign([]byte(secret), 1001, time.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, token := range []string{other, "abc.def.ghi", expired, ""} {
		cl.send(t, map[string]string{"action": "refresh", "token": token})
		f := cl.next(t)
		got = append(got, f.Event+" "+f.Code)
	}
	want := []string{"error permission_denied", "error unauthenticated", "error unauthenticated", "error unauthenticated"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refusals (-want +got):\n%s", diff)
	}
	code, _ := cl.closedWith(t)
	if now := time.Now(); code != protocol.CloseTokenExpired || now.Before(exp) {
		t.Errorf("closed with %d at %v, want 4001 at the old expiry %v", code, now, exp)
	}
}
