package reservation

import (
	"fmt"
	"strings"

	"github.com/houseview/gateway/app"
)

// EnglishText returns the English title and content of a reservation
// notification of type typ sent to user, built from the reservation
// object it carries as detail, as messages builds the Chinese ones that
// are published. ok is false for the other types (a generic push has no
// template: its text goes as its sender wrote it).
func EnglishText(typ app.MessageType, user int64, d app.ReservationJSON) (title, content string, ok bool) {
	withReason := func(text string) string {
		if d.Reason == "" {
			return text
		}
		return text + ". Reason: " + d.Reason
	}
	switch typ {
	case app.MsgReservationCreated:
		return "New viewing request", fmt.Sprintf("%s booked a viewing of your house %q", d.UserName, d.HouseTitle), true
	case app.MsgReservationConfirmed:
		return "Viewing confirmed", fmt.Sprintf("The landlord confirmed your viewing of %q at %s", d.HouseTitle, d.ReserveTime), true
	case app.MsgReservationRejected:
		return "Viewing declined", withReason(fmt.Sprintf("The landlord declined your viewing of %q", d.HouseTitle)), true
	case app.MsgReservationCancelled:
		if user == d.LandlordID {
			return "Viewing cancelled", withReason(fmt.Sprintf("%s cancelled the viewing of %q at %s", d.UserName, d.HouseTitle, d.ReserveTime)), true
		}
		return "Viewing cancelled", withReason(fmt.Sprintf("The landlord cancelled your viewing of %q at %s", d.HouseTitle, d.ReserveTime)), true
	case app.MsgReservationReminder:
		if user == d.LandlordID {
			return "Viewing reminder", fmt.Sprintf("%s will view %q at %s; please be ready", d.UserName, d.HouseTitle, d.ReserveTime), true
		}
		return "Viewing reminder", fmt.Sprintf("Your viewing of %q is at %s; please be on time", d.HouseTitle, d.ReserveTime), true
	}
	return "", "", false
}

// IsEnglish reports whether a BCP 47 locale is English ("en", "en-GB",
// "en_US"; any case): the locales that get EnglishText.
func IsEnglish(locale string) bool {
	l := strings.ToLower(locale)
	return l == "en" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_")
}
