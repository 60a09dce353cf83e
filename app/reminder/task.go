// Package reminder schedules exact-time viewing reminders as asynq delayed
// tasks and handles them: one task per configured lead time, with a
// deterministic task id so a retry or a second node never enqueues twice.
package reminder

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
)

// TypeViewingReminder is the asynq task type of a viewing reminder.
const TypeViewingReminder = "reservation:reminder"

// Payload is a reminder task's payload: JSON that reads well in the asynq UI.
type Payload struct {
	ReservationID int64  `json:"reservation_id"`
	Lead          string `json:"lead"` // "1h0m0s"; "now" for an immediate reminder
	LeadSeconds   int64  `json:"lead_seconds"`
	RemindAt      string `json:"remind_at"` // local wall clock
	// RemindAtMS is the reminder's time in Unix milliseconds: asynq keeps
	// whole seconds, and a worker whose clock runs ahead gets the task
	// early; the handler waits for this time (see Handler.WithClock).
	// 0 in tasks scheduled before it existed.
	RemindAtMS  int64  `json:"remind_at_ms"`
	ReserveTime string `json:"reserve_time"` // local wall clock
	HouseTitle  string `json:"house_title"`
	TenantID    int64  `json:"tenant_id"`
	LandlordID  int64  `json:"landlord_id"`
}

// Key names one reminder of one reservation: it makes the task id and the
// ids of the messages it sends, so that neither is ever doubled.
func (p Payload) Key() string { return Key(p.ReservationID, p.Lead) }

// Key is the reminder key of reservation id at lead ("1h0m0s" or "now").
func Key(reservationID int64, lead string) string {
	return fmt.Sprintf("reminder:%d:%s", reservationID, lead)
}

// leadName is how a lead appears in keys and payloads.
func leadName(lead time.Duration) string {
	if lead == 0 {
		return "now"
	}
	return lead.String()
}

// Defaults of the TaskOptions: Queue and Retention left zero get theirs;
// MaxRetry is taken as it is (0: no retry), DefaultMaxRetry is the
// configuration's default.
const (
	DefaultQueue     = "reminders"
	DefaultMaxRetry  = 10
	DefaultRetention = 24 * time.Hour
)

// TaskOptions are the asynq options of reminder tasks.
type TaskOptions struct {
	Queue     string
	MaxRetry  int
	Retention time.Duration // completed tasks stay visible in the UI this long
}

// NewTask returns the task that reminds both parties of r at reserve_time -
// lead (lead 0: at once).
func NewTask(r *app.Reservation, lead time.Duration, at time.Time, opts TaskOptions) (*asynq.Task, error) {
	p := Payload{
		ReservationID: r.ID, Lead: leadName(lead), LeadSeconds: int64(lead / time.Second),
		RemindAt: at.In(r.ReserveTime.Location()).Format(app.TimeLayout), RemindAtMS: at.UnixMilli(), ReserveTime: r.ReserveTime.Format(app.TimeLayout),
		HouseTitle: r.HouseTitle, TenantID: r.TenantID, LandlordID: r.LandlordID,
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeViewingReminder, b,
		asynq.TaskID(p.Key()), asynq.Queue(opts.Queue), asynq.MaxRetry(opts.MaxRetry),
		asynq.ProcessAt(at), asynq.Retention(opts.Retention)), nil
}
