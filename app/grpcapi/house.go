package grpcapi

import (
	"context"
	"encoding/json"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/push"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// house implements housev1.HouseServer. Handlers convert messages and
// return app errors (the service validates); the authorize interceptor has
// resolved the caller and mapErrors turns errors into statuses.
type house struct {
	housev1.UnimplementedHouseServer
	svc     app.ReservationService
	push    PushService       // nil: Push is UNAVAILABLE
	devices DeviceService     // nil: the device methods are UNAVAILABLE
	prefs   PreferenceService // nil: the preference methods are UNAVAILABLE
	inbox   app.Inbox         // nil: the inbox methods are UNAVAILABLE
}

func (h *house) RecommendList(ctx context.Context, req *housev1.HouseRecommendRequest) (*housev1.HouseRecommendReply, error) {
	return houseReply(h.svc.RecommendHouses(ctx, app.HouseFilter{
		City:     req.GetCity(),
		District: req.GetDistrict(),
		MinPrice: int(req.GetMinPrice()),
		MaxPrice: int(req.GetMaxPrice()),
		Rooms:    int(req.GetRooms()),
		Page:     page(req.GetPage(), req.GetPageSize()),
	}))
}

// PersonalRecommendList needs the user's token in jwt mode, like every
// method that reads one user's data: its answer shows where the user booked.
func (h *house) PersonalRecommendList(ctx context.Context, req *housev1.PersonalRecommendRequest) (*housev1.HouseRecommendReply, error) {
	user, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	return houseReply(h.svc.PersonalRecommendHouses(ctx, user, page(req.GetPage(), req.GetPageSize())))
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

// page is a page request (0: the default; the service checks the bounds).
func page(p, size int32) app.Page {
	return app.Page{Page: int(p), PageSize: int(size)}
}

// reservation converts r to its gRPC form, field for field with
// app.ReservationJSON.
func reservation(r *app.Reservation) *housev1.Reservation {
	j := r.JSON()
	return &housev1.Reservation{
		ReservationId: j.ReservationID,
		HouseId:       j.HouseID,
		HouseTitle:    j.HouseTitle,
		LandlordId:    j.LandlordID,
		UserId:        j.UserID,
		UserName:      j.UserName,
		ReserveTime:   j.ReserveTime,
		Status:        string(j.Status),
		Reason:        j.Reason,
		CancelledBy:   j.CancelledBy,
		CreatedAt:     j.CreatedAt,
		UpdatedAt:     j.UpdatedAt,
	}
}

// reservationReply wraps a service result.
func reservationReply(r *app.Reservation, err error) (*housev1.ReservationReply, error) {
	if err != nil {
		return nil, err
	}
	return &housev1.ReservationReply{Reservation: reservation(r)}, nil
}

// houseInfo converts h to its gRPC form.
func houseInfo(h *app.House) *housev1.HouseInfo {
	return &housev1.HouseInfo{
		HouseId:    h.ID,
		LandlordId: h.LandlordID,
		Title:      h.Title,
		City:       h.City,
		District:   h.District,
		Price:      int64(h.Price),
		Rooms:      int32(h.Rooms),
		Area:       h.Area,
		Tags:       h.Tags,
		Popularity: int64(h.Popularity),
		Score:      h.Score,
	}
}

// houseReply builds one page of houses, or returns the service's error.
func houseReply(res app.HousePage, err error) (*housev1.HouseRecommendReply, error) {
	if err != nil {
		return nil, err
	}
	out := &housev1.HouseRecommendReply{
		Houses:   make([]*housev1.HouseInfo, 0, len(res.Houses)),
		Total:    int64(res.Total),
		Page:     int32(res.Page.Page),
		PageSize: int32(res.Page.PageSize),
	}
	for _, h := range res.Houses {
		out.Houses = append(out.Houses, houseInfo(h))
	}
	return out, nil
}

// PushService sends generic server pushes (see push.Service).
type PushService interface {
	Push(ctx context.Context, req push.Request) ([]push.Result, error)
}

// Push sends one generic notification to each listed user. The auth
// interceptor has checked the API key.
func (h *house) Push(ctx context.Context, req *housev1.PushRequest) (*housev1.PushReply, error) {
	if h.push == nil {
		return nil, app.Errorf(app.EUnavailable, "server push is not available")
	}
	results, err := h.push.Push(ctx, push.Request{
		UserIDs: req.GetUserIds(), Title: req.GetTitle(), Content: req.GetContent(),
		Detail: json.RawMessage(req.GetDetailJson()), IdempotencyKey: req.GetIdempotencyKey(),
		Webhook: req.GetWebhook(),
	})
	if err != nil {
		return nil, err
	}
	reply := &housev1.PushReply{Results: make([]*housev1.PushResult, len(results))}
	for i, r := range results {
		reply.Results[i] = &housev1.PushResult{UserId: r.UserID, Seq: r.Seq, Id: r.ID, Epoch: r.Epoch, Muted: r.Muted}
	}
	return reply, nil
}
