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

// TestMessageType: the type a Message reads from its payload, as the
// publisher and the webhook need it without decoding the notification.
func TestMessageType(t *testing.T) {
	encoded := func(n app.Notification) []byte {
		m, err := n.Message()
		if err != nil {
			t.Fatal(err)
		}
		return m.Payload
	}
	tests := []struct {
		name    string
		payload []byte
		want    app.MessageType
	}{
		{"a confirmation", encoded(app.Notification{ID: "a", Type: app.MsgReservationConfirmed, Detail: map[string]any{"type": 9}}), app.MsgReservationConfirmed},
		{"a push", encoded(app.Notification{ID: "b", Type: app.MsgGenericPush}), app.MsgGenericPush},
		{"last key", []byte(`{"id":"c","type":4}`), app.MsgReservationReminder},
		{"unknown type", []byte(`{"id":"d","type":7}`), 0},
		{"two digits", []byte(`{"id":"e","type":12}`), 0},
		{"no type", []byte(`{"id":"f"}`), 0},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		if got := (app.Message{Payload: tt.payload}).Type(); got != tt.want {
			t.Errorf("%s: Type() = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestParseUserID(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"1001", 1001}, {"1", 1}, {"9223372036854775807", 9223372036854775807},
		{"+1001", 0}, {"01001", 0}, {"0", 0}, {"-5", 0}, {" 1001", 0}, {"1001 ", 0}, {"", 0}, {"1e3", 0},
		{"9223372036854775808", 0},
	} {
		got, err := app.ParseUserID(tt.in, "user_id")
		if got != tt.want || (err == nil) != (tt.want != 0) {
			t.Errorf("ParseUserID(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
		if err != nil && app.ErrorCode(err) != app.EInvalidArgument {
			t.Errorf("ParseUserID(%q): code %s", tt.in, app.ErrorCode(err))
		}
	}
}
