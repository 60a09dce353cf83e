package grpcapi

import (
	"context"

	"github.com/houseview/gateway/app"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// house implements housev1.HouseServer. Handlers return app errors; the
// mapErrors interceptor turns them into statuses.
type house struct {
	housev1.UnimplementedHouseServer
	svc  app.ReservationService
	mode app.AuthMode
	push PushService // nil: Push is UNAVAILABLE
}

func (h *house) RecommendList(ctx context.Context, req *housev1.HouseRecommendRequest) (*housev1.HouseRecommendReply, error) {
	if err := nonNegative(field{"min_price", req.GetMinPrice()}, field{"max_price", req.GetMaxPrice()}, field{"rooms", int64(req.GetRooms())}); err != nil {
		return nil, err
	}
	p, err := page(req.GetPage(), req.GetPageSize())
	if err != nil {
		return nil, err
	}
	houses, total, err := h.svc.RecommendHouses(ctx, app.HouseFilter{
		City:     req.GetCity(),
		District: req.GetDistrict(),
		MinPrice: int(req.GetMinPrice()),
		MaxPrice: int(req.GetMaxPrice()),
		Rooms:    int(req.GetRooms()),
		Page:     p,
	})
	if err != nil {
		return nil, err
	}
	return houseReply(houses, total, p), nil
}

// PersonalRecommendList is public: without a token user_id is taken as
// given; with one (jwt mode) it must be the caller or 0.
func (h *house) PersonalRecommendList(ctx context.Context, req *housev1.PersonalRecommendRequest) (*housev1.HouseRecommendReply, error) {
	user := req.GetUserId()
	if err := nonNegative(field{"user_id", user}); err != nil {
		return nil, err
	}
	if tok := tokenUser(ctx); tok != 0 {
		var err error
		if user, err = app.Actor(h.mode, tok, user, "user_id"); err != nil {
			return nil, err
		}
	}
	if user == 0 {
		return nil, app.Errorf(app.EInvalidArgument, "user_id is required and must be a positive integer")
	}
	p, err := page(req.GetPage(), req.GetPageSize())
	if err != nil {
		return nil, err
	}
	houses, total, err := h.svc.PersonalRecommendHouses(ctx, user, p)
	if err != nil {
		return nil, err
	}
	return houseReply(houses, total, p), nil
}

func (h *house) ReserveHouse(ctx context.Context, req *housev1.ReserveHouseRequest) (*housev1.ReserveHouseReply, error) {
	if err := required("house_id", req.GetHouseId()); err != nil {
		return nil, err
	}
	if err := nonNegative(field{"landlord_id", req.GetLandlordId()}, field{"user_id", req.GetUserId()}); err != nil {
		return nil, err
	}
	tenant, err := app.Actor(h.mode, tokenUser(ctx), req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	r, err := h.svc.CreateReservation(ctx, app.CreateReservation{
		HouseID:     req.GetHouseId(),
		TenantID:    tenant,
		TenantName:  req.GetUserName(),
		LandlordID:  req.GetLandlordId(),
		HouseTitle:  req.GetHouseTitle(),
		ReserveTime: req.GetReserveTime(),
	})
	if err != nil {
		return nil, err
	}
	return &housev1.ReserveHouseReply{Reservation: reservation(r)}, nil
}

func (h *house) ConfirmReservation(ctx context.Context, req *housev1.ConfirmReservationRequest) (*housev1.ReservationReply, error) {
	actor, err := h.actor(ctx, req.GetReservationId(), req.GetLandlordId(), "landlord_id")
	if err != nil {
		return nil, err
	}
	return reservationReply(h.svc.ConfirmReservation(ctx, req.GetReservationId(), actor))
}

func (h *house) RejectReservation(ctx context.Context, req *housev1.RejectReservationRequest) (*housev1.ReservationReply, error) {
	actor, err := h.actor(ctx, req.GetReservationId(), req.GetLandlordId(), "landlord_id")
	if err != nil {
		return nil, err
	}
	return reservationReply(h.svc.RejectReservation(ctx, req.GetReservationId(), actor, req.GetReason()))
}

func (h *house) CancelReservation(ctx context.Context, req *housev1.CancelReservationRequest) (*housev1.ReservationReply, error) {
	actor, err := h.actor(ctx, req.GetReservationId(), req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	return reservationReply(h.svc.CancelReservation(ctx, req.GetReservationId(), actor, req.GetReason()))
}

func (h *house) RemindReservation(ctx context.Context, req *housev1.RemindReservationRequest) (*housev1.ReservationReply, error) {
	actor, err := h.actor(ctx, req.GetReservationId(), req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	return reservationReply(h.svc.RemindReservation(ctx, req.GetReservationId(), actor))
}

func (h *house) GetReservation(ctx context.Context, req *housev1.GetReservationRequest) (*housev1.ReservationReply, error) {
	if err := required("reservation_id", req.GetReservationId()); err != nil {
		return nil, err
	}
	if err := nonNegative(field{"user_id", req.GetUserId()}); err != nil {
		return nil, err
	}
	viewer, err := app.Viewer(h.mode, tokenUser(ctx), req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	return reservationReply(h.svc.GetReservation(ctx, req.GetReservationId(), viewer))
}

func (h *house) ListReservations(ctx context.Context, req *housev1.ListReservationsRequest) (*housev1.ListReservationsReply, error) {
	if err := nonNegative(field{"user_id", req.GetUserId()}); err != nil {
		return nil, err
	}
	role := app.Role(req.GetRole())
	switch role {
	case "":
		role = app.RoleTenant
	case app.RoleTenant, app.RoleLandlord:
	default:
		return nil, app.Errorf(app.EInvalidArgument, "role must be %q or %q", app.RoleTenant, app.RoleLandlord)
	}
	st := app.Status(req.GetStatus())
	if st != "" && !st.Valid() {
		return nil, app.Errorf(app.EInvalidArgument, "unknown status %q", req.GetStatus())
	}
	p, err := page(req.GetPage(), req.GetPageSize())
	if err != nil {
		return nil, err
	}
	user, err := app.Actor(h.mode, tokenUser(ctx), req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	rs, total, err := h.svc.ListReservations(ctx, app.ReservationFilter{UserID: user, Role: role, Status: st, Page: p})
	if err != nil {
		return nil, err
	}
	out := &housev1.ListReservationsReply{Reservations: make([]*housev1.Reservation, 0, len(rs)), Total: int64(total)}
	for _, r := range rs {
		out.Reservations = append(out.Reservations, reservation(r))
	}
	return out, nil
}

// actor validates a write's reservation id and claimed user and resolves
// the acting user.
func (h *house) actor(ctx context.Context, id, claimed int64, name string) (int64, error) {
	if err := required("reservation_id", id); err != nil {
		return 0, err
	}
	if err := nonNegative(field{name, claimed}); err != nil {
		return 0, err
	}
	return app.Actor(h.mode, tokenUser(ctx), claimed, name)
}
