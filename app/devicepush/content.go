package devicepush

import (
	"encoding/json"
	"strconv"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/reservation"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/pkg/mobilepush"
)

// Content builds the push of a notification (a grace task's payload) to
// device d:
//
//   - the alert is the notification's title and content, as published
//     (reservation notifications are published in Chinese). A device
//     whose locale is English (en, en-*) gets a reservation notification
//     in English instead (reservation.EnglishText, from the reservation
//     object the notification carries); every other locale, and every
//     generic push, gets the text as published;
//   - the data carries id (the message id), type, reservation_id (when the
//     notification has one), seq and epoch: the app can fetch the message
//     or resume its stream from there;
//   - a reservation notification has the collapse key
//     "reservation-<id>": a newer one (the confirmation) replaces the
//     older (its booking notice) on the lock screen. A generic push has
//     none.
func Content(t webhook.Task, d app.Device) (mobilepush.Message, error) {
	var n struct {
		Type          app.MessageType      `json:"type"`
		ReservationID int64                `json:"reservation_id"`
		Title         string               `json:"title"`
		Content       string               `json:"content"`
		Detail        *app.ReservationJSON `json:"detail"`
	}
	if err := json.Unmarshal(t.Body, &n); err != nil {
		return mobilepush.Message{}, err
	}
	m := mobilepush.Message{Token: d.Token, Title: n.Title, Body: n.Content, Data: map[string]string{
		"id": t.ID, "type": strconv.Itoa(int(n.Type)), "seq": strconv.FormatInt(t.Seq, 10), "epoch": t.Epoch}}
	reserving := n.Type >= app.MsgReservationCreated && n.Type <= app.MsgReservationRejected
	if n.ReservationID > 0 {
		m.Data["reservation_id"] = strconv.FormatInt(n.ReservationID, 10)
		if reserving {
			m.CollapseKey = "reservation-" + strconv.FormatInt(n.ReservationID, 10)
		}
	}
	if reserving && n.Detail != nil && reservation.IsEnglish(d.Locale) {
		if title, content, ok := reservation.EnglishText(n.Type, t.UserID, *n.Detail); ok {
			m.Title, m.Body = title, content
		}
	}
	return m, nil
}
