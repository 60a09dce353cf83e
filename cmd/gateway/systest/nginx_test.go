package systest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// lb is Debian's nginx on loopback running the repo's access log and
// server blocks (deploy/nginx/gateway-log.conf, gateway-http.conf and
// gateway-grpc.conf) in front of nodes, on ports chosen at random.
type lb struct {
	HTTPURL   string
	GRPCAddr  string
	accessLog *testenv.SyncBuffer // what gateway-log.conf wrote (to nginx's stdout)
}

// MustStartNginx writes a top-level config with the nodes as upstreams and
// includes the repo's access log and server block bodies verbatim.
func MustStartNginx(tb testing.TB, nodes ...*testenv.Gateway) *lb {
	tb.Helper()
	var httpUp, grpcUp strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&httpUp, "        server %s;\n", strings.TrimPrefix(n.HTTPURL, "http://"))
		fmt.Fprintf(&grpcUp, "        server %s;\n", n.GRPCAddr)
	}
	upstreams := fmt.Sprintf(`    upstream gateway_http {
%s        keepalive 8;
    }
    upstream gateway_grpc {
%s    }
`, httpUp.String(), grpcUp.String())
	return mustStartNginxConf(tb, upstreams, "gateway_http", "gateway_grpc")
}

// mustStartNginxConf runs nginx with the repo's files, http (extra
// directives of the http block: upstreams, a resolver) and the targets of
// the server blocks ($gateway_http, $gateway_grpc).
func mustStartNginxConf(tb testing.TB, http, httpTarget, grpcTarget string) *lb {
	tb.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx" // Debian's; .ci/run installs nginx-light
	}
	dir := tb.TempDir()
	deploy, err := filepath.Abs("../../../deploy/nginx")
	if err != nil {
		tb.Fatal(err)
	}
	httpPort, grpcPort := testenv.MustFreePort(tb), testenv.MustFreePort(tb)
	conf := fmt.Sprintf(`master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
    include %[6]s/gateway-log.conf;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
    server {
        listen 127.0.0.1:%[4]d;
        set $gateway_http %[3]s;
        include %[6]s/gateway-http.conf;
    }
    server {
        listen 127.0.0.1:%[5]d http2;
        set $gateway_grpc %[7]s;
        include %[6]s/gateway-grpc.conf;
    }
}
`, dir, http, httpTarget, httpPort, grpcPort, deploy, grpcTarget)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	accessLog := &testenv.SyncBuffer{}
	cmd.Stdout = accessLog
	out, err := exec.Command(bin, "-t", "-p", dir, "-c", path).CombinedOutput()
	if err != nil {
		tb.Fatalf("nginx -t: %v\n%s", err, out)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start nginx (%s): %v", bin, err)
	}
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	l := &lb{HTTPURL: fmt.Sprintf("http://127.0.0.1:%d", httpPort), GRPCAddr: fmt.Sprintf("127.0.0.1:%d", grpcPort), accessLog: accessLog}
	testenv.MustWaitReady(tb, l.HTTPURL)
	return l
}

