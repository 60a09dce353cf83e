package reservation

import (
	"context"
	"strings"
	"time"

	"github.com/houseview/gateway/app"
)

// CreateReservation books a viewing for req.TenantID and notifies the
// landlord (type 1).
func (s *Service) CreateReservation(ctx context.Context, req app.CreateReservation) (*app.Reservation, error) {
	if err := checkUserID("house_id", req.HouseID); err != nil {
		return nil, err
	}
	if err := checkUserID("user_id", req.TenantID); err != nil {
		return nil, err
	}
	if err := s.allow(ctx, LimitReserve, req.TenantID); err != nil {
		return nil, err
	}
	if req.LandlordID < 0 {
		return nil, app.Errorf(app.EInvalidArgument, "landlord_id must be a positive integer")
	}
	name, err := checkUserName(req.TenantName)
	if err != nil {
		return nil, err
	}
	now := s.now()
	at, err := s.parseReserveTime(req.ReserveTime, now)
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
	if t := strings.TrimSpace(req.HouseTitle); t != "" && t != house.Title {
		return nil, app.Errorf(app.EInvalidArgument, "house_title %q does not match house %d (%q)", t, house.ID, house.Title)
	}
	if req.TenantID == house.LandlordID {
		return nil, app.Errorf(app.EInvalidArgument, "a landlord cannot book a viewing of their own house")
	}
	r := &app.Reservation{
		HouseID: house.ID, HouseTitle: house.Title, LandlordID: house.LandlordID,
		TenantID: req.TenantID, TenantName: name, ReserveTime: at.In(s.loc),
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

// parseReserveTime reads "YYYY-MM-DD HH:MM:SS" in the service's zone or
// RFC 3339, and checks that it lies in (now, now+MaxAhead].
func (s *Service) parseReserveTime(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, app.Errorf(app.EInvalidArgument, "reserve_time is required")
	}
	at, err := time.ParseInLocation(app.TimeLayout, v, s.loc)
	if err != nil {
		if at, err = time.Parse(time.RFC3339, v); err != nil {
			return time.Time{}, app.Errorf(app.EInvalidArgument,
				`reserve_time %q must be "YYYY-MM-DD HH:MM:SS" (%s) or RFC 3339`, v, s.loc)
		}
	}
	at = at.Truncate(time.Second)
	if !at.After(now) {
		return time.Time{}, app.Errorf(app.EInvalidArgument, "reserve_time %s is not in the future", at.In(s.loc).Format(app.TimeLayout))
	}
	if at.After(now.Add(s.maxAhead)) {
		return time.Time{}, app.Errorf(app.EInvalidArgument, "reserve_time must be within %d days", int(s.maxAhead/(24*time.Hour)))
	}
	return at, nil
}
