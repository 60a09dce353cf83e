// Package httpapi is the REST transport: a gin engine that maps the HTTP
// endpoints of docs/api.md onto app.ReservationService.
package httpapi

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/pkg/requestid"
)

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 64 << 10

// Options configure the handler.
type Options struct {
	// Auth decides who a caller is and what each route allows (required).
	Auth *auth.Authenticator
	// MaxBodyBytes limits request bodies (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	// Ready reports whether the dependencies (MySQL, Redis) answer; nil error
	// means ready. A nil func is always ready.
	Ready func(ctx context.Context) error
	// Logger receives the access log and internal errors (nil: discarded).
	// Records logged while serving a request carry its request_id.
	Logger *slog.Logger
	// Metrics counts requests (nil: none).
	Metrics Metrics
	// Push serves POST /api/push (nil: 503).
	Push PushService
	// Presence serves GET /api/websocket/online-users and /stats (nil: 503).
	Presence PresenceReader
	// Messages serves GET /api/messages (nil: 503).
	Messages MessageReader
	// Sessions serves POST /api/users/{id}/disconnect (nil: 503).
	Sessions Disconnector
	// Devices serves /api/devices (nil: 503).
	Devices DeviceService
	// Preferences serves /api/preferences (nil: 503).
	Preferences PreferenceService
	// Inbox serves /api/inbox (nil: 503).
	Inbox app.Inbox
}

// handler holds what every route needs.
type handler struct {
	svc  app.ReservationService
	opts Options
	log  *slog.Logger
}

// NewHandler returns a gin engine serving every REST route of svc. The
// caller may add routes (WebSocket, metrics...) to the returned engine. It
// panics without Options.Auth. A nil svc serves only /healthz and /readyz
// (a node with the API turned off). Each route is authorized for its
// auth.Operation before its handler runs.
func NewHandler(svc app.ReservationService, opts Options) *gin.Engine {
	if opts.Auth == nil {
		panic("httpapi: Options.Auth is required")
	}
	opts.MaxBodyBytes = app.OrDefault(opts.MaxBodyBytes, DefaultMaxBodyBytes)
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	opts.Logger = requestid.Logger(opts.Logger)
	h := &handler{svc: svc, opts: opts, log: opts.Logger}

	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(requestID, accessLog(h.log))
	if opts.Metrics != nil {
		e.Use(observe(opts.Metrics))
	}
	e.Use(recovery(h.log), h.bodyLimit)
	e.NoRoute(func(c *gin.Context) {
		h.fail(c, app.Errorf(app.ENotFound, "no route %s", c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		h.fail(c, notAllowed(c))
	})

	GET(e, "/healthz", h.healthz)
	GET(e, "/readyz", h.readyz)
	if svc == nil {
		return e // a worker-only node: probes (and what the caller adds)
	}

	for _, rt := range h.routes() {
		handlers := append([]gin.HandlerFunc{h.allow(rt.op)}, rt.handlers...)
		if rt.method == http.MethodGet {
			GET(e, rt.path, handlers...)
		} else {
			e.Handle(rt.method, rt.path, handlers...)
		}
	}
	return e
}

// GET serves handlers for GET and for HEAD on path (for HEAD the server
// sends the headers only: health checks and caches ask with HEAD).
func GET(r gin.IRoutes, path string, handlers ...gin.HandlerFunc) {
	r.GET(path, handlers...)
	r.HEAD(path, handlers...)
}

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
	presence := h.needs(h.opts.Presence != nil, "presence is not available")
	messages := h.needs(h.opts.Messages != nil, "stored messages are not available on this node")
	devices := h.needs(h.opts.Devices != nil, "the device registry is not available on this node")
	preferences := h.needs(h.opts.Preferences != nil, "notification preferences are not available on this node")
	inbox := h.needs(h.opts.Inbox != nil, "the inbox is not available on this node")
	do := func(f ...gin.HandlerFunc) []gin.HandlerFunc { return f }
	return []route{
		{"GET", "/house/recommend", auth.Recommend, do(h.recommend)},
		{"GET", "/house/personal-recommend", auth.PersonalRecommend, do(h.personalRecommend)},
		{"POST", "/house/reserve", auth.Reserve, do(h.one(http.StatusCreated, h.reserve))},
		{"POST", "/api/push", auth.Push, do(h.push)},
		{"GET", "/api/websocket/online-users", auth.Presence, do(presence, h.onlineUsers)},
		{"GET", "/api/websocket/stats", auth.Presence, do(presence, h.websocketStats)},
		{"POST", "/api/users/:id/disconnect", auth.Disconnect, do(h.disconnect)},
		{"DELETE", "/api/users/:id/revocation", auth.Disconnect, do(h.liftRevocation)},
		{"GET", "/api/messages", auth.Messages, do(messages, h.messages)},
		{"POST", "/api/devices", auth.RegisterDevice, do(devices, h.registerDevice)},
		{"GET", "/api/devices", auth.ListDevices, do(devices, h.listDevices)},
		{"DELETE", "/api/devices/:id", auth.DeleteDevice, do(devices, h.deleteDevice)},
		{"GET", "/api/preferences", auth.GetPreferences, do(preferences, h.getPreferences)},
		{"PUT", "/api/preferences", auth.UpdatePreferences, do(preferences, h.putPreferences)},
		{"GET", "/api/inbox", auth.ListInbox, do(inbox, h.listInbox)},
		{"POST", "/api/inbox/mark", auth.MarkInbox, do(inbox, h.markInbox)},
		{"GET", "/api/inbox/counts", auth.InboxCounts, do(inbox, h.inboxCounts)},
		{"GET", "/api/reservations", auth.ListReservations, do(h.list)},
		{"GET", "/api/reservations/:id", auth.GetReservation, do(h.one(http.StatusOK, h.get))},
		{"POST", "/api/reservations/:id/confirm", auth.Confirm, do(h.one(http.StatusOK, h.action(true, h.confirm)))},
		{"POST", "/api/reservations/:id/reject", auth.Reject, do(h.one(http.StatusOK, h.action(true, h.reject)))},
		{"POST", "/api/reservations/:id/cancel", auth.Cancel, do(h.one(http.StatusOK, h.action(false, h.cancel)))},
		{"POST", "/api/reservations/:id/remind", auth.Remind, do(h.one(http.StatusOK, h.action(false, h.remind)))},
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

// needs answers 503 with message on a node without an optional service
// (present false); otherwise it passes on.
func (h *handler) needs(present bool, message string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !present {
			h.fail(c, app.Errorf(app.EUnavailable, "%s", message))
			return
		}
		c.Next()
	}
}
