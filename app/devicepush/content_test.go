package devicepush_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/devicepush"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/pkg/mobilepush"
)

// TestContentLocale: English locales get a reservation notification in
// English; any other locale, and a generic push, the text as published.
func TestContentLocale(t *testing.T) {
	conf := confirmation(t, 1001)
	push, _ := (&app.Notification{ID: "p1", Type: app.MsgGenericPush, UserID: 1001, Title: "活动", Content: "周末看房优惠"}).Message()
	task := func(m app.Message) webhook.Task {
		return webhook.Task{ID: m.ID, UserID: m.UserID, Type: m.Type(), Epoch: "e1", Seq: 3, Body: m.Payload}
	}
	english := [2]string{"Viewing confirmed", `The landlord confirmed your viewing of "精装修两室一厅" at 2030-05-01 15:00:00`}
	chinese := [2]string{"预约已确认", "房东已确认您对《精装修两室一厅》的看房预约，看房时间 2030-05-01 15:00:00"}
	tests := []struct {
		name, locale string
		msg          app.Message
		want         [2]string
		collapse     string
	}{
		{"en", "en", conf, english, "reservation-42"},
		{"en-US", "en-US", conf, english, "reservation-42"},
		{"EN_gb", "EN_gb", conf, english, "reservation-42"},
		{"zh-CN", "zh-CN", conf, chinese, "reservation-42"},
		{"fr", "fr", conf, chinese, "reservation-42"},
		{"none", "", conf, chinese, "reservation-42"},
		{"enx is not English", "enx", conf, chinese, "reservation-42"},
		{"generic push in English", "en", push, [2]string{"活动", "周末看房优惠"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := devicepush.Content(task(tt.msg), app.Device{Token: "tok", Locale: tt.locale})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, [2]string{m.Title, m.Body}); diff != "" {
				t.Errorf("alert (-want +got):\n%s", diff)
			}
			if m.CollapseKey != tt.collapse || m.Data["id"] != tt.msg.ID || m.Data["seq"] != "3" || m.Data["epoch"] != "e1" {
				t.Errorf("collapse %q, data %v", m.CollapseKey, m.Data)
			}
		})
	}
}

// TestRetryDelay: a provider's Retry-After is kept to (rounded up for
// asynq's whole seconds), within the cap; otherwise the backoff.
func TestRetryDelay(t *testing.T) {
	delay := devicepush.RetryDelay(time.Second, 10*time.Second)
	tests := []struct {
		name     string
		n        int
		err      error
		min, max time.Duration
	}{
		{"first backoff", 0, errors.New("x"), time.Second, 1100 * time.Millisecond},
		{"retry-after wins", 0, &mobilepush.Error{Kind: mobilepush.Retry, RetryAfter: 2 * time.Second}, 3 * time.Second, 3 * time.Second},
		{"retry-after capped", 0, &mobilepush.Error{Kind: mobilepush.Retry, RetryAfter: time.Hour}, 11 * time.Second, 11 * time.Second},
		{"backoff longer", 3, &mobilepush.Error{Kind: mobilepush.Retry, RetryAfter: time.Second}, 8 * time.Second, 8800 * time.Millisecond},
	}
	for _, tt := range tests {
		if d := delay(tt.n, tt.err, nil); d < tt.min || d > tt.max {
			t.Errorf("%s: %v, want %v to %v", tt.name, d, tt.min, tt.max)
		}
	}
}
