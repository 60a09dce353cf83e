package reservation

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/houseview/gateway/app"
)

// MaxUserNameLen bounds user_name, in characters.
const MaxUserNameLen = 64

// CreateReservation books a viewing for req.TenantID and notifies the
// landlord (type 1).
func (s *Service) CreateReservation(ctx context.Context, req app.CreateReservation) (*app.Reservation, error) {
	if req.HouseID <= 0 {
		return nil, app.Errorf(app.EInvalidArgument, "house_id is required and must be a positive integer")
	}
	if req.TenantID <= 0 {
		return nil, app.Errorf(app.EInvalidArgument, "user_id is required and must be a positive integer")
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

func checkUserName(s string) (string, error) {
	name := strings.TrimSpace(s)
	if name == "" {
		return "", app.Errorf(app.EInvalidArgument, "user_name is required")
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxUserNameLen {
		return "", app.Errorf(app.EInvalidArgument, "user_name must be valid text of at most %d characters", MaxUserNameLen)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", app.Errorf(app.EInvalidArgument, "user_name must not contain control characters")
	}
	return name, nil
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
	if at.After(now.Add(s.ahead)) {
		return time.Time{}, app.Errorf(app.EInvalidArgument, "reserve_time must be within %d days", int(s.ahead/(24*time.Hour)))
	}
	return at, nil
}
