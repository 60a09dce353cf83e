package systest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/app/grpcapi"
	"github.com/houseview/gateway/app/httpapi"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// TestEveryUserOperationNeedsATokenOnEveryTransport walks auth.Policy over
// the real binary in jwt mode: every User operation is served by at least
// one transport, and on each transport that serves it (REST routes, gRPC
// methods, the WebSocket handshake) a call without a token is refused.
func TestEveryUserOperationNeedsATokenOnEveryTransport(t *testing.T) {
	n := MustStart(t, procEnv(t, "GATEWAY_JWT_SECRET="+secret, "GATEWAY_API_KEY="+apiKey))
	served := map[auth.Operation][]string{}
	for key, op := range httpapi.Operations() {
		if !auth.Policy[op].NamesUser() {
			continue
		}
		method, path, _ := strings.Cut(key, " ")
		code, out := call(t, method, n.HTTPURL+strings.ReplaceAll(path, ":id", "1"), "", "{}")
		if code != http.StatusUnauthorized {
			t.Errorf("REST %s without a token: %d %v", key, code, out)
		}
		served[op] = append(served[op], "rest")
	}
	cc := dial(t, n.GRPCAddr)
	svc := housev1.File_proto_house_v1_house_proto.Services().ByName("House")
	for full, op := range grpcapi.Operations() {
		if !auth.Policy[op].NamesUser() {
			continue
		}
		md := svc.Methods().ByName(protoreflect.Name(full[strings.LastIndexByte(full, '/')+1:]))
		err := cc.Invoke(context.Background(), full, dynamicpb.NewMessage(md.Input()), dynamicpb.NewMessage(md.Output()))
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("gRPC %s without a token: %v", full, err)
		}
		served[op] = append(served[op], "grpc")
	}
	url := "ws" + strings.TrimPrefix(n.HTTPURL, "http") + "/ws?user_id=1001"
	if _, resp, err := websocket.DefaultDialer.Dial(url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("WebSocket handshake without a token: %v", err)
	}
	served[auth.Subscribe] = append(served[auth.Subscribe], "ws")
	for op, access := range auth.Policy {
		if access.NamesUser() && len(served[op]) == 0 {
			t.Errorf("User operation %s is served by no transport that was walked", op)
		}
	}
}

// TestPublicKeysAndJWKSNode runs a node with no HS256 secret: an ES256 PEM
// key and an RS256 JWKS, with iss and aud checks.
func TestPublicKeysAndJWKSNode(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dir := t.TempDir()
	der, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	pemFile, jwksFile := filepath.Join(dir, "ec.pem"), filepath.Join(dir, "jwks.json")
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": b64(rsaKey.N.Bytes()), "e": b64(big.NewInt(int64(rsaKey.E)).Bytes())}}})
	if err := os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jwksFile, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	n := MustStart(t, procEnv(t, "GATEWAY_JWT_PUBLIC_KEY_FILE="+pemFile, "GATEWAY_JWT_JWKS_FILE="+jwksFile,
		"GATEWAY_JWT_ISSUER=https://id.example", "GATEWAY_JWT_AUDIENCE=houseview"))
	sign := func(method jwt.SigningMethod, key any, kid, iss string) string {
		c := jwt.RegisteredClaims{Subject: "1001", Issuer: iss, Audience: jwt.ClaimStrings{"houseview"},
			ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}
		tk := jwt.NewWithClaims(method, c)
		if kid != "" {
			tk.Header["kid"] = kid
		}
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tokens := []struct {
		name, token string
		want        int
	}{
		{"RS256 from the JWKS", sign(jwt.SigningMethodRS256, rsaKey, "k1", "https://id.example"), 200},
		{"ES256 from the PEM file", sign(jwt.SigningMethodES256, ecKey, "", "https://id.example"), 200},
		{"another issuer", sign(jwt.SigningMethodRS256, rsaKey, "k1", "https://evil.example"), 401},
		{"HS256 (no secret configured)", mustSign(t, 1001, time.Hour), 401},
	}
	var got, want []string
	for _, tt := range tokens {
		code, _ := call(t, "GET", n.HTTPURL+"/api/reservations", tt.token, "")
		got, want = append(got, fmt.Sprintf("%s: %d", tt.name, code)), append(want, fmt.Sprintf("%s: %d", tt.name, tt.want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	c := wsDialRaw(t, n.HTTPURL, "token="+tokens[0].token)
	if f := c.next(t); f.Event != "connected" || f.Exp < time.Now().Add(59*time.Minute).Unix() {
		t.Errorf("RS256 session: %+v, want connected with the token's exp", f)
	}
}

// TestAsynqUIRefusesCrossSiteChanges: the real asynq UI's state-changing
// routes refuse a cross-site request that carries the operator's (cached)
// basic credentials, and take the same request from the page's own origin
// or with the API key.
func TestAsynqUIRefusesCrossSiteChanges(t *testing.T) {
	n := MustStart(t, procEnv(t, "GATEWAY_JWT_SECRET="+secret, "GATEWAY_API_KEY="+apiKey))
	pause := func(origin string, basic bool) int {
		req, _ := http.NewRequest("POST", n.HTTPURL+"/asynq/api/queues/reminders:pause", nil)
		req.Header.Set("Origin", origin)
		if basic {
			req.SetBasicAuth("admin", apiKey)
		} else {
			req.Header.Set("Authorization", "Bearer "+apiKey)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := pause("https://evil.example", true); code != http.StatusForbidden {
		t.Errorf("cross-site with basic credentials: %d, want 403", code)
	}
	for name, code := range map[string]int{"same origin": pause(n.HTTPURL, true), "api key": pause("https://evil.example", false)} {
		if code == http.StatusForbidden || code == http.StatusUnauthorized {
			t.Errorf("%s: %d, want it to reach the UI", name, code)
		}
	}
}
