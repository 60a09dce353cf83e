package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/httpapi"
)

// TestTextRulesOverREST: bodies with invalid UTF-8 or hidden characters get
// a 400 naming the field, and nothing is stored or sent.
func TestTextRulesOverREST(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := newServer(t, env, httpapi.Options{})
	id := mustReserve(t, env, srv, tenant, 24*time.Hour).ReservationID
	at := env.ReserveTime(30 * time.Hour)
	reserve := func(name, title string) string {
		return fmt.Sprintf(`{"user_id":%d,"user_name":"%s","house_id":%d,"house_title":"%s","reserve_time":%q}`, tenant, name, house, title, at)
	}
	tests := []struct {
		name string
		path string
		body string
		want string
	}{
		{"invalid utf-8 name", "/house/reserve", reserve("张\xff", title), "user_name is not valid UTF-8"},
		{"invalid utf-8 title", "/house/reserve", reserve("张三", "\xe7\xb2"), "house_title is not valid UTF-8"},
		{"bidi override in name", "/house/reserve", reserve(`\u202e三张`, title), "user_name must not contain bidi control characters (U+202E at character 1)"},
		{"zero-width in name", "/house/reserve", reserve("张\u200b三", title), "user_name must not contain zero-width characters (U+200B at character 2)"},
		{"escaped control in name", "/house/reserve", reserve(`a\u0007`, title), "user_name must not contain control characters (U+0007 at character 2)"},
		{"zero-width in title", "/house/reserve", reserve("张三", "精装修\u200d两室一厅"), "house_title must not contain zero-width characters (U+200D at character 4)"},
		{"invalid utf-8 reason", fmt.Sprintf("/api/reservations/%d/reject", id), "{\"landlord_id\":2001,\"reason\":\"\xc3\"}", "reason is not valid UTF-8"},
		{"bidi isolate in reason", fmt.Sprintf("/api/reservations/%d/cancel", id), `{"user_id":1001,"reason":"\u2068x"}`, "reason must not contain bidi control characters (U+2068 at character 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustDo(t, srv, call{Method: "POST", Path: tt.path, Body: tt.body})
			want := fmt.Sprintf(`{"error":{"code":"invalid_argument","message":%q}}`, tt.want)
			if diff := cmp.Diff(fmt.Sprintf("%d %s", http.StatusBadRequest, want), fmt.Sprintf("%d %s", r.Status, r.Body)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if n := len(env.Messages(t, landlord)); n != 1 {
		t.Errorf("landlord has %d messages, want only the first booking's", n)
	}
	if n := len(env.Messages(t, tenant)); n != 0 {
		t.Errorf("tenant has %d messages, want 0", n)
	}
}
