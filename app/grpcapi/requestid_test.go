package grpcapi_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/houseview/gateway/pkg/requestid"
	"github.com/houseview/gateway/pkg/testenv"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// grpcCall is one GRPCRequest call.
type grpcCall struct{ Method, Code string }

// recordGRPC is a grpcapi.Metrics that keeps what it is told.
type recordGRPC struct {
	mu    sync.Mutex
	calls []grpcCall
}

func (r *recordGRPC) GRPCRequest(method, code string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, grpcCall{method, code})
}

// TestRequestIDAndAccessLog: a sane x-request-id is sent back, a missing or
// bad one replaced by a fresh id; the access log line carries it (and never
// the authorization metadata), and every call is counted with its code.
func TestRequestIDAndAccessLog(t *testing.T) {
	var buf testenv.SyncBuffer
	rec := &recordGRPC{}
	opts := jwtOptions()
	opts.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	opts.Metrics = rec
	ts := mustServe(t, nil, opts)
	health := healthpb.NewHealthClient(ts.conn)

	tests := []struct {
		name, given string
		echoed      bool
	}{
		{"sane id echoed", "grpc-req.1", true},
		{"missing", "", false},
		{"bad characters", "no spaces please", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		md := metadata.Pairs("authorization", "Bearer do-not-log-this-token")
		if tt.given != "" {
			md.Set("x-request-id", tt.given)
		}
		ctx := metadata.NewOutgoingContext(t.Context(), md)
		var header metadata.MD
		before := len(buf.String())
		if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&header)); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := ""
		if v := header.Get("x-request-id"); len(v) == 1 {
			got = v[0]
		}
		switch {
		case tt.echoed && got != tt.given:
			t.Errorf("%s: x-request-id = %q, want %q echoed", tt.name, got, tt.given)
		case !tt.echoed && (got == tt.given || !requestid.Valid(got) || seen[got]):
			t.Errorf("%s: x-request-id = %q, want a fresh valid id", tt.name, got)
		}
		seen[got] = true

		var lines []map[string]any
		for line := range strings.Lines(buf.String()[before:]) {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			lines = append(lines, m)
		}
		if len(lines) != 1 {
			t.Fatalf("%s: %d log lines, want 1: %v", tt.name, len(lines), lines)
		}
		want := map[string]any{"msg": "grpc request", "method": "/grpc.health.v1.Health/Check", "code": "OK", "request_id": got}
		gotLine := map[string]any{"msg": lines[0]["msg"], "method": lines[0]["method"], "code": lines[0]["code"], "request_id": lines[0]["request_id"]}
		if diff := cmp.Diff(want, gotLine); diff != "" {
			t.Errorf("%s: access log (-want +got):\n%s", tt.name, diff)
		}
	}

	// An unauthenticated House call is counted with its final code.
	if _, err := ts.client.GetReservation(t.Context(), &housev1.GetReservationRequest{ReservationId: 1}); err == nil {
		t.Fatal("GetReservation without a token succeeded in jwt mode")
	}
	if strings.Contains(buf.String(), "do-not-log-this-token") {
		t.Errorf("the log holds the authorization metadata:\n%s", buf.String())
	}
	want := []grpcCall{
		{"/grpc.health.v1.Health/Check", "OK"},
		{"/grpc.health.v1.Health/Check", "OK"},
		{"/grpc.health.v1.Health/Check", "OK"},
		{housev1.House_GetReservation_FullMethodName, "Unauthenticated"},
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if diff := cmp.Diff(want, rec.calls); diff != "" {
		t.Errorf("counted calls (-want +got):\n%s", diff)
	}
}
