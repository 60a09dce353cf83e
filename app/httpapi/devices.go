package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httpapi/reqbody"
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

// devicesReply is the answer of GET /api/devices.
type devicesReply struct {
	Devices []app.Device `json:"devices"`
}

// registerDevice serves POST /api/devices: 201 with the device when its
// token is new, 200 when the token was registered already (by this user
// or another: it moves to this user).
func (h *handler) registerDevice(c *gin.Context) {
	var b reqbody.Device
	if err := decodeJSON(c, h.opts.MaxBodyBytes, &b, false); err != nil {
		h.fail(c, err)
		return
	}
	user, err := callerOf(c).Actor(b.UserID, "user_id")
	if err != nil {
		h.fail(c, err)
		return
	}
	d, created, err := h.opts.Devices.Register(c.Request.Context(), app.Device{UserID: user,
		Platform: app.Platform(b.Platform), Token: b.Token, App: b.App, Locale: b.Locale})
	if err != nil {
		h.fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, gin.H{"device": d})
}

// listDevices serves GET /api/devices: the user's devices, oldest first.
func (h *handler) listDevices(c *gin.Context) {
	user, err := subjectUser(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	devices, err := h.opts.Devices.List(c.Request.Context(), user)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, devicesReply{Devices: append(make([]app.Device, 0, len(devices)), devices...)})
}

// deleteDevice serves DELETE /api/devices/:id: 204, or 404 when the
// device is not the user's.
func (h *handler) deleteDevice(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		h.fail(c, app.Errorf(app.EInvalidArgument, "device id must be a positive integer, got %q", c.Param("id")))
		return
	}
	user, err := subjectUser(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	if err := h.opts.Devices.Delete(c.Request.Context(), user, id); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// subjectUser resolves the user a per-user route (devices, preferences,
// inbox) acts on, from the caller and the optional user_id query parameter.
func subjectUser(c *gin.Context) (int64, error) {
	var claimed int64
	if v := c.Query("user_id"); v != "" {
		var err error
		if claimed, err = app.ParseUserID(v, "user_id"); err != nil {
			return 0, err
		}
	}
	return callerOf(c).Actor(claimed, "user_id")
}
