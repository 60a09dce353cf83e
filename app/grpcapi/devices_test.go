package grpcapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/devices"
	"github.com/houseview/gateway/app/grpcapi"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

const deviceKey = "grpc-devices-api-key-0123456789"

// deviceClient serves mode with the device registry (bounded to max per
// user) over env's MySQL.
func deviceClient(t *testing.T, env *apptest.Env, mode app.AuthMode, max int) housev1.HouseClient {
	t.Helper()
	return mustServe(t, env.Service, grpcapi.Options{Auth: apptest.NewAuth(mode, secret, deviceKey),
		Devices: devices.New(env.Store, devices.Options{MaxPerUser: max})}).client
}

// tokensOf lists the platform:token of a user's devices, in order.
func tokensOf(t *testing.T, ctx context.Context, c housev1.HouseClient, user int64) []string {
	t.Helper()
	reply, err := c.ListDevices(ctx, &housev1.ListDevicesRequest{UserId: user})
	if err != nil {
		t.Fatalf("ListDevices(%d): %v", user, err)
	}
	tokens := []string{}
	for _, d := range reply.GetDevices() {
		tokens = append(tokens, d.GetPlatform()+":"+d.GetToken())
	}
	return tokens
}

// TestDevices: register (created, then again), the move of a token to
// another user, the bound, delete, in insecure mode.
func TestDevices(t *testing.T) {
	env := apptest.MustEnv(t)
	c := deviceClient(t, env, app.AuthInsecure, 2)
	ctx := t.Context()
	register := func(user int64, platform, token string) *housev1.RegisterDeviceReply {
		t.Helper()
		reply, err := c.RegisterDevice(ctx, &housev1.RegisterDeviceRequest{UserId: user, Platform: platform, Token: token, App: "看房", Locale: "en"})
		if err != nil {
			t.Fatalf("RegisterDevice(%d, %s): %v", user, token, err)
		}
		return reply
	}
	a := register(tenant, "fcm", "tok-a")
	again := register(tenant, "fcm", "tok-a")
	if !a.GetCreated() || again.GetCreated() || again.GetDevice().GetId() != a.GetDevice().GetId() {
		t.Errorf("register twice: %v then %v", a, again)
	}
	if d := a.GetDevice(); d.GetUserId() != tenant || d.GetApp() != "看房" || d.GetLocale() != "en" || !strings.HasSuffix(d.GetCreatedAt(), "Z") {
		t.Errorf("device %v", d)
	}
	moved := register(stranger, "fcm", "tok-a")
	if moved.GetCreated() || moved.GetDevice().GetUserId() != stranger {
		t.Errorf("moved: %v", moved)
	}
	register(tenant, "apns", "b")
	register(tenant, "jpush", "c")
	register(tenant, "jpush", "d") // bound 2: b is evicted
	if diff := cmp.Diff([]string{"jpush:c", "jpush:d"}, tokensOf(t, ctx, c, tenant)); diff != "" {
		t.Errorf("tenant's devices (-want +got):\n%s", diff)
	}
	_, err := c.DeleteDevice(ctx, &housev1.DeleteDeviceRequest{DeviceId: a.GetDevice().GetId(), UserId: tenant})
	wantCode(t, err, codes.NotFound)
	if _, err := c.DeleteDevice(ctx, &housev1.DeleteDeviceRequest{DeviceId: a.GetDevice().GetId(), UserId: stranger}); err != nil {
		t.Errorf("the owner deletes: %v", err)
	}
	if diff := cmp.Diff([]string{}, tokensOf(t, ctx, c, stranger)); diff != "" {
		t.Errorf("stranger's devices (-want +got):\n%s", diff)
	}
}

// TestDeviceCodes: the status codes of bad fields and of each caller in
// jwt mode (a user's token, another's, the API key, none).
func TestDeviceCodes(t *testing.T) {
	env := apptest.MustEnv(t)
	c := deviceClient(t, env, app.AuthJWT, 10)
	tok, key := as(t, mustToken(t, secret, tenant)), as(t, deviceKey)
	theirs, err := c.RegisterDevice(key, &housev1.RegisterDeviceRequest{UserId: stranger, Platform: "apns", Token: "theirs"})
	if err != nil {
		t.Fatal(err)
	}
	reg := func(ctx context.Context, user int64, platform, token string) error {
		_, err := c.RegisterDevice(ctx, &housev1.RegisterDeviceRequest{UserId: user, Platform: platform, Token: token})
		return err
	}
	list := func(ctx context.Context, user int64) error {
		_, err := c.ListDevices(ctx, &housev1.ListDevicesRequest{UserId: user})
		return err
	}
	del := func(ctx context.Context, user, id int64) error {
		_, err := c.DeleteDevice(ctx, &housev1.DeleteDeviceRequest{UserId: user, DeviceId: id})
		return err
	}
	id := theirs.GetDevice().GetId()
	tests := []struct {
		name string
		err  error
		want codes.Code
	}{
		{"own token", reg(tok, 0, "fcm", "mine"), codes.OK},
		{"unknown platform", reg(tok, 0, "wns", "x"), codes.InvalidArgument},
		{"empty token", reg(tok, 0, "fcm", ""), codes.InvalidArgument},
		{"token with a space", reg(tok, 0, "fcm", "a b"), codes.InvalidArgument},
		{"no token", reg(t.Context(), tenant, "fcm", "x"), codes.Unauthenticated},
		{"register for another", reg(tok, stranger, "fcm", "x"), codes.PermissionDenied},
		{"list another's", list(tok, stranger), codes.PermissionDenied},
		{"delete another's", del(tok, 0, id), codes.NotFound},
		{"key without a user", list(key, 0), codes.InvalidArgument},
		{"key lists any user's", list(key, tenant), codes.OK},
		{"delete id 0", del(tok, 0, 0), codes.InvalidArgument},
		{"key deletes any user's", del(key, stranger, id), codes.OK},
		{"deleted", del(key, stranger, id), codes.NotFound},
	}
	var got, want []string
	for _, tt := range tests {
		got = append(got, fmt.Sprintf("%s: %v", tt.name, status.Code(tt.err)))
		want = append(want, fmt.Sprintf("%s: %v", tt.name, tt.want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	// A server without a registry answers UNAVAILABLE.
	off := mustServe(t, env.Service, jwtOptions()).client
	_, err = off.ListDevices(as(t, mustToken(t, secret, tenant)), &housev1.ListDevicesRequest{})
	wantCode(t, err, codes.Unavailable)
}
