package reqbody_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httpapi/reqbody"
	"github.com/houseview/gateway/app/reservation"
)

// FuzzRequestBody feeds bodies to the REST decoding of reserve (even kind)
// and action (odd kind) requests, then to the service's validation of what
// they decoded to. Properties: nothing panics; a refusal is an
// invalid_argument with a message in valid UTF-8; a body that is not valid UTF-8 is refused
// as such; what decodes is valid JSON; a booking or reason that passes
// validation holds only text that app.CheckText accepts, within its bounds.
// Seeds: testdata/fuzz/FuzzRequestBody and the cases below.
func FuzzRequestBody(f *testing.F) {
	for _, s := range []string{
		`{"landlord_id":2001,"user_id":1001,"user_name":"张三","house_id":3001,"house_title":"精装修两室一厅","reserve_time":"2026-12-02 14:00:00"}`,
		`{"landlord_id":2001,"reason":"时间不合适"}`,
		"{\"user_name\":\"\xff\"}",
		`{"user_name":"\u202e"}`,
		`{"user_id":"1"}`, `[]`, ``, `{"detail":{"a":[1,{"b":"c"}]}}`,
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, reservation.DefaultLocation())
	svc := reservation.New(nil, nil, reservation.Options{Now: func() time.Time { return now }})
	f.Fuzz(func(t *testing.T, body []byte, kind uint8) {
		var (
			reserve reqbody.Reserve
			action  reqbody.Action
			err     error
		)
		if kind%2 == 0 {
			err = reqbody.Decode(body, &reserve, false)
		} else {
			err = reqbody.Decode(body, &action, true)
		}
		if err != nil {
			code, msg := app.ErrorCode(err), app.ErrorMessage(err)
			if code != app.EInvalidArgument || msg == "" || !utf8.ValidString(msg) {
				t.Fatalf("body %q: error %v", body, err)
			}
			if !utf8.Valid(body) && !strings.Contains(msg, "not valid UTF-8") {
				t.Fatalf("body %q is not valid UTF-8 but the error says %q", body, msg)
			}
			return
		}
		if strings.TrimSpace(string(body)) != "" && (!json.Valid(body) || !utf8.Valid(body)) {
			t.Fatalf("body %q decoded without error", body)
		}
		if kind%2 == 0 {
			checkBooking(t, svc, reserve, now)
		} else if reason, err := reservation.CheckReason(action.Reason); err == nil {
			if app.CheckText("reason", reason, app.MultiLine) != nil || utf8.RuneCountInString(reason) > reservation.MaxReasonLen {
				t.Fatalf("reason %q accepted", reason)
			}
		}
	})
}

// checkBooking validates b as the service would and checks what passes.
func checkBooking(t *testing.T, svc *reservation.Service, b reqbody.Reserve, now time.Time) {
	req := app.CreateReservation{HouseID: b.HouseID, TenantID: b.UserID, TenantName: b.UserName,
		LandlordID: b.LandlordID, HouseTitle: b.HouseTitle, ReserveTime: b.ReserveTime}
	err := svc.ValidateCreate(req)
	if err != nil {
		if app.ErrorCode(err) != app.EInvalidArgument || !utf8.ValidString(app.ErrorMessage(err)) {
			t.Fatalf("booking %+v: error %v", b, err)
		}
		return
	}
	name := strings.TrimSpace(b.UserName)
	if b.HouseID <= 0 || b.UserID <= 0 || b.LandlordID < 0 || name == "" ||
		utf8.RuneCountInString(name) > reservation.MaxUserNameLen ||
		app.CheckText("user_name", name, app.OneLine) != nil || app.CheckText("house_title", b.HouseTitle, app.OneLine) != nil {
		t.Fatalf("booking %+v accepted", b)
	}
}
