package reservation

import (
	"strings"
	"unicode/utf8"

	"github.com/houseview/gateway/app"
)

// The service is the only validator of requests: each rule is written
// once, here, and answers the same wording on every transport.

// Bounds of free text, in characters.
const (
	MaxUserNameLen = 64
	MaxReasonLen   = 255
)

func checkReservationID(id int64) error {
	if id <= 0 {
		return app.Errorf(app.EInvalidArgument, "reservation id must be a positive integer")
	}
	return nil
}

// checkUserID checks a required user (or house) id named field.
func checkUserID(field string, id int64) error {
	if id <= 0 {
		return app.Errorf(app.EInvalidArgument, "%s is required and must be a positive integer", field)
	}
	return nil
}

// Free text that reaches the other party's notification (the tenant's
// name and the house title in the landlord's, the reason in the other
// party's) follows app.CheckText: valid UTF-8 without control, bidi or
// zero-width characters; a reason may span lines.

func checkUserName(s string) (string, error) {
	name := strings.TrimSpace(s)
	if name == "" {
		return "", app.Errorf(app.EInvalidArgument, "user_name is required")
	}
	if err := app.CheckText("user_name", name, app.OneLine); err != nil {
		return "", err
	}
	if utf8.RuneCountInString(name) > MaxUserNameLen {
		return "", app.Errorf(app.EInvalidArgument, "user_name must be at most %d characters", MaxUserNameLen)
	}
	return name, nil
}

// checkHouseTitle checks the optional house_title of a booking; the
// service then compares it with the house's.
func checkHouseTitle(s string) (string, error) {
	if err := app.CheckText("house_title", s, app.OneLine); err != nil {
		return "", err
	}
	return strings.TrimSpace(s), nil
}

// CheckReason checks the reason of a reject or cancel and returns it
// trimmed.
func CheckReason(s string) (string, error) {
	if err := app.CheckText("reason", s, app.MultiLine); err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > MaxReasonLen {
		return "", app.Errorf(app.EInvalidArgument, "reason must be at most %d characters", MaxReasonLen)
	}
	return s, nil
}