// TestThroughNginx drives the whole flow through the load balancer: three
// nodes, reserve -> notify -> confirm over REST and WebSocket, gRPC health,
// then a node stopped with SIGTERM mid-stream whose client resumes through
// the balancer with last_seq and ends with exactly 1..N.
func TestThroughNginx(t *testing.T) {
	const n = 300
	env := sharedEnv(t, "GATEWAY_WS_DRAIN_WINDOW=500ms")
	nodes := map[string]*testenv.Gateway{}
	var list []*testenv.Gateway
	for _, id := range []string{"n1", "n2", "n3"} {
		p := MustStart(t, withNode(env, id))
		nodes[id] = p
		list = append(list, p)
	}
	lb := MustStartNginx(t, list...)

	landlord := wsDial(t, lb.HTTPURL, "user_id=2001")
	body := fmt.Sprintf(`{"landlord_id":2001,"user_id":1001,"user_name":"张三","house_id":3001,"house_title":"精装修两室一厅","reserve_time":%q}`, future(30*time.Hour))
	code, out := call(t, "POST", lb.HTTPURL+"/house/reserve", "", body)
	if code != 201 {
		t.Fatalf("reserve via nginx: %d %v", code, out)
	}
	id := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
	if f := landlord.next(t); f.Type != 1 {
		t.Fatalf("landlord via nginx got %+v", f)
	}
	tenant := wsDial(t, lb.HTTPURL, "user_id=1001")
	if code, out := call(t, "POST", fmt.Sprintf("%s/api/reservations/%d/confirm", lb.HTTPURL, id), "", `{"landlord_id":2001}`); code != 200 {
		t.Fatalf("confirm via nginx: %d %v", code, out)
	}
	if f := tenant.next(t); f.Type != 2 {
		t.Fatalf("tenant via nginx got %+v", f)
	}
	hc, err := healthpb.NewHealthClient(dial(t, lb.GRPCAddr)).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || hc.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("grpc health via nginx: %v %v", hc, err)
	}

	// A stream to user 5005 through the balancer; stop its node mid-stream.
	streamer := wsDialFrame(t, lb.HTTPURL, "user_id=5005")
	pushed := make(chan error, 1)
	go func() {
		for i := range n {
			if err := pushRetrying(lb.HTTPURL, 5005, fmt.Sprintf("stream-%d", i)); err != nil {
				pushed <- err
				return
			}
		}
		pushed <- nil
	}()
	var got []int64
	for len(got) < 50 {
		got = append(got, streamer.client.next(t).Seq)
	}
	victim := nodes[streamer.nodeID]
	if err := victim.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	got = append(got, streamer.client.rest(t)...)
	again := wsDialFrame(t, lb.HTTPURL, fmt.Sprintf("user_id=5005&last_seq=%d", got[len(got)-1]))
	if again.nodeID == streamer.nodeID {
		t.Fatalf("resumed on the stopping node %s", again.nodeID)
	}
	if err := <-pushed; err != nil {
		t.Fatal(err)
	}
	for len(got) < n {
		got = append(got, again.client.next(t).Seq)
	}
	for i, seq := range got {
		if seq != int64(i+1) {
			t.Fatalf("seq %d at position %d", seq, i)
		}
	}
	select {
	case <-victim.Exited():
		if err := victim.Err(); err != nil {
			t.Fatalf("stopped node exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("stopped node did not exit")
	}
}

// framedClient is a client with the node its connected frame named.
type framedClient struct {
	client *wsClient
	nodeID string
}

func wsDialFrame(tb testing.TB, base, query string) framedClient {
	tb.Helper()
	c := wsDialRaw(tb, base, query)
	first := c.next(tb)
	if first.Event != "connected" {
		tb.Fatalf("first frame %+v", first)
	}
	return framedClient{client: c, nodeID: first.NodeID}
}

// pushRetrying pushes one message the way a careful backend does: with an
// idempotency key, retrying transport errors and 5xx answers (a node going
// away mid-request) for up to 5 s, until it is stored exactly once.
func pushRetrying(base string, user int64, key string) error {
	return pushRetryingFor(base, user, key, 5*time.Second)
}

// pushPatiently is pushRetrying for up to 60 s: long enough to ride out a
// Redis failover.
func pushPatiently(base string, user int64, key string) error {
	return pushRetryingFor(base, user, key, 60*time.Second)
}

// pushRetryingFor pushes one message with an idempotency key, retrying
// transport errors and 5xx answers with a growing pause (20 ms more each
// time, at most 500 ms) until it is stored or within has passed.
func pushRetryingFor(base string, user int64, key string, within time.Duration) error {
	return pushUsersRetryingFor(base, []int64{user}, key, key, within)
}

// pushUsersRetryingFor is pushRetryingFor of one message with content to
// several users.
func pushUsersRetryingFor(base string, users []int64, content, key string, within time.Duration) error {
	client := &http.Client{Timeout: 10 * time.Second}
	ids, _ := json.Marshal(users)
	body := fmt.Sprintf(`{"user_ids":%s,"title":"t","content":%q,"idempotency_key":%q}`, ids, content, key)
	var last error
	deadline := time.Now().Add(within)
	for attempt := 1; ; attempt++ {
		req, _ := http.NewRequest("POST", base+"/api/push", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			if resp.StatusCode < 500 {
				return fmt.Errorf("push %s: status %d", key, resp.StatusCode)
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("push %s: gave up after %d attempts: %v", key, attempt, last)
		}
		time.Sleep(min(time.Duration(attempt)*20*time.Millisecond, 500*time.Millisecond))
	}
}
