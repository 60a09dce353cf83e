// Package reqbody holds the JSON bodies of the REST API and decodes them:
// the transport's only conversion of a body, kept apart from gin so that
// its fuzz target builds small. The service validates the values.
package reqbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/houseview/gateway/app"
)

// Reserve is the body of POST /house/reserve.
type Reserve struct {
	LandlordID  int64  `json:"landlord_id"`
	UserID      int64  `json:"user_id"`
	UserName    string `json:"user_name"`
	HouseID     int64  `json:"house_id"`
	HouseTitle  string `json:"house_title"`
	ReserveTime string `json:"reserve_time"`
}

// Action is the body of confirm, reject, cancel and remind. Every field
// is optional: in jwt mode the token names the caller.
type Action struct {
	LandlordID int64  `json:"landlord_id"`
	UserID     int64  `json:"user_id"`
	Reason     string `json:"reason"`
}

// Push is the body of POST /api/push.
type Push struct {
	UserIDs []int64         `json:"user_ids"`
	Title   string          `json:"title"`
	Content string          `json:"content"`
	Detail  json.RawMessage `json:"detail"`
	// IdempotencyKey may also come as the Idempotency-Key header.
	IdempotencyKey string `json:"idempotency_key"`
	// Webhook asks for the offline webhook (push.Request.Webhook).
	Webhook bool `json:"webhook"`
}

// Mark is the body of POST /api/inbox/mark. UserID names the user in
// insecure mode and for the server API key; a user's token names its own.
type Mark struct {
	UserID int64  `json:"user_id"`
	State  string `json:"state"`
	Seq    *int64 `json:"seq"`
	UpTo   *int64 `json:"up_to"`
	All    bool   `json:"all"`
	Epoch  string `json:"epoch"`
}

// Device is the body of POST /api/devices. UserID names the user in
// insecure mode and for the server API key; a user's token names its own.
type Device struct {
	UserID   int64  `json:"user_id"`
	Platform string `json:"platform"`
	Token    string `json:"token"`
	App      string `json:"app"`
	Locale   string `json:"locale"`
}

// Preferences is the body of PUT /api/preferences: the full document
// (app.Preferences). UserID names the user as in Device.
type Preferences struct {
	UserID            int64                        `json:"user_id"`
	Types             map[string]ChannelPreference `json:"types"`
	TimeZone          string                       `json:"time_zone"`
	QuietStart        string                       `json:"quiet_start"`
	QuietEnd          string                       `json:"quiet_end"`
	RemindersMutedFor []int64                      `json:"reminders_muted_for"`
}

// ChannelPreference is one type's entry of Preferences: a channel left out
// is on, list left out is off.
type ChannelPreference struct {
	InApp *bool `json:"in_app"`
	Push  *bool `json:"push"`
	List  bool  `json:"list"`
}

// Preferences returns b as app.Preferences, unchecked, for user.
func (b *Preferences) Preferences(user int64) app.Preferences {
	on := func(v *bool) bool { return v == nil || *v }
	p := app.Preferences{UserID: user, TimeZone: b.TimeZone, QuietStart: b.QuietStart, QuietEnd: b.QuietEnd,
		RemindersMutedFor: b.RemindersMutedFor}
	if b.Types != nil {
		p.Types = make(map[string]app.ChannelPreference, len(b.Types))
		for name, c := range b.Types {
			p.Types[name] = app.ChannelPreference{InApp: on(c.InApp), Push: on(c.Push), List: c.List}
		}
	}
	return p
}

// Decode decodes body, read whole, into dst. An empty (or blank) body
// leaves dst untouched when allowEmpty, and is an error otherwise. A body
// that is not valid UTF-8 is refused naming the field that holds the first
// bad byte. Every error is an EInvalidArgument that says what is wrong.
func Decode(body []byte, dst any, allowEmpty bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return app.Errorf(app.EInvalidArgument, "request body is required")
	}
	if !utf8.Valid(body) {
		return invalidUTF8(body)
	}
	err := json.Unmarshal(body, dst)
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typ) && typ.Field != "":
		return app.Errorf(app.EInvalidArgument, "%s must be a JSON %s, got %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &typ):
		return app.Errorf(app.EInvalidArgument, "request body must be a JSON object, got %s", typ.Value)
	default:
		return app.Errorf(app.EInvalidArgument, "request body is not valid JSON")
	}
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	case "float32", "float64":
		return "number"
	case "bool":
		return "boolean"
	default:
		return kind
	}
}
