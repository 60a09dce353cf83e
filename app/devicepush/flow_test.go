package devicepush_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/devicepush"
	"github.com/houseview/gateway/pkg/mobilepush/mobilepushtest"
)

const apnsToken = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

// TestOfflineUserGetsOnePushPerDevice: a confirmation that no session
// received goes, after the grace, once to each of the user's devices
// through its provider, each stand-in having checked the credentials
// (FCM's OAuth bearer, APNs's ES256 token, JPush's basic auth), even when
// it is published twice; the English device gets it in English, with the
// data and collapse key of the reservation. A user whose only device's
// platform has no provider gets nothing.
func TestOfflineUserGetsOnePushPerDevice(t *testing.T) {
	r := newRig(t)
	fcm := r.device(t, 1001, app.PlatformFCM, "fcm-token-1", "zh-CN")
	apns := r.device(t, 1001, app.PlatformAPNs, apnsToken, "en-GB")
	jp := r.device(t, 1001, app.PlatformJPush, "1a0018970aa0b1c2d3e", "")
	m := confirmation(t, 1001)
	published := time.Now()
	pos := r.publish(t, m)
	r.publish(t, m) // a republish: no second push

	for _, d := range []app.Device{fcm, apns, jp} {
		if info := r.final(t, devicepush.DeviceTaskID(m.ID, d.ID)); info.State != asynq.TaskStateCompleted {
			t.Errorf("device %d: task %v (%s), want completed", d.ID, info.State, info.LastErr)
		}
	}
	f, a, j := r.fcm.Requests(), r.apns.Requests(), r.jpush.Requests()
	if len(f) != 1 || len(a) != 1 || len(j) != 1 {
		t.Fatalf("sends: fcm %d, apns %d, jpush %d; want one each", len(f), len(a), len(j))
	}
	if early := f[0].Time.Sub(published); early < time.Second {
		t.Errorf("pushed %v after the publish, before the grace of 1s", early)
	}
	data := map[string]any{"id": m.ID, "type": "2", "reservation_id": "42", "seq": "1", "epoch": pos.Epoch}
	wantFCM := map[string]any{"message": map[string]any{"token": "fcm-token-1",
		"notification": map[string]any{"title": "预约已确认", "body": "房东已确认您对《精装修两室一厅》的看房预约，看房时间 2030-05-01 15:00:00"},
		"data":         data, "android": map[string]any{"collapse_key": "reservation-42"},
		"apns": map[string]any{"headers": map[string]any{"apns-collapse-id": "reservation-42"}}}}
	if diff := cmp.Diff(wantFCM, f[0].Body); diff != "" {
		t.Errorf("FCM body (-want +got):\n%s", diff)
	}
	if got := f[0].Header.Get("Authorization"); got != "Bearer access-1" {
		t.Errorf("FCM Authorization %q, want the minted bearer", got)
	}
	wantAPNs := map[string]any{"aps": map[string]any{"alert": map[string]any{"title": "Viewing confirmed",
		"body": `The landlord confirmed your viewing of "精装修两室一厅" at 2030-05-01 15:00:00`}}}
	for k, v := range data {
		wantAPNs[k] = v
	}
	if diff := cmp.Diff(wantAPNs, a[0].Body); diff != "" {
		t.Errorf("APNs body (-want +got):\n%s", diff)
	}
	if a[0].Token != apnsToken || a[0].Header.Get("apns-collapse-id") != "reservation-42" {
		t.Errorf("APNs token %q, collapse id %q", a[0].Token, a[0].Header.Get("apns-collapse-id"))
	}
	if j[0].Token != jp.Token {
		t.Errorf("JPush registration id %q, want %q", j[0].Token, jp.Token)
	}
	want := map[string]int{"task:scheduled": 1, "task:duplicate": 1, "run:fanned_out": 1, "device:enqueued": 3,
		"send:fcm:sent": 1, "send:apns:sent": 1, "send:jpush:sent": 1}
	if diff := cmp.Diff(want, r.metrics.snapshot()); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

// TestReceivedMessageGetsNoPush: a message whose delivery a session's
// cursor recorded within the grace is not pushed.
func TestReceivedMessageGetsNoPush(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.device(t, 1001, app.PlatformFCM, "fcm-token-1", "")
	m := confirmation(t, 1001)
	pos := r.publish(t, m)
	r.streams.Advance(1001, pos)
	if err := r.streams.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r.final(t, devicepush.TaskID(m.ID))
	if n := len(r.fcm.Requests()); n != 0 {
		t.Errorf("%d sends, want none", n)
	}
	if got := r.metrics.snapshot()["run:skipped"]; got != 1 {
		t.Errorf("skipped runs %d, want 1", got)
	}
}

// TestMutedMessageIsPushedPastTheCursor: a message its user muted in the
// app but keeps in the list is stored, never written to a session, so a
// delivered cursor past it (a later message received) does not stop its
// push; the same cursor does stop an unmuted one's.
func TestMutedMessageIsPushedPastTheCursor(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.device(t, 1001, app.PlatformFCM, "fcm-token-1", "")
	muted, plain := confirmation(t, 1001), confirmation(t, 1001)
	muted.Muted = true
	if pos := r.publish(t, muted); pos.Seq != 1 {
		t.Fatalf("muted message stored at %+v, want seq 1", pos)
	}
	pos := r.publish(t, plain)
	r.streams.Advance(1001, pos) // a session received the later message: the cursor passes the muted one
	if err := r.streams.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r.final(t, devicepush.TaskID(muted.ID))
	r.final(t, devicepush.TaskID(plain.ID))
	r.fcm.Wait(t, 1)
	if got := r.metrics.snapshot(); got["run:skipped"] != 1 || got["run:fanned_out"] != 1 {
		t.Errorf("runs %v, want the plain one skipped and the muted one fanned out", got)
	}
}

// TestDeadTokenRemovesTheDevice: FCM's UNREGISTERED removes the device at
// once, without a retry; the user's other device is kept.
func TestDeadTokenRemovesTheDevice(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.fcm.Answer(mobilepushtest.Answer{Status: http.StatusNotFound, Body: mobilepushtest.FCMError(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")})
	dead := r.device(t, 1001, app.PlatformFCM, "fcm-dead", "")
	kept := r.device(t, 1001, app.PlatformJPush, "1a0018970aa0b1c2d3e", "")
	m := confirmation(t, 1001)
	r.publish(t, m)
	if info := r.final(t, devicepush.DeviceTaskID(m.ID, dead.ID)); info.State != asynq.TaskStateCompleted || info.Retried != 0 {
		t.Errorf("dead device's task %v after %d retries, want completed at once", info.State, info.Retried)
	}
	r.final(t, devicepush.DeviceTaskID(m.ID, kept.ID))
	devices, err := r.store.Devices(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	if len(devices) != 1 || devices[0].ID != kept.ID {
		t.Errorf("devices %+v, want only %d", devices, kept.ID)
	}
	if n := len(r.fcm.Requests()); n != 1 {
		t.Errorf("%d FCM sends, want 1", n)
	}
	if got := r.metrics.snapshot()["send:fcm:dead_token"]; got != 1 {
		t.Errorf("dead_token sends %d, want 1", got)
	}
}

// TestRetryAfterIsKept: APNs's 503 with Retry-After: 2 is retried, not
// before two seconds, and delivered once.
func TestRetryAfterIsKept(t *testing.T) {
	r := newRig(t)
	r.apns.Answer(mobilepushtest.Answer{Status: http.StatusServiceUnavailable, Header: map[string]string{"Retry-After": "2"},
		Body: `{"reason":"ServiceUnavailable"}`})
	d := r.device(t, 1001, app.PlatformAPNs, apnsToken, "")
	m := confirmation(t, 1001)
	r.publish(t, m)
	if info := r.final(t, devicepush.DeviceTaskID(m.ID, d.ID)); info.State != asynq.TaskStateCompleted || info.Retried != 1 {
		t.Errorf("task %v after %d retries, want completed after 1", info.State, info.Retried)
	}
	got := r.apns.Requests()
	if len(got) != 2 || got[0].Status != 503 || got[1].Status != 200 {
		t.Fatalf("sends %+v, want a 503 then a 200", got)
	}
	if wait := got[1].Time.Sub(got[0].Time); wait < 2*time.Second {
		t.Errorf("retried %v after the 503, before its Retry-After of 2s", wait)
	}
}

// TestPermanentFailureIsArchived: a JPush refusal is archived at once,
// without a retry.
func TestPermanentFailureIsArchived(t *testing.T) {
	r := newRig(t)
	r.jpush.Answer(mobilepushtest.Answer{Status: http.StatusBadRequest, Body: `{"error":{"code":1003,"message":"Invalid parameter"}}`})
	d := r.device(t, 1001, app.PlatformJPush, "1a0018970aa0b1c2d3e", "")
	m := confirmation(t, 1001)
	r.publish(t, m)
	if info := r.final(t, devicepush.DeviceTaskID(m.ID, d.ID)); info.State != asynq.TaskStateArchived || info.Retried != 0 {
		t.Errorf("task %v after %d retries, want archived at once", info.State, info.Retried)
	}
	if n := len(r.jpush.Requests()); n != 1 {
		t.Errorf("%d sends, want 1", n)
	}
}

// TestMovedTokenStopsGoingToTheFirstUser: a send that failed is not
// retried once its token has moved to another user.
func TestMovedTokenStopsGoingToTheFirstUser(t *testing.T) {
	r := newRig(t)
	r.fcm.Answer(mobilepushtest.Answer{Status: http.StatusServiceUnavailable, Header: map[string]string{"Retry-After": "1"},
		Body: mobilepushtest.FCMError(503, "UNAVAILABLE", "UNAVAILABLE", "try later")})
	d := r.device(t, 1001, app.PlatformFCM, "fcm-shared", "")
	m := confirmation(t, 1001)
	r.publish(t, m)
	r.fcm.Wait(t, 1)
	r.device(t, 1002, app.PlatformFCM, "fcm-shared", "") // the phone changes hands
	if info := r.final(t, devicepush.DeviceTaskID(m.ID, d.ID)); info.State != asynq.TaskStateCompleted {
		t.Errorf("task %v, want completed", info.State)
	}
	if n := len(r.fcm.Requests()); n != 1 {
		t.Errorf("%d sends, want only the first (before the move)", n)
	}
	if got := r.metrics.snapshot()["device:stale"]; got != 1 {
		t.Errorf("stale device tasks %d, want 1", got)
	}
}
