package grpcapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/grpcapi"
	"github.com/houseview/gateway/app/preferences"
	"github.com/houseview/gateway/app/push"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// prefsClient serves mode with preferences over env's MySQL and Redis,
// and Push through the in-app filter.
func prefsClient(t *testing.T, env *apptest.Env, mode app.AuthMode) housev1.HouseClient {
	t.Helper()
	svc := preferences.New(env.Store, env.Redis, env.Keys.Preferences(), preferences.Options{})
	return mustServe(t, env.Service, grpcapi.Options{Auth: apptest.NewAuth(mode, secret, deviceKey), Preferences: svc,
		Push: push.New(preferences.NewPublisher(env.Publisher, svc, nil), push.Options{})}).client
}

// TestPreferences: the defaults, a full replacement read back, a push the
// user muted in the app answered muted; the codes of bad documents and of
// callers, as for devices.
func TestPreferences(t *testing.T) {
	env := apptest.MustEnv(t)
	c := prefsClient(t, env, app.AuthJWT)
	tok, key := as(t, mustToken(t, secret, tenant)), as(t, deviceKey)
	on := &housev1.ChannelPreference{InApp: true, Push: true}
	got, err := c.GetPreferences(tok, &housev1.GetPreferencesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := &housev1.Preferences{UserId: tenant, TimeZone: "UTC", Types: map[string]*housev1.ChannelPreference{
		"created": on, "confirmed": on, "cancelled": on, "reminder": on, "rejected": on, "push": on}}
	if diff := cmp.Diff(want, got.GetPreferences(), protocmp.Transform()); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	got, err = c.UpdatePreferences(tok, &housev1.UpdatePreferencesRequest{Preferences: &housev1.Preferences{
		Types:    map[string]*housev1.ChannelPreference{"push": {InApp: false, Push: true}},
		TimeZone: "America/New_York", QuietStart: "21:00", QuietEnd: "06:00", RemindersMutedFor: []int64{9, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	want.TimeZone, want.QuietStart, want.QuietEnd, want.RemindersMutedFor = "America/New_York", "21:00", "06:00", []int64{3, 9}
	want.Types["push"] = &housev1.ChannelPreference{InApp: false, Push: true}
	if diff := cmp.Diff(want, got.GetPreferences(), protocmp.Transform()); diff != "" {
		t.Errorf("update answer (-want +got):\n%s", diff)
	}
	got, err = c.GetPreferences(key, &housev1.GetPreferencesRequest{UserId: tenant})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.GetPreferences(), protocmp.Transform()); diff != "" {
		t.Errorf("read back with the key (-want +got):\n%s", diff)
	}
	pushed, err := c.Push(key, &housev1.PushRequest{UserIds: []int64{tenant, landlord}, Title: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if r := pushed.GetResults(); len(r) != 2 || !r[0].GetMuted() || r[0].GetSeq() != 0 || r[1].GetMuted() || r[1].GetSeq() != 1 {
		t.Errorf("push results %v, want the tenant's muted", r)
	}

	update := func(ctx context.Context, p *housev1.Preferences) error {
		_, err := c.UpdatePreferences(ctx, &housev1.UpdatePreferencesRequest{Preferences: p})
		return err
	}
	get := func(ctx context.Context, user int64) error {
		_, err := c.GetPreferences(ctx, &housev1.GetPreferencesRequest{UserId: user})
		return err
	}
	tests := []struct {
		name string
		err  error
		want codes.Code
	}{
		{"unknown type", update(tok, &housev1.Preferences{Types: map[string]*housev1.ChannelPreference{"likes": {}}}), codes.InvalidArgument},
		{"bad time zone", update(tok, &housev1.Preferences{TimeZone: "Europe/Atlantis"}), codes.InvalidArgument},
		{"bad time of day", update(tok, &housev1.Preferences{QuietStart: "7:00", QuietEnd: "22:00"}), codes.InvalidArgument},
		{"one bound", update(tok, &housev1.Preferences{QuietStart: "07:00"}), codes.InvalidArgument},
		{"bad reservation", update(tok, &housev1.Preferences{RemindersMutedFor: []int64{-4}}), codes.InvalidArgument},
		{"no document", update(tok, nil), codes.OK}, // an empty document: the defaults
		{"no token", get(t.Context(), tenant), codes.Unauthenticated},
		{"another user's", get(tok, stranger), codes.PermissionDenied},
		{"write another user's", update(tok, &housev1.Preferences{UserId: stranger}), codes.PermissionDenied},
		{"key without a user", get(key, 0), codes.InvalidArgument},
		{"key writes any user's", update(key, &housev1.Preferences{UserId: stranger, TimeZone: "Asia/Tokyo"}), codes.OK},
	}
	var gotCodes, wantCodes []string
	for _, tt := range tests {
		gotCodes = append(gotCodes, fmt.Sprintf("%s: %v", tt.name, status.Code(tt.err)))
		wantCodes = append(wantCodes, fmt.Sprintf("%s: %v", tt.name, tt.want))
	}
	if diff := cmp.Diff(wantCodes, gotCodes); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	off := mustServe(t, env.Service, jwtOptions()).client
	_, err = off.GetPreferences(tok, &housev1.GetPreferencesRequest{})
	wantCode(t, err, codes.Unavailable)
}
