package jwtauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// pemOf writes pub as a PKIX "PUBLIC KEY" block.
func pemOf(tb testing.TB, pub any) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// jwksOf is a JWKS of the RSA and EC public keys by kid.
func jwksOf(rsaKeys map[string]*rsa.PublicKey, ecKeys map[string]*ecdsa.PublicKey) []byte {
	b64 := base64.RawURLEncoding.EncodeToString
	var keys []map[string]string
	for kid, k := range rsaKeys {
		keys = append(keys, map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())})
	}
	for kid, k := range ecKeys {
		pt, _ := k.Bytes() // 0x04 || X || Y
		keys = append(keys, map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(pt[1:33]), "y": b64(pt[33:])})
	}
	keys = append(keys, map[string]string{"kty": "oct", "kid": "sym", "k": "c2VjcmV0"}) // skipped
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// signed signs claims for user with method and key, naming kid if set.
func signed(tb testing.TB, method jwt.SigningMethod, key any, kid string, mod func(*jwt.RegisteredClaims)) string {
	tb.Helper()
	now := time.Now()
	c := jwt.RegisteredClaims{Subject: "1001", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}
	if mod != nil {
		mod(&c)
	}
	t := jwt.NewWithClaims(method, c)
	if kid != "" {
		t.Header["kid"] = kid
	}
	s, err := t.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestPublicKeysAndJWKS(t *testing.T) {
	rsaA, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaB, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecA, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecB, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	secret := []byte("0123456789abcdef0123456789abcdef")
	dir := t.TempDir()
	pemFile, jwksFile := filepath.Join(dir, "keys.pem"), filepath.Join(dir, "jwks.json")
	// The PEM file holds rsaA and ecA; the JWKS holds rsaB as "r1", ecB as "e1".
	if err := os.WriteFile(pemFile, append(pemOf(t, &rsaA.PublicKey), pemOf(t, &ecA.PublicKey)...), 0o600); err != nil {
		t.Fatal(err)
	}
	jwks := jwksOf(map[string]*rsa.PublicKey{"r1": &rsaB.PublicKey}, map[string]*ecdsa.PublicKey{"e1": &ecB.PublicKey})
	if err := os.WriteFile(jwksFile, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeys(pemFile, jwksFile)
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(Options{Secret: secret, Keys: keys, Issuer: "https://id.example", Audience: "gateway"})
	if err != nil {
		t.Fatal(err)
	}
	good := func(c *jwt.RegisteredClaims) {
		c.Issuer, c.Audience = "https://id.example", jwt.ClaimStrings{"other", "gateway"}
	}
	with := func(f func(*jwt.RegisteredClaims)) func(*jwt.RegisteredClaims) {
		return func(c *jwt.RegisteredClaims) { good(c); f(c) }
	}
	hs, _ := SignToken(secret, Token{User: 1001, IssuedAt: time.Now(), TTL: time.Hour, Issuer: "https://id.example", Audience: "gateway"})
	tests := map[string]string{
		"RS256 PEM":                  signed(t, jwt.SigningMethodRS256, rsaA, "", good),
		"ES256 PEM":                  signed(t, jwt.SigningMethodES256, ecA, "", good),
		"RS256 JWKS kid":             signed(t, jwt.SigningMethodRS256, rsaB, "r1", good),
		"ES256 JWKS kid":             signed(t, jwt.SigningMethodES256, ecB, "e1", good),
		"HS256 secret":               hs,
		"RS256 JWKS key without kid": signed(t, jwt.SigningMethodRS256, rsaB, "", good),
		"RS256 kid of another key":   signed(t, jwt.SigningMethodRS256, rsaA, "r1", good),
		"ES256 under an RSA kid":     signed(t, jwt.SigningMethodES256, ecB, "r1", good),
		"unknown kid, PEM key":       signed(t, jwt.SigningMethodRS256, rsaA, "nope", good),
		"wrong issuer":               signed(t, jwt.SigningMethodRS256, rsaA, "", with(func(c *jwt.RegisteredClaims) { c.Issuer = "evil" })),
		"no issuer":                  signed(t, jwt.SigningMethodRS256, rsaA, "", with(func(c *jwt.RegisteredClaims) { c.Issuer = "" })),
		"wrong audience":             signed(t, jwt.SigningMethodES256, ecA, "", with(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"other"} })),
		"expired":                    signed(t, jwt.SigningMethodES256, ecA, "", with(func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute)) })),
		"RS384 not accepted":         signed(t, jwt.SigningMethodRS384, rsaA, "", good),
		"HS256 with the public key":  signed(t, jwt.SigningMethodHS256, pemOf(t, &rsaA.PublicKey), "", good),
	}
	got := map[string]string{}
	for name, tok := range tests {
		c, err := v.Claims(tok)
		switch {
		case err != nil:
			got[name] = "refused"
		case c.User != 1001 || c.Expires.Before(time.Now()):
			got[name] = "wrong claims"
		default:
			got[name] = "ok"
		}
	}
	want := map[string]string{}
	for name := range tests {
		want[name] = "refused"
	}
	for _, name := range []string{"RS256 PEM", "ES256 PEM", "RS256 JWKS kid", "ES256 JWKS kid", "HS256 secret", "unknown kid, PEM key"} {
		want[name] = "ok"
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
}

func TestKeysOnlyRefuseHS256(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys, err := ParsePEM(pemOf(t, &ec.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(Options{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := Sign([]byte("0123456789abcdef0123456789abcdef"), 1001, time.Now(), time.Hour)
	if _, err := v.Claims(hs); err == nil {
		t.Error("an HS256 token verified without a secret")
	}
	if c, err := v.Claims(signed(t, jwt.SigningMethodES256, ec, "", nil)); err != nil || c.User != 1001 {
		t.Errorf("ES256 = %+v, %v", c, err)
	}
}

func TestBadKeyFiles(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tests := []struct {
		name  string
		parse func([]byte) ([]Key, error)
		data  []byte
	}{
		{"empty PEM", ParsePEM, []byte("not pem")},
		{"private key PEM", ParsePEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})},
		{"1024-bit RSA", ParsePEM, pemOf(t, &small.PublicKey)},
		{"P-384", ParsePEM, pemOf(t, &p384.PublicKey)},
		{"JWKS not JSON", ParseJWKS, []byte("{")},
		{"JWKS without keys", ParseJWKS, []byte(`{"keys":[]}`)},
		{"JWKS bad EC point", ParseJWKS, []byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`)},
		{"JWKS bad RSA exponent", ParseJWKS, []byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":""}]}`)},
	}
	for _, tt := range tests {
		if _, err := tt.parse(tt.data); err == nil {
			t.Errorf("%s: parsed", tt.name)
		}
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without a secret or key succeeded")
	}
}
