package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/metrics"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/subscribe"
	"github.com/houseview/gateway/app/reservation"
	"github.com/houseview/gateway/app/ws"
)

// wait bounds every wait for a condition.
const wait = 10 * time.Second

// flowNode is one node's real components sharing one Metrics: publisher,
// reservation service, subscriber, hub and REST handler with /ws and
// /metrics, on a loopback port.
type flowNode struct {
	env *apptest.Env
	srv *httptest.Server
}

func startFlowNode(tb testing.TB) *flowNode {
	tb.Helper()
	env := apptest.MustEnv(tb)
	m := metrics.New()
	pub := redis.NewPublisher(redis.New(env.Redis, env.Keys), redis.PublisherOptions{Metrics: m})
	svc := reservation.New(env.Store, pub, reservation.Options{Location: env.Loc, Metrics: m})
	sub := subscribe.New(redis.New(env.Redis, env.Keys), subscribe.Options{NodeID: "m1", ProbeInterval: 100 * time.Millisecond, Metrics: m})
	streams := redis.NewStreams(redis.New(env.Redis, env.Keys), redis.StreamsOptions{FlushInterval: 50 * time.Millisecond, HistoryTTL: time.Hour})
	hub := ws.New(streams, sub, nil, ws.Options{NodeID: "m1", Auth: apptest.NewAuth(app.AuthInsecure, nil, ""), Metrics: m})
	ctx, cancel := context.WithCancel(context.Background())
	if err := sub.Start(ctx, hub); err != nil {
		tb.Fatal(err)
	}
	m.WatchSubscriber(sub)
	m.WatchSessions(hub.Connections)
	go sub.Probe(ctx)
	go streams.Run(ctx)

	gin.SetMode(gin.TestMode)
	e := httpapi.NewHandler(svc, httpapi.Options{Auth: apptest.NewAuth(app.AuthInsecure, nil, ""), Metrics: m})
	e.GET("/ws", gin.WrapH(hub))
	e.GET("/metrics", gin.WrapH(m.Handler()))
	srv := httptest.NewServer(e)
	tb.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		hub.Close()
		cancel()
		sub.Close()
	})
	return &flowNode{env: env, srv: srv}
}

// post sends a JSON body and checks the status.
func (n *flowNode) post(tb testing.TB, path string, body any, status int, reply any) {
	tb.Helper()
	b, _ := json.Marshal(body)
	resp, err := n.srv.Client().Post(n.srv.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		tb.Fatalf("POST %s: %d, want %d: %s", path, resp.StatusCode, status, raw)
	}
	if reply != nil {
		if err := json.Unmarshal(raw, reply); err != nil {
			tb.Fatal(err)
		}
	}
}

// scrape returns every sample of GET /metrics, by series.
func (n *flowNode) scrape(tb testing.TB) map[string]string {
	tb.Helper()
	resp, err := n.srv.Client().Get(n.srv.URL + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /metrics: %d %s", resp.StatusCode, raw)
	}
	out := map[string]string{}
	for line := range strings.Lines(string(raw)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			if series, v, ok := strings.Cut(line, " "); ok {
				out[series] = v
			}
		}
	}
	return out
}

