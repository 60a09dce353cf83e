// Package devices is the registry of the app installations that receive a
// user's mobile push: a user (or a trusted backend for the user) registers,
// lists and removes devices. The REST and gRPC transports share it; the
// store keeps a token with one user at a time and bounds each user's
// devices.
package devices

import (
	"cmp"
	"context"
	"log/slog"

	"github.com/houseview/gateway/app"
)

// DefaultMaxPerUser is the bound of devices per user when
// Options.MaxPerUser is 0 (setting push.max_devices_per_user).
const DefaultMaxPerUser = 10

// Store keeps the devices (see mysql.Store).
type Store interface {
	// RegisterNewDevice stores d (or moves its token's row to d.UserID),
	// fills it in, reports whether the token was new, and evicts the
	// user's least recently registered devices beyond maxPerUser.
	RegisterNewDevice(ctx context.Context, d *app.Device, maxPerUser int) (created bool, evicted []int64, err error)
	// Devices returns user's devices, oldest first.
	Devices(ctx context.Context, user int64) ([]app.Device, error)
	// DeleteDevice removes device id of user, or answers ENotFound.
	DeleteDevice(ctx context.Context, user, id int64) error
}

// Options configure a Service.
type Options struct {
	// MaxPerUser bounds each user's devices (DefaultMaxPerUser when <= 0):
	// a registration beyond it evicts the least recently registered.
	MaxPerUser int
	// Logger receives the evictions (nil: discarded).
	Logger *slog.Logger
}

// Service is the device registry.
type Service struct {
	store Store
	max   int
	log   *slog.Logger
}

// New returns the registry over store.
func New(store Store, opts Options) *Service {
	return &Service{store: store, max: app.OrDefault(opts.MaxPerUser, DefaultMaxPerUser),
		log: cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))}
}

// MaxPerUser is the bound of devices per user.
func (s *Service) MaxPerUser() int { return s.max }

// Register stores d (platform, token, app, locale) for d.UserID and returns
// it with its id and times, and whether the token was new: a token already
// registered, by this user or another, keeps its id and moves to
// d.UserID. Errors: EInvalidArgument (a field, see app.Device.Check).
func (s *Service) Register(ctx context.Context, d app.Device) (app.Device, bool, error) {
	if err := checkUser(d.UserID); err != nil {
		return app.Device{}, false, err
	}
	d = app.Device{UserID: d.UserID, Platform: d.Platform, Token: d.Token, App: d.App, Locale: d.Locale}
	if err := d.Check(); err != nil {
		return app.Device{}, false, err
	}
	created, evicted, err := s.store.RegisterNewDevice(ctx, &d, s.max)
	if err != nil {
		return app.Device{}, false, err
	}
	if len(evicted) > 0 {
		s.log.InfoContext(ctx, "devices evicted: the user registered more than push.max_devices_per_user",
			"user_id", d.UserID, "evicted", evicted, "device_id", d.ID, "max_devices_per_user", s.max)
	}
	return d, created, nil
}

// List returns user's devices, oldest registration first.
func (s *Service) List(ctx context.Context, user int64) ([]app.Device, error) {
	if err := checkUser(user); err != nil {
		return nil, err
	}
	return s.store.Devices(ctx, user)
}

// Delete removes device id of user: ENotFound when user has no such
// device (another user's included).
func (s *Service) Delete(ctx context.Context, user, id int64) error {
	if err := checkUser(user); err != nil {
		return err
	}
	if id <= 0 {
		return app.Errorf(app.EInvalidArgument, "device id must be a positive integer")
	}
	return s.store.DeleteDevice(ctx, user, id)
}

func checkUser(user int64) error {
	if user <= 0 {
		return app.Errorf(app.EInvalidArgument, "user_id must be a positive integer")
	}
	return nil
}
