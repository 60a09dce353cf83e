package reservation

import (
	"fmt"

	"github.com/houseview/gateway/app"
)

type event int

const (
	eventCreated event = iota
	eventConfirmed
	eventRejected
	eventCancelled
	eventReminder
)

var eventFor = map[app.Status]event{
	app.StatusConfirmed: eventConfirmed,
	app.StatusRejected:  eventRejected,
	app.StatusCancelled: eventCancelled,
}

// messages builds the notifications of event e on r, caused by actor, in
// the documented format: Chinese title and content naming the tenant
// and the house, the reservation object as detail. A non-empty key derives
// the message ids from it (one per recipient) instead of fresh ones.
func (s *Service) messages(r *app.Reservation, e event, actor int64, key string) ([]app.Message, error) {
	when := r.ReserveTime.In(s.opts.Location).Format(app.TimeLayout)
	withReason := func(text string) string {
		if r.Reason == "" {
			return text
		}
		return text + "，原因：" + r.Reason
	}
	var notes []app.Notification
	add := func(t app.MessageType, to int64, title, content string) {
		notes = append(notes, app.Notification{Type: t, UserID: to, Title: title, Content: content})
	}
	switch e {
	case eventCreated:
		add(app.MsgReservationCreated, r.LandlordID, "新的看房预约",
			fmt.Sprintf("%s 预约了您的房源《%s》", r.TenantName, r.HouseTitle))
	case eventConfirmed:
		add(app.MsgReservationConfirmed, r.TenantID, "预约已确认",
			fmt.Sprintf("房东已确认您对《%s》的看房预约，看房时间 %s", r.HouseTitle, when))
	case eventRejected:
		add(app.MsgReservationRejected, r.TenantID, "预约被拒绝",
			withReason(fmt.Sprintf("房东拒绝了您对《%s》的看房预约", r.HouseTitle)))
	case eventCancelled:
		if actor == r.TenantID {
			add(app.MsgReservationCancelled, r.LandlordID, "预约已取消",
				withReason(fmt.Sprintf("%s 取消了《%s》%s 的看房预约", r.TenantName, r.HouseTitle, when)))
		} else {
			add(app.MsgReservationCancelled, r.TenantID, "预约已取消",
				withReason(fmt.Sprintf("房东取消了您对《%s》%s 的看房预约", r.HouseTitle, when)))
		}
	case eventReminder:
		add(app.MsgReservationReminder, r.TenantID, "看房提醒",
			fmt.Sprintf("您预约的《%s》将于 %s 看房，请准时到达", r.HouseTitle, when))
		add(app.MsgReservationReminder, r.LandlordID, "看房提醒",
			fmt.Sprintf("%s 将于 %s 看房《%s》，请做好准备", r.TenantName, when, r.HouseTitle))
	}
	now := s.opts.Now().Unix()
	detail := r.JSON()
	msgs := make([]app.Message, len(notes))
	for i := range notes {
		n := &notes[i]
		n.ID = app.NewMessageID()
		if key != "" {
			n.ID = app.DerivedMessageID(key, n.UserID)
		}
		n.ReservationID = r.ID
		n.Timestamp = now
		n.Detail = detail
		m, err := n.Message()
		if err != nil {
			return nil, err
		}
		msgs[i] = m
	}
	return msgs, nil
}
