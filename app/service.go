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
// and gRPC) call. actor is the user acting, already authenticated by the
// transport (see Actor); viewer 0 means a trusted, unchecked read.
type ReservationService interface {
	CreateReservation(ctx context.Context, req CreateReservation) (*Reservation, error)
	ConfirmReservation(ctx context.Context, id, actor int64) (*Reservation, error)
	RejectReservation(ctx context.Context, id, actor int64, reason string) (*Reservation, error)
	CancelReservation(ctx context.Context, id, actor int64, reason string) (*Reservation, error)
	RemindReservation(ctx context.Context, id, actor int64) (*Reservation, error)
	GetReservation(ctx context.Context, id, viewer int64) (*Reservation, error)
	ListReservations(ctx context.Context, f ReservationFilter) ([]*Reservation, int, error)
	RecommendHouses(ctx context.Context, f HouseFilter) ([]*House, int, error)
	PersonalRecommendHouses(ctx context.Context, user int64, p Page) ([]*House, int, error)
}
