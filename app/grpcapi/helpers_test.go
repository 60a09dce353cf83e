package grpcapi_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/grpcapi"
	"github.com/houseview/gateway/pkg/jwtauth"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// secret signs the test tokens (>= jwtauth.MinSecretLen bytes).
var secret = []byte("grpcapi-test-secret-0123456789abcdef")

// Users of the seeded demo data: house 3001 belongs to landlord 2001.
const (
	house    = int64(3001)
	landlord = int64(2001)
	tenant   = int64(1001)
	stranger = int64(1002)
)

// testServer is a running gRPC server and a client connected to it over
// loopback TCP.
type testServer struct {
	srv    *grpcapi.Server
	conn   *grpc.ClientConn
	client housev1.HouseClient
}

// mustServe starts a server for svc on 127.0.0.1:0 and dials it; both stop
// at the end of the test.
func mustServe(tb testing.TB, svc app.ReservationService, opts grpcapi.Options) *testServer {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	srv := grpcapi.NewServer(svc, opts)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatalf("dial %s: %v", lis.Addr(), err)
	}
	tb.Cleanup(func() {
		_ = conn.Close()
		srv.GRPC.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			tb.Errorf("serve: %v", err)
		}
	})
	return &testServer{srv: srv, conn: conn, client: housev1.NewHouseClient(conn)}
}

// jwtOptions are the options of a jwt-mode server trusting secret.
func jwtOptions() grpcapi.Options {
	return grpcapi.Options{Auth: apptest.NewAuth(app.AuthJWT, secret, "")}
}

// mustToken returns a bearer token for user signed with key.
func mustToken(tb testing.TB, key []byte, user int64) string {
	tb.Helper()
	tok, err := jwtauth.Sign(key, user, time.Now(), time.Hour)
	if err != nil {
		tb.Fatalf("sign token for %d: %v", user, err)
	}
	return tok
}

// as returns a context whose calls carry "authorization: Bearer tok".
func as(tb testing.TB, tok string) context.Context {
	return metadata.AppendToOutgoingContext(tb.Context(), "authorization", "Bearer "+tok)
}

// mustReserve books a viewing and fails the test on error.
func mustReserve(tb testing.TB, ctx context.Context, c housev1.HouseClient, req *housev1.ReserveHouseRequest) *housev1.Reservation {
	tb.Helper()
	reply, err := c.ReserveHouse(ctx, req)
	if err != nil {
		tb.Fatalf("ReserveHouse(%v): %v", req, err)
	}
	return reply.GetReservation()
}

// wantCode fails the test unless err is a status with code want.
func wantCode(tb testing.TB, err error, want codes.Code) {
	tb.Helper()
	if got := status.Code(err); got != want {
		tb.Errorf("code = %v (err %v), want %v", got, err, want)
	}
}
