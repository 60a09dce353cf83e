// Package jwtauth signs and verifies the HS256 bearer tokens that identify
// users: the subject is the user id in decimal.
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

// Sign returns an HS256 JWT for user, valid from now for ttl.
func Sign(secret []byte, user int64, now time.Time, ttl time.Duration) (string, error) {
	if user <= 0 {
		return "", fmt.Errorf("user id must be positive, got %d", user)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("ttl must be positive, got %s", ttl)
	}
	claims := jwt.RegisteredClaims{
		Subject:   strconv.FormatInt(user, 10),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// Verifier checks tokens signed with one secret.
type Verifier struct {
	secret []byte
	parser *jwt.Parser
}

// NewVerifier returns a Verifier for secret. now is the clock (nil: time.Now).
func NewVerifier(secret []byte, now func() time.Time) *Verifier {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(5 * time.Second),
	}
	if now != nil {
		opts = append(opts, jwt.WithTimeFunc(now))
	}
	return &Verifier{secret: secret, parser: jwt.NewParser(opts...)}
}

// Verify returns the user id a valid token names.
func (v *Verifier) Verify(token string) (int64, error) {
	var claims jwt.RegisteredClaims
	_, err := v.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return v.secret, nil })
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	user, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || user <= 0 {
		return 0, fmt.Errorf("%w: subject %q is not a user id", ErrInvalidToken, claims.Subject)
	}
	return user, nil
}

// BearerToken extracts the token of an "Authorization: Bearer T" value, or "".
func BearerToken(header string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
