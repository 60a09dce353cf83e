package grpcapi_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/grpcapi"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// ignoreServerFields ignores what the server assigns to a reservation.
var ignoreServerFields = protocmp.IgnoreFields(&housev1.Reservation{}, "reservation_id", "created_at", "updated_at")

func insecureOptions() grpcapi.Options {
	return grpcapi.Options{Auth: apptest.NewAuth(app.AuthInsecure, nil, "")}
}

func TestReservationLifecycle(t *testing.T) {
	env := apptest.MustEnv(t)
	c := mustServe(t, env.Service, insecureOptions()).client
	ctx := t.Context()
	when := env.ReserveTime(48 * time.Hour)

	created := mustReserve(t, ctx, c, &housev1.ReserveHouseRequest{
		LandlordId: landlord, UserId: tenant, UserName: "张三", HouseId: house, HouseTitle: "精装修两室一厅", ReserveTime: when,
	})
	want := &housev1.Reservation{
		HouseId: house, HouseTitle: "精装修两室一厅", LandlordId: landlord, UserId: tenant, UserName: "张三",
		ReserveTime: when, Status: string(app.StatusPending),
	}
	if diff := cmp.Diff(want, created, protocmp.Transform(), ignoreServerFields); diff != "" {
		t.Fatalf("ReserveHouse reservation mismatch (-want +got):\n%s", diff)
	}
	if created.GetReservationId() <= 0 || created.GetCreatedAt() <= 0 || created.GetUpdatedAt() <= 0 {
		t.Fatalf("ReserveHouse: server fields not set: %v", created)
	}

	var notified bool
	for _, m := range env.Messages(t, landlord) {
		if m.Type == app.MsgReservationCreated && m.ReservationID == created.GetReservationId() {
			notified = true
		}
	}
	if !notified {
		t.Errorf("landlord %d got no type-1 notification for reservation %d", landlord, created.GetReservationId())
	}

	id := created.GetReservationId()
	for _, viewer := range []int64{0, tenant, landlord} {
		got, err := c.GetReservation(ctx, &housev1.GetReservationRequest{ReservationId: id, UserId: viewer})
		if err != nil {
			t.Fatalf("GetReservation as %d: %v", viewer, err)
		}
		if diff := cmp.Diff(created, got.GetReservation(), protocmp.Transform()); diff != "" {
			t.Errorf("GetReservation as %d mismatch (-want +got):\n%s", viewer, diff)
		}
	}

	lists := []*housev1.ListReservationsRequest{
		{UserId: tenant},
		{UserId: tenant, Role: "tenant", Status: "pending", Page: 1, PageSize: 10},
		{UserId: landlord, Role: "landlord"},
	}
	for _, req := range lists {
		got, err := c.ListReservations(ctx, req)
		if err != nil {
			t.Fatalf("ListReservations(%v): %v", req, err)
		}
		wantList := &housev1.ListReservationsReply{Reservations: []*housev1.Reservation{created}, Total: 1}
		if diff := cmp.Diff(wantList, got, protocmp.Transform()); diff != "" {
			t.Errorf("ListReservations(%v) mismatch (-want +got):\n%s", req, diff)
		}
	}
	empty, err := c.ListReservations(ctx, &housev1.ListReservationsRequest{UserId: tenant, Status: "confirmed"})
	if err != nil || len(empty.GetReservations()) != 0 || empty.GetTotal() != 0 {
		t.Errorf("ListReservations(confirmed) = %v, %v; want empty", empty, err)
	}

	confirmed, err := c.ConfirmReservation(ctx, &housev1.ConfirmReservationRequest{ReservationId: id, LandlordId: landlord})
	if err != nil {
		t.Fatalf("ConfirmReservation: %v", err)
	}
	want.Status = string(app.StatusConfirmed)
	if diff := cmp.Diff(want, confirmed.GetReservation(), protocmp.Transform(), ignoreServerFields); diff != "" {
		t.Errorf("ConfirmReservation mismatch (-want +got):\n%s", diff)
	}

	reminded, err := c.RemindReservation(ctx, &housev1.RemindReservationRequest{ReservationId: id, UserId: tenant})
	if err != nil || reminded.GetReservation().GetStatus() != string(app.StatusConfirmed) {
		t.Fatalf("RemindReservation: %v %v", reminded, err)
	}
	if _, err := c.RemindReservation(ctx, &housev1.RemindReservationRequest{ReservationId: id, UserId: 99999}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("RemindReservation by a stranger: %v, want PermissionDenied", err)
	}
	reminders := 0
	for _, m := range env.Messages(t, landlord) {
		if m.Type == app.MsgReservationReminder {
			reminders++
		}
	}
	if reminders != 1 {
		t.Errorf("landlord got %d reminders, want 1", reminders)
	}

	cancelled, err := c.CancelReservation(ctx, &housev1.CancelReservationRequest{ReservationId: id, UserId: tenant, Reason: "改期"})
	if err != nil {
		t.Fatalf("CancelReservation: %v", err)
	}
	want.Status, want.Reason, want.CancelledBy = string(app.StatusCancelled), "改期", tenant
	if diff := cmp.Diff(want, cancelled.GetReservation(), protocmp.Transform(), ignoreServerFields); diff != "" {
		t.Errorf("CancelReservation mismatch (-want +got):\n%s", diff)
	}
	if got := cancelled.GetReservation().GetReservationId(); got != id {
		t.Errorf("CancelReservation id = %d, want %d", got, id)
	}
}

