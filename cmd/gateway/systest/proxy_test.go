package systest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/pkg/testenv"
)

// TestTrustedProxyOriginCheck: a browser's handshake forwarded by a proxy
// that rewrote Host passes the origin check when the node trusts the proxy
// (http.trusted_proxies) and the proxy names the browser's host in
// X-Forwarded-Host or Forwarded; the same headers from a peer the node does
// not trust are ignored.
func TestTrustedProxyOriginCheck(t *testing.T) {
	env := sharedEnv(t)
	trusting := MustStart(t, append(withNode(env, "trusting"), "GATEWAY_HTTP_TRUSTED_PROXIES=10.0.0.0/8,127.0.0.0/8"))
	untrusting := MustStart(t, withNode(env, "untrusting"))
	const origin = "https://gateway.example:8443"
	tests := []struct {
		name   string
		node   *testenv.Gateway
		header map[string]string
		want   int
	}{
		{"trusted, X-Forwarded-Host", trusting, map[string]string{"X-Forwarded-Host": "gateway.example:8443"}, http.StatusSwitchingProtocols},
		{"trusted, Forwarded host=", trusting, map[string]string{"Forwarded": `for=192.0.2.1;host="gateway.example:8443";proto=https`}, http.StatusSwitchingProtocols},
		{"trusted, without forwarding headers", trusting, nil, http.StatusForbidden},
		{"trusted, another host", trusting, map[string]string{"X-Forwarded-Host": "other.example:8443"}, http.StatusForbidden},
		{"untrusted, X-Forwarded-Host", untrusting, map[string]string{"X-Forwarded-Host": "gateway.example:8443"}, http.StatusForbidden},
		{"untrusted, Forwarded host=", untrusting, map[string]string{"Forwarded": "host=gateway.example:8443"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Origin": {origin}}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			url := "ws" + strings.TrimPrefix(tt.node.HTTPURL, "http") + "/ws?user_id=1001"
			conn, resp, err := websocket.DefaultDialer.Dial(url, h)
			if conn != nil {
				conn.Close()
			}
			if resp == nil {
				t.Fatalf("dial: %v", err)
			}
			if resp.StatusCode != tt.want {
				t.Errorf("handshake status %d, want %d (%v)", resp.StatusCode, tt.want, err)
			}
		})
	}
}
