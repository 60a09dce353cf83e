package grpcapi_test

import (
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/app/grpcapi"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/app/reservation"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// TestEveryUserMethodNeedsAToken walks the House service's methods: each
// has an operation, and in jwt mode each of a User operation refuses a
// call without a token (an empty request: authorization comes first).
func TestEveryUserMethodNeedsAToken(t *testing.T) {
	env := apptest.MustEnv(t)
	s := mustServe(t, env.Service, jwtOptions())
	ops := grpcapi.Operations()
	svc := housev1.File_proto_house_v1_house_proto.Services().ByName("House")
	users := 0
	for _, m := range housev1.House_ServiceDesc.Methods {
		full := "/" + grpcapi.ServiceName + "/" + m.MethodName
		op, ok := ops[full]
		if !ok {
			t.Errorf("method %s has no operation", full)
			continue
		}
		if !auth.Policy[op].NamesUser() {
			continue
		}
		users++
		md := svc.Methods().ByName(protoreflect.Name(m.MethodName))
		in, out := dynamicpb.NewMessage(md.Input()), dynamicpb.NewMessage(md.Output())
		if err := s.conn.Invoke(t.Context(), full, in, out); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s (%s) without a token: %v, want Unauthenticated", full, op, err)
		}
	}
	if users < 8 {
		t.Errorf("only %d User methods walked", users)
	}
}

// TestGRPCLimits: reservations and reminders per user per minute over
// gRPC: RESOURCE_EXHAUSTED with the wait as RetryInfo.
func TestGRPCLimits(t *testing.T) {
	env := apptest.MustEnv(t)
	lim := coord.NewRateLimiter(redis.New(env.Redis, env.Keys), coord.RateLimiterOptions{Rates: map[string]coord.Rate{
		reservation.LimitReserve: {Count: 1, Per: time.Minute},
		reservation.LimitRemind:  {Count: 1, Per: time.Minute},
	}})
	svc := reservation.New(env.Store, env.Publisher, reservation.Options{Limiter: lim})
	c := mustServe(t, svc, jwtOptions()).client
	tenantCtx, landlordCtx := as(t, mustToken(t, secret, tenant)), as(t, mustToken(t, secret, landlord))
	reserve := func() error {
		_, err := c.ReserveHouse(tenantCtx, &housev1.ReserveHouseRequest{UserName: "张三", HouseId: house, ReserveTime: env.ReserveTime(48 * time.Hour)})
		return err
	}
	r := mustReserve(t, tenantCtx, c, &housev1.ReserveHouseRequest{UserName: "张三", HouseId: house, ReserveTime: env.ReserveTime(24 * time.Hour)})
	wantLimited(t, reserve())
	if _, err := c.ConfirmReservation(landlordCtx, &housev1.ConfirmReservationRequest{ReservationId: r.GetReservationId()}); err != nil {
		t.Fatal(err)
	}
	remind := func() error {
		_, err := c.RemindReservation(tenantCtx, &housev1.RemindReservationRequest{ReservationId: r.GetReservationId()})
		return err
	}
	if err := remind(); err != nil {
		t.Fatal(err)
	}
	wantLimited(t, remind())
	// The landlord's own budget is separate.
	if _, err := c.RemindReservation(landlordCtx, &housev1.RemindReservationRequest{ReservationId: r.GetReservationId()}); err != nil {
		t.Errorf("the landlord's reminder: %v", err)
	}
}

// wantLimited fails unless err is RESOURCE_EXHAUSTED with a RetryInfo of
// at most a minute.
func wantLimited(tb testing.TB, err error) {
	tb.Helper()
	st, _ := status.FromError(err)
	if st.Code() != codes.ResourceExhausted {
		tb.Fatalf("%v, want ResourceExhausted", err)
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			if w := ri.GetRetryDelay().AsDuration(); w <= 0 || w > time.Minute {
				tb.Errorf("retry delay %v", w)
			}
			return
		}
	}
	tb.Error("no RetryInfo in the status")
}
