package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestForwardedHost: the forwarding headers of a trusted peer set Host; an
// untrusted peer's are removed and its Host kept.
func TestForwardedHost(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	type seen struct {
		Host, XForwardedHost, Forwarded string
	}
	tests := []struct {
		name   string
		remote string
		header map[string]string
		want   seen
	}{
		{"trusted X-Forwarded-Host", "10.1.2.3:5000", map[string]string{"X-Forwarded-Host": "example.com:8443"},
			seen{Host: "example.com:8443", XForwardedHost: "example.com:8443"}},
		{"trusted IPv6 peer", "[::1]:5000", map[string]string{"X-Forwarded-Host": "example.com"},
			seen{Host: "example.com", XForwardedHost: "example.com"}},
		{"last value wins", "10.1.2.3:5000", map[string]string{"X-Forwarded-Host": "evil.com, example.com"},
			seen{Host: "example.com", XForwardedHost: "evil.com, example.com"}},
		{"Forwarded host=", "10.1.2.3:5000", map[string]string{"Forwarded": `for=1.2.3.4;host="a.com", for=10.0.0.1;proto=https;host=example.com:8443`},
			seen{Host: "example.com:8443", Forwarded: `for=1.2.3.4;host="a.com", for=10.0.0.1;proto=https;host=example.com:8443`}},
		{"X-Forwarded-Host before Forwarded", "10.1.2.3:5000", map[string]string{"X-Forwarded-Host": "x.com", "Forwarded": "host=f.com"},
			seen{Host: "x.com", XForwardedHost: "x.com", Forwarded: "host=f.com"}},
		{"untrusted peer", "192.168.1.5:5000", map[string]string{"X-Forwarded-Host": "example.com", "Forwarded": "host=example.com"},
			seen{Host: "node:8080"}},
		{"trusted peer, malformed host", "10.1.2.3:5000", map[string]string{"X-Forwarded-Host": "a.com/x"},
			seen{Host: "node:8080"}},
		{"no headers", "192.168.1.5:5000", nil, seen{Host: "node:8080"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got seen
			h := ForwardedHost(trusted, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				got = seen{Host: r.Host, XForwardedHost: r.Header.Get("X-Forwarded-Host"), Forwarded: r.Header.Get("Forwarded")}
			}))
			r := httptest.NewRequest("GET", "http://node:8080/ws", nil)
			r.RemoteAddr = tt.remote
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("request seen by the handler (-want +got):\n%s", diff)
			}
		})
	}
}
