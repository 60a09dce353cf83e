package mobilepushtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// The identity of the APNs stand-in's provider.
const (
	APNsKeyID  = "KEY123"
	APNsTeamID = "TEAM456"
	APNsTopic  = "com.houseview.app"
)

// APNs is an HTTP/2 TLS server with APNs's POST /3/device/{token}: it
// checks the ES256 provider token (the key's signature, kid, iss, iat;
// else 403 InvalidProviderToken) and apns-topic (else 400 TopicDisallowed),
// as APNs does.
type APNs struct {
	*recorder
	srv *httptest.Server
	key *ecdsa.PrivateKey
}

// NewAPNs starts an APNs stand-in, closed when tb ends.
func NewAPNs(tb testing.TB) *APNs {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	a := &APNs{recorder: newRecorder(), key: key}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	a.srv.EnableHTTP2 = true
	a.srv.StartTLS()
	tb.Cleanup(a.srv.Close)
	return a
}

// URL is the stand-in's base URL (https).
func (a *APNs) URL() string { return a.srv.URL }

// Client is an HTTP/2 client that trusts the stand-in's certificate.
func (a *APNs) Client() *http.Client { return a.srv.Client() }

// CertFile writes the stand-in's certificate (PEM) into dir and returns
// its path: a gateway process trusts it with SSL_CERT_FILE.
func (a *APNs) CertFile(tb testing.TB, dir string) string {
	path := filepath.Join(dir, "apns-standin.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// AuthKey is the provider's .p8 auth key (PKCS#8 PEM).
func (a *APNs) AuthKey() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(a.key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// serve checks the provider token and the topic, records the send and
// answers.
func (a *APNs) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("apns-id", "6e6f7431-0000-0000-0000-000000000001")
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "bearer ")
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(bearer, claims, func(*jwt.Token) (any, error) {
		return &a.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuedAt())
	if err != nil || tok.Header["kid"] != APNsKeyID || claims["iss"] != APNsTeamID || claims["iat"] == nil {
		Answer{Status: http.StatusForbidden, Body: `{"reason":"InvalidProviderToken"}`}.write(w)
		return
	}
	if r.Header.Get("apns-topic") != APNsTopic {
		Answer{Status: http.StatusBadRequest, Body: `{"reason":"TopicDisallowed"}`}.write(w)
		return
	}
	token, ok := strings.CutPrefix(r.URL.Path, "/3/device/")
	if !ok || r.ProtoMajor != 2 {
		Answer{Status: http.StatusNotFound, Body: `{"reason":"BadPath"}`}.write(w)
		return
	}
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	a.next(Request{Token: token, Header: r.Header.Clone(), Body: body}, Answer{}).write(w)
}
