// Package grpcapi serves the house.v1.House gRPC service on top of
// app.ReservationService, together with grpc.health.v1 and server
// reflection.
package grpcapi

import (
	"cmp"
	"context"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/pkg/requestid"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// ServiceName is the full name of the House service, also its health
// check name.
const ServiceName = "house.v1.House"

// Options configure the gRPC server.
type Options struct {
	// Auth decides who a caller is and what each method allows (required).
	Auth *auth.Authenticator
	// Logger receives the access log, panics and internal errors (nil:
	// discarded). Records logged while serving a call carry its request_id.
	Logger *slog.Logger
	// Metrics counts unary calls (nil: none).
	Metrics Metrics
	// Push serves the Push method (nil: UNAVAILABLE).
	Push PushService
	// Devices serves RegisterDevice, ListDevices and DeleteDevice (nil:
	// UNAVAILABLE).
	Devices DeviceService
	// Preferences serves GetPreferences and UpdatePreferences (nil:
	// UNAVAILABLE).
	Preferences PreferenceService
	// Inbox serves ListInbox, MarkInbox and InboxCounts (nil: UNAVAILABLE).
	Inbox app.Inbox
	// ServerOptions are passed to grpc.NewServer after the interceptors
	// (e.g. credentials or keepalive settings).
	ServerOptions []grpc.ServerOption
}

// Bounds are the server options that bound a server: the largest request
// message, and keepalive enforcement (a client pinging more often than
// minTime is sent GOAWAY; the server pings a connection idle for idle and
// closes it when the ping is not answered within timeout).
func Bounds(maxRecvMsgBytes int, minTime, idle, timeout time.Duration) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxRecvMsgBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: minTime, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: idle, Timeout: timeout}),
	}
}

// Server is a gRPC server with the House, health and reflection services.
type Server struct {
	GRPC   *grpc.Server
	Health *health.Server
}

// NewServer returns a server for svc. Health reports SERVING for "" and
// ServiceName until Shutdown.
func NewServer(svc app.ReservationService, opts Options) *Server {
	if opts.Auth == nil {
		panic("grpcapi: Options.Auth is required")
	}
	log := requestid.Logger(cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)))
	in := &interceptors{auth: opts.Auth, log: log, metrics: opts.Metrics}
	sopts := append([]grpc.ServerOption{
		grpc.ChainUnaryInterceptor(in.requestID, in.observe, in.mapErrors, in.recoverUnary, in.checkDecoded, in.authorize),
		grpc.ChainStreamInterceptor(in.recoverStream),
		serverCodec(),
	}, opts.ServerOptions...)
	gs := grpc.NewServer(sopts...)
	housev1.RegisterHouseServer(gs, &house{svc: svc, push: opts.Push, devices: opts.Devices, prefs: opts.Preferences, inbox: opts.Inbox})

	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)
	return &Server{GRPC: gs, Health: hs}
}

// Serve accepts connections on lis until the server stops.
func (s *Server) Serve(lis net.Listener) error { return s.GRPC.Serve(lis) }

// Shutdown marks every service NOT_SERVING, then stops gracefully; if ctx
// ends first, open RPCs are cut off and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.GRPC.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.GRPC.Stop()
		<-done
		return ctx.Err()
	}
}
