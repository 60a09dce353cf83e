package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httpapi/reqbody"
	"github.com/houseview/gateway/app/push"
)

// PushService sends generic server pushes (see push.Service).
type PushService interface {
	Push(ctx context.Context, req push.Request) ([]push.Result, error)
}

// pushReply is the answer of POST /api/push.
type pushReply struct {
	Results []push.Result `json:"results"`
}

// push serves POST /api/push: a backend holding the API key (auth.Push)
// sends one message to many users.
func (h *handler) push(c *gin.Context) {
	if h.opts.Push == nil {
		h.fail(c, app.Errorf(app.EUnavailable, "server push is not available"))
		return
	}
	var body reqbody.Push
	if err := decodeJSON(c, h.opts.MaxBodyBytes, &body, false); err != nil {
		h.fail(c, err)
		return
	}
	key := body.IdempotencyKey
	if key == "" {
		key = c.GetHeader("Idempotency-Key")
	}
	results, err := h.opts.Push.Push(c.Request.Context(), push.Request{
		UserIDs: body.UserIDs, Title: body.Title, Content: body.Content, Detail: body.Detail, IdempotencyKey: key,
		Webhook: body.Webhook,
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pushReply{Results: results})
}
