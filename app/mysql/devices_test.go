package mysql_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/pkg/testenv"
)

func deviceTokens(tb testing.TB, s *mysql.Store, user int64) []string {
	tb.Helper()
	devices, err := s.Devices(context.Background(), user)
	if err != nil {
		tb.Fatal(err)
	}
	var tokens []string
	for _, d := range devices {
		tokens = append(tokens, string(d.Platform)+":"+d.Token)
	}
	return tokens
}

func TestDeviceRegistry(t *testing.T) {
	ctx := context.Background()
	s := mysql.NewStore(apptest.MustMySQL(t, testenv.MustDatabase(t)))
	register := func(user int64, p app.Platform, token string, max int) (app.Device, []int64) {
		t.Helper()
		d := app.Device{UserID: user, Platform: p, Token: token, Locale: "en"}
		evicted, err := s.RegisterDevice(ctx, &d, max)
		if err != nil {
			t.Fatal(err)
		}
		return d, evicted
	}

	a, _ := register(1, app.PlatformFCM, "tok-a", 3)
	again, _ := register(1, app.PlatformFCM, "tok-a", 3)
	if again.ID != a.ID || a.ID == 0 {
		t.Errorf("registering the same token again: id %d, then %d; want the same row", a.ID, again.ID)
	}
	register(1, app.PlatformAPNs, "tok-a", 3) // another platform: another device
	if diff := cmp.Diff([]string{"fcm:tok-a", "apns:tok-a"}, deviceTokens(t, s, 1)); diff != "" {
		t.Errorf("user 1's devices (-want +got):\n%s", diff)
	}

	// The token moves to user 2: user 1 no longer has it.
	moved, _ := register(2, app.PlatformFCM, "tok-a", 3)
	if moved.ID != a.ID || moved.UserID != 2 {
		t.Errorf("moved device = %+v, want id %d of user 2", moved, a.ID)
	}
	if diff := cmp.Diff([]string{"apns:tok-a"}, deviceTokens(t, s, 1)); diff != "" {
		t.Errorf("user 1 after the move (-want +got):\n%s", diff)
	}
	if err := s.DeleteDevice(ctx, 1, moved.ID); app.ErrorCode(err) != app.ENotFound {
		t.Errorf("user 1 deleting the moved device: %v, want not_found", err)
	}

	// The bound evicts the least recently registered.
	var evicted []int64
	for i := range 4 {
		_, evicted = register(3, app.PlatformJPush, fmt.Sprint("j", i), 3)
	}
	if diff := cmp.Diff([]string{"jpush:j1", "jpush:j2", "jpush:j3"}, deviceTokens(t, s, 3)); diff != "" || len(evicted) != 1 {
		t.Errorf("user 3 over the bound (evicted %v) (-want +got):\n%s", evicted, diff)
	}

	// A dead token is removed only while the row still has it.
	if ok, err := s.RemoveDeadDevice(ctx, moved.ID, "other"); ok || err != nil {
		t.Errorf("RemoveDeadDevice with another token = %v, %v; want false, nil", ok, err)
	}
	if ok, err := s.RemoveDeadDevice(ctx, moved.ID, "tok-a"); !ok || err != nil {
		t.Errorf("RemoveDeadDevice = %v, %v; want true, nil", ok, err)
	}
	if _, err := s.Device(ctx, moved.ID); app.ErrorCode(err) != app.ENotFound {
		t.Errorf("Device after removal: %v, want not_found", err)
	}
}

// TestRegisterNewDevice: a token is new once; registering it again, for
// the same user or another, is not (even within the same millisecond).
func TestRegisterNewDevice(t *testing.T) {
	ctx := context.Background()
	s := mysql.NewStore(apptest.MustMySQL(t, testenv.MustDatabase(t)))
	var got []bool
	for _, user := range []int64{1, 1, 1, 2} {
		d := app.Device{UserID: user, Platform: app.PlatformAPNs, Token: "tok-new"}
		created, _, err := s.RegisterNewDevice(ctx, &d, 10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, created)
	}
	if diff := cmp.Diff([]bool{true, false, false, false}, got); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
}
