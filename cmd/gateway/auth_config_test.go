package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/pkg/jwtauth"
)

// TestTokenCommandAddsIssuerAndAudience: with jwt.issuer and jwt.audience
// set, `gateway token` signs tokens that the node's own verifier accepts.
func TestTokenCommandAddsIssuerAndAudience(t *testing.T) {
	kv := map[string]string{"GATEWAY_JWT_SECRET": secret, "GATEWAY_JWT_ISSUER": "https://id.example", "GATEWAY_JWT_AUDIENCE": "houseview"}
	out, err := runCommand(t, kv, "token", "-user", "1001", "-ttl", "1h")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig("", env(kv))
	if err != nil {
		t.Fatal(err)
	}
	v, err := cfg.Verifier(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := v.Claims(strings.TrimSpace(out)); err != nil || c.User != 1001 {
		t.Errorf("token of the token command: %+v, %v", c, err)
	}
	// A token without them is refused.
	plain, err := jwtauth.Sign([]byte(secret), 1001, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Claims(plain); err == nil {
		t.Error("a token without iss and aud verified")
	}
}

// TestKeyFilesImplyJWTMode: a public key or JWKS file alone is jwt mode; a
// file that does not load is an error naming its key.
func TestKeyFilesImplyJWTMode(t *testing.T) {
	tests := []struct {
		name string
		kv   map[string]string
		want string
	}{
		{"missing PEM file", map[string]string{"GATEWAY_JWT_PUBLIC_KEY_FILE": "/nonexistent.pem"}, "config jwt.public_key_file (GATEWAY_JWT_PUBLIC_KEY_FILE)"},
		{"not a JWKS", map[string]string{"GATEWAY_JWT_JWKS_FILE": MustWriteFile(t, "{")}, "config jwt.jwks_file (GATEWAY_JWT_JWKS_FILE)"},
		{"short secret with a key file", map[string]string{"GATEWAY_JWT_SECRET": "short", "GATEWAY_JWT_JWKS_FILE": MustWriteFile(t, "{}")}, "config jwt.secret (GATEWAY_JWT_SECRET)"},
	}
	for _, tt := range tests {
		_, err := LoadConfig("", env(tt.kv))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
	cfg, err := LoadConfig("", env(map[string]string{"GATEWAY_JWT_JWKS_FILE": MustWriteFile(t,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`)}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(app.AuthJWT, cfg.Auth.Mode); diff != "" {
		t.Errorf("mode (-want +got):\n%s", diff)
	}
}
