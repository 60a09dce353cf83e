package app

import (
	"encoding/json"
	"time"
)

// House is a listing that tenants book viewings of.
type House struct {
	ID         int64     `json:"house_id"`
	LandlordID int64     `json:"landlord_id"`
	Title      string    `json:"title"`
	City       string    `json:"city"`
	District   string    `json:"district"`
	Price      int       `json:"price"` // yuan per month
	Rooms      int       `json:"rooms"`
	Area       float64   `json:"area"` // square metres
	Tags       []string  `json:"tags"`
	Popularity int       `json:"popularity"` // reservations in the recent window
	Score      float64   `json:"score,omitempty"`
	CreatedAt  time.Time `json:"-"`
}

// MarshalJSON writes h with created_at in unix seconds.
func (h *House) MarshalJSON() ([]byte, error) {
	type plain House
	return json.Marshal(struct {
		*plain
		Created int64 `json:"created_at"`
	}{(*plain)(h), h.CreatedAt.Unix()})
}

// HouseFilter narrows a recommendation list. Zero fields do not filter.
type HouseFilter struct {
	City     string
	District string
	MinPrice int
	MaxPrice int
	Rooms    int
	Page
}

// Taste sums up what a tenant has booked: the basis of personal
// recommendation scores.
type Taste struct {
	Cities    []string
	Districts []string // "city/district"
	AvgPrice  float64
	AvgRooms  float64
	Booked    int // how many reservations it is drawn from
}
