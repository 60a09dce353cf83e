package grpcapi

import (
	"context"

	"github.com/houseview/gateway/app"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// house implements housev1.HouseServer. Handlers convert messages and
// return app errors (the service validates); the authorize interceptor has
// resolved the caller and mapErrors turns errors into statuses.
type house struct {
	housev1.UnimplementedHouseServer
	svc  app.ReservationService
	push PushService // nil: Push is UNAVAILABLE
}

func (h *house) RecommendList(ctx context.Context, req *housev1.HouseRecommendRequest) (*housev1.HouseRecommendReply, error) {
	res, err := h.svc.RecommendHouses(ctx, app.HouseFilter{
		City:     req.GetCity(),
		District: req.GetDistrict(),
		MinPrice: int(req.GetMinPrice()),
		MaxPrice: int(req.GetMaxPrice()),
		Rooms:    int(req.GetRooms()),
		Page:     page(req.GetPage(), req.GetPageSize()),
	})
	if err != nil {
		return nil, err
	}
	return houseReply(res), nil
}

// PersonalRecommendList needs the user's token in jwt mode, like every
// method that reads one user's data: its answer shows where the user booked.
func (h *house) PersonalRecommendList(ctx context.Context, req *housev1.PersonalRecommendRequest) (*housev1.HouseRecommendReply, error) {
	user, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	res, err := h.svc.PersonalRecommendHouses(ctx, user, page(req.GetPage(), req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	return houseReply(res), nil
}

func (h *house) ReserveHouse(ctx context.Context, req *housev1.ReserveHouseRequest) (*housev1.ReserveHouseReply, error) {
	tenant, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
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
	actor, err := callerOf(ctx).Actor(req.GetLandlordId(), "landlord_id")
	if err != nil {
		return nil, err
	}
	return reservationReply(h.svc.ConfirmReservation(ctx, req.GetReservationId(), actor))
}

func (h *house) RejectReservation(ctx context.Context, req *housev1.RejectReservationRequest) (*housev1.ReservationReply, error) {
	actor, err := callerOf(ctx).Actor(req.GetLandlordId(), "landlord_id")
	if err != nil {
		return nil, err
	}
	return reservationReply(h.svc.RejectReservation(ctx, req.GetReservationId(), actor, req.GetReason()))
}

func (h *house) CancelReservation(ctx context.Context, req *housev1.CancelReservationRequest) (*housev1.ReservationReply, error) {
	actor, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	return reservationReply(h.svc.CancelReservation(ctx, req.GetReservationId(), actor, req.GetReason()))
}

func (h *house) RemindReservation(ctx context.Context, req *housev1.RemindReservationRequest) (*housev1.ReservationReply, error) {
	actor, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	return reservationReply(h.svc.RemindReservation(ctx, req.GetReservationId(), actor))
}

func (h *house) GetReservation(ctx context.Context, req *housev1.GetReservationRequest) (*housev1.ReservationReply, error) {
	viewer, err := callerOf(ctx).Viewer(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	return reservationReply(h.svc.GetReservation(ctx, req.GetReservationId(), viewer))
}

func (h *house) ListReservations(ctx context.Context, req *housev1.ListReservationsRequest) (*housev1.ListReservationsReply, error) {
	user, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	res, err := h.svc.ListReservations(ctx, app.ReservationFilter{UserID: user, Role: app.Role(req.GetRole()),
		Status: app.Status(req.GetStatus()), Page: page(req.GetPage(), req.GetPageSize())})
	if err != nil {
		return nil, err
	}
	out := &housev1.ListReservationsReply{Reservations: make([]*housev1.Reservation, 0, len(res.Reservations)), Total: int64(res.Total)}
	for _, r := range res.Reservations {
		out.Reservations = append(out.Reservations, reservation(r))
	}
	return out, nil
}
