package systest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// TestServerBounds: the HTTP server refuses header blocks and bodies over
// their limits, the gRPC server messages over its limit and clients that
// ping too often, and a WebSocket outlives the HTTP read timeout.
func TestServerBounds(t *testing.T) {
	n := MustStart(t, procEnv(t, "GATEWAY_AUTH_MODE=insecure", "GATEWAY_API_KEY="+apiKey,
		"GATEWAY_HTTP_MAX_HEADER_BYTES=4096", "GATEWAY_HTTP_MAX_BODY_BYTES=1024", "GATEWAY_HTTP_READ_TIMEOUT=1s",
		"GATEWAY_GRPC_MAX_RECV_MSG_BYTES=4096", "GATEWAY_GRPC_KEEPALIVE_MIN_TIME=1m"))

	t.Run("header block", func(t *testing.T) {
		req, _ := http.NewRequest("GET", n.HTTPURL+"/healthz", nil)
		req.Header.Set("X-Padding", strings.Repeat("x", 16<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("16 KiB header: %d, want 431", resp.StatusCode)
		}
	})
	t.Run("body", func(t *testing.T) {
		body := fmt.Sprintf(`{"user_id":1001,"user_name":%q,"house_id":3001,"reserve_time":%q}`, strings.Repeat("x", 2048), future(time.Hour))
		if code, out := call(t, "POST", n.HTTPURL+"/house/reserve", "", body); code != http.StatusRequestEntityTooLarge {
			t.Errorf("2 KiB body: %d %v, want 413", code, out)
		}
	})
	t.Run("gRPC message", func(t *testing.T) {
		_, err := housev1.NewHouseClient(dial(t, n.GRPCAddr)).ReserveHouse(context.Background(), &housev1.ReserveHouseRequest{
			UserId: 1001, UserName: strings.Repeat("x", 8<<10), HouseId: 3001, ReserveTime: future(time.Hour)})
		if status.Code(err) != codes.ResourceExhausted {
			t.Errorf("8 KiB request: %v, want ResourceExhausted", err)
		}
	})
	t.Run("gRPC ping flood", func(t *testing.T) {
		if code := pingFlood(t, n.GRPCAddr); code != http2.ErrCodeEnhanceYourCalm {
			t.Errorf("GOAWAY code %v, want ENHANCE_YOUR_CALM", code)
		}
	})
	t.Run("WebSocket outlives the read timeout", func(t *testing.T) {
		c := wsDial(t, n.HTTPURL, "user_id=1001")
		opened := time.Now()
		for time.Since(opened) < 2*time.Second { // twice http.read_timeout
			time.Sleep(2*time.Second - time.Since(opened))
		}
		code, out := call(t, "POST", n.HTTPURL+"/api/push", apiKey, `{"user_ids":[1001],"title":"t","content":"after the read timeout"}`)
		if code != 200 {
			t.Fatalf("push: %d %v", code, out)
		}
		if f := c.next(t); f.Type != 6 {
			t.Errorf("after the read timeout: %+v, want the push", f)
		}
	})
}

// pingFlood speaks HTTP/2 to a gRPC server directly and pings it without
// pause; it returns the error code of the GOAWAY the server sends.
func pingFlood(tb testing.TB, addr string) http2.ErrCode {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		tb.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		tb.Fatal(err)
	}
	for i := range 10 { // a few small frames: the socket buffers them
		if err := fr.WritePing(false, [8]byte{byte(i)}); err != nil {
			tb.Fatal(err)
		}
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			tb.Fatalf("no GOAWAY: %v", err)
		}
		if ga, ok := f.(*http2.GoAwayFrame); ok {
			return ga.ErrCode
		}
	}
}
