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
