package app

import "context"

// CreateReservation is a tenant's booking request. ReserveTime is
// "YYYY-MM-DD HH:MM:SS" in the deployment's zone or RFC 3339. LandlordID
// and HouseTitle are optional; when given they must match the house.
type CreateReservation struct {
	HouseID     int64
	TenantID    int64
	TenantName  string
	LandlordID  int64
	HouseTitle  string
	ReserveTime string
}

// ReservationService is the one reservation service both transports (REST
// and gRPC) call, and the only validator of their requests: transports
// convert types and map errors. actor is the user acting, already resolved
// by the transport (see package auth); viewer 0 means a trusted, unchecked
// read.
type ReservationService interface {
	CreateReservation(ctx context.Context, req CreateReservation) (*Reservation, error)
	ConfirmReservation(ctx context.Context, id, actor int64) (*Reservation, error)
	RejectReservation(ctx context.Context, id, actor int64, reason string) (*Reservation, error)
	CancelReservation(ctx context.Context, id, actor int64, reason string) (*Reservation, error)
	RemindReservation(ctx context.Context, id, actor int64) (*Reservation, error)
	GetReservation(ctx context.Context, id, viewer int64) (*Reservation, error)
	ListReservations(ctx context.Context, f ReservationFilter) (ReservationPage, error)
	RecommendHouses(ctx context.Context, f HouseFilter) (HousePage, error)
	PersonalRecommendHouses(ctx context.Context, user int64, p Page) (HousePage, error)
}

// OrDefault returns v when it is positive, else def: the reading of
// options whose zero (or a negative) value means the default.
func OrDefault[T ~int | ~int64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// ReservationPage is one page of a reservation list.
type ReservationPage struct {
	Reservations []*Reservation
	Total        int  // in all pages
	Page         Page // the page answered (defaults applied)
}

// HousePage is one page of a house list.
type HousePage struct {
	Houses []*House
	Total  int  // in all pages
	Page   Page // the page answered (defaults applied)
}
