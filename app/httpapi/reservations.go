package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httpapi/reqbody"
)

// reservationPage is the answer of GET /api/reservations.
type reservationPage struct {
	Reservations []app.ReservationJSON `json:"reservations"`
	Total        int                   `json:"total"`
	Page         int                   `json:"page"`
	PageSize     int                   `json:"page_size"`
}

// one is the handler of a route that answers one reservation with
// status: do serves the request, and its error is the answer if any.
func (h *handler) one(status int, do func(*gin.Context) (*app.Reservation, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, err := do(c)
		if err != nil {
			h.fail(c, err)
			return
		}
		c.JSON(status, gin.H{"reservation": r.JSON()})
	}
}

// reserve serves POST /house/reserve: the tenant books a viewing.
func (h *handler) reserve(c *gin.Context) (*app.Reservation, error) {
	var b reqbody.Reserve
	if err := decodeJSON(c, h.opts.MaxBodyBytes, &b, false); err != nil {
		return nil, err
	}
	tenant, err := callerOf(c).Actor(b.UserID, "user_id")
	if err != nil {
		return nil, err
	}
	return h.svc.CreateReservation(c.Request.Context(), app.CreateReservation{
		HouseID:     b.HouseID,
		TenantID:    tenant,
		TenantName:  b.UserName,
		LandlordID:  b.LandlordID,
		HouseTitle:  b.HouseTitle,
		ReserveTime: b.ReserveTime,
	})
}

// transition runs one state change on a reservation.
type transition func(ctx context.Context, id, actor int64, reason string) (*app.Reservation, error)

// action serves POST /api/reservations/:id/<verb> with run. The caller is
// body.landlord_id when landlordOnly, else body.user_id or, when that is
// absent, body.landlord_id (a landlord cancels and reminds too).
func (h *handler) action(landlordOnly bool, run transition) func(*gin.Context) (*app.Reservation, error) {
	return func(c *gin.Context) (*app.Reservation, error) {
		id, err := pathID(c)
		if err != nil {
			return nil, err
		}
		var b reqbody.Action
		if err := decodeJSON(c, h.opts.MaxBodyBytes, &b, true); err != nil {
			return nil, err
		}
		claimed, field := b.LandlordID, "landlord_id"
		if !landlordOnly && b.UserID != 0 {
			claimed, field = b.UserID, "user_id"
		} else if !landlordOnly && b.LandlordID == 0 {
			field = "user_id"
		}
		actor, err := callerOf(c).Actor(claimed, field)
		if err != nil {
			return nil, err
		}
		return run(c.Request.Context(), id, actor, b.Reason)
	}
}

// get serves GET /api/reservations/:id for either party.
func (h *handler) get(c *gin.Context) (*app.Reservation, error) {
	id, err := pathID(c)
	if err != nil {
		return nil, err
	}
	q := query{c: c}
	claimed := q.int("user_id")
	if q.err != nil {
		return nil, q.err
	}
	viewer, err := callerOf(c).Viewer(claimed, "user_id")
	if err != nil {
		return nil, err
	}
	return h.svc.GetReservation(c.Request.Context(), id, viewer)
}

// list is GET /api/reservations: one user's reservations, in the service's
// order.
func (h *handler) list(c *gin.Context) {
	page, err := h.doList(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

func (h *handler) doList(c *gin.Context) (*reservationPage, error) {
	q := query{c: c}
	f := app.ReservationFilter{
		UserID: q.int("user_id"),
		Role:   app.Role(c.Query("role")),
		Status: app.Status(c.Query("status")),
		Page:   q.page(),
	}
	if q.err != nil {
		return nil, q.err
	}
	var err error
	if f.UserID, err = callerOf(c).Actor(f.UserID, "user_id"); err != nil {
		return nil, err
	}
	res, err := h.svc.ListReservations(c.Request.Context(), f)
	if err != nil {
		return nil, err
	}
	page := &reservationPage{Reservations: make([]app.ReservationJSON, 0, len(res.Reservations)), Total: res.Total,
		Page: res.Page.Page, PageSize: res.Page.PageSize}
	for _, r := range res.Reservations {
		page.Reservations = append(page.Reservations, r.JSON())
	}
	return page, nil
}
