package mobilepushtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// The identity of the FCM stand-in's service account.
const (
	FCMProject     = "house-1"
	FCMClientEmail = "push@house-1.iam.gserviceaccount.com"
	fcmScope       = "https://www.googleapis.com/auth/firebase.messaging"
)

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// FCM is an OAuth2 token endpoint (POST /token, the JWT bearer grant of a
// service account) and FCM's send endpoint (POST
// /v1/projects/house-1/messages:send). The token endpoint checks the
// assertion's RS256 signature with the service account's key, its issuer,
// scope and audience, and mints "access-<n>"; the send endpoint accepts
// only a bearer it minted (else 401 UNAUTHENTICATED, as FCM).
type FCM struct {
	*recorder
	srv *httptest.Server
	key *rsa.PrivateKey

	mu       sync.Mutex
	minted   map[string]bool
	tokens   int
	TokenAns *Answer // set: the token endpoint answers it instead
}

// NewFCM starts an FCM stand-in, closed when tb ends.
func NewFCM(tb testing.TB) *FCM {
	rsaOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	f := &FCM{recorder: newRecorder(), key: rsaKey, minted: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /v1/projects/"+FCMProject+"/messages:send", f.send)
	f.srv = httptest.NewServer(mux)
	tb.Cleanup(f.srv.Close)
	return f
}

// URL is the stand-in's base URL (the FCM endpoint); TokenURL its token
// endpoint.
func (f *FCM) URL() string { return f.srv.URL }

// TokenURL is the stand-in's OAuth2 token endpoint.
func (f *FCM) TokenURL() string { return f.srv.URL + "/token" }

// Close stops the stand-in: sends get no answer.
func (f *FCM) Close() { f.srv.Close() }

// Tokens is how many access tokens the stand-in minted.
func (f *FCM) Tokens() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens
}

// ServiceAccountJSON is a service-account key whose token_uri is the
// stand-in's token endpoint.
func (f *FCM) ServiceAccountJSON() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(f.key)
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": FCMProject, "private_key_id": "kid-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": FCMClientEmail, "token_uri": f.TokenURL(),
	})
	return b
}

// token checks the JWT bearer grant and mints "access-<n>".
func (f *FCM) token(w http.ResponseWriter, r *http.Request) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.FormValue("assertion"), claims, func(*jwt.Token) (any, error) {
		return &f.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(f.TokenURL()))
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || err != nil ||
		claims["iss"] != FCMClientEmail || claims["scope"] != fcmScope {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`))
		return
	}
	if f.TokenAns != nil {
		f.TokenAns.write(w)
		return
	}
	f.tokens++
	access := fmt.Sprintf("access-%d", f.tokens)
	f.minted[access] = true
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, access)
}

// send checks the bearer, records the send and answers.
func (f *FCM) send(w http.ResponseWriter, r *http.Request) {
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	ok := f.minted[bearer]
	f.mu.Unlock()
	if !ok {
		Answer{Status: http.StatusUnauthorized, Body: FCMError(401, "UNAUTHENTICATED", "", "Request had invalid authentication credentials.")}.write(w)
		return
	}
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	msg, _ := body["message"].(map[string]any)
	token, _ := msg["token"].(string)
	a := f.next(Request{Token: token, Header: r.Header.Clone(), Body: body}, Answer{Body: `{"name":"projects/house-1/messages/0:1"}`})
	a.write(w)
}

// FCMError is FCM's error body (a google.rpc.Status) with an FcmError
// errorCode when errorCode is set.
func FCMError(code int, status, errorCode, message string) string {
	details := ""
	if errorCode != "" {
		details = fmt.Sprintf(`{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":%q}`, errorCode)
	}
	return fmt.Sprintf(`{"error":{"code":%d,"message":%q,"status":%q,"details":[%s]}}`, code, message, status, details)
}
