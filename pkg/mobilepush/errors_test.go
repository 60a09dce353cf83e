package mobilepush

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 120 * time.Second},
		{" 7 ", 7 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"1.5", 0},
		{"soon", 0},
		{"999999999", 24 * time.Hour},
		{"Sun, 06 Dec 2026 12:01:30 GMT", 90 * time.Second},  // IMF-fixdate
		{"Sunday, 06-Dec-26 12:00:10 GMT", 10 * time.Second}, // RFC 850
		{"Sun Dec  6 12:00:05 2026", 5 * time.Second},        // asctime
		{"Sun, 06 Dec 2026 11:59:00 GMT", 0},                 // past
		{"Mon, 06 Dec 2027 12:00:00 GMT", 24 * time.Hour},    // capped
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestErrorHelpers(t *testing.T) {
	retry := &Error{Kind: Retry, Provider: "fcm", Status: 503, Reason: "UNAVAILABLE", RetryAfter: 30 * time.Second}
	dead := &Error{Kind: DeadToken, Provider: "apns", Status: 410, Reason: "Unregistered"}
	perm := &Error{Kind: Permanent, Provider: "jpush", Err: context.Canceled}
	wrapped := fmt.Errorf("deliver reminder: %w", retry)

	if !IsRetry(wrapped) || IsPermanent(wrapped) || IsDeadToken(wrapped) {
		t.Errorf("wrapped Retry: IsRetry=%v IsPermanent=%v IsDeadToken=%v", IsRetry(wrapped), IsPermanent(wrapped), IsDeadToken(wrapped))
	}
	if d, ok := RetryAfter(wrapped); !ok || d != 30*time.Second {
		t.Errorf("RetryAfter = %s, %v; want 30s, true", d, ok)
	}
	if _, ok := RetryAfter(dead); ok {
		t.Error("RetryAfter(DeadToken) reports a delay")
	}
	if !IsDeadToken(dead) || !IsPermanent(perm) || KindOf(errors.New("plain")) != 0 {
		t.Error("IsDeadToken / IsPermanent / KindOf(plain) wrong")
	}
	if !errors.Is(perm, context.Canceled) {
		t.Error("Unwrap does not reach the underlying error")
	}
	msg := retry.Error()
	for _, part := range []string{"fcm", "retry", "HTTP 503", "UNAVAILABLE", "30s"} {
		if !strings.Contains(msg, part) {
			t.Errorf("Error() = %q, missing %q", msg, part)
		}
	}
	if Kind(9).String() != "kind(9)" || DeadToken.String() != "dead_token" {
		t.Error("Kind.String wrong")
	}
}
