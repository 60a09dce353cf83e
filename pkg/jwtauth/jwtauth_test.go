package jwtauth

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	v := NewVerifier(secret, clock)

	tok, err := Sign(secret, 1001, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(tok)
	if err != nil || got != 1001 {
		t.Fatalf("Verify = %d, %v; want 1001, nil", got, err)
	}

	expired, _ := Sign(secret, 1001, now.Add(-2*time.Hour), time.Hour)
	otherKey, _ := Sign([]byte("another-secret-another-secret-xx"), 1001, now, time.Hour)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: "1001"}).SignedString(secret)
	badSub, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: "bob", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}).SignedString(secret)
	sub := func(s string) string {
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: s, ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}).SignedString(secret)
		return tok
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.RegisteredClaims{Subject: "1001", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	for name, tok := range map[string]string{
		"expired": expired, "wrong key": otherKey, "no exp": noExp, "non-numeric sub": badSub,
		"alg none": none, "garbage": "abc.def.ghi", "empty": "",
		// One text form per user: other spellings of 1001 are other subjects.
		"sub with a sign": sub("+1001"), "sub with a leading zero": sub("01001"), "sub with a space": sub(" 1001"),
		"sub zero": sub("0"), "negative sub": sub("-1001"),
	} {
		if _, err := v.Verify(tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Verify err = %v, want ErrInvalidToken", name, err)
		}
	}
}

func TestBearerToken(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer abc":  "abc",
		"bearer  abc": "abc",
		"Basic abc":   "",
		"abc":         "",
		"":            "",
	} {
		if got := BearerToken(in); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}
