package grpcapi_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/pkg/jwtauth"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

func TestJWTAuth(t *testing.T) {
	env := apptest.MustEnv(t)
	c := mustServe(t, env.Service, jwtOptions()).client
	anon := t.Context()
	tenantCtx := as(t, mustToken(t, secret, tenant))
	landlordCtx := as(t, mustToken(t, secret, landlord))
	expired, err := jwtauth.Sign(secret, tenant, time.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatalf("sign expired token: %v", err)
	}

	// A reservation booked by the tenant's token: user_id may be omitted.
	r, err := c.ReserveHouse(tenantCtx, &housev1.ReserveHouseRequest{
		UserName: "张三", HouseId: house, ReserveTime: env.ReserveTime(48 * time.Hour),
	})
	if err != nil {
		t.Fatalf("ReserveHouse with tenant token: %v", err)
	}
	if got := r.GetReservation().GetUserId(); got != tenant {
		t.Fatalf("ReserveHouse user_id = %d, want token user %d", got, tenant)
	}
	id := r.GetReservation().GetReservationId()

	reserve := func(ctx context.Context, user int64) func() error {
		return func() error {
			_, err := c.ReserveHouse(ctx, &housev1.ReserveHouseRequest{
				UserId: user, UserName: "张三", HouseId: house, ReserveTime: env.ReserveTime(72 * time.Hour),
			})
			return err
		}
	}
	badAuth := []struct {
		name string
		ctx  context.Context
	}{
		{"no token", anon},
		{"garbage token", as(t, "not-a-jwt")},
		{"other secret", as(t, mustToken(t, []byte("another-secret-another-secret-0123"), tenant))},
		{"expired token", as(t, expired)},
		{"not bearer", metadata.AppendToOutgoingContext(anon, "authorization", "Basic "+mustToken(t, secret, tenant))},
	}
	for _, tt := range badAuth {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, reserve(tt.ctx, tenant)(), codes.Unauthenticated)
			_, err := c.GetReservation(tt.ctx, &housev1.GetReservationRequest{ReservationId: id})
			wantCode(t, err, codes.Unauthenticated)
			_, err = c.ListReservations(tt.ctx, &housev1.ListReservationsRequest{UserId: tenant})
			wantCode(t, err, codes.Unauthenticated)
			_, err = c.ConfirmReservation(tt.ctx, &housev1.ConfirmReservationRequest{ReservationId: id, LandlordId: landlord})
			wantCode(t, err, codes.Unauthenticated)
			_, err = c.CancelReservation(tt.ctx, &housev1.CancelReservationRequest{ReservationId: id, UserId: tenant})
			wantCode(t, err, codes.Unauthenticated)
		})
	}

	t.Run("token for another user_id", func(t *testing.T) {
		wantCode(t, reserve(tenantCtx, stranger)(), codes.PermissionDenied)
		_, err := c.ListReservations(tenantCtx, &housev1.ListReservationsRequest{UserId: landlord, Role: "landlord"})
		wantCode(t, err, codes.PermissionDenied)
		_, err = c.GetReservation(as(t, mustToken(t, secret, stranger)), &housev1.GetReservationRequest{ReservationId: id})
		wantCode(t, err, codes.PermissionDenied)
	})
	t.Run("tenant cannot confirm", func(t *testing.T) {
		_, err := c.ConfirmReservation(tenantCtx, &housev1.ConfirmReservationRequest{ReservationId: id})
		wantCode(t, err, codes.PermissionDenied)
		_, err = c.ConfirmReservation(tenantCtx, &housev1.ConfirmReservationRequest{ReservationId: id, LandlordId: landlord})
		wantCode(t, err, codes.PermissionDenied)
	})
	t.Run("tenant reads own reservations", func(t *testing.T) {
		got, err := c.GetReservation(tenantCtx, &housev1.GetReservationRequest{ReservationId: id})
		if err != nil || got.GetReservation().GetReservationId() != id {
			t.Fatalf("GetReservation = %v, %v; want reservation %d", got, err, id)
		}
		list, err := c.ListReservations(tenantCtx, &housev1.ListReservationsRequest{})
		if err != nil || list.GetTotal() != 1 {
			t.Fatalf("ListReservations = %v, %v; want 1 reservation", list, err)
		}
	})
	t.Run("landlord confirms", func(t *testing.T) {
		got, err := c.ConfirmReservation(landlordCtx, &housev1.ConfirmReservationRequest{ReservationId: id, LandlordId: landlord})
		if err != nil {
			t.Fatalf("ConfirmReservation with landlord token: %v", err)
		}
		if got.GetReservation().GetStatus() != string(app.StatusConfirmed) {
			t.Errorf("status = %q, want %q", got.GetReservation().GetStatus(), app.StatusConfirmed)
		}
	})
	t.Run("the public list is public, a user's recommendations are the user's", func(t *testing.T) {
		if _, err := c.RecommendList(anon, &housev1.HouseRecommendRequest{City: "上海"}); err != nil {
			t.Errorf("RecommendList without token: %v", err)
		}
		// It tells where the user booked: the user's token only, as on REST.
		_, err := c.PersonalRecommendList(anon, &housev1.PersonalRecommendRequest{UserId: tenant})
		wantCode(t, err, codes.Unauthenticated)
		if _, err := c.PersonalRecommendList(tenantCtx, &housev1.PersonalRecommendRequest{}); err != nil {
			t.Errorf("PersonalRecommendList with token and no user_id: %v", err)
		}
		_, err = c.PersonalRecommendList(tenantCtx, &housev1.PersonalRecommendRequest{UserId: stranger})
		wantCode(t, err, codes.PermissionDenied)
		_, err = c.PersonalRecommendList(as(t, "not-a-jwt"), &housev1.PersonalRecommendRequest{UserId: tenant})
		wantCode(t, err, codes.Unauthenticated)
	})
}

func TestInsecureModeIgnoresTokens(t *testing.T) {
	env := apptest.MustEnv(t)
	c := mustServe(t, env.Service, insecureOptions()).client
	ctx := as(t, "not-a-jwt")
	r := mustReserve(t, ctx, c, &housev1.ReserveHouseRequest{
		UserId: stranger, UserName: "王五", HouseId: house, ReserveTime: env.ReserveTime(24 * time.Hour),
	})
	if r.GetUserId() != stranger {
		t.Errorf("user_id = %d, want %d from the request", r.GetUserId(), stranger)
	}
}
