package mysql

import (
	"strings"
	"time"

	"github.com/houseview/gateway/app"
)

type houseRow struct {
	ID         int64 `gorm:"primaryKey"`
	LandlordID int64
	Title      string
	City       string
	District   string
	Price      int
	Rooms      int
	Area       float64
	Tags       string
	CreatedAt  time.Time
}

func (houseRow) TableName() string { return "houses" }

func (h *houseRow) house() *app.House {
	tags := []string{}
	if h.Tags != "" {
		tags = strings.Split(h.Tags, ",")
	}
	return &app.House{
		ID: h.ID, LandlordID: h.LandlordID, Title: h.Title, City: h.City, District: h.District,
		Price: h.Price, Rooms: h.Rooms, Area: h.Area, Tags: tags, CreatedAt: h.CreatedAt,
	}
}

type reservationRow struct {
	ID          int64 `gorm:"primaryKey"`
	HouseID     int64
	TenantID    int64
	LandlordID  int64
	HouseTitle  string
	TenantName  string
	ReserveTime time.Time
	Status      string
	Reason      string
	CancelledBy int64
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (reservationRow) TableName() string { return "reservations" }

func toReservationRow(r *app.Reservation) *reservationRow {
	return &reservationRow{
		ID: r.ID, HouseID: r.HouseID, TenantID: r.TenantID, LandlordID: r.LandlordID,
		HouseTitle: r.HouseTitle, TenantName: r.TenantName, ReserveTime: r.ReserveTime.UTC(),
		Status: string(r.Status), Reason: r.Reason, CancelledBy: r.CancelledBy, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

func (r *reservationRow) reservation() *app.Reservation {
	return &app.Reservation{
		ID: r.ID, HouseID: r.HouseID, TenantID: r.TenantID, LandlordID: r.LandlordID,
		HouseTitle: r.HouseTitle, TenantName: r.TenantName, ReserveTime: r.ReserveTime,
		Status: app.Status(r.Status), Reason: r.Reason, CancelledBy: r.CancelledBy, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

type outboxRow struct {
	ID        int64 `gorm:"primaryKey"`
	MsgID     string
	UserID    int64
	Payload   string
	CreatedAt time.Time
}

func (outboxRow) TableName() string { return "notification_outbox" }
