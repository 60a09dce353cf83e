package systest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/houseview/gateway/pkg/testenv"
)

// idProvider is an HTTPS identity provider whose key set changes while it
// runs (or fails with a status), as a node fetches it.
type idProvider struct {
	*httptest.Server
	CertFile string // its certificate, for the node's SSL_CERT_FILE
	mu       sync.Mutex
	keys     []map[string]string
	status   int
}

func newIDProvider(t *testing.T) *idProvider {
	t.Helper()
	p := &idProvider{status: http.StatusOK}
	p.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.status != http.StatusOK {
			w.WriteHeader(p.status)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": p.keys})
	}))
	t.Cleanup(p.Close)
	p.CertFile = filepath.Join(t.TempDir(), "ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Certificate().Raw})
	if err := os.WriteFile(p.CertFile, cert, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// serve makes the provider answer status, with these keys when 200.
func (p *idProvider) serve(status int, keys ...map[string]string) {
	p.mu.Lock()
	p.status, p.keys = status, keys
	p.mu.Unlock()
}

func rsaJWK(kid string, k *rsa.PublicKey) map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]string {
	pt, _ := k.Bytes()
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "alg": "ES256", "x": b64(pt[1:33]), "y": b64(pt[33:])}
}

// idToken is a token of the provider for user 1001, signed with key.
func idToken(t *testing.T, method jwt.SigningMethod, key any, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, jwt.RegisteredClaims{Subject: "1001", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJWKSURLRotation: a node verifies the tokens of an identity provider
// by its JWKS URL; the provider rotates from key a to key b mid-test, and
// the node takes tokens of b at once and refuses those of a, over REST and
// WebSocket, without a restart.
func TestJWKSURLRotation(t *testing.T) {
	a, _ := rsa.GenerateKey(rand.Reader, 2048)
	b, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idp := newIDProvider(t)
	idp.serve(http.StatusOK, rsaJWK("a", &a.PublicKey))
	node := MustStart(t, procEnv(t, "GATEWAY_JWT_JWKS_URL="+idp.URL+"/jwks.json", "GATEWAY_JWT_JWKS_REFRESH=1h",
		"SSL_CERT_FILE="+idp.CertFile, "GATEWAY_API_KEY="+apiKey))
	list := node.HTTPURL + "/api/reservations?role=tenant"
	if code, out := call(t, "GET", list, idToken(t, jwt.SigningMethodRS256, a, "a"), ""); code != 200 {
		t.Fatalf("token of key a: %d %v", code, out)
	}
	wsDial(t, node.HTTPURL, "token="+idToken(t, jwt.SigningMethodRS256, a, "a")) // connected (closed with the test)

	idp.serve(http.StatusOK, ecJWK("b", &b.PublicKey))
	if code, out := call(t, "GET", list, idToken(t, jwt.SigningMethodES256, b, "b"), ""); code != 200 {
		t.Errorf("token of the new key b: %d %v", code, out)
	}
	if code, _ := call(t, "GET", list, idToken(t, jwt.SigningMethodRS256, a, "a"), ""); code != 401 {
		t.Errorf("token of the retired key a: %d, want 401", code)
	}
	wsDial(t, node.HTTPURL, "token="+idToken(t, jwt.SigningMethodES256, b, "b"))
}

// TestJWKSURLUnavailable: a node whose identity provider fails is up but
// not ready, and says why on /readyz and in its metrics; once the provider
// answers, the next refresh makes it ready.
func TestJWKSURLUnavailable(t *testing.T) {
	a, _ := rsa.GenerateKey(rand.Reader, 2048)
	idp := newIDProvider(t)
	idp.serve(http.StatusServiceUnavailable)
	g, err := testenv.StartGateway(testenv.GatewayOptions{Binary: binary, HTTPPort: testenv.MustFreePort(t), GRPCPort: testenv.MustFreePort(t),
		Env: procEnv(t, "GATEWAY_JWT_JWKS_URL="+idp.URL+"/jwks.json", "GATEWAY_JWT_JWKS_REFRESH=300ms",
			"SSL_CERT_FILE="+idp.CertFile, "GATEWAY_API_KEY="+apiKey)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Kill() })
	var readyz string
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(readyz, "no verification keys") {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never said the keys are missing; last %q\n%s", readyz, g.Logs())
		}
		time.Sleep(100 * time.Millisecond)
		if resp, err := http.Get(g.HTTPURL + "/readyz"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			readyz = string(body)
		}
	}
	metrics := scrape(t, g.HTTPURL+"/metrics", apiKey)
	if !strings.Contains(metrics, "\ngateway_jwks_keys 0\n") || strings.Contains(metrics, "\ngateway_jwks_fetch_errors_total 0\n") ||
		!strings.Contains(metrics, "\ngateway_jwks_fetch_errors_total ") {
		t.Errorf("metrics while the provider fails lack gateway_jwks_keys 0 and a failed fetch:\n%s", grepLines(metrics, "gateway_jwks"))
	}
	idp.serve(http.StatusOK, rsaJWK("a", &a.PublicKey))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := g.WaitReady(ctx); err != nil {
		t.Fatalf("not ready after the provider came back: %v", err)
	}
	if code, out := call(t, "GET", g.HTTPURL+"/api/reservations?role=tenant", idToken(t, jwt.SigningMethodRS256, a, "a"), ""); code != 200 {
		t.Errorf("token after the provider came back: %d %v", code, out)
	}
}

// grepLines are the lines of text that contain sub.
func grepLines(text, sub string) string {
	var out []string
	for line := range strings.Lines(text) {
		if strings.Contains(line, sub) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return strings.Join(out, "\n")
}
