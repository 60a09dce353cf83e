package app

import (
	"encoding/json"
	"strings"
	"time"
)

// Status is the state of a reservation.
type Status string

// Reservation states. pending -> confirmed | rejected | cancelled;
// confirmed -> cancelled.
const (
	StatusPending   Status = "pending"
	StatusConfirmed Status = "confirmed"
	StatusRejected  Status = "rejected"
	StatusCancelled Status = "cancelled"
)

// Valid reports whether s is one of the four states.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusConfirmed, StatusRejected, StatusCancelled:
		return true
	}
	return false
}

// Active reports whether a reservation in state s still holds its slot.
func (s Status) Active() bool { return s == StatusPending || s == StatusConfirmed }

// CanMove reports whether the state machine allows s -> to.
func (s Status) CanMove(to Status) bool {
	switch s {
	case StatusPending:
		return to == StatusConfirmed || to == StatusRejected || to == StatusCancelled
	case StatusConfirmed:
		return to == StatusCancelled
	}
	return false
}

// TimeLayout is the wall-clock layout of reserve_time on every transport.
const TimeLayout = "2006-01-02 15:04:05"

// Reservation is a tenant's request to view a house at a time.
type Reservation struct {
	ID          int64
	HouseID     int64
	HouseTitle  string
	LandlordID  int64
	TenantID    int64
	TenantName  string
	ReserveTime time.Time // in the deployment's time zone
	Status      Status
	Reason      string // why it was rejected or cancelled
	CancelledBy int64  // who cancelled it, 0 unless cancelled
	Version     int64  // bumped by every transition
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ReservationJSON is the reservation object of the public contract: REST
// responses and notification "detail" use it as is, gRPC mirrors it.
type ReservationJSON struct {
	ReservationID int64  `json:"reservation_id"`
	HouseID       int64  `json:"house_id"`
	HouseTitle    string `json:"house_title"`
	LandlordID    int64  `json:"landlord_id"`
	UserID        int64  `json:"user_id"`
	UserName      string `json:"user_name"`
	ReserveTime   string `json:"reserve_time"`
	Status        Status `json:"status"`
	Reason        string `json:"reason"`
	CancelledBy   int64  `json:"cancelled_by,omitempty"`
	CreatedAt     int64  `json:"created_at"`
	UpdatedAt     int64  `json:"updated_at"`
}

// JSON returns the public form of r. reserve_time is written in the zone
// r.ReserveTime carries.
func (r *Reservation) JSON() ReservationJSON {
	return ReservationJSON{
		ReservationID: r.ID,
		HouseID:       r.HouseID,
		HouseTitle:    r.HouseTitle,
		LandlordID:    r.LandlordID,
		UserID:        r.TenantID,
		UserName:      r.TenantName,
		ReserveTime:   r.ReserveTime.Format(TimeLayout),
		Status:        r.Status,
		Reason:        r.Reason,
		CancelledBy:   r.CancelledBy,
		CreatedAt:     r.CreatedAt.Unix(),
		UpdatedAt:     r.UpdatedAt.Unix(),
	}
}

// MarshalJSON writes the public form of r.
func (r *Reservation) MarshalJSON() ([]byte, error) { return json.Marshal(r.JSON()) }

// IsParty reports whether user is the tenant or the landlord of r.
func (r *Reservation) IsParty(user int64) bool {
	return user == r.TenantID || user == r.LandlordID
}

// Role says from whose side a list of reservations is read.
type Role string

// Roles of a user in a reservation.
const (
	RoleTenant   Role = "tenant"
	RoleLandlord Role = "landlord"
)

// ReservationFilter selects a page of one user's reservations.
type ReservationFilter struct {
	UserID int64
	Role   Role   // RoleTenant (default) or RoleLandlord
	Status Status // "" for every state
	Page
}

// Page is a 1-based page request.
type Page struct {
	Page     int
	PageSize int
}

// Paging limits shared by every list endpoint. MaxPage keeps offsets far
// from overflowing.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	MaxPage         = 1_000_000
)

// Normalize fills defaults (0 means absent) and checks the bounds of p.
func (p Page) Normalize() (Page, error) {
	if p.Page == 0 {
		p.Page = 1
	}
	if p.PageSize == 0 {
		p.PageSize = DefaultPageSize
	}
	if p.Page < 1 || p.Page > MaxPage {
		return p, Errorf(EInvalidArgument, "page must be between 1 and %d", MaxPage)
	}
	if p.PageSize < 1 || p.PageSize > MaxPageSize {
		return p, Errorf(EInvalidArgument, "page_size must be between 1 and %d", MaxPageSize)
	}
	return p, nil
}

// Offset is the number of rows before p.
func (p Page) Offset() int { return (p.Page - 1) * p.PageSize }

// ParseReserveTime reads a reserve_time: "YYYY-MM-DD HH:MM:SS" (TimeLayout)
// in loc, or RFC 3339. It truncates to whole seconds and checks that the
// time lies in (now, now+maxAhead]. Every error is an EInvalidArgument
// naming reserve_time; the input is quoted (%q), never echoed raw.
func ParseReserveTime(v string, loc *time.Location, now time.Time, maxAhead time.Duration) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, Errorf(EInvalidArgument, "reserve_time is required")
	}
	at, err := time.ParseInLocation(TimeLayout, v, loc)
	if err != nil {
		if at, err = time.Parse(time.RFC3339, v); err != nil {
			return time.Time{}, Errorf(EInvalidArgument,
				`reserve_time %q must be "YYYY-MM-DD HH:MM:SS" (%s) or RFC 3339`, v, loc)
		}
	}
	at = at.Truncate(time.Second)
	if !at.After(now) {
		return time.Time{}, Errorf(EInvalidArgument, "reserve_time %s is not in the future", at.In(loc).Format(TimeLayout))
	}
	if at.After(now.Add(maxAhead)) {
		return time.Time{}, Errorf(EInvalidArgument, "reserve_time must be within %d days", int(maxAhead/(24*time.Hour)))
	}
	return at, nil
}
