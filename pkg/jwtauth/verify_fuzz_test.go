package jwtauth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/jwtauth"
)

// FuzzVerify: any string given as a token is either refused with
// ErrInvalidToken or names a positive user and an expiry after now; and a
// token signed for a positive user and lifetime verifies back to that user
// (with the bytes of another secret, never).
// Seeds: testdata/fuzz/FuzzVerify and below.
func FuzzVerify(f *testing.F) {
	secret := []byte("fuzz-secret-0123456789abcdef0123")
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	valid, err := jwtauth.Sign(secret, 1001, now, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	expired, _ := jwtauth.Sign(secret, 1001, now.Add(-2*time.Hour), time.Hour)
	for _, s := range []string{valid, expired, valid + "x", valid[:len(valid)-2], "", "a.b.c", "..",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "\xff.\xff.\xff"} {
		f.Add(s, int64(1001), int64(3600))
	}
	v := jwtauth.NewVerifier(secret, func() time.Time { return now })
	other := jwtauth.NewVerifier([]byte("another-secret-0123456789abcdef01"), func() time.Time { return now })
	f.Fuzz(func(t *testing.T, token string, user, ttl int64) {
		c, err := v.Claims(token)
		if err != nil {
			if !errors.Is(err, jwtauth.ErrInvalidToken) {
				t.Fatalf("Claims(%q) = %v, not ErrInvalidToken", token, err)
			}
		} else if c.User <= 0 || !c.Expires.After(now) {
			t.Fatalf("Claims(%q) = %+v: a user must be positive and the token unexpired", token, c)
		}
		if user <= 0 || ttl <= 0 || ttl > 10*365*24*3600 {
			return
		}
		signed, err := jwtauth.Sign(secret, user, now, time.Duration(ttl)*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := v.Verify(signed); err != nil || got != user {
			t.Fatalf("a token signed for %d (ttl %ds) verifies as %d, %v", user, ttl, got, err)
		}
		if _, err := other.Verify(signed); err == nil {
			t.Fatalf("a token signed with another secret verified")
		}
	})
}