func TestRejectReservation(t *testing.T) {
	env := apptest.MustEnv(t)
	c := mustServe(t, env.Service, insecureOptions()).client
	ctx := t.Context()
	r := mustReserve(t, ctx, c, &housev1.ReserveHouseRequest{
		UserId: tenant, UserName: "李四", HouseId: house, ReserveTime: env.ReserveTime(24 * time.Hour),
	})

	got, err := c.RejectReservation(ctx, &housev1.RejectReservationRequest{ReservationId: r.GetReservationId(), LandlordId: landlord, Reason: "已出租"})
	if err != nil {
		t.Fatalf("RejectReservation: %v", err)
	}
	want := &housev1.Reservation{
		HouseId: house, HouseTitle: "精装修两室一厅", LandlordId: landlord, UserId: tenant, UserName: "李四",
		ReserveTime: r.GetReserveTime(), Status: string(app.StatusRejected), Reason: "已出租",
	}
	if diff := cmp.Diff(want, got.GetReservation(), protocmp.Transform(), ignoreServerFields); diff != "" {
		t.Errorf("RejectReservation mismatch (-want +got):\n%s", diff)
	}
}

func TestRecommendList(t *testing.T) {
	env := apptest.MustEnv(t)
	c := mustServe(t, env.Service, insecureOptions()).client
	ctx := t.Context()

	filter := app.HouseFilter{City: "北京", MaxPrice: 20000, Page: app.Page{Page: 1, PageSize: 5}}
	res, err := env.Service.RecommendHouses(ctx, filter)
	if err != nil {
		t.Fatalf("service RecommendHouses: %v", err)
	}
	houses, total := res.Houses, res.Total
	want := &housev1.HouseRecommendReply{Total: int64(total), Page: 1, PageSize: 5}
	for _, h := range houses {
		want.Houses = append(want.Houses, &housev1.HouseInfo{
			HouseId: h.ID, LandlordId: h.LandlordID, Title: h.Title, City: h.City, District: h.District,
			Price: int64(h.Price), Rooms: int32(h.Rooms), Area: h.Area, Tags: h.Tags,
			Popularity: int64(h.Popularity), Score: h.Score,
		})
	}
	if len(want.Houses) == 0 {
		t.Fatalf("service RecommendHouses(%+v) found no houses", filter)
	}
	got, err := c.RecommendList(ctx, &housev1.HouseRecommendRequest{City: "北京", MaxPrice: 20000, Page: 1, PageSize: 5})
	if err != nil {
		t.Fatalf("RecommendList: %v", err)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("RecommendList mismatch (-want +got):\n%s", diff)
	}

	all, err := c.RecommendList(ctx, &housev1.HouseRecommendRequest{})
	if err != nil {
		t.Fatalf("RecommendList(defaults): %v", err)
	}
	if all.GetPage() != 1 || all.GetPageSize() != app.DefaultPageSize || len(all.GetHouses()) == 0 {
		t.Errorf("RecommendList(defaults) page=%d size=%d houses=%d, want 1, %d, some",
			all.GetPage(), all.GetPageSize(), len(all.GetHouses()), app.DefaultPageSize)
	}
}

