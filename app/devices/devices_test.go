package devices_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/devices"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/pkg/testenv"
)

// TestRegisterLogsEvictions: a registration over the bound logs, at info,
// the user and the evicted ids; the service checks the fields before the
// store sees them.
func TestRegisterLogsEvictions(t *testing.T) {
	var logs bytes.Buffer
	store := mysql.NewStore(apptest.MustMySQL(t, testenv.MustDatabase(t)))
	svc := devices.New(store, devices.Options{MaxPerUser: 1,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	ctx := context.Background()
	first, created, err := svc.Register(ctx, app.Device{UserID: 7, Platform: app.PlatformFCM, Token: "one"})
	if err != nil || !created {
		t.Fatalf("Register = %v, %v", created, err)
	}
	if logs.Len() != 0 {
		t.Errorf("logged without an eviction: %s", logs.String())
	}
	if _, _, err := svc.Register(ctx, app.Device{UserID: 7, Platform: app.PlatformFCM, Token: "two"}); err != nil {
		t.Fatal(err)
	}
	line := logs.String()
	for _, want := range []string{"level=INFO", "user_id=7", "evicted=[" + strconv.FormatInt(first.ID, 10) + "]"} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %q", line, want)
		}
	}
	var codes []string
	for _, d := range []app.Device{
		{UserID: 0, Platform: app.PlatformFCM, Token: "x"},
		{UserID: 7, Platform: "wns", Token: "x"},
		{UserID: 7, Platform: app.PlatformAPNs, Token: ""},
	} {
		_, _, err := svc.Register(ctx, d)
		codes = append(codes, app.ErrorCode(err))
	}
	_, errList := svc.List(ctx, -1)
	codes = append(codes, app.ErrorCode(errList), app.ErrorCode(svc.Delete(ctx, 7, 0)))
	want := []string{app.EInvalidArgument, app.EInvalidArgument, app.EInvalidArgument, app.EInvalidArgument, app.EInvalidArgument}
	if diff := cmp.Diff(want, codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
}
