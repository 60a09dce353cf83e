package reservation

import (
	"context"

	"github.com/houseview/gateway/app"
)

// GetReservation returns reservation id. viewer 0 is a trusted read;
// otherwise only the two parties may read it.
func (s *Service) GetReservation(ctx context.Context, id, viewer int64) (*app.Reservation, error) {
	if err := checkReservationID(id); err != nil {
		return nil, err
	}
	r, err := s.store.Reservation(ctx, id)
	if err != nil {
		return nil, err
	}
	if viewer != 0 && !r.IsParty(viewer) {
		return nil, app.Errorf(app.EPermissionDenied, "user %d is not a party to reservation %d", viewer, id)
	}
	return s.inZone(r), nil
}

// ListReservations returns a page of f.UserID's reservations as tenant or
// landlord, newest first, and the total.
func (s *Service) ListReservations(ctx context.Context, f app.ReservationFilter) (app.ReservationPage, error) {
	if err := checkUserID("user_id", f.UserID); err != nil {
		return app.ReservationPage{}, err
	}
	if f.Role == "" {
		f.Role = app.RoleTenant
	}
	if f.Role != app.RoleTenant && f.Role != app.RoleLandlord {
		return app.ReservationPage{}, app.Errorf(app.EInvalidArgument, "role must be tenant or landlord, not %q", f.Role)
	}
	if f.Status != "" && !f.Status.Valid() {
		return app.ReservationPage{}, app.Errorf(app.EInvalidArgument, "status must be pending, confirmed, rejected or cancelled, not %q", f.Status)
	}
	p, err := f.Page.Normalize()
	if err != nil {
		return app.ReservationPage{}, err
	}
	f.Page = p
	rs, total, err := s.store.ListReservations(ctx, f)
	if err != nil {
		return app.ReservationPage{}, err
	}
	for _, r := range rs {
		s.inZone(r)
	}
	return app.ReservationPage{Reservations: rs, Total: total, Page: p}, nil
}

// RecommendHouses returns a page of houses matching f, most popular first
// (reservations in the popularity window), then newest.
func (s *Service) RecommendHouses(ctx context.Context, f app.HouseFilter) (app.HousePage, error) {
	if f.MinPrice < 0 || f.MaxPrice < 0 || f.Rooms < 0 {
		return app.HousePage{}, app.Errorf(app.EInvalidArgument, "min_price, max_price and rooms must not be negative")
	}
	if f.MaxPrice > 0 && f.MinPrice > f.MaxPrice {
		return app.HousePage{}, app.Errorf(app.EInvalidArgument, "min_price must not exceed max_price")
	}
	p, err := f.Page.Normalize()
	if err != nil {
		return app.HousePage{}, err
	}
	f.Page = p
	return housePage(p)(s.store.RecommendHouses(ctx, f, s.opts.Now().Add(-s.opts.PopularityWindow), 0))
}

// PersonalRecommendHouses scores houses against the user's own bookings
// (same city and district, similar price and rooms), leaving out houses the
// user already booked. A user with no bookings gets the popular list.
func (s *Service) PersonalRecommendHouses(ctx context.Context, user int64, p app.Page) (app.HousePage, error) {
	if err := checkUserID("user_id", user); err != nil {
		return app.HousePage{}, err
	}
	p, err := p.Normalize()
	if err != nil {
		return app.HousePage{}, err
	}
	since := s.opts.Now().Add(-s.opts.PopularityWindow)
	taste, err := s.store.UserTaste(ctx, user)
	if err != nil {
		return app.HousePage{}, err
	}
	if taste.Booked == 0 {
		return housePage(p)(s.store.RecommendHouses(ctx, app.HouseFilter{Page: p}, since, 0))
	}
	hs, total, err := s.store.PersonalRecommendHouses(ctx, user, taste, p, since)
	if err != nil || total > 0 {
		return housePage(p)(hs, total, err)
	}
	// Every house in the user's cities is booked: popular elsewhere.
	return housePage(p)(s.store.RecommendHouses(ctx, app.HouseFilter{Page: p}, since, user))
}

// housePage wraps a store's answer for page p.
func housePage(p app.Page) func([]*app.House, int, error) (app.HousePage, error) {
	return func(hs []*app.House, total int, err error) (app.HousePage, error) {
		if err != nil {
			return app.HousePage{}, err
		}
		return app.HousePage{Houses: hs, Total: total, Page: p}, nil
	}
}
