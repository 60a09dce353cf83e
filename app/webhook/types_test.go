package webhook_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/webhook"
)

func TestParseTypes(t *testing.T) {
	tests := []struct {
		text     string
		want     webhook.Types
		problems int
		format   string // String() of the result
	}{
		{"", webhook.Types{}, 0, ""},
		{"confirmed", webhook.Types{app.MsgReservationConfirmed: 0}, 0, "confirmed"},
		{" Push , reminder:10s,confirmed:1m30s ", webhook.Types{app.MsgGenericPush: 0, app.MsgReservationReminder: 10 * time.Second,
			app.MsgReservationConfirmed: 90 * time.Second}, 0, "confirmed:1m30s,reminder:10s,push"},
		{"created,confirmed,cancelled,reminder,rejected,push", webhook.DefaultTypes(), 0, "created,confirmed,cancelled,reminder,rejected,push"},
		{"confirmed:2m", webhook.Types{app.MsgReservationConfirmed: 2 * time.Minute}, 0, "confirmed:2m"},
		{"confirmed,shipped", webhook.Types{app.MsgReservationConfirmed: 0}, 1, "confirmed"},
		{"confirmed:soon,reminder:0s,push:-1s", webhook.Types{}, 3, ""},
		{"2", webhook.Types{}, 1, ""},
	}
	for _, tt := range tests {
		got, problems := webhook.ParseTypes(tt.text)
		if diff := cmp.Diff(tt.want, got); diff != "" || len(problems) != tt.problems {
			t.Errorf("ParseTypes(%q) = %v %q, want %d problems (-want +got):\n%s", tt.text, got, problems, tt.problems, diff)
		}
		if s := got.String(); s != tt.format {
			t.Errorf("ParseTypes(%q).String() = %q, want %q", tt.text, s, tt.format)
		}
	}
}
