package grpcapi

import (
	"github.com/houseview/gateway/app"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// required checks that an id is present and positive.
func required(field string, id int64) error {
	if id <= 0 {
		return app.Errorf(app.EInvalidArgument, "%s is required and must be a positive integer", field)
	}
	return nil
}

// field is a named number of a request.
type field struct {
	name  string
	value int64
}

// nonNegative checks fields that may be 0 (absent) but not negative.
func nonNegative(fs ...field) error {
	for _, f := range fs {
		if f.value < 0 {
			return app.Errorf(app.EInvalidArgument, "%s must not be negative", f.name)
		}
	}
	return nil
}

// page normalizes a page request (0 means the default).
func page(p, size int32) (app.Page, error) {
	return app.Page{Page: int(p), PageSize: int(size)}.Normalize()
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

// houseReply builds one page of houses.
func houseReply(hs []*app.House, total int, p app.Page) *housev1.HouseRecommendReply {
	out := &housev1.HouseRecommendReply{
		Houses:   make([]*housev1.HouseInfo, 0, len(hs)),
		Total:    int64(total),
		Page:     int32(p.Page),
		PageSize: int32(p.PageSize),
	}
	for _, h := range hs {
		out.Houses = append(out.Houses, houseInfo(h))
	}
	return out
}
