// Package mobilepushtest runs local stand-ins of the push providers that
// pkg/mobilepush speaks to, each a real HTTP server with the provider's
// wire protocol: FCM HTTP v1 with its OAuth2 token endpoint, APNs over
// HTTP/2 with TLS and ES256 provider tokens, and JPush REST v3 with basic
// auth. Each checks the credentials as the provider would (a request with
// bad ones is refused as the provider refuses it), records what it
// accepted, and answers what the test sets (success by default). Tests of
// this module use them, in process or through a gateway's settings.
package mobilepushtest

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// Answer is what a stand-in replies to a send.
type Answer struct {
	Status int               // 0: 200
	Header map[string]string // e.g. Retry-After
	Body   string
}

func (a Answer) write(w http.ResponseWriter) {
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(max(a.Status, http.StatusOK))
	_, _ = w.Write([]byte(a.Body))
}

// Request is one send a stand-in received with valid credentials.
type Request struct {
	Time   time.Time
	Token  string // the device token (FCM token, APNs device token, JPush registration id)
	Header http.Header
	Body   map[string]any // the JSON body
	Status int            // what the stand-in answered
}

// recorder keeps the requests of a stand-in and the answers to give.
type recorder struct {
	mu       sync.Mutex
	answers  []Answer
	always   *Answer
	requests []Request
	change   chan struct{}
}

func newRecorder() *recorder { return &recorder{change: make(chan struct{}, 1)} }

// Answer makes the next sends get answers, in order; then success (or
// what Always set).
func (r *recorder) Answer(answers ...Answer) {
	r.mu.Lock()
	r.answers = append(r.answers, answers...)
	r.mu.Unlock()
}

// Always makes every send without a queued answer get a (nil: success).
func (r *recorder) Always(a *Answer) {
	r.mu.Lock()
	r.always = a
	r.mu.Unlock()
}

// next records req and returns the answer to give, ok's when none is set.
func (r *recorder) next(req Request, ok Answer) Answer {
	r.mu.Lock()
	a := ok
	switch {
	case len(r.answers) > 0:
		a, r.answers = r.answers[0], r.answers[1:]
	case r.always != nil:
		a = *r.always
	}
	req.Time, req.Status = time.Now(), max(a.Status, http.StatusOK)
	r.requests = append(r.requests, req)
	r.mu.Unlock()
	select {
	case r.change <- struct{}{}:
	default:
	}
	return a
}

// Requests returns the sends received so far.
func (r *recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

// Wait waits up to 30 s until n sends were received, and returns them.
func (r *recorder) Wait(tb testing.TB, n int) []Request {
	tb.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		if got := r.Requests(); len(got) >= n {
			return got
		}
		select {
		case <-r.change:
		case <-deadline.C:
			tb.Fatalf("the stand-in got %d sends within 30s, want %d", len(r.Requests()), n)
		}
	}
}
