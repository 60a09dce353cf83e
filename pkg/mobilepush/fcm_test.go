package mobilepush

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// testRSAKey is one RSA key for all FCM tests (generating is slow).
func testRSAKey(t *testing.T) *rsa.PrivateKey {
	rsaOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return rsaKey
}

// fakeFCM is an OAuth2 token endpoint and an FCM send endpoint.
type fakeFCM struct {
	t        *testing.T
	srv      *httptest.Server
	key      *rsa.PrivateKey
	tokenAns answer // empty: a token
	expires  int    // the token's expires_in; 0 means 3600
	sendAns  answer
	tokens   atomic.Int32
	mu       sync.Mutex
	bearers  []string
	bodies   []map[string]any
}

func newFakeFCM(t *testing.T) *fakeFCM {
	f := &fakeFCM{t: t, key: testRSAKey(t)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /v1/projects/house-1/messages:send", f.send)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// token checks the JWT bearer grant and mints "access-1".
func (f *fakeFCM) token(w http.ResponseWriter, r *http.Request) {
	f.tokens.Add(1)
	if r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		f.t.Errorf("grant_type = %q", r.FormValue("grant_type"))
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.FormValue("assertion"), claims, func(*jwt.Token) (any, error) {
		return &f.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(f.srv.URL+"/token"))
	if err != nil || claims["iss"] != "push@house-1.iam.gserviceaccount.com" || claims["scope"] != FCMScope {
		f.t.Errorf("assertion: %v, claims %v", err, claims)
	}
	if f.tokenAns.status != 0 {
		f.tokenAns.write(w)
		return
	}
	expires := f.expires
	if expires == 0 {
		expires = 3600
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"access_token":"access-%d","token_type":"Bearer","expires_in":%d}`, f.tokens.Load(), expires)
}

// send records the bearer and the body and replies sendAns.
func (f *fakeFCM) send(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("send body: %v", err)
	}
	f.mu.Lock()
	f.bearers = append(f.bearers, r.Header.Get("Authorization"))
	f.bodies = append(f.bodies, body)
	f.mu.Unlock()
	if f.sendAns.status == 0 {
		_, _ = io.WriteString(w, `{"name":"projects/house-1/messages/0:1"}`)
		return
	}
	f.sendAns.write(w)
}

// testRSAPEM is testRSAKey as PKCS#8 PEM.
func testRSAPEM(t *testing.T) string {
	der, err := x509.MarshalPKCS8PrivateKey(testRSAKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// provider returns an FCM whose key names the fake's token endpoint.
func (f *fakeFCM) provider(t *testing.T) *FCM {
	key, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "house-1", "private_key_id": "kid-1",
		"private_key":  testRSAPEM(t),
		"client_email": "push@house-1.iam.gserviceaccount.com",
		"token_uri":    "https://oauth2.invalid/token", // overridden below
	})
	p, err := NewFCM(FCMConfig{ServiceAccountJSON: key, TokenURL: f.srv.URL + "/token", BaseURL: f.srv.URL + "/", HTTPClient: f.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFCMSend(t *testing.T) {
	f := newFakeFCM(t)
	p := f.provider(t)
	badge := 3
	m := Message{Token: "tok-a", Title: "Viewing at 15:00", Body: "12 Elm St", Data: map[string]string{"reservation": "r-9"}, CollapseKey: "r-9", Badge: &badge}
	for range 3 {
		if err := p.Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if n := f.tokens.Load(); n != 1 {
		t.Errorf("token fetched %d times, want 1", n)
	}
	if diff := cmp.Diff([]string{"Bearer access-1", "Bearer access-1", "Bearer access-1"}, f.bearers); diff != "" {
		t.Errorf("Authorization (-want +got):\n%s", diff)
	}
	want := map[string]any{"message": map[string]any{
		"token":        "tok-a",
		"notification": map[string]any{"title": "Viewing at 15:00", "body": "12 Elm St"},
		"data":         map[string]any{"reservation": "r-9"},
		"android":      map[string]any{"collapse_key": "r-9"},
		"apns": map[string]any{
			"headers": map[string]any{"apns-collapse-id": "r-9"},
			"payload": map[string]any{"aps": map[string]any{"badge": 3.0}},
		},
	}}
	if diff := cmp.Diff(want, f.bodies[0]); diff != "" {
		t.Errorf("send body (-want +got):\n%s", diff)
	}
	if p.Name() != "fcm" {
		t.Errorf("Name = %q", p.Name())
	}
}

// A token within oauth2's expiry margin (10s) is minted again for each send.
func TestFCMTokenNearExpiry(t *testing.T) {
	f := newFakeFCM(t)
	f.expires = 5
	p := f.provider(t)
	for range 2 {
		if err := p.Send(context.Background(), Message{Token: "tok-a", Body: "b"}); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if diff := cmp.Diff([]string{"Bearer access-1", "Bearer access-2"}, f.bearers); diff != "" {
		t.Errorf("Authorization (-want +got):\n%s", diff)
	}
}
