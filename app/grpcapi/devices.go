package grpcapi

import (
	"context"
	"time"

	"github.com/houseview/gateway/app"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// DeviceService is the registry of the devices that receive mobile push
// (see devices.Service).
type DeviceService interface {
	// Register stores d for d.UserID and reports whether its token was new.
	Register(ctx context.Context, d app.Device) (app.Device, bool, error)
	// List returns user's devices.
	List(ctx context.Context, user int64) ([]app.Device, error)
	// Delete removes device id of user (ENotFound when not the user's).
	Delete(ctx context.Context, user, id int64) error
}

// errNoDevices answers the device methods of a server without a registry.
var errNoDevices = app.Errorf(app.EUnavailable, "the device registry is not available on this node")

// RegisterDevice registers a device of the caller's user (the authorize
// interceptor resolved the caller: a user's token or the API key).
func (h *house) RegisterDevice(ctx context.Context, req *housev1.RegisterDeviceRequest) (*housev1.RegisterDeviceReply, error) {
	if h.devices == nil {
		return nil, errNoDevices
	}
	user, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	d, created, err := h.devices.Register(ctx, app.Device{UserID: user, Platform: app.Platform(req.GetPlatform()),
		Token: req.GetToken(), App: req.GetApp(), Locale: req.GetLocale()})
	if err != nil {
		return nil, err
	}
	return &housev1.RegisterDeviceReply{Device: device(d), Created: created}, nil
}

// ListDevices lists the devices of the caller's user.
func (h *house) ListDevices(ctx context.Context, req *housev1.ListDevicesRequest) (*housev1.ListDevicesReply, error) {
	if h.devices == nil {
		return nil, errNoDevices
	}
	user, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	devices, err := h.devices.List(ctx, user)
	if err != nil {
		return nil, err
	}
	out := &housev1.ListDevicesReply{Devices: make([]*housev1.Device, len(devices))}
	for i, d := range devices {
		out.Devices[i] = device(d)
	}
	return out, nil
}

// DeleteDevice removes a device of the caller's user.
func (h *house) DeleteDevice(ctx context.Context, req *housev1.DeleteDeviceRequest) (*housev1.DeleteDeviceReply, error) {
	if h.devices == nil {
		return nil, errNoDevices
	}
	user, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	if err := h.devices.Delete(ctx, user, req.GetDeviceId()); err != nil {
		return nil, err
	}
	return &housev1.DeleteDeviceReply{}, nil
}

// device converts d to its gRPC form, field for field with its JSON.
func device(d app.Device) *housev1.Device {
	return &housev1.Device{Id: d.ID, UserId: d.UserID, Platform: string(d.Platform), Token: d.Token, App: d.App,
		Locale: d.Locale, CreatedAt: d.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: d.UpdatedAt.UTC().Format(time.RFC3339Nano)}
}
