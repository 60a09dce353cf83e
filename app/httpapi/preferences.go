package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httpapi/reqbody"
)

// PreferenceService reads and replaces users' notification preferences
// (see preferences.Service).
type PreferenceService interface {
	// Get returns user's preferences (the defaults when none are stored).
	Get(ctx context.Context, user int64) (app.Preferences, error)
	// Update validates p and replaces p.UserID's preferences with it.
	Update(ctx context.Context, p app.Preferences) (app.Preferences, error)
}

// preferencesReply is the answer of GET and PUT /api/preferences.
type preferencesReply struct {
	Preferences app.Preferences `json:"preferences"`
}

// getPreferences serves GET /api/preferences: the user's preferences.
func (h *handler) getPreferences(c *gin.Context) {
	user, err := subjectUser(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	p, err := h.opts.Preferences.Get(c.Request.Context(), user)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, preferencesReply{Preferences: p})
}

// putPreferences serves PUT /api/preferences: replaces the user's
// preferences with the full document in the body.
func (h *handler) putPreferences(c *gin.Context) {
	var b reqbody.Preferences
	if err := decodeJSON(c, h.opts.MaxBodyBytes, &b, false); err != nil {
		h.fail(c, err)
		return
	}
	user, err := callerOf(c).Actor(b.UserID, "user_id")
	if err != nil {
		h.fail(c, err)
		return
	}
	p, err := h.opts.Preferences.Update(c.Request.Context(), b.Preferences(user))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, preferencesReply{Preferences: p})
}
