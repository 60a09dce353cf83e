package grpcapi_test

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/grpcapi"
	"github.com/houseview/gateway/pkg/testenv"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// The health and reflection tests never reach the reservation service, so
// they run without one, in jwt mode and without a token.

func TestHealth(t *testing.T) {
	ts := mustServe(t, nil, jwtOptions())
	hc := healthpb.NewHealthClient(ts.conn)
	check := func(service string, want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		got, err := hc.Check(t.Context(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatalf("Check(%q): %v", service, err)
		}
		if got.GetStatus() != want {
			t.Errorf("Check(%q) = %v, want %v", service, got.GetStatus(), want)
		}
	}
	check("", healthpb.HealthCheckResponse_SERVING)
	check(grpcapi.ServiceName, healthpb.HealthCheckResponse_SERVING)
	_, err := hc.Check(t.Context(), &healthpb.HealthCheckRequest{Service: "no.such.Service"})
	wantCode(t, err, codes.NotFound)

	ts.srv.Health.Shutdown()
	check("", healthpb.HealthCheckResponse_NOT_SERVING)
	check(grpcapi.ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	if err := ts.srv.Shutdown(t.Context()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestReflection(t *testing.T) {
	ts := mustServe(t, nil, jwtOptions())
	stream, err := reflectionpb.NewServerReflectionClient(ts.conn).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatalf("ServerReflectionInfo: %v", err)
	}
	req := &reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: ""},
	}
	if err := stream.Send(req); err != nil {
		t.Fatalf("send: %v", err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{grpcapi.ServiceName, healthpb.Health_ServiceDesc.ServiceName} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, want %s among them", names, want)
		}
	}
	if housev1.House_ServiceDesc.ServiceName != grpcapi.ServiceName {
		t.Errorf("ServiceName = %q, generated code says %q", grpcapi.ServiceName, housev1.House_ServiceDesc.ServiceName)
	}
}

// TestPanicRecovered serves without a service: the handler's nil
// dereference must become Internal, be logged, and leave the server up.
func TestPanicRecovered(t *testing.T) {
	var logs testenv.SyncBuffer
	ts := mustServe(t, nil, grpcapi.Options{Auth: apptest.NewAuth(app.AuthInsecure, nil, ""), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range 2 {
		_, err := ts.client.RecommendList(t.Context(), &housev1.HouseRecommendRequest{})
		wantCode(t, err, codes.Internal)
	}
	if got := logs.String(); !strings.Contains(got, "panic") || !strings.Contains(got, housev1.House_RecommendList_FullMethodName) {
		t.Errorf("log = %q, want the panic and its method", got)
	}
	if _, err := healthpb.NewHealthClient(ts.conn).Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health after panic: %v", err)
	}
}

func TestNewServerRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts grpcapi.Options
	}{
		{"no authenticator", grpcapi.Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("NewServer(%+v) did not panic", tt.opts)
				}
			}()
			grpcapi.NewServer(nil, tt.opts)
		})
	}
}
