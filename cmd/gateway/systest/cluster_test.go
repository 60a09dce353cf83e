package systest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc/metadata"

	"github.com/houseview/gateway/pkg/client"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// wsFrame is what the e2e clients read.
type wsFrame struct {
	Event  string `json:"event"`
	Seq    int64  `json:"seq"`
	Type   int    `json:"type"`
	UserID int64  `json:"user_id"`
	NodeID string `json:"node_id"`
	Exp    int64  `json:"exp"`
	Epoch  string `json:"epoch"`
	Code   string `json:"code"`
	Unseen int64  `json:"unseen"`
	Unread int64  `json:"unread"`
}

// wsClient reads frames: inbox frames into inboxes, the others into
// frames.
type wsClient struct {
	conn    *websocket.Conn
	frames  chan wsFrame
	inboxes chan wsFrame
	end     chan error
}

func wsDial(tb testing.TB, base, query string) *wsClient {
	tb.Helper()
	c := wsDialRaw(tb, base, query)
	first := c.next(tb)
	if first.Event != "connected" {
		tb.Fatalf("first frame %+v", first)
	}
	return c
}

// wsDialRaw connects and starts reading; the connected frame is left to the caller.
func wsDialRaw(tb testing.TB, base, query string) *wsClient {
	tb.Helper()
	url := "ws" + strings.TrimPrefix(base, "http") + "/ws?" + query
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	c := &wsClient{conn: conn, frames: make(chan wsFrame, 10000), inboxes: make(chan wsFrame, 10000), end: make(chan error, 1)}
	go func() {
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				c.end <- err
				close(c.frames)
				return
			}
			var f wsFrame
			_ = json.Unmarshal(b, &f)
			if f.Event == "inbox" {
				c.inboxes <- f
				continue
			}
			c.frames <- f
		}
	}()
	tb.Cleanup(func() { conn.Close() })
	return c
}

func (c *wsClient) next(tb testing.TB) wsFrame {
	tb.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			tb.Fatalf("connection ended: %v", <-c.end)
		}
		return f
	case <-time.After(15 * time.Second):
		tb.Fatal("no frame within 15s")
	}
	return wsFrame{}
}

// sharedEnv is the environment of a cluster: every node uses one database
// and one Redis DB.
func sharedEnv(tb testing.TB, extra ...string) []string {
	return procEnv(tb, append([]string{"GATEWAY_AUTH_MODE=insecure", "GATEWAY_API_KEY=" + apiKey,
		"GATEWAY_PRESENCE_HEARTBEAT=300ms", "GATEWAY_PRESENCE_TTL=2s", "GATEWAY_WS_DRAIN_WINDOW=1s"}, extra...)...)
}

func withNode(env []string, id string) []string {
	return append(slices.Clone(env), "GATEWAY_NODE_ID="+id)
}

func TestClusterReservationFlowOverWebSocket(t *testing.T) {
	env := sharedEnv(t)
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	tenant := wsDial(t, a.HTTPURL, "user_id=1001")
	landlord := wsDial(t, b.HTTPURL, "user_id=2001")

	body := fmt.Sprintf(`{"landlord_id":2001,"user_id":1001,"user_name":"张三","house_id":3001,"house_title":"精装修两室一厅","reserve_time":%q}`, future(30*time.Hour))
	code, out := call(t, "POST", a.HTTPURL+"/house/reserve", "", body)
	if code != 201 {
		t.Fatalf("reserve: %d %v", code, out)
	}
	id := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
	if f := landlord.next(t); f.Type != 1 || f.Seq != 1 || f.UserID != 2001 {
		t.Fatalf("landlord on node b got %+v, want type 1", f)
	}
	house := housev1.NewHouseClient(dial(t, b.GRPCAddr))
	if _, err := house.ConfirmReservation(context.Background(), &housev1.ConfirmReservationRequest{ReservationId: id, LandlordId: 2001}); err != nil {
		t.Fatal(err)
	}
	if f := tenant.next(t); f.Type != 2 || f.Seq != 1 {
		t.Fatalf("tenant on node a got %+v, want type 2", f)
	}

	// Presence is cluster-wide.
	_, online := call(t, "GET", b.HTTPURL+"/api/websocket/online-users", "", "")
	if online["count"] != float64(2) {
		t.Errorf("online users %v", online)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, stats := call(t, "GET", a.HTTPURL+"/api/websocket/stats", "", "")
		if stats["total_connections"] == float64(2) && len(stats["nodes"].([]any)) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats %v", stats)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Server push over gRPC reaches the landlord too.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+apiKey)
	if _, err := house.Push(ctx, &housev1.PushRequest{UserIds: []int64{2001}, Title: "hi", Content: "there"}); err != nil {
		t.Fatal(err)
	}
	if f := landlord.next(t); f.Type != 6 || f.Seq != 2 {
		t.Fatalf("pushed frame %+v", f)
	}
}

// TestClusterKilledNodeLosesNothing kills a node with SIGKILL while pushes
// flow to its client; the client resumes on the other node with last_seq and
// has exactly 1..N, and the dead node's users leave presence.
func TestClusterKilledNodeLosesNothing(t *testing.T) {
	const n = 400
	env := sharedEnv(t)
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	got := collect(MustDialClient(t, client.Options{URLs: []string{a.HTTPURL, b.HTTPURL}, UserID: 1001}))
	wsDial(t, a.HTTPURL, "user_id=1002") // a bystander, only on a

	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			if err := pushRetrying(b.HTTPURL, 1001, fmt.Sprintf("kill-%d", i)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	got.count(t, 100)
	if err := a.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	checkExactlyOnce(t, got.count(t, n), keys("kill", 0, n), 1)

	// 1002 was only on the killed node: gone once its heartbeat expires.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, online := call(t, "GET", b.HTTPURL+"/api/websocket/online-users", "", "")
		users := online["users"].([]any)
		if len(users) == 1 && users[0] == float64(1001) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("online users after the kill: %v", online)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClusterSIGTERMDrains: a stopping node turns not-ready, closes its
// sessions with 1001, and its client resumes on the other node.
func TestClusterSIGTERMDrains(t *testing.T) {
	env := sharedEnv(t, "GATEWAY_WS_DRAIN_WINDOW=2s")
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	var clients []*wsClient
	for u := 1; u <= 4; u++ {
		clients = append(clients, wsDial(t, a.HTTPURL, fmt.Sprintf("user_id=%d", u)))
	}
	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(a.HTTPURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 503 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz did not turn 503 while draining")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, cl := range clients {
		cl.rest(t)
		err := <-cl.end
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 1001 {
			t.Errorf("client %d ended with %v, want 1001", i, err)
		}
	}
	select {
	case <-a.Exited():
		if err := a.Err(); err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("node did not exit")
	}
	// What was sent while it drained is waiting on the other node.
	code, _ := call(t, "POST", b.HTTPURL+"/api/push", apiKey, `{"user_ids":[1],"title":"t","content":"after"}`)
	if code != 200 {
		t.Fatal(code)
	}
	again := wsDial(t, b.HTTPURL, "user_id=1&last_seq=0")
	if f := again.next(t); f.Seq != 1 {
		t.Fatalf("resumed frame %+v", f)
	}
}

// rest returns the seqs of the frames left until the connection ends,
// failing if it does not end within 30 s.
func (c *wsClient) rest(tb testing.TB) []int64 {
	tb.Helper()
	var seqs []int64
	deadline := time.After(30 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return seqs
			}
			if f.Event == "" {
				seqs = append(seqs, f.Seq)
			}
		case <-deadline:
			tb.Fatal("the connection did not end within 30s")
		}
	}
}
