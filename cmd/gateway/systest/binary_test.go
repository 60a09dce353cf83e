package systest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// call sends a JSON request and decodes the JSON answer.
func call(tb testing.TB, method, url, token, body string) (int, map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("%s %s: non-JSON answer %q", method, url, raw)
	}
	return resp.StatusCode, out
}

func dial(tb testing.TB, addr string) *grpc.ClientConn {
	tb.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cc.Close() })
	return cc
}

func future(d time.Duration) string {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return time.Now().Add(d).In(loc).Format("2006-01-02 15:04:05")
}

// TestBinaryInsecureFlow drives the real binary over HTTP and gRPC as the
// README shows, then stops it with SIGTERM.
func TestBinaryInsecureFlow(t *testing.T) {
	env := procEnv(t, "GATEWAY_AUTH_MODE=insecure", "GATEWAY_REDIS_NAMESPACE=e2e")
	n := MustStart(t, env)

	body := fmt.Sprintf(`{
    "landlord_id": 2001,
    "user_id": 1001,
    "user_name": "张三",
    "house_id": 3001,
    "house_title": "精装修两室一厅",
    "reserve_time": %q
  }`, future(48*time.Hour))
	code, out := call(t, "POST", n.HTTPURL+"/house/reserve", "", body)
	if code != 201 {
		t.Fatalf("reserve: %d %v", code, out)
	}
	id := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
	code, out = call(t, "POST", fmt.Sprintf("%s/api/reservations/%d/confirm", n.HTTPURL, id), "", `{"landlord_id": 2001}`)
	if code != 200 || out["reservation"].(map[string]any)["status"] != "confirmed" {
		t.Fatalf("confirm: %d %v", code, out)
	}

	ctx := context.Background()
	cc := dial(t, n.GRPCAddr)
	hc, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hc.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("grpc health: %v %v", hc, err)
	}
	house := housev1.NewHouseClient(cc)
	got, err := house.GetReservation(ctx, &housev1.GetReservationRequest{ReservationId: id, UserId: 1001})
	if err != nil || got.GetReservation().GetStatus() != "confirmed" {
		t.Fatalf("grpc get: %v %v", got, err)
	}
	res, err := house.ReserveHouse(ctx, &housev1.ReserveHouseRequest{UserId: 1002, UserName: "李四", HouseId: 3001, ReserveTime: future(72 * time.Hour)})
	if err != nil {
		t.Fatalf("grpc reserve: %v", err)
	}
	if _, err := house.CancelReservation(ctx, &housev1.CancelReservationRequest{ReservationId: res.GetReservation().GetReservationId(), UserId: 1002}); err != nil {
		t.Fatalf("grpc cancel: %v", err)
	}

	// The landlord was told of both bookings and the cancel, the tenant of the confirm.
	rdb := redisFor(t, env)
	keys := redis.NewKeys("e2e", rdb.Options().DB)
	if got, _ := rdb.LLen(ctx, keys.Messages(2001)).Result(); got != 3 {
		t.Errorf("landlord has %d stored messages, want 3", got)
	}
	if got, _ := rdb.LLen(ctx, keys.Messages(1001)).Result(); got != 1 {
		t.Errorf("tenant has %d stored messages, want 1", got)
	}

	// The flow moved the node's metrics.
	metrics := scrape(t, n.HTTPURL+"/metrics", "")
	for _, want := range []string{
		`gateway_reservation_transitions_total{to="created"} 2`,
		`gateway_reservation_transitions_total{to="confirmed"} 1`,
		`gateway_reservation_transitions_total{to="cancelled"} 1`,
		`gateway_reminders_scheduled_total 2`,
		`gateway_messages_published_total{type="1"} 2`,
		`gateway_http_requests_total{code="201",method="POST",route="/house/reserve"} 1`,
		`gateway_grpc_requests_total{code="OK",method="/house.v1.House/GetReservation"} 1`,
		`gateway_pubsub_healthy 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	if err := n.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.Exited():
		if err := n.Err(); err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, n.Logs())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30s of SIGTERM")
	}
	if !strings.Contains(n.Logs(), `"msg":"stopped"`) {
		t.Errorf("no orderly stop in the log:\n%s", n.Logs())
	}
}

// TestBinaryJWT runs a jwt-mode node with tokens from `gateway token`.
func TestBinaryJWT(t *testing.T) {
	env := procEnv(t, "GATEWAY_JWT_SECRET="+secret, "GATEWAY_AUTH_MODE=jwt")
	n := MustStart(t, env)
	token := func(user string) string {
		cmd := exec.Command(binary, "token", "-user", user, "-ttl", "10m")
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gateway token: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	tenant, landlord := token("1001"), token("2001")

	body := fmt.Sprintf(`{"user_name":"张三","house_id":3001,"reserve_time":%q}`, future(5*time.Hour))
	if code, out := call(t, "POST", n.HTTPURL+"/house/reserve", "", body); code != 401 || out["error"].(map[string]any)["code"] != "unauthenticated" {
		t.Fatalf("reserve without token: %d %v", code, out)
	}
	if code, _ := call(t, "POST", n.HTTPURL+"/house/reserve", tenant, strings.Replace(body, "{", `{"user_id":1002,`, 1)); code != 403 {
		t.Fatalf("reserve for someone else: %d, want 403", code)
	}
	code, out := call(t, "POST", n.HTTPURL+"/house/reserve", tenant, body)
	if code != 201 {
		t.Fatalf("reserve with token: %d %v", code, out)
	}
	id := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))

	ctx := context.Background()
	house := housev1.NewHouseClient(dial(t, n.GRPCAddr))
	_, err := house.ConfirmReservation(ctx, &housev1.ConfirmReservationRequest{ReservationId: id})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("grpc confirm without token: %v", err)
	}
	asTenant := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tenant)
	if _, err := house.ConfirmReservation(asTenant, &housev1.ConfirmReservationRequest{ReservationId: id}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("grpc confirm as tenant: %v", err)
	}
	asLandlord := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+landlord)
	got, err := house.ConfirmReservation(asLandlord, &housev1.ConfirmReservationRequest{ReservationId: id})
	if err != nil || got.GetReservation().GetStatus() != "confirmed" {
		t.Fatalf("grpc confirm as landlord: %v %v", got, err)
	}
}

func TestBinaryRefusesToStartWithoutAuth(t *testing.T) {
	cmd := exec.Command(binary, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("serve without auth started:\n%s", out)
	}
	for _, want := range []string{"GATEWAY_AUTH_MODE", "GATEWAY_JWT_SECRET", "insecure"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("message does not mention %s:\n%s", want, out)
		}
	}
}

func TestBinaryMigrate(t *testing.T) {
	cmd := exec.Command(binary, "migrate")
	cmd.Env = procEnv(t, "GATEWAY_AUTH_MODE=insecure")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"seeded_houses":300`) {
		t.Errorf("migrate did not seed the demo houses:\n%s", out)
	}
	// A second run changes nothing.
	again := exec.Command(binary, "migrate")
	again.Env = cmd.Env
	out, err = again.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"seeded_houses":0`) || strings.Contains(string(out), "migration applied") {
		t.Errorf("second migrate: %v\n%s", err, out)
	}
}

// scrape reads a Prometheus text page.
func scrape(tb testing.TB, url, basicPassword string) string {
	tb.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if basicPassword != "" {
		req.SetBasicAuth("admin", basicPassword)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		tb.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// TestMetricsListener: with metrics.addr the page has a listener of its own
// without auth; on the HTTP port of a jwt node it needs operator credentials.
func TestMetricsListener(t *testing.T) {
	port := testenv.MustFreePort(t)
	n := MustStart(t, procEnv(t, "GATEWAY_JWT_SECRET="+secret, "GATEWAY_API_KEY="+apiKey,
		fmt.Sprintf("GATEWAY_METRICS_ADDR=127.0.0.1:%d", port)))
	if page := scrape(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), ""); !strings.Contains(page, "gateway_ws_connections") {
		t.Errorf("metrics listener page lacks gateway_ws_connections")
	}
	resp, err := http.Get(n.HTTPURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/metrics on the HTTP port with a metrics listener: %d, want 404", resp.StatusCode)
	}
	locked := MustStart(t, procEnv(t, "GATEWAY_JWT_SECRET="+secret, "GATEWAY_API_KEY="+apiKey))
	if resp, err := http.Get(locked.HTTPURL + "/metrics"); err != nil || resp.StatusCode != 401 {
		t.Errorf("jwt node /metrics without credentials: %v %v", resp, err)
	}
	if page := scrape(t, locked.HTTPURL+"/metrics", apiKey); !strings.Contains(page, "gateway_http_requests_total") {
		t.Errorf("jwt node /metrics with credentials lacks http counters")
	}
}

func TestMigrateWithoutDemoSeed(t *testing.T) {
	cmd := exec.Command(binary, "migrate")
	cmd.Env = procEnv(t, "GATEWAY_AUTH_MODE=insecure", "GATEWAY_MYSQL_SEED_DEMO=false")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"seeded_houses":0`) {
		t.Fatalf("migrate without seed: %v\n%s", err, out)
	}
}
