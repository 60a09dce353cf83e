package mobilepush

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAPNsErrors(t *testing.T) {
	reason := func(r string) string { return `{"reason":"` + r + `"}` }
	tests := []errCase{
		{name: "unregistered", answer: answer{status: 410, body: `{"reason":"Unregistered","timestamp":1764979200000}`},
			wantKind: DeadToken, wantReason: "Unregistered"},
		{name: "expired token", answer: answer{status: 410, body: reason("ExpiredToken")},
			wantKind: DeadToken, wantReason: "ExpiredToken"},
		{name: "bad device token", answer: answer{status: 400, body: reason("BadDeviceToken")},
			wantKind: DeadToken, wantReason: "BadDeviceToken"},
		{name: "not for topic", answer: answer{status: 400, body: reason("DeviceTokenNotForTopic")},
			wantKind: DeadToken, wantReason: "DeviceTokenNotForTopic"},
		{name: "bad collapse id", answer: answer{status: 400, body: reason("BadCollapseId")},
			wantKind: Permanent, wantReason: "BadCollapseId"},
		{name: "invalid provider token", answer: answer{status: 403, body: reason("InvalidProviderToken")},
			wantKind: Permanent, wantReason: "InvalidProviderToken"},
		{name: "expired provider token", answer: answer{status: 403, body: reason("ExpiredProviderToken")},
			wantKind: Permanent, wantReason: "ExpiredProviderToken"},
		{name: "too many requests", answer: answer{status: 429, header: map[string]string{"Retry-After": "12"}, body: reason("TooManyRequests")},
			wantKind: Retry, wantReason: "TooManyRequests", wantRetry: 12 * time.Second},
		{name: "unavailable date", answer: answer{status: 503, header: map[string]string{"Retry-After": httpDateIn(time.Minute)}, body: reason("ServiceUnavailable")},
			wantKind: Retry, wantReason: "ServiceUnavailable", wantRetry: time.Minute},
		{name: "internal", answer: answer{status: 500, body: reason("InternalServerError")},
			wantKind: Retry, wantReason: "InternalServerError"},
		{name: "bad gateway html", answer: answer{status: 502, header: map[string]string{"Retry-After": "3"}, body: "<html>bad gateway</html>"},
			wantKind: Retry, wantRetry: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPNs(t)
			f.ans = tt.answer
			err := f.provider(t).Send(context.Background(), Message{Token: testDeviceToken, Body: "b"})
			checkErr(t, "apns", err, tt)
		})
	}
}

func TestAPNsRefusedLocally(t *testing.T) {
	f := newFakeAPNs(t)
	p := f.provider(t)
	tests := []struct {
		m    Message
		want errCase
	}{
		{Message{Body: "b"}, errCase{wantKind: Permanent, wantReason: "empty_token"}},
		{Message{Token: "not-hex/../x", Body: "b"}, errCase{wantKind: DeadToken, wantReason: "BadDeviceToken"}},
		{Message{Token: testDeviceToken, Data: map[string]string{"aps": "x"}}, errCase{wantKind: Permanent, wantReason: "reserved_key"}},
	}
	for _, tt := range tests {
		checkErr(t, "apns", p.Send(context.Background(), tt.m), tt.want)
	}
	if len(f.reqs) != 0 {
		t.Errorf("%d requests sent, want none", len(f.reqs))
	}
}

func TestAPNsNoAnswer(t *testing.T) {
	f := newFakeAPNs(t)
	p := f.provider(t)
	f.srv.Close()
	err := p.Send(context.Background(), Message{Token: testDeviceToken, Body: "b"})
	checkErr(t, "apns", err, errCase{wantKind: Retry})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = newFakeAPNs(t).provider(t).Send(ctx, Message{Token: testDeviceToken, Body: "b"})
	checkErr(t, "apns", err, errCase{wantKind: Retry})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled send: %v, want it to wrap context.Canceled", err)
	}
}