func TestPersonalRecommendList(t *testing.T) {
	env := apptest.MustEnv(t)
	c := mustServe(t, env.Service, insecureOptions()).client
	ctx := t.Context()
	mustReserve(t, ctx, c, &housev1.ReserveHouseRequest{
		UserId: tenant, UserName: "张三", HouseId: house, ReserveTime: env.ReserveTime(24 * time.Hour),
	})

	res, err := env.Service.PersonalRecommendHouses(ctx, tenant, app.Page{Page: 1, PageSize: 10})
	if err != nil {
		t.Fatalf("service PersonalRecommendHouses: %v", err)
	}
	total := res.Total
	got, err := c.PersonalRecommendList(ctx, &housev1.PersonalRecommendRequest{UserId: tenant, PageSize: 10})
	if err != nil {
		t.Fatalf("PersonalRecommendList: %v", err)
	}
	if got.GetPage() != 1 || got.GetPageSize() != 10 || got.GetTotal() != int64(total) || len(got.GetHouses()) > 10 {
		t.Errorf("PersonalRecommendList page=%d size=%d total=%d houses=%d, want 1, 10, %d, <= 10",
			got.GetPage(), got.GetPageSize(), got.GetTotal(), len(got.GetHouses()), total)
	}
}

func TestErrors(t *testing.T) {
	env := apptest.MustEnv(t)
	c := mustServe(t, env.Service, insecureOptions()).client
	ctx := t.Context()
	pendingTime := env.ReserveTime(48 * time.Hour)
	pending := mustReserve(t, ctx, c, &housev1.ReserveHouseRequest{
		UserId: tenant, UserName: "张三", HouseId: house, ReserveTime: pendingTime,
	}).GetReservationId()
	rejected := mustReserve(t, ctx, c, &housev1.ReserveHouseRequest{
		UserId: tenant, UserName: "张三", HouseId: house, ReserveTime: env.ReserveTime(72 * time.Hour),
	}).GetReservationId()
	if _, err := c.RejectReservation(ctx, &housev1.RejectReservationRequest{ReservationId: rejected, LandlordId: landlord}); err != nil {
		t.Fatalf("RejectReservation: %v", err)
	}
	reserve := func(mod func(*housev1.ReserveHouseRequest)) func() error {
		return func() error {
			req := &housev1.ReserveHouseRequest{
				UserId: stranger, UserName: "王五", HouseId: house, ReserveTime: env.ReserveTime(96 * time.Hour),
			}
			mod(req)
			_, err := c.ReserveHouse(ctx, req)
			return err
		}
	}
	confirm := func(id, by int64) func() error {
		return func() error {
			_, err := c.ConfirmReservation(ctx, &housev1.ConfirmReservationRequest{ReservationId: id, LandlordId: by})
			return err
		}
	}
	list := func(req *housev1.ListReservationsRequest) func() error {
		return func() error { _, err := c.ListReservations(ctx, req); return err }
	}

	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"reserve without house_id", reserve(func(r *housev1.ReserveHouseRequest) { r.HouseId = 0 }), codes.InvalidArgument},
		{"reserve negative house_id", reserve(func(r *housev1.ReserveHouseRequest) { r.HouseId = -1 }), codes.InvalidArgument},
		{"reserve without user_id", reserve(func(r *housev1.ReserveHouseRequest) { r.UserId = 0 }), codes.InvalidArgument},
		{"reserve negative user_id", reserve(func(r *housev1.ReserveHouseRequest) { r.UserId = -7 }), codes.InvalidArgument},
		{"reserve negative landlord_id", reserve(func(r *housev1.ReserveHouseRequest) { r.LandlordId = -1 }), codes.InvalidArgument},
		{"reserve without user_name", reserve(func(r *housev1.ReserveHouseRequest) { r.UserName = "" }), codes.InvalidArgument},
		{"reserve bad reserve_time", reserve(func(r *housev1.ReserveHouseRequest) { r.ReserveTime = "tomorrow" }), codes.InvalidArgument},
		{"reserve in the past", reserve(func(r *housev1.ReserveHouseRequest) { r.ReserveTime = env.ReserveTime(-time.Hour) }), codes.InvalidArgument},
		{"reserve unknown house", reserve(func(r *housev1.ReserveHouseRequest) { r.HouseId = 999999 }), codes.NotFound},
		{"reserve duplicate", reserve(func(r *housev1.ReserveHouseRequest) { r.UserId, r.ReserveTime = tenant, pendingTime }), codes.AlreadyExists},
		{"confirm without reservation_id", confirm(0, landlord), codes.InvalidArgument},
		{"confirm negative reservation_id", confirm(-1, landlord), codes.InvalidArgument},
		{"confirm without landlord_id", confirm(pending, 0), codes.InvalidArgument},
		{"confirm negative landlord_id", confirm(pending, -5), codes.InvalidArgument},
		{"confirm unknown reservation", confirm(999999, landlord), codes.NotFound},
		{"confirm by tenant", confirm(pending, tenant), codes.PermissionDenied},
		{"confirm by another landlord", confirm(pending, landlord+1), codes.PermissionDenied},
		{"confirm after reject", confirm(rejected, landlord), codes.FailedPrecondition},
		{"reject after reject", func() error {
			_, err := c.RejectReservation(ctx, &housev1.RejectReservationRequest{ReservationId: rejected, LandlordId: landlord})
			return err
		}, codes.FailedPrecondition},
		{"cancel after reject", func() error {
			_, err := c.CancelReservation(ctx, &housev1.CancelReservationRequest{ReservationId: rejected, UserId: tenant})
			return err
		}, codes.FailedPrecondition},
		{"cancel by stranger", func() error {
			_, err := c.CancelReservation(ctx, &housev1.CancelReservationRequest{ReservationId: pending, UserId: stranger})
			return err
		}, codes.PermissionDenied},
		{"cancel negative user_id", func() error {
			_, err := c.CancelReservation(ctx, &housev1.CancelReservationRequest{ReservationId: pending, UserId: -1})
			return err
		}, codes.InvalidArgument},
		{"get unknown reservation", func() error {
			_, err := c.GetReservation(ctx, &housev1.GetReservationRequest{ReservationId: 999999})
			return err
		}, codes.NotFound},
		{"get without reservation_id", func() error {
			_, err := c.GetReservation(ctx, &housev1.GetReservationRequest{UserId: tenant})
			return err
		}, codes.InvalidArgument},
		{"get negative user_id", func() error {
			_, err := c.GetReservation(ctx, &housev1.GetReservationRequest{ReservationId: pending, UserId: -1})
			return err
		}, codes.InvalidArgument},
		{"get by stranger", func() error {
			_, err := c.GetReservation(ctx, &housev1.GetReservationRequest{ReservationId: pending, UserId: stranger})
			return err
		}, codes.PermissionDenied},
		{"list without user_id", list(&housev1.ListReservationsRequest{}), codes.InvalidArgument},
		{"list negative user_id", list(&housev1.ListReservationsRequest{UserId: -1}), codes.InvalidArgument},
		{"list unknown role", list(&housev1.ListReservationsRequest{UserId: tenant, Role: "owner"}), codes.InvalidArgument},
		{"list unknown status", list(&housev1.ListReservationsRequest{UserId: tenant, Status: "done"}), codes.InvalidArgument},
		{"list negative page", list(&housev1.ListReservationsRequest{UserId: tenant, Page: -1}), codes.InvalidArgument},
		{"list page_size too big", list(&housev1.ListReservationsRequest{UserId: tenant, PageSize: app.MaxPageSize + 1}), codes.InvalidArgument},
		{"recommend negative min_price", func() error {
			_, err := c.RecommendList(ctx, &housev1.HouseRecommendRequest{MinPrice: -1})
			return err
		}, codes.InvalidArgument},
		{"recommend negative rooms", func() error {
			_, err := c.RecommendList(ctx, &housev1.HouseRecommendRequest{Rooms: -2})
			return err
		}, codes.InvalidArgument},
		{"recommend page_size too big", func() error {
			_, err := c.RecommendList(ctx, &housev1.HouseRecommendRequest{PageSize: 1000})
			return err
		}, codes.InvalidArgument},
		{"personal without user_id", func() error {
			_, err := c.PersonalRecommendList(ctx, &housev1.PersonalRecommendRequest{})
			return err
		}, codes.InvalidArgument},
		{"personal negative user_id", func() error {
			_, err := c.PersonalRecommendList(ctx, &housev1.PersonalRecommendRequest{UserId: -3})
			return err
		}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.want) })
	}
}
