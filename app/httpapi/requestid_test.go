package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/pkg/requestid"
	"github.com/houseview/gateway/pkg/testenv"
)

// logLines decodes a JSON log, one record a line.
func logLines(tb testing.TB, s string) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for line := range strings.Lines(s) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			tb.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestRequestID: a sane X-Request-ID is echoed, a missing or bad one is
// replaced by a fresh id; either way the access log line carries it, and
// never the Authorization header.
func TestRequestID(t *testing.T) {
	var buf testenv.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	e := httpapi.NewHandler(nil, httpapi.Options{Auth: authFor(app.AuthInsecure, ""), Logger: log})
	const secretToken = "Bearer do-not-log-this-token"

	tests := []struct {
		name, given string
		echoed      bool
	}{
		{"sane id echoed", "req-1_A.b", true},
		{"64 characters echoed", strings.Repeat("x", 64), true},
		{"missing", "", false},
		{"too long", strings.Repeat("x", 65), false},
		{"bad characters", "id with spaces;", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", "/healthz", nil)
		if tt.given != "" {
			req.Header.Set("X-Request-ID", tt.given)
		}
		req.Header.Set("Authorization", secretToken)
		rec := httptest.NewRecorder()
		before := len(buf.String())
		e.ServeHTTP(rec, req)
		got := rec.Header().Get("X-Request-ID")
		switch {
		case tt.echoed && got != tt.given:
			t.Errorf("%s: X-Request-ID = %q, want %q echoed", tt.name, got, tt.given)
		case !tt.echoed && (got == tt.given || !requestid.Valid(got) || seen[got]):
			t.Errorf("%s: X-Request-ID = %q, want a fresh valid id", tt.name, got)
		}
		seen[got] = true
		lines := logLines(t, buf.String()[before:])
		if len(lines) != 1 {
			t.Fatalf("%s: %d log lines, want 1", tt.name, len(lines))
		}
		want := map[string]any{"msg": "http request", "route": "/healthz", "request_id": got}
		gotLine := map[string]any{"msg": lines[0]["msg"], "route": lines[0]["route"], "request_id": lines[0]["request_id"]}
		if diff := cmp.Diff(want, gotLine); diff != "" {
			t.Errorf("%s: access log (-want +got):\n%s", tt.name, diff)
		}
	}
	if strings.Contains(buf.String(), "do-not-log-this-token") {
		t.Errorf("the log holds the Authorization header:\n%s", buf.String())
	}
}

// httpRequest is one HTTPRequest call.
type httpRequest struct {
	Route, Method string
	Status        int
}

// recordHTTP is an httpapi.Metrics that keeps what it is told.
type recordHTTP struct {
	mu   sync.Mutex
	reqs []httpRequest
}

func (r *recordHTTP) HTTPRequest(route, method string, status int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d < 0 {
		status = -1
	}
	r.reqs = append(r.reqs, httpRequest{route, method, status})
}

// TestMetricsLabels: route patterns, "unmatched" for unknown routes and
// methods, and a bounded method label.
func TestMetricsLabels(t *testing.T) {
	rec := &recordHTTP{}
	e := httpapi.NewHandler(nil, httpapi.Options{Auth: authFor(app.AuthInsecure, ""), Metrics: rec})
	for _, r := range []struct{ method, path string }{
		{"GET", "/healthz"},
		{"GET", "/nowhere"},
		{"POST", "/healthz"},
		{"BREW", "/healthz"},
	} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(r.method, r.path, nil))
	}
	want := []httpRequest{
		{"/healthz", "GET", http.StatusOK},
		{"unmatched", "GET", http.StatusNotFound},
		{"unmatched", "POST", http.StatusMethodNotAllowed},
		{"unmatched", "other", http.StatusMethodNotAllowed},
	}
	if diff := cmp.Diff(want, rec.reqs); diff != "" {
		t.Errorf("observed requests (-want +got):\n%s", diff)
	}
}
