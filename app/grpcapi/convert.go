package grpcapi

import (
	"github.com/houseview/gateway/app"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

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

// houseReply builds one page of houses.
func houseReply(res app.HousePage) *housev1.HouseRecommendReply {
	out := &housev1.HouseRecommendReply{
		Houses:   make([]*housev1.HouseInfo, 0, len(res.Houses)),
		Total:    int64(res.Total),
		Page:     int32(res.Page.Page),
		PageSize: int32(res.Page.PageSize),
	}
	for _, h := range res.Houses {
		out.Houses = append(out.Houses, houseInfo(h))
	}
	return out
}
