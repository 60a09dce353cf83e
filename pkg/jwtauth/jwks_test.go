package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwksServer is an HTTPS identity provider whose key set can be replaced
// (or made to fail) while it runs; it counts the fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	body    []byte
	status  int
	fetches atomic.Int64
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{body: body, status: http.StatusOK}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		w.WriteHeader(s.status)
		w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(status int, body []byte) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

func mustRemote(t *testing.T, s *jwksServer, opts RemoteOptions) *RemoteKeys {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opts.URL, opts.Client = s.URL+"/jwks.json", s.Client()
	r, err := NewRemoteKeys(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRemoteKeysRotation: an identity provider rotates from key a to key b
// mid-test. A token of b is verified at once (one bounded fetch for the
// unknown kid), a token of a is refused after the rotation, and a token
// naming a kid nobody has causes no further fetch within the bound.
func TestRemoteKeysRotation(t *testing.T) {
	a, _ := rsa.GenerateKey(rand.Reader, 2048)
	b, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s := newJWKSServer(t, jwksOf(map[string]*rsa.PublicKey{"a": &a.PublicKey}, nil))
	remote := mustRemote(t, s, RemoteOptions{Refresh: time.Hour, UnknownKIDEvery: time.Hour})
	v, err := New(Options{Remote: remote})
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Ready(context.Background()); err != nil {
		t.Fatalf("ready after the first fetch: %v", err)
	}
	if user, err := v.Verify(signed(t, jwt.SigningMethodRS256, a, "a", nil)); err != nil || user != 1001 {
		t.Fatalf("token of key a: %d, %v", user, err)
	}

	s.serve(http.StatusOK, jwksOf(nil, map[string]*ecdsa.PublicKey{"b": &b.PublicKey}))
	before := s.fetches.Load()
	if user, err := v.Verify(signed(t, jwt.SigningMethodES256, b, "b", nil)); err != nil || user != 1001 {
		t.Fatalf("token of the new key b: %d, %v", user, err)
	}
	if got := s.fetches.Load() - before; got != 1 {
		t.Errorf("the unknown kid b caused %d fetches, want 1", got)
	}
	if _, err := v.Verify(signed(t, jwt.SigningMethodRS256, a, "a", nil)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token of the retired key a after the rotation: %v, want refused", err)
	}
	before = s.fetches.Load()
	for range 5 {
		if _, err := v.Verify(signed(t, jwt.SigningMethodES256, b, "nobody", nil)); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("token naming an unknown kid: %v, want refused", err)
		}
	}
	if got := s.fetches.Load() - before; got != 0 {
		t.Errorf("5 tokens with an unknown kid within the bound caused %d fetches, want 0", got)
	}
}

// TestRemoteKeysRefresh: the set is fetched again every Refresh, so a
// rotation is seen without any token asking for it.
func TestRemoteKeysRefresh(t *testing.T) {
	a, _ := rsa.GenerateKey(rand.Reader, 2048)
	b, _ := rsa.GenerateKey(rand.Reader, 2048)
	s := newJWKSServer(t, jwksOf(map[string]*rsa.PublicKey{"a": &a.PublicKey}, nil))
	remote := mustRemote(t, s, RemoteOptions{Refresh: 50 * time.Millisecond, UnknownKIDEvery: time.Hour})
	v, _ := New(Options{Remote: remote})
	s.serve(http.StatusOK, jwksOf(map[string]*rsa.PublicKey{"b": &b.PublicKey}, nil))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, errA := v.Verify(signed(t, jwt.SigningMethodRS256, a, "a", nil))
		if errA != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("key a still verifies 5 s after the set dropped it")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := v.Verify(signed(t, jwt.SigningMethodRS256, b, "b", nil)); err != nil {
		t.Errorf("key b after the refresh: %v", err)
	}
}

// TestRemoteKeysUnavailable: a provider that fails from the start leaves
// the keys empty: Ready says why, every failure is reported, and tokens
// are refused; once it answers, the node becomes ready.
func TestRemoteKeysUnavailable(t *testing.T) {
	a, _ := rsa.GenerateKey(rand.Reader, 2048)
	s := newJWKSServer(t, []byte("down"))
	s.serve(http.StatusServiceUnavailable, []byte("down"))
	var failures atomic.Int64
	remote := mustRemote(t, s, RemoteOptions{Refresh: 50 * time.Millisecond, UnknownKIDEvery: time.Hour,
		OnError: func(error) { failures.Add(1) }})
	v, _ := New(Options{Remote: remote})
	err := remote.Ready(context.Background())
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("Ready with the provider down: %v, want an error naming the 503", err)
	}
	if failures.Load() == 0 {
		t.Error("the failed fetch was not reported")
	}
	if _, err := v.Verify(signed(t, jwt.SigningMethodRS256, a, "a", nil)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token while no keys are held: %v, want refused", err)
	}
	s.serve(http.StatusOK, jwksOf(map[string]*rsa.PublicKey{"a": &a.PublicKey}, nil))
	deadline := time.Now().Add(5 * time.Second)
	for remote.Ready(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("not ready 5 s after the provider came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRemoteKeysRefuseWeakKeys: a 1024-bit RSA key from the set verifies
// nothing, as from a file.
func TestRemoteKeysRefuseWeakKeys(t *testing.T) {
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	s := newJWKSServer(t, jwksOf(map[string]*rsa.PublicKey{"weak": &weak.PublicKey}, nil))
	v, _ := New(Options{Remote: mustRemote(t, s, RemoteOptions{})})
	if _, err := v.Verify(signed(t, jwt.SigningMethodRS256, weak, "weak", nil)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token of a 1024-bit key: %v, want refused", err)
	}
}
