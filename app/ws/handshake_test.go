package ws_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/jwtauth"
	"github.com/houseview/gateway/pkg/protocol"
)

const secret = "0123456789abcdef0123456789abcdef"

func token(tb testing.TB, user int64) string {
	tb.Helper()
	tok, err := jwtauth.Sign([]byte(secret), user, time.Now(), time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// handshake dials and returns the HTTP status of a refused upgrade (101 on success).
func handshake(tb testing.TB, url string, header http.Header) int {
	tb.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(url, header)
	if err == nil {
		conn.Close()
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	return resp.StatusCode
}

func TestHandshake(t *testing.T) {
	c := newCluster(t)
	insecure := startNode(t, c, "i", func(o *ws.Options) { o.AllowedOrigins = []string{"https://app.example.com"} })
	jwt := startNode(t, c, "j", func(o *ws.Options) {
		o.Auth = apptest.NewAuth(app.AuthJWT, []byte(secret), "")
	})
	bearer := http.Header{"Authorization": {"Bearer " + token(t, 1001)}}
	host := strings.TrimPrefix(insecure.srv.URL, "http://")
	tests := []struct {
		name   string
		url    string
		header http.Header
		want   int
	}{
		{"insecure user", insecure.url("user_id=1001"), nil, 101},
		{"insecure no user", insecure.url(""), nil, 400},
		{"insecure bad user", insecure.url("user_id=abc"), nil, 400},
		{"bad last_seq", insecure.url("user_id=1&last_seq=-4"), nil, 400},
		{"resume with epoch", insecure.url("user_id=1&last_seq=4&epoch=k3x9"), nil, 101},
		{"epoch without last_seq", insecure.url("user_id=1&epoch=k3x9"), nil, 400},
		{"bad epoch", insecure.url("user_id=1&last_seq=4&epoch=a-b"), nil, 400},
		{"acking session", insecure.url("user_id=1&ack=1"), nil, 101},
		{"bad ack", insecure.url("user_id=1&ack=yes"), nil, 400},
		{"same-host origin", insecure.url("user_id=1"), http.Header{"Origin": {"http://" + host}}, 101},
		{"allowed origin", insecure.url("user_id=1"), http.Header{"Origin": {"https://app.example.com"}}, 101},
		{"foreign origin", insecure.url("user_id=1"), http.Header{"Origin": {"https://evil.example"}}, 403},
		{"jwt query token", jwt.url("token=" + token(t, 1001)), nil, 101},
		{"jwt header token", jwt.url(""), bearer, 101},
		{"jwt no token", jwt.url("user_id=1001"), nil, 401},
		{"jwt bad token", jwt.url("token=abc.def.ghi"), nil, 401},
		{"jwt other user", jwt.url("user_id=1002&token=" + token(t, 1001)), nil, 403},
	}
	var got, want []string
	for _, tt := range tests {
		got = append(got, tt.name+": "+http.StatusText(handshake(t, tt.url, tt.header)))
		want = append(want, tt.name+": "+http.StatusText(tt.want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("handshakes (-want +got):\n%s", diff)
	}
	cl := dial(t, jwt.url("token="+token(t, 1001)))
	if f := cl.connected(t); f.UserID != 1001 || f.NodeID != "j" {
		t.Errorf("jwt session %+v", f)
	}
}

func TestBadFramesKeepTheSession(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", nil)
	cl := dial(t, a.url("user_id=1001"))
	cl.connected(t)
	c.push(t, 1001, 2)
	cl.seqs(t, 2)
	for _, bad := range []string{`not json`, `{"action":"subscribe"}`, `{"action":"ack"}`, `{"action":"ack","seq":99}`, `[1,2]`} {
		if err := cl.conn.WriteMessage(websocket.TextMessage, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		if f := cl.next(t); f.Event != "error" || f.Code != "invalid_argument" {
			t.Errorf("after %s: %+v, want an error frame", bad, f)
		}
	}
	if err := cl.conn.WriteMessage(websocket.BinaryMessage, []byte(`{"action":"ack","seq":2}`)); err != nil {
		t.Fatal(err)
	}
	if f := cl.next(t); f.Event != "error" || f.Code != "invalid_argument" || !strings.Contains(f.Message, "binary") {
		t.Errorf("after a binary frame: %+v, want an error frame naming binary frames", f)
	}
	cl.ack(t, 2) // a good ack gets no answer
	c.push(t, 1001, 1)
	if got := cl.seqs(t, 1); !cmp.Equal(got, []int64{3}) {
		t.Fatalf("after bad frames: %v", got)
	}
	if n := a.metrics.count("refused"); n != 6 {
		t.Errorf("refused frames counted %d, want 6", n)
	}

	// A frame over the limit closes with 1009.
	if err := cl.conn.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("a", ws.DefaultMaxMessageSize+1))); err != nil {
		t.Fatal(err)
	}
	_, err := cl.readUntilClosed(t)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != protocol.CloseTooBig {
		t.Fatalf("oversize frame ended with %v, want close 1009", err)
	}
}

// TestAckAdvancesCursor: an ack moves the delivered cursor even before the
// writes are counted, and never backwards.
func TestAckAdvancesCursor(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", nil)
	cl := dial(t, a.url("user_id=1001"))
	cl.connected(t)
	c.push(t, 1001, 4)
	cl.seqs(t, 4)
	cl.ack(t, 4)
	cl.ack(t, 2)
	eventually(t, "cursor at 4", func() bool {
		return c.cursor(t, 1001) == 4
	})
}

// TestDeliveredCursorOfAckingSessions: a session that acknowledges (ack=1,
// or from its first ack frame on) advances the delivered cursor by its
// acks only; one that never acks advances it by what was written to its
// socket. A new session without last_seq gets what follows the cursor.
func TestDeliveredCursorOfAckingSessions(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", nil)

	acking := dial(t, a.url("user_id=1001&ack=1"))
	acking.connected(t)
	c.push(t, 1001, 5)
	acking.seqs(t, 5)
	acking.ack(t, 2)
	eventually(t, "cursor at the ack", func() bool { return c.cursor(t, 1001) == 2 })
	acking.conn.Close()
	eventually(t, "session gone", func() bool { return a.hub.Connections() == 0 })
	next := dial(t, a.url("user_id=1001"))
	if f := next.connected(t); f.LastSeq != 2 {
		t.Fatalf("connected %+v, want the replay after the acked seq 2", f)
	}
	if got := next.seqs(t, 3); !cmp.Equal(got, span(3, 5)) {
		t.Fatalf("after an acking session: %v, want 3..5", got)
	}
	// next never acks: its writes move the cursor.
	eventually(t, "cursor at the last write", func() bool { return c.cursor(t, 1001) == 5 })
}

// TestRefusalsUseTheErrorFormat: every refused handshake, gorilla's own
// refusals included (a foreign origin, a request that is no upgrade),
// answers in the one error format.
func TestRefusalsUseTheErrorFormat(t *testing.T) {
	c := newCluster(t)
	n := startNode(t, c, "f", nil)
	tests := []struct {
		name   string
		header http.Header
		query  string
		status int
		code   string
	}{
		{"foreign origin", http.Header{"Origin": {"https://evil.example"}}, "user_id=1", 403, "permission_denied"},
		{"no user", nil, "", 400, "invalid_argument"},
		{"bad resume", nil, "user_id=1&last_seq=x", 400, "invalid_argument"},
	}
	for _, tt := range tests {
		_, resp, err := websocket.DefaultDialer.Dial(n.url(tt.query), tt.header)
		if err == nil || resp == nil {
			t.Fatalf("%s: dial succeeded", tt.name)
		}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Errorf("%s: body is not the error format: %v", tt.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || body.Error.Code != tt.code || body.Error.Message == "" ||
			resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s: %d %+v (%s), want %d %s", tt.name, resp.StatusCode, body.Error, resp.Header.Get("Content-Type"), tt.status, tt.code)
		}
	}
	// Not an upgrade at all: gorilla refuses, in the same format.
	resp, err := http.Get(n.srv.URL + "/ws?user_id=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 400 || body["error"]["code"] != "invalid_argument" {
		t.Errorf("plain GET: %d %v (%v)", resp.StatusCode, body, err)
	}
}
