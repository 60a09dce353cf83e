package httpapi

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
)

// route is one REST route: the auth.Operation it is authorized for before
// its handlers run, and the handlers.
type route struct {
	method, path string
	op           auth.Operation
	handlers     []gin.HandlerFunc
}

// routes are every REST route but the probes (/healthz, /readyz, which
// need nothing): the one place that says which operation each one is and
// what serves it.
func (h *handler) routes() []route {
	do := func(f ...gin.HandlerFunc) []gin.HandlerFunc { return f }
	return []route{
		{"GET", "/house/recommend", auth.Recommend, do(h.recommend)},
		{"GET", "/house/personal-recommend", auth.PersonalRecommend, do(h.personalRecommend)},
		{"POST", "/house/reserve", auth.Reserve, do(h.reserve)},
		{"POST", "/api/push", auth.Push, do(h.push)},
		{"GET", "/api/websocket/online-users", auth.Presence, do(h.presenceReady, h.onlineUsers)},
		{"GET", "/api/websocket/stats", auth.Presence, do(h.presenceReady, h.websocketStats)},
		{"POST", "/api/users/:id/disconnect", auth.Disconnect, do(h.disconnect)},
		{"DELETE", "/api/users/:id/revocation", auth.Disconnect, do(h.liftRevocation)},
		{"GET", "/api/messages", auth.Messages, do(h.messagesReady, h.messages)},
		{"GET", "/api/reservations", auth.ListReservations, do(h.list)},
		{"GET", "/api/reservations/:id", auth.GetReservation, do(h.get)},
		{"POST", "/api/reservations/:id/confirm", auth.Confirm, do(h.action(true, h.confirm))},
		{"POST", "/api/reservations/:id/reject", auth.Reject, do(h.action(true, h.reject))},
		{"POST", "/api/reservations/:id/cancel", auth.Cancel, do(h.action(false, h.cancel))},
		{"POST", "/api/reservations/:id/remind", auth.Remind, do(h.action(false, h.remind))},
	}
}

// Operations returns the operation of every REST route ("METHOD /path"
// with gin's :params), for tests that walk the policy over the transports.
func Operations() map[string]auth.Operation {
	ops := map[string]auth.Operation{}
	for _, r := range (&handler{}).routes() {
		ops[r.method+" "+r.path] = r.op
	}
	return ops
}

// The service calls of the reservation actions (transition).

func (h *handler) confirm(ctx context.Context, id, actor int64, _ string) (*app.Reservation, error) {
	return h.svc.ConfirmReservation(ctx, id, actor)
}

func (h *handler) reject(ctx context.Context, id, actor int64, reason string) (*app.Reservation, error) {
	return h.svc.RejectReservation(ctx, id, actor, reason)
}

func (h *handler) cancel(ctx context.Context, id, actor int64, reason string) (*app.Reservation, error) {
	return h.svc.CancelReservation(ctx, id, actor, reason)
}

func (h *handler) remind(ctx context.Context, id, actor int64, _ string) (*app.Reservation, error) {
	return h.svc.RemindReservation(ctx, id, actor)
}
