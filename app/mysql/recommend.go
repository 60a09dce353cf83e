package mysql

import (
	"context"
	"math"
	"time"

	"gorm.io/gorm"

	"github.com/houseview/gateway/app"
)

type scoredHouseRow struct {
	Row        houseRow `gorm:"embedded"`
	Popularity int
	Score      float64
}

func (r *scoredHouseRow) house() *app.House {
	h := r.Row.house()
	h.Popularity = r.Popularity
	h.Score = math.Round(r.Score*1000) / 1000
	return h
}

// notBookedBy leaves out the houses a tenant has reservations of.
const notBookedBy = "houses.id NOT IN (SELECT house_id FROM reservations WHERE tenant_id = ?)"

// popularityJoin joins each house to its reservation count since a time.
const popularityJoin = "LEFT JOIN (SELECT house_id, COUNT(*) AS cnt FROM reservations WHERE created_at >= ? GROUP BY house_id) pop ON pop.house_id = houses.id"

// RecommendHouses returns a page of houses matching f, most popular first
// (reservations created since since), then newest, and the total. Houses
// that excludeTenant (when not 0) has booked are left out.
func (s *Store) RecommendHouses(ctx context.Context, f app.HouseFilter, since time.Time, excludeTenant int64) ([]*app.House, int, error) {
	q := s.filtered(ctx, f)
	if excludeTenant != 0 {
		q = q.Where(notBookedBy, excludeTenant)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, dbError("count houses", err)
	}
	var rows []scoredHouseRow
	err := q.Select("houses.*, COALESCE(pop.cnt, 0) AS popularity, 0 AS score").
		Joins(popularityJoin, since.UTC()).
		Order("popularity DESC, houses.created_at DESC, houses.id DESC").
		Limit(f.PageSize).Offset(f.Offset()).Scan(&rows).Error
	if err != nil {
		return nil, 0, dbError("recommend houses", err)
	}
	return houses(rows), int(total), nil
}

func (s *Store) filtered(ctx context.Context, f app.HouseFilter) *gorm.DB {
	q := s.db.WithContext(ctx).Model(&houseRow{})
	if f.City != "" {
		q = q.Where("houses.city = ?", f.City)
	}
	if f.District != "" {
		q = q.Where("houses.district = ?", f.District)
	}
	if f.MinPrice > 0 {
		q = q.Where("houses.price >= ?", f.MinPrice)
	}
	if f.MaxPrice > 0 {
		q = q.Where("houses.price <= ?", f.MaxPrice)
	}
	if f.Rooms > 0 {
		q = q.Where("houses.rooms = ?", f.Rooms)
	}
	return q
}

// tasteWindow is how many of the tenant's latest reservations shape the taste.
const tasteWindow = 50

// UserTaste reads the tenant's latest reservations and the houses behind them.
func (s *Store) UserTaste(ctx context.Context, user int64) (app.Taste, error) {
	var rows []houseRow
	err := s.db.WithContext(ctx).Table("reservations r").
		Select("h.*").Joins("JOIN houses h ON h.id = r.house_id").
		Where("r.tenant_id = ?", user).Order("r.id DESC").Limit(tasteWindow).Find(&rows).Error
	if err != nil {
		return app.Taste{}, dbError("user taste", err)
	}
	t := app.Taste{Booked: len(rows)}
	seenCity, seenDistrict := map[string]bool{}, map[string]bool{}
	for _, h := range rows {
		if !seenCity[h.City] {
			seenCity[h.City] = true
			t.Cities = append(t.Cities, h.City)
		}
		if d := h.City + "/" + h.District; !seenDistrict[d] {
			seenDistrict[d] = true
			t.Districts = append(t.Districts, d)
		}
		t.AvgPrice += float64(h.Price)
		t.AvgRooms += float64(h.Rooms)
	}
	if len(rows) > 0 {
		t.AvgPrice /= float64(len(rows))
		t.AvgRooms /= float64(len(rows))
	}
	return t, nil
}

// personalScore weighs a house against a taste: district 2, price closeness
// up to 2, rooms 1 (same) or 0.5 (one off). City is a filter, not a score.
const personalScore = `(CASE WHEN CONCAT(houses.city, '/', houses.district) IN ? THEN 2 ELSE 0 END
 + 2 * GREATEST(0, 1 - ABS(houses.price - ?) / ?)
 + CASE WHEN houses.rooms = ? THEN 1 WHEN ABS(houses.rooms - ?) <= 1 THEN 0.5 ELSE 0 END)`

// PersonalRecommendHouses returns a page of houses in the taste's cities
// that user has never booked, best score first, then popularity and
// newest, and the total.
func (s *Store) PersonalRecommendHouses(ctx context.Context, user int64, t app.Taste, p app.Page, since time.Time) ([]*app.House, int, error) {
	q := s.db.WithContext(ctx).Model(&houseRow{}).
		Where("houses.city IN ?", t.Cities).
		Where(notBookedBy, user)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, dbError("count personal houses", err)
	}
	rooms := math.Round(t.AvgRooms)
	var rows []scoredHouseRow
	err := q.Select("houses.*, COALESCE(pop.cnt, 0) AS popularity, "+personalScore+" AS score",
		t.Districts, t.AvgPrice, math.Max(t.AvgPrice, 1), rooms, t.AvgRooms).
		Joins(popularityJoin, since.UTC()).
		Order("score DESC, popularity DESC, houses.created_at DESC, houses.id DESC").
		Limit(p.PageSize).Offset(p.Offset()).Scan(&rows).Error
	if err != nil {
		return nil, 0, dbError("personal recommend", err)
	}
	return houses(rows), int(total), nil
}

func houses(rows []scoredHouseRow) []*app.House {
	out := make([]*app.House, len(rows))
	for i := range rows {
		out[i] = rows[i].house()
	}
	return out
}
