package httpapi

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
)

// route is one REST route and the auth.Operation it is authorized for
// before its handlers run.
type route struct {
	method, path string
	op           auth.Operation
}

func (r route) key() string { return r.method + " " + r.path }

// routeTable is every REST route but the probes (/healthz, /readyz, which
// need nothing): the one place that says which operation each one is.
var routeTable = []route{
	{"GET", "/house/recommend", auth.Recommend},
	{"GET", "/house/personal-recommend", auth.PersonalRecommend},
	{"POST", "/house/reserve", auth.Reserve},
	{"POST", "/api/push", auth.Push},
	{"GET", "/api/websocket/online-users", auth.Presence},
	{"GET", "/api/websocket/stats", auth.Presence},
	{"POST", "/api/users/:id/disconnect", auth.Disconnect},
	{"DELETE", "/api/users/:id/revocation", auth.Disconnect},
	{"GET", "/api/messages", auth.Messages},
	{"GET", "/api/reservations", auth.ListReservations},
	{"GET", "/api/reservations/:id", auth.GetReservation},
	{"POST", "/api/reservations/:id/confirm", auth.Confirm},
	{"POST", "/api/reservations/:id/reject", auth.Reject},
	{"POST", "/api/reservations/:id/cancel", auth.Cancel},
	{"POST", "/api/reservations/:id/remind", auth.Remind},
}

// Operations returns the operation of every REST route ("METHOD /path"
// with gin's :params), for tests that walk the policy over the transports.
func Operations() map[string]auth.Operation {
	ops := make(map[string]auth.Operation, len(routeTable))
	for _, r := range routeTable {
		ops[r.key()] = r.op
	}
	return ops
}

// routeHandlers returns the handlers of every route in routeTable, run
// after the route's authorization.
func (h *handler) routeHandlers(svc app.ReservationService) map[string][]gin.HandlerFunc {
	one := func(f ...gin.HandlerFunc) []gin.HandlerFunc { return f }
	return map[string][]gin.HandlerFunc{
		"GET /house/recommend":             one(h.recommend),
		"GET /house/personal-recommend":    one(h.personalRecommend),
		"POST /house/reserve":              one(h.reserve),
		"POST /api/push":                   one(h.push),
		"GET /api/websocket/online-users":  one(h.presenceReady, h.onlineUsers),
		"GET /api/websocket/stats":         one(h.presenceReady, h.websocketStats),
		"POST /api/users/:id/disconnect":   one(h.disconnect),
		"DELETE /api/users/:id/revocation": one(h.liftRevocation),
		"GET /api/messages":                one(h.messagesReady, h.messages),
		"GET /api/reservations":            one(h.list),
		"GET /api/reservations/:id":        one(h.get),
		"POST /api/reservations/:id/confirm": one(h.action(true, func(ctx context.Context, id, actor int64, _ string) (*app.Reservation, error) {
			return svc.ConfirmReservation(ctx, id, actor)
		})),
		"POST /api/reservations/:id/reject": one(h.action(true, svc.RejectReservation)),
		"POST /api/reservations/:id/cancel": one(h.action(false, svc.CancelReservation)),
		"POST /api/reservations/:id/remind": one(h.action(false, func(ctx context.Context, id, actor int64, _ string) (*app.Reservation, error) {
			return svc.RemindReservation(ctx, id, actor)
		})),
	}
}
