package reservation

import (
	"context"
	"time"

	"github.com/houseview/gateway/app"
)

// CreateReservation books a viewing for req.TenantID and notifies the
// landlord (type 1).
func (s *Service) CreateReservation(ctx context.Context, req app.CreateReservation) (*app.Reservation, error) {
	// The rate limit applies once the ids are valid, before the other
	// checks (checkCreate repeats the two).
	if err := checkUserID("house_id", req.HouseID); err != nil {
		return nil, err
	}
	if err := checkUserID("user_id", req.TenantID); err != nil {
		return nil, err
	}
	if err := s.allow(ctx, LimitReserve, req.TenantID); err != nil {
		return nil, err
	}
	now := s.opts.Now()
	in, err := s.checkCreate(req, now)
	if err != nil {
		return nil, err
	}
	house, err := s.store.House(ctx, req.HouseID)
	if err != nil {
		return nil, err
	}
	if req.LandlordID != 0 && req.LandlordID != house.LandlordID {
		return nil, app.Errorf(app.EInvalidArgument, "landlord_id %d is not the landlord of house %d", req.LandlordID, house.ID)
	}
	if in.title != "" && in.title != house.Title {
		return nil, app.Errorf(app.EInvalidArgument, "house_title %q does not match house %d (%q)", in.title, house.ID, house.Title)
	}
	if req.TenantID == house.LandlordID {
		return nil, app.Errorf(app.EInvalidArgument, "a landlord cannot book a viewing of their own house")
	}
	r := &app.Reservation{
		HouseID: house.ID, HouseTitle: house.Title, LandlordID: house.LandlordID,
		TenantID: req.TenantID, TenantName: in.name, ReserveTime: in.at.In(s.opts.Location),
		Status: app.StatusPending, Version: 1,
		CreatedAt: now.Truncate(time.Millisecond), UpdatedAt: now.Truncate(time.Millisecond),
	}
	msgs, err := s.store.CreateReservation(ctx, r, func(r *app.Reservation) ([]app.Message, error) {
		return s.messages(r, eventCreated, r.TenantID, "")
	})
	if err != nil {
		return nil, err
	}
	s.counted("created")
	s.deliver(ctx, msgs)
	return r, nil
}

// createInput is what a booking request says once checked.
type createInput struct {
	name  string    // user_name, trimmed
	title string    // house_title, trimmed ("" when absent)
	at    time.Time // reserve_time
}

// ValidateCreate returns the error CreateReservation gives req before it
// reads the house (the checks that need no database), or nil.
func (s *Service) ValidateCreate(req app.CreateReservation) error {
	_, err := s.checkCreate(req, s.opts.Now())
	return err
}

// checkCreate checks what a booking request says by itself, in the order
// of the fields' first error.
func (s *Service) checkCreate(req app.CreateReservation, now time.Time) (createInput, error) {
	var in createInput
	if err := checkUserID("house_id", req.HouseID); err != nil {
		return in, err
	}
	if err := checkUserID("user_id", req.TenantID); err != nil {
		return in, err
	}
	if req.LandlordID < 0 {
		return in, app.Errorf(app.EInvalidArgument, "landlord_id must be a positive integer")
	}
	var err error
	if in.name, err = checkUserName(req.TenantName); err != nil {
		return in, err
	}
	if in.title, err = checkHouseTitle(req.HouseTitle); err != nil {
		return in, err
	}
	if in.at, err = app.ParseReserveTime(req.ReserveTime, s.opts.Location, now, s.opts.MaxAhead); err != nil {
		return in, err
	}
	return in, nil
}
