package httpapi_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httpapi"
)

const opKey = "operator-test-api-key-0123456789"

// operatorEngine guards /asynq/*any and /metrics like the node does,
// answering 200 behind the guard.
func operatorEngine(mode app.AuthMode) *gin.Engine {
	e := gin.New()
	guard := httpapi.Operator(authFor(mode, opKey), nil)
	ok := func(c *gin.Context) { c.String(http.StatusOK, "ok") }
	e.Any("/asynq/*any", guard, ok)
	e.GET("/metrics", guard, ok)
	return e
}

// operatorCall is one request to an operator page.
type operatorCall struct {
	name, method, path string
	header             map[string]string
	basic, bearer      bool
}

func (oc operatorCall) do(tb testing.TB, base string) int {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), oc.method, base+oc.path, strings.NewReader("{}"))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range oc.header {
		req.Header.Set(k, v)
	}
	if oc.basic {
		req.SetBasicAuth("admin", opKey)
	}
	if oc.bearer {
		req.Header.Set("Authorization", "Bearer "+opKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestOperatorPagesRefuseCrossSiteChanges: a browser that holds the
// operator's basic credentials cannot be made to change state from
// another site; the same page's requests and the API key can.
func TestOperatorPagesRefuseCrossSiteChanges(t *testing.T) {
	srv := serve(t, operatorEngine(app.AuthJWT))
	host := strings.TrimPrefix(srv.URL, "http://")
	calls := []operatorCall{
		{"cross-site POST (Origin)", "POST", "/asynq/api/queues/reminders/pause", map[string]string{"Origin": "https://evil.example"}, true, false},
		{"cross-site DELETE (Sec-Fetch-Site)", "DELETE", "/asynq/api/queues/reminders", map[string]string{"Sec-Fetch-Site": "cross-site"}, true, false},
		{"same-site but another origin", "POST", "/asynq/api/queues/reminders/pause", map[string]string{"Sec-Fetch-Site": "same-site"}, true, false},
		{"same-origin POST (Sec-Fetch-Site)", "POST", "/asynq/api/queues/reminders/pause", map[string]string{"Sec-Fetch-Site": "same-origin"}, true, false},
		{"same-origin POST (Origin)", "POST", "/asynq/api/queues/reminders/pause", map[string]string{"Origin": "http://" + host}, true, false},
		{"POST without browser headers", "POST", "/asynq/api/queues/reminders/pause", nil, true, false},
		{"cross-site POST with the api key", "POST", "/asynq/api/queues/reminders/pause", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, false, true},
		{"cross-site GET", "GET", "/asynq/api/queues", map[string]string{"Sec-Fetch-Site": "cross-site"}, true, false},
		{"cross-site POST without credentials", "POST", "/asynq/api/queues/reminders/pause", map[string]string{"Origin": "https://evil.example"}, false, false},
	}
	want := []int{403, 403, 403, 200, 200, 200, 200, 200, 401}
	var got []int
	for _, c := range calls {
		got = append(got, c.do(t, srv.URL))
	}
	if diff := cmp.Diff(named(calls, want), named(calls, got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// named pairs each call's name with its status.
func named(calls []operatorCall, statuses []int) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.name + ": " + http.StatusText(statuses[i])
	}
	return out
}

// nonLoopbackIP is an address of this machine that is not loopback, or "".
func nonLoopbackIP(tb testing.TB) string {
	tb.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		tb.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// TestInsecureOperatorPagesAnswerLoopbackOnly listens on a non-loopback
// address of this machine: a request that reaches it from that address is
// not a loopback one, and in insecure mode it needs the API key.
func TestInsecureOperatorPagesAnswerLoopbackOnly(t *testing.T) {
	ip := nonLoopbackIP(t)
	if ip == "" {
		t.Skip("this machine has no non-loopback IPv4 address")
	}
	e := operatorEngine(app.AuthInsecure)
	lis, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	remote := &httptest.Server{Listener: lis, Config: &http.Server{Handler: e}}
	remote.Start()
	t.Cleanup(remote.Close)
	local := serve(t, e)
	metrics := operatorCall{name: "GET /metrics", method: "GET", path: "/metrics"}
	withKey := metrics
	withKey.bearer = true
	crossSite := operatorCall{name: "cross-site POST", method: "POST", path: "/asynq/api/queues/reminders/pause",
		header: map[string]string{"Sec-Fetch-Site": "cross-site"}}
	got := []int{metrics.do(t, remote.URL), withKey.do(t, remote.URL), metrics.do(t, local.URL), crossSite.do(t, local.URL)}
	if diff := cmp.Diff([]int{403, 200, 200, 403}, got); diff != "" {
		t.Errorf("from %s, with the key, from loopback, cross-site from loopback (-want +got):\n%s", ip, diff)
	}
}
