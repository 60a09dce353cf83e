package protocol_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/pkg/protocol"
)

func TestDecide(t *testing.T) {
	advice := protocol.Reconnect{BaseMS: 100, MaxMS: 5000, Jitter: 0.5}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	resume := func(d time.Duration, token bool) protocol.Decision {
		return protocol.Decision{Reconnect: true, Delay: d, Resume: true, NewToken: token}
	}
	for _, tt := range []struct {
		name string
		a    protocol.Attempt
		want protocol.Decision
	}{
		{"broken connection backs off", protocol.Attempt{Code: 1006, Attempts: 2}, resume(ms(400), false)},
		{"backoff is capped at max", protocol.Attempt{Code: 1006, Attempts: 30}, resume(ms(5000), false)},
		{"jitter scales it down", protocol.Attempt{Code: 4000, Attempts: 1, Random: 0.5}, resume(ms(150), false)},
		{"drain of an open session: at once", protocol.Attempt{Code: 1001, WasOpen: true, Attempts: 3}, resume(0, false)},
		{"drain before connected: backoff", protocol.Attempt{Code: 1001, Attempts: 1}, resume(ms(200), false)},
		{"behind the history resumes", protocol.Attempt{Code: 4002, WasOpen: true}, resume(ms(100), false)},
		{"expired token with a source: at once", protocol.Attempt{Code: 4001, WasOpen: true, TokenSource: true, Attempts: 5}, resume(0, true)},
		{"expired fixed token: stop", protocol.Attempt{Code: 4001, WasOpen: true}, protocol.Decision{}},
		{"revoked: after max", protocol.Attempt{Code: 4003, WasOpen: true, Random: 0.5}, resume(ms(3750), false)},
		{"too big: after max", protocol.Attempt{Code: 1009, WasOpen: true}, resume(ms(5000), false)},
		{"too many sessions: stop", protocol.Attempt{Code: 4008, WasOpen: true, TokenSource: true}, protocol.Decision{}},
		{"rate limited: backoff", protocol.Attempt{Code: 4029, WasOpen: true}, resume(ms(100), false)},
		{"unknown code: backoff", protocol.Attempt{Code: 4999, Attempts: 1}, resume(ms(200), false)},
		{"400 stops", protocol.Attempt{Code: 1006, Status: 400, TokenSource: true}, protocol.Decision{}},
		{"401 with a fixed token stops", protocol.Attempt{Code: 1006, Status: 401}, protocol.Decision{}},
		{"401 with a source retries", protocol.Attempt{Code: 1006, Status: 401, TokenSource: true}, resume(ms(100), true)},
		{"403 stops", protocol.Attempt{Code: 1006, Status: 403, TokenSource: true}, protocol.Decision{}},
		{"429 waits Retry-After", protocol.Attempt{Code: 1006, Status: 429, RetryAfter: 2 * time.Second}, resume(2*time.Second, false)},
		{"503 backs off", protocol.Attempt{Code: 1006, Status: 503, Attempts: 1}, resume(ms(200), false)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.a.Advice = advice
			if diff := cmp.Diff(tt.want, protocol.Decide(tt.a)); diff != "" {
				t.Errorf("Decide(%+v) (-want +got):\n%s", tt.a, diff)
			}
		})
	}
}

func TestDecideWithoutAdvice(t *testing.T) {
	got := protocol.Decide(protocol.Attempt{Code: 1006, Attempts: 10})
	if want := time.Duration(protocol.DefaultReconnect.MaxMS) * time.Millisecond; got.Delay != want {
		t.Errorf("delay %v, want the default max %v", got.Delay, want)
	}
}

func TestRefreshDelay(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tt := range []struct {
		left, want time.Duration
		ok         bool
	}{
		{time.Hour, time.Hour - protocol.RefreshLead, true},
		{time.Minute, 30 * time.Second, true},
		{12 * time.Second, 6 * time.Second, true},
		{10 * time.Second, 5 * time.Second, true},
		{1500 * time.Millisecond, 750 * time.Millisecond, true},
		{999 * time.Millisecond, 0, false},
		{-time.Second, 0, false},
	} {
		d, ok := protocol.RefreshDelay(now, now.Add(tt.left), 0)
		if d != tt.want || ok != tt.ok {
			t.Errorf("RefreshDelay with %v left = %v, %t; want %v, %t", tt.left, d, ok, tt.want, tt.ok)
		}
	}
}

// TestRefreshRuleIsBounded: a caching token source that hands back the
// same token until expiry makes a client ask a handful of times per token,
// never in a loop.
func TestRefreshRuleIsBounded(t *testing.T) {
	for _, ttl := range []time.Duration{2 * time.Second, 10 * time.Second, 12 * time.Second, time.Hour} {
		now, exp, asks := time.Unix(0, 0), time.Unix(0, 0).Add(ttl), 0
		for {
			d, ok := protocol.RefreshDelay(now, exp, 0)
			if !ok {
				break
			}
			now = now.Add(d)
			asks++
		}
		if asks > 12 {
			t.Errorf("a %v token: %d asks of a caching source", ttl, asks)
		}
	}
}

func TestEveryCloseCodeIsDescribed(t *testing.T) {
	seen := map[int]bool{}
	for _, c := range protocol.CloseCodes {
		if seen[c.Code] {
			t.Errorf("close code %d twice", c.Code)
		}
		seen[c.Code] = true
		if c.Name == "" || c.Meaning == "" || c.Advice == "" {
			t.Errorf("close code %d is not described: %+v", c.Code, c)
		}
		if c.Reason == "" && c.Code != protocol.CloseAbnormal && c.Code != protocol.CloseTooBig {
			t.Errorf("close code %d has no close text", c.Code)
		}
		if len(c.Reason) > 123 {
			t.Errorf("close code %d: a close text is at most 123 bytes", c.Code)
		}
	}
	if got := protocol.Close(4321); got.Advice != protocol.Resume {
		t.Errorf("an unknown code advises %q", got.Advice)
	}
}

func TestServerFrameDecodesEveryFrame(t *testing.T) {
	for _, tt := range []struct {
		frame any
		check func(protocol.ServerFrame) bool
	}{
		{protocol.Connected{Event: protocol.EventConnected, Epoch: "e1", LastSeq: 3, Exp: 9}, func(f protocol.ServerFrame) bool {
			return f.Event == "connected" && f.Epoch == "e1" && f.LastSeq == 3 && f.Exp == 9
		}},
		{protocol.Error{Event: protocol.EventError, Code: "resource_exhausted", Limit: protocol.LimitFrames, RetryAfterMS: 50},
			func(f protocol.ServerFrame) bool { return f.Limit == "frames" && f.RetryAfterMS == 50 }},
		{protocol.Notification{Seq: 7, Epoch: "e2", Content: "hi"}, func(f protocol.ServerFrame) bool {
			return f.Event == "" && f.Seq == 7 && f.Epoch == "e2" && f.Content == "hi"
		}},
	} {
		b, _ := json.Marshal(tt.frame)
		var f protocol.ServerFrame
		if err := json.Unmarshal(b, &f); err != nil || !tt.check(f) {
			t.Errorf("%s decoded as %+v (%v)", b, f, err)
		}
	}
}
