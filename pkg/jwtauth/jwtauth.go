// Package jwtauth signs HS256 bearer tokens and verifies HS256, RS256 and
// ES256 ones (an HS256 secret, PEM public keys, a JWKS): the subject is the
// user id in decimal and an expiry is required.
package jwtauth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretLen is the shortest HS256 secret accepted (32 bytes = 256 bits).
const MinSecretLen = 32

// ErrInvalidToken is returned for any token that does not verify.
var ErrInvalidToken = errors.New("invalid token")

// Token is what Sign puts into a token.
type Token struct {
	User     int64
	IssuedAt time.Time
	TTL      time.Duration
	Issuer   string // "": no iss claim
	Audience string // "": no aud claim
}

// Sign returns an HS256 JWT for user, valid from now for ttl.
func Sign(secret []byte, user int64, now time.Time, ttl time.Duration) (string, error) {
	return SignToken(secret, Token{User: user, IssuedAt: now, TTL: ttl})
}

// SignToken returns an HS256 JWT of t.
func SignToken(secret []byte, t Token) (string, error) {
	if t.User <= 0 {
		return "", fmt.Errorf("user id must be positive, got %d", t.User)
	}
	if t.TTL <= 0 {
		return "", fmt.Errorf("ttl must be positive, got %s", t.TTL)
	}
	claims := jwt.RegisteredClaims{
		Subject:   strconv.FormatInt(t.User, 10),
		Issuer:    t.Issuer,
		IssuedAt:  jwt.NewNumericDate(t.IssuedAt),
		ExpiresAt: jwt.NewNumericDate(t.IssuedAt.Add(t.TTL)),
	}
	if t.Audience != "" {
		claims.Audience = jwt.ClaimStrings{t.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// BearerToken extracts the token of an "Authorization: Bearer T" value, or "".
func BearerToken(header string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