// expect scrapes until every series in want has its value, and fails with
// the difference when that does not happen within wait: the hub counts a
// delivery after the socket write, which the client may see first.
func (n *flowNode) expect(tb testing.TB, want map[string]string) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for {
		all := n.scrape(tb)
		got := map[string]string{}
		for series := range want {
			got[series] = all[series]
		}
		diff := cmp.Diff(want, got)
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("metrics (-want +got):\n%s", diff)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readFrame reads one JSON frame from conn.
func readFrame(tb testing.TB, conn *websocket.Conn) map[string]any {
	tb.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	var f map[string]any
	if err := conn.ReadJSON(&f); err != nil {
		tb.Fatal(err)
	}
	return f
}

// TestFlowMovesMetrics runs a booking through the real service, Redis, hub
// and HTTP stack and reads the counters on /metrics: the landlord, online
// over WebSocket, gets the booking live; the tenant, offline, gets the
// confirmation on connecting (a replay, not timed).
func TestFlowMovesMetrics(t *testing.T) {
	n := startFlowNode(t)
	wsURL := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/ws?user_id="
	landlord, _, err := websocket.DefaultDialer.Dial(wsURL+"2001", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer landlord.Close()
	if f := readFrame(t, landlord); f["event"] != "connected" {
		t.Fatalf("first frame %v", f)
	}
	n.expect(t, map[string]string{"gateway_ws_connections": "1", "gateway_ws_sessions_opened_total": "1"})
	// Publish times are in milliseconds: what is published from the
	// millisecond after the handshake on is timed.
	for now := time.Now().UnixMilli(); time.Now().UnixMilli() <= now; {
		runtime.Gosched()
	}

	var created struct{ Reservation app.ReservationJSON }
	n.post(t, "/house/reserve", map[string]any{"user_id": 1001, "user_name": "张三", "house_id": 3001,
		"reserve_time": n.env.ReserveTime(48 * time.Hour)}, http.StatusCreated, &created)
	if f := readFrame(t, landlord); f["type"] != float64(app.MsgReservationCreated) {
		t.Fatalf("landlord got %v, want the type 1 message", f)
	}
	id := created.Reservation.ReservationID
	n.post(t, fmt.Sprintf("/api/reservations/%d/confirm", id), map[string]any{"landlord_id": 2001}, http.StatusOK, nil)
	n.post(t, fmt.Sprintf("/api/reservations/%d/confirm", id), map[string]any{"landlord_id": 2001}, http.StatusConflict, nil)

	n.expect(t, map[string]string{
		`gateway_messages_published_total{type="1"}`:                                                       "1",
		`gateway_messages_published_total{type="2"}`:                                                       "1",
		"gateway_messages_delivered_total":                                                                 "1",
		"gateway_messages_replayed_total":                                                                  "0",
		"gateway_publish_to_deliver_seconds_count":                                                         "1",
		`gateway_reservation_transitions_total{to="created"}`:                                              "1",
		`gateway_reservation_transitions_total{to="confirmed"}`:                                            "1",
		`gateway_http_requests_total{code="201",method="POST",route="/house/reserve"}`:                     "1",
		`gateway_http_requests_total{code="200",method="POST",route="/api/reservations/:id/confirm"}`:      "1",
		`gateway_http_requests_total{code="409",method="POST",route="/api/reservations/:id/confirm"}`:      "1",
		`gateway_http_request_duration_seconds_count{method="POST",route="/api/reservations/:id/confirm"}`: "2",
		"gateway_pubsub_healthy":                                                                           "1",
		"gateway_pubsub_resubscriptions_total":                                                             "0",
	})

	// The tenant connects after the confirmation: it is replayed, not timed.
	tenant, _, err := websocket.DefaultDialer.Dial(wsURL+"1001", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tenant.Close()
	if f := readFrame(t, tenant); f["event"] != "connected" {
		t.Fatalf("first frame %v", f)
	}
	if f := readFrame(t, tenant); f["type"] != float64(app.MsgReservationConfirmed) {
		t.Fatalf("tenant got %v, want the type 2 message", f)
	}
	// Both leave with a close frame.
	for _, c := range []*websocket.Conn{landlord, tenant} {
		if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")); err != nil {
			t.Fatal(err)
		}
	}
	n.expect(t, map[string]string{
		"gateway_messages_delivered_total":                                      "2",
		"gateway_messages_replayed_total":                                       "1",
		"gateway_publish_to_deliver_seconds_count":                              "1",
		"gateway_ws_connections":                                                "0",
		`gateway_ws_sessions_closed_total{reason="client"}`:                     "2",
		`gateway_http_requests_total{code="101",method="GET",route="/ws"}`:      "2",
		`gateway_http_request_duration_seconds_count{method="GET",route="/ws"}`: "",
	})
}
