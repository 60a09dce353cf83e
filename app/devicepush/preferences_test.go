package devicepush_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/devicepush"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/app/preferences"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

// prefsRig is a rig whose handlers apply the preferences of svc, read with
// a clock that starts at start and runs at the real pace.
func prefsRig(t *testing.T, start time.Time) (*rig, *preferences.Service, time.Time) {
	var svc atomic.Pointer[preferences.Service]
	began := time.Now()
	r := newRigWith(t, func(store *mysql.Store, rdb goredis.UniversalClient, keys redis.Keys) devicepush.Preferences {
		s := preferences.New(store, rdb, keys.Preferences(), preferences.Options{})
		svc.Store(s)
		return s
	}, func() time.Time { return start.Add(time.Since(began)) })
	return r, svc.Load(), began
}

func reminderOf(tb testing.TB, user, reservation int64) app.Message {
	tb.Helper()
	m, err := (&app.Notification{ID: app.NewMessageID(), Type: app.MsgReservationReminder, UserID: user, ReservationID: reservation,
		Title: "看房提醒", Content: "您预约的《精装修两室一厅》将于 2030-05-01 15:00:00 看房，请准时到达", Timestamp: 1700000000}).Message()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestPushPreferences: a type whose push the user turned off sends
// nothing to the devices (the grace task counts muted, no device task),
// while the user's other types are pushed. Muting the reminder type keeps
// the reminders of a viewing; an explicit opt-out for the reservation
// mutes them.
func TestPushPreferences(t *testing.T) {
	ctx := context.Background()
	r, prefs, _ := prefsRig(t, time.Now())
	d := r.device(t, 1001, app.PlatformFCM, "fcm-prefs", "zh-CN")
	if _, err := prefs.Update(ctx, app.Preferences{UserID: 1001, Types: map[string]app.ChannelPreference{
		"confirmed": {InApp: true, Push: false}, "reminder": {InApp: false, Push: false}}}); err != nil {
		t.Fatal(err)
	}
	muted := confirmation(t, 1001)
	r.publish(t, muted)
	if info := r.final(t, devicepush.TaskID(muted.ID)); info.State != asynq.TaskStateCompleted {
		t.Fatalf("grace task %v (%s), want completed", info.State, info.LastErr)
	}
	if _, err := r.insp.GetTaskInfo(queue, devicepush.DeviceTaskID(muted.ID, d.ID)); err == nil {
		t.Error("a device task was enqueued for a type with push off")
	}

	kept := reminderOf(t, 1001, 42) // the reminder type is muted, but this is the viewing's reminder
	r.publish(t, kept)
	if info := r.final(t, devicepush.DeviceTaskID(kept.ID, d.ID)); info.State != asynq.TaskStateCompleted {
		t.Fatalf("reminder's device task %v (%s), want completed", info.State, info.LastErr)
	}

	if _, err := prefs.Update(ctx, app.Preferences{UserID: 1001, RemindersMutedFor: []int64{42}}); err != nil {
		t.Fatal(err)
	}
	optedOut := reminderOf(t, 1001, 42)
	r.publish(t, optedOut)
	if info := r.final(t, devicepush.TaskID(optedOut.ID)); info.State != asynq.TaskStateCompleted {
		t.Fatalf("grace task %v (%s), want completed", info.State, info.LastErr)
	}
	if _, err := r.insp.GetTaskInfo(queue, devicepush.DeviceTaskID(optedOut.ID, d.ID)); err == nil {
		t.Error("a device task was enqueued for a reminder of a reservation the user opted out of")
	}
	reqs := r.fcm.Requests()
	if len(reqs) != 1 || reqs[0].Body["message"].(map[string]any)["data"].(map[string]any)["id"] != kept.ID {
		t.Errorf("FCM got %d pushes, want only the kept reminder %s", len(reqs), kept.ID)
	}
	if got := r.metrics.snapshot()["run:muted"]; got != 2 {
		t.Errorf("run:muted = %d, want 2", got)
	}
}

// TestQuietHoursAcrossTimeZones: a user in Tokyo with quiet hours 22:00 to
// 07:00 gets a push published at 06:59:55 Tokyo time (21:59:55 UTC the day
// before, outside those hours read in UTC) only at 07:00 Tokyo time; the
// device task waits scheduled meanwhile, then goes out. A user in UTC with
// the same hours gets it at once. A user who turns push off while theirs
// is held gets nothing.
func TestQuietHoursAcrossTimeZones(t *testing.T) {
	ctx := context.Background()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	start := time.Date(2030, 1, 1, 6, 59, 55, 0, tokyo)
	r, prefs, began := prefsRig(t, start)
	quietEnd := began.Add(5 * time.Second) // 07:00:00 Tokyo on the rig's clock
	sleeper := r.device(t, 1001, app.PlatformFCM, "fcm-tokyo", "en")
	awake := r.device(t, 1002, app.PlatformFCM, "fcm-utc", "en")
	changed := r.device(t, 1003, app.PlatformFCM, "fcm-changed", "en")
	for user, zone := range map[int64]string{1001: "Asia/Tokyo", 1002: "UTC", 1003: "Asia/Tokyo"} {
		if _, err := prefs.Update(ctx, app.Preferences{UserID: user, TimeZone: zone, QuietStart: "22:00", QuietEnd: "07:00"}); err != nil {
			t.Fatal(err)
		}
	}
	held, now, cancelled := confirmation(t, 1001), confirmation(t, 1002), confirmation(t, 1003)
	r.publish(t, held)
	r.publish(t, now)
	r.publish(t, cancelled)

	// The grace (1 s) passes: the UTC user's push goes out, the Tokyo
	// user's device task waits for the end of the quiet hours.
	if info := r.final(t, devicepush.DeviceTaskID(now.ID, awake.ID)); info.State != asynq.TaskStateCompleted {
		t.Fatalf("UTC user's device task %v (%s), want completed", info.State, info.LastErr)
	}
	info, err := r.insp.GetTaskInfo(queue, devicepush.DeviceTaskID(held.ID, sleeper.ID))
	if err != nil {
		t.Fatalf("the Tokyo user's device task: %v", err)
	}
	if time.Now().Before(quietEnd) && info.State != asynq.TaskStateScheduled {
		t.Errorf("before 07:00 Tokyo the device task is %v, want scheduled", info.State)
	}
	if info.NextProcessAt.Before(quietEnd.Truncate(time.Second)) {
		t.Errorf("device task due %v, before the end of the quiet hours %v", info.NextProcessAt, quietEnd)
	}
	// User 1003 turns push off for confirmations while theirs is held: it
	// is not sent when the quiet hours end.
	testenv.Eventually(t, 5*time.Second, "user 1003's device task held", func() bool {
		_, err := r.insp.GetTaskInfo(queue, devicepush.DeviceTaskID(cancelled.ID, changed.ID))
		return err == nil
	})
	if _, err := prefs.Update(ctx, app.Preferences{UserID: 1003, TimeZone: "Asia/Tokyo", QuietStart: "22:00", QuietEnd: "07:00",
		Types: map[string]app.ChannelPreference{"confirmed": {InApp: true}}}); err != nil {
		t.Fatal(err)
	}
	if info := r.final(t, devicepush.DeviceTaskID(cancelled.ID, changed.ID)); info.State != asynq.TaskStateCompleted {
		t.Errorf("user 1003's device task %v (%s), want completed without a send", info.State, info.LastErr)
	}
	if info := r.final(t, devicepush.DeviceTaskID(held.ID, sleeper.ID)); info.State != asynq.TaskStateCompleted {
		t.Fatalf("Tokyo user's device task %v (%s), want completed", info.State, info.LastErr)
	}
	var heldAt time.Time
	for _, req := range r.fcm.Requests() {
		switch req.Body["message"].(map[string]any)["token"] {
		case "fcm-tokyo":
			heldAt = req.Time
		case "fcm-changed":
			t.Error("user 1003 turned push off while the push was held, and got it")
		}
	}
	if heldAt.IsZero() || heldAt.Before(quietEnd) {
		t.Errorf("Tokyo user pushed at %v, %v after the start; want after the quiet end, %v after", heldAt, heldAt.Sub(began), quietEnd.Sub(began))
	}
	t.Logf("Tokyo user's push went out %v after 06:59:55 Tokyo (quiet end: 5s)", heldAt.Sub(began))
}
