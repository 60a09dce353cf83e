package app_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
)

func TestStatusMachine(t *testing.T) {
	all := []app.Status{app.StatusPending, app.StatusConfirmed, app.StatusRejected, app.StatusCancelled}
	got := map[string]bool{}
	for _, from := range all {
		for _, to := range all {
			if from.CanMove(to) {
				got[string(from)+"->"+string(to)] = true
			}
		}
	}
	want := map[string]bool{
		"pending->confirmed": true, "pending->rejected": true, "pending->cancelled": true,
		"confirmed->cancelled": true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("legal moves (-want +got):\n%s", diff)
	}
}

func TestActor(t *testing.T) {
	tests := []struct {
		mode             app.AuthMode
		token, claimed   int64
		want             int64
		code             string
		viewerWant       int64
		viewerWantsError bool
	}{
		{mode: app.AuthJWT, token: 5, claimed: 0, want: 5, viewerWant: 5},
		{mode: app.AuthJWT, token: 5, claimed: 5, want: 5, viewerWant: 5},
		{mode: app.AuthJWT, token: 5, claimed: 6, code: app.EPermissionDenied, viewerWantsError: true},
		{mode: app.AuthJWT, token: 0, claimed: 6, code: app.EUnauthenticated, viewerWantsError: true},
		{mode: app.AuthInsecure, token: 0, claimed: 6, want: 6, viewerWant: 6},
		{mode: app.AuthInsecure, token: 0, claimed: 0, code: app.EInvalidArgument, viewerWant: 0},
		{mode: app.AuthInsecure, token: 0, claimed: -1, code: app.EInvalidArgument, viewerWantsError: true},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s token=%d claimed=%d", tt.mode, tt.token, tt.claimed)
		got, err := app.Actor(tt.mode, tt.token, tt.claimed, "user_id")
		if got != tt.want || app.ErrorCode(err) != tt.code {
			t.Errorf("Actor %s = %d, %v; want %d, %q", name, got, err, tt.want, tt.code)
		}
		v, err := app.Viewer(tt.mode, tt.token, tt.claimed, "user_id")
		if (err != nil) != tt.viewerWantsError || (err == nil && v != tt.viewerWant) {
			t.Errorf("Viewer %s = %d, %v; want %d (error %v)", name, v, err, tt.viewerWant, tt.viewerWantsError)
		}
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	wrapped := fmt.Errorf("context: %w", app.Errorf(app.ENotFound, "house %d not found", 9))
	if app.ErrorCode(wrapped) != app.ENotFound || app.ErrorMessage(wrapped) != "house 9 not found" {
		t.Errorf("wrapped app error: %q %q", app.ErrorCode(wrapped), app.ErrorMessage(wrapped))
	}
	plain := errors.New("dial tcp: secret detail")
	if app.ErrorCode(plain) != app.EInternal || app.ErrorMessage(plain) != "internal error" {
		t.Errorf("plain error leaks: %q %q", app.ErrorCode(plain), app.ErrorMessage(plain))
	}
	if app.ErrorCode(nil) != "" {
		t.Error("nil error has a code")
	}
}
