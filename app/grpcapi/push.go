package grpcapi

import (
	"context"
	"encoding/json"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/push"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// PushService sends generic server pushes (see push.Service).
type PushService interface {
	Push(ctx context.Context, req push.Request) ([]push.Result, error)
}

// Push sends one generic notification to each listed user. The auth
// interceptor has checked the API key.
func (h *house) Push(ctx context.Context, req *housev1.PushRequest) (*housev1.PushReply, error) {
	if h.push == nil {
		return nil, app.Errorf(app.EUnavailable, "server push is not available")
	}
	results, err := h.push.Push(ctx, push.Request{
		UserIDs: req.GetUserIds(), Title: req.GetTitle(), Content: req.GetContent(),
		Detail: json.RawMessage(req.GetDetailJson()), IdempotencyKey: req.GetIdempotencyKey(),
		Webhook: req.GetWebhook(),
	})
	if err != nil {
		return nil, err
	}
	reply := &housev1.PushReply{Results: make([]*housev1.PushResult, len(results))}
	for i, r := range results {
		reply.Results[i] = &housev1.PushResult{UserId: r.UserID, Seq: r.Seq, Id: r.ID, Epoch: r.Epoch}
	}
	return reply, nil
}
