package mobilepush

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

const testDeviceToken = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

// apnsSeenReq is what the stand-in APNs received.
type apnsSeenReq struct {
	Proto   int
	Path    string
	Headers map[string]string
	Body    map[string]any
}

// fakeAPNs is an HTTP/2 TLS server with APNs's path, headers and errors.
type fakeAPNs struct {
	t    *testing.T
	srv  *httptest.Server
	key  *ecdsa.PrivateKey
	ans  answer // empty: 200
	mu   sync.Mutex
	reqs []apnsSeenReq
}

func newFakeAPNs(t *testing.T) *fakeAPNs {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAPNs{t: t, key: key}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.EnableHTTP2 = true
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

// serve checks the provider token and records the request.
func (f *fakeAPNs) serve(w http.ResponseWriter, r *http.Request) {
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "bearer ")
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(bearer, claims, func(*jwt.Token) (any, error) {
		return &f.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuedAt())
	if err != nil || tok.Header["kid"] != "KEY123" || claims["iss"] != "TEAM456" {
		f.t.Errorf("provider token: %v, header %v, claims %v", err, tok.Header, claims)
	}
	seen := apnsSeenReq{Proto: r.ProtoMajor, Path: r.URL.Path, Headers: map[string]string{}}
	for _, h := range []string{"apns-topic", "apns-collapse-id", "apns-push-type", "apns-priority"} {
		seen.Headers[h] = r.Header.Get(h)
	}
	if err := json.NewDecoder(r.Body).Decode(&seen.Body); err != nil {
		f.t.Errorf("body: %v", err)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, seen)
	f.mu.Unlock()
	w.Header().Set("apns-id", "6e6f7431-0000-0000-0000-000000000001")
	f.ans.write(w)
}

// provider returns an APNs signing with the fake's key, aimed at it.
func (f *fakeAPNs) provider(t *testing.T) *APNs {
	der, err := x509.MarshalPKCS8PrivateKey(f.key)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewAPNs(APNsConfig{
		AuthKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		KeyID:   "KEY123", TeamID: "TEAM456", Topic: "com.houseview.app",
		Host: f.srv.URL, HTTPClient: f.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAPNsSend(t *testing.T) {
	f := newFakeAPNs(t)
	p := f.provider(t)
	badge := 2
	m := Message{Token: testDeviceToken, Title: "Viewing at 15:00", Body: "12 Elm St", Data: map[string]string{"reservation": "r-9"}, CollapseKey: "r-9", Badge: &badge}
	for range 2 {
		if err := p.Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	want := apnsSeenReq{
		Proto: 2, Path: "/3/device/" + testDeviceToken,
		Headers: map[string]string{"apns-topic": "com.houseview.app", "apns-collapse-id": "r-9", "apns-push-type": "alert", "apns-priority": "10"},
		Body: map[string]any{
			"aps":         map[string]any{"alert": map[string]any{"title": "Viewing at 15:00", "body": "12 Elm St"}, "badge": 2.0},
			"reservation": "r-9",
		},
	}
	if diff := cmp.Diff([]apnsSeenReq{want, want}, f.reqs); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if p.Name() != "apns" {
		t.Errorf("Name = %q", p.Name())
	}
}

func TestNewAPNsRefuses(t *testing.T) {
	cases := map[string]APNsConfig{
		"no key id": {AuthKey: []byte("x"), TeamID: "T", Topic: "t"},
		"not pem":   {AuthKey: []byte("x"), KeyID: "K", TeamID: "T", Topic: "t"},
	}
	for name, cfg := range cases {
		if _, err := NewAPNs(cfg); err == nil {
			t.Errorf("%s: NewAPNs accepted it", name)
		}
	}
}
