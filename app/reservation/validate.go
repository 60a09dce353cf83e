package reservation

import (
	"strings"
	"unicode"
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

func checkRole(r app.Role) error {
	if r != app.RoleTenant && r != app.RoleLandlord {
		return app.Errorf(app.EInvalidArgument, "role must be tenant or landlord, not %q", r)
	}
	return nil
}

func checkUserName(s string) (string, error) {
	name := strings.TrimSpace(s)
	if name == "" {
		return "", app.Errorf(app.EInvalidArgument, "user_name is required")
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxUserNameLen {
		return "", app.Errorf(app.EInvalidArgument, "user_name must be valid text of at most %d characters", MaxUserNameLen)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", app.Errorf(app.EInvalidArgument, "user_name must not contain control characters")
	}
	return name, nil
}

func checkReason(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxReasonLen {
		return "", app.Errorf(app.EInvalidArgument, "reason must be valid text of at most %d characters", MaxReasonLen)
	}
	return s, nil
}
