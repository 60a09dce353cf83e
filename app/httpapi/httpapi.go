// Package httpapi is the REST transport: a gin engine that maps the original
// system's HTTP endpoints onto app.ReservationService.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/pkg/requestid"
)

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 64 << 10

// Options configure the handler.
type Options struct {
	// AuthMode is app.AuthInsecure or app.AuthJWT; anything else panics.
	AuthMode app.AuthMode
	// Verify returns the user a bearer token names. Required in jwt mode,
	// unused in insecure mode.
	Verify func(token string) (int64, error)
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
	// APIKey is the bearer token of trusted backends: POST /api/push in
	// both auth modes, and /api/websocket/* in jwt mode. Empty disables
	// server push (and, in jwt mode, the presence routes).
	APIKey string
	// Push serves POST /api/push (nil: 503).
	Push PushService
	// Presence serves GET /api/websocket/online-users and /stats (nil: 503).
	Presence PresenceReader
}

// handler holds what every route needs.
type handler struct {
	svc  app.ReservationService
	opts Options
	log  *slog.Logger
}

// NewHandler returns a gin engine serving every REST route of svc. The
// caller may add routes (WebSocket, metrics...) to the returned engine. It
// panics on an invalid Options (unknown auth mode, jwt without Verify). A
// nil svc serves only /healthz and /readyz (a node with the API turned off).
func NewHandler(svc app.ReservationService, opts Options) *gin.Engine {
	switch opts.AuthMode {
	case app.AuthInsecure:
	case app.AuthJWT:
		if opts.Verify == nil {
			panic("httpapi: Options.Verify is required in jwt mode")
		}
	default:
		panic(fmt.Sprintf("httpapi: unknown auth mode %q", opts.AuthMode))
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
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
		h.fail(c, &statusError{status: http.StatusMethodNotAllowed, err: app.Errorf(app.EInvalidArgument,
			"method %s not allowed on %s", c.Request.Method, c.Request.URL.Path)})
	})

	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	if svc == nil {
		return e // a worker-only node: probes (and what the caller adds)
	}

	e.GET("/house/recommend", h.recommend)
	e.GET("/house/personal-recommend", h.personalRecommend)
	e.POST("/house/reserve", h.reserve)
	e.POST("/api/push", h.push)
	h.websocketRoutes(e)

	r := e.Group("/api/reservations")
	r.GET("", h.list)
	r.GET("/:id", h.get)
	r.POST("/:id/confirm", h.action(true, func(ctx context.Context, id, actor int64, _ string) (*app.Reservation, error) {
		return svc.ConfirmReservation(ctx, id, actor)
	}))
	r.POST("/:id/reject", h.action(true, svc.RejectReservation))
	r.POST("/:id/cancel", h.action(false, svc.CancelReservation))
	r.POST("/:id/remind", h.action(false, func(ctx context.Context, id, actor int64, _ string) (*app.Reservation, error) {
		return svc.RemindReservation(ctx, id, actor)
	}))
	return e
}
