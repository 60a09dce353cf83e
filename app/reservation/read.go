package reservation

import (
	"context"

	"github.com/houseview/gateway/app"
)

// GetReservation returns reservation id. viewer 0 is a trusted read;
// otherwise only the two parties may read it.
func (s *Service) GetReservation(ctx context.Context, id, viewer int64) (*app.Reservation, error) {
	if id <= 0 {
		return nil, app.Errorf(app.EInvalidArgument, "reservation id must be a positive integer")
	}
	r, err := s.store.Reservation(ctx, id)
	if err != nil {
		return nil, err
	}
	if viewer != 0 && !r.IsParty(viewer) {
		return nil, app.Errorf(app.EPermissionDenied, "user %d is not a party to reservation %d", viewer, id)
	}
	return s.local(r), nil
}

// ListReservations returns a page of f.UserID's reservations as tenant or
// landlord, newest first, and the total.
func (s *Service) ListReservations(ctx context.Context, f app.ReservationFilter) ([]*app.Reservation, int, error) {
	if f.UserID <= 0 {
		return nil, 0, app.Errorf(app.EInvalidArgument, "user_id is required and must be a positive integer")
	}
	switch f.Role {
	case "":
		f.Role = app.RoleTenant
	case app.RoleTenant, app.RoleLandlord:
	default:
		return nil, 0, app.Errorf(app.EInvalidArgument, "role must be tenant or landlord, not %q", f.Role)
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, 0, app.Errorf(app.EInvalidArgument, "status must be pending, confirmed, rejected or cancelled, not %q", f.Status)
	}
	p, err := f.Page.Normalize()
	if err != nil {
		return nil, 0, err
	}
	f.Page = p
	rs, total, err := s.store.ListReservations(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	for _, r := range rs {
		s.local(r)
	}
	return rs, total, nil
}

// RecommendHouses returns a page of houses matching f, most popular first
// (reservations in the popularity window), then newest.
func (s *Service) RecommendHouses(ctx context.Context, f app.HouseFilter) ([]*app.House, int, error) {
	if f.MinPrice < 0 || f.MaxPrice < 0 || f.Rooms < 0 {
		return nil, 0, app.Errorf(app.EInvalidArgument, "min_price, max_price and rooms must not be negative")
	}
	if f.MaxPrice > 0 && f.MinPrice > f.MaxPrice {
		return nil, 0, app.Errorf(app.EInvalidArgument, "min_price must not exceed max_price")
	}
	p, err := f.Page.Normalize()
	if err != nil {
		return nil, 0, err
	}
	f.Page = p
	return s.store.RecommendHouses(ctx, f, s.now().Add(-s.popw), 0)
}

// PersonalRecommendHouses scores houses against the user's own bookings
// (same city and district, similar price and rooms), leaving out houses the
// user already booked. A user with no bookings gets the popular list.
func (s *Service) PersonalRecommendHouses(ctx context.Context, user int64, p app.Page) ([]*app.House, int, error) {
	if user <= 0 {
		return nil, 0, app.Errorf(app.EInvalidArgument, "user_id is required and must be a positive integer")
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, 0, err
	}
	since := s.now().Add(-s.popw)
	taste, err := s.store.UserTaste(ctx, user)
	if err != nil {
		return nil, 0, err
	}
	if taste.Booked == 0 {
		return s.store.RecommendHouses(ctx, app.HouseFilter{Page: p}, since, 0)
	}
	hs, total, err := s.store.PersonalRecommendHouses(ctx, user, taste, p, since)
	if err != nil || total > 0 {
		return hs, total, err
	}
	// Every house in the user's cities is booked: popular elsewhere.
	return s.store.RecommendHouses(ctx, app.HouseFilter{Page: p}, since, user)
}
