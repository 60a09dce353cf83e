package systest

import (
	"net/http"
	"testing"
)

// TestHEADWhereGETIsServed asks a node with HEAD on GET routes of every
// kind (probes, the API, the web files, metrics): each answers as GET
// does, without a body; a POST-only route still answers 405.
func TestHEADWhereGETIsServed(t *testing.T) {
	node := MustStart(t, sharedEnv(t))
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/healthz", 200},
		{"/readyz", 200},
		{"/api/reservations?user_id=1001&role=tenant", 200},
		{"/house/recommend?city=上海", 200},
		{"/web/gateway-client.js", 200},
		{"/metrics", 200},
		{"/house/reserve", 405},
	} {
		resp, err := http.Head(node.HTTPURL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("HEAD %s: %d, want %d", tt.path, resp.StatusCode, tt.want)
		}
	}
}
