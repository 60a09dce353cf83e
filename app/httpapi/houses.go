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

// houses answers a page of houses, or the error that stopped it.
func (h *handler) houses(c *gin.Context, res app.HousePage, err error) {
	if err != nil {
		h.fail(c, err)
		return
	}
	houses := res.Houses
	if houses == nil {
		houses = []*app.House{}
	}
	c.JSON(http.StatusOK, housePage{Houses: houses, Total: res.Total, Page: res.Page.Page, PageSize: res.Page.PageSize})
}

// recommend is GET /house/recommend, public in every auth mode.
func (h *handler) recommend(c *gin.Context) {
	q := query{c: c}
	f := app.HouseFilter{
		City:     c.Query("city"),
		District: c.Query("district"),
		MinPrice: int(q.int("min_price")),
		MaxPrice: int(q.int("max_price")),
		Rooms:    int(q.int("rooms")),
		Page:     q.page(),
	}
	if q.err != nil {
		h.fail(c, q.err)
		return
	}
	res, err := h.svc.RecommendHouses(c.Request.Context(), f)
	h.houses(c, res, err)
}

// personalRecommend is GET /house/personal-recommend for one user.
func (h *handler) personalRecommend(c *gin.Context) {
	q := query{c: c}
	claimed, page := q.int("user_id"), q.page()
	if q.err != nil {
		h.fail(c, q.err)
		return
	}
	user, err := callerOf(c).Actor(claimed, "user_id")
	if err != nil {
		h.fail(c, err)
		return
	}
	res, err := h.svc.PersonalRecommendHouses(c.Request.Context(), user, page)
	h.houses(c, res, err)
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
