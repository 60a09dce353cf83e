package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
)

// readyTimeout bounds one readiness check.
const readyTimeout = 3 * time.Second

// housePage is the answer of both recommendation endpoints.
type housePage struct {
	Houses   []*app.House `json:"houses"`
	Total    int          `json:"total"`
	Page     int          `json:"page"`
	PageSize int          `json:"page_size"`
}

func newHousePage(houses []*app.House, total int, p app.Page) housePage {
	if houses == nil {
		houses = []*app.House{}
	}
	return housePage{Houses: houses, Total: total, Page: p.Page, PageSize: p.PageSize}
}

// Bounds of the recommendation filters.
const (
	maxPrice = 1_000_000_000
	maxRooms = 100
)

// recommend is GET /house/recommend, public in every auth mode.
func (h *handler) recommend(c *gin.Context) {
	q := query{c: c}
	f := app.HouseFilter{
		City:     c.Query("city"),
		District: c.Query("district"),
		MinPrice: int(q.int("min_price", 0, maxPrice)),
		MaxPrice: int(q.int("max_price", 0, maxPrice)),
		Rooms:    int(q.int("rooms", 1, maxRooms)),
		Page:     q.page(),
	}
	if q.err == nil && f.MaxPrice > 0 && f.MinPrice > f.MaxPrice {
		q.err = app.Errorf(app.EInvalidArgument, "min_price %d is above max_price %d", f.MinPrice, f.MaxPrice)
	}
	if q.err != nil {
		h.fail(c, q.err)
		return
	}
	houses, total, err := h.svc.RecommendHouses(c.Request.Context(), f)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newHousePage(houses, total, f.Page))
}

// personalRecommend is GET /house/personal-recommend for one user.
func (h *handler) personalRecommend(c *gin.Context) {
	tok, err := h.tokenUser(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	q := query{c: c}
	claimed, page := q.id("user_id"), q.page()
	if q.err != nil {
		h.fail(c, q.err)
		return
	}
	user, err := app.Actor(h.opts.AuthMode, tok, claimed, "user_id")
	if err != nil {
		h.fail(c, err)
		return
	}
	houses, total, err := h.svc.PersonalRecommendHouses(c.Request.Context(), user, page)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newHousePage(houses, total, page))
}

// healthz is the liveness probe: the process answers.
func (h *handler) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz is the readiness probe: the dependencies answer.
func (h *handler) readyz(c *gin.Context) {
	if h.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
		defer cancel()
		if err := h.opts.Ready(ctx); err != nil {
			h.log.WarnContext(ctx, "not ready", "err", err.Error())
			msg := "not ready"
			if app.ErrorCode(err) != app.EInternal {
				msg = app.ErrorMessage(err)
			}
			h.fail(c, app.Errorf(app.EUnavailable, "%s", msg))
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
