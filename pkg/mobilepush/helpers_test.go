package mobilepush

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// answer is what a stand-in provider replies.
type answer struct {
	status int
	header map[string]string
	body   string
}

// write sends a to w.
func (a answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	w.WriteHeader(a.status)
	_, _ = w.Write([]byte(a.body))
}

// errCase is one row of a provider's error table.
type errCase struct {
	name       string
	answer     answer
	wantKind   Kind
	wantReason string
	wantRetry  time.Duration // Retry only; an HTTP-date may come up to 2s short
}

// httpDateIn is an HTTP-date d from now.
func httpDateIn(d time.Duration) string {
	return time.Now().Add(d).UTC().Format(http.TimeFormat)
}

// checkErr checks that err is an *Error as c wants, from provider.
func checkErr(t *testing.T, provider string, err error, c errCase) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *Error", err, err)
	}
	if e.Kind != c.wantKind || e.Reason != c.wantReason || e.Provider != provider {
		t.Errorf("got %s/%s/%q, want %s/%s/%q (%v)", e.Provider, e.Kind, e.Reason, provider, c.wantKind, c.wantReason, err)
	}
	if c.answer.status != 0 && e.Status != c.answer.status {
		t.Errorf("Status = %d, want %d", e.Status, c.answer.status)
	}
	if got := e.RetryAfter; got > c.wantRetry || got <= c.wantRetry-2*time.Second && c.wantRetry > 0 || c.wantRetry == 0 && got != 0 {
		t.Errorf("RetryAfter = %s, want %s", got, c.wantRetry)
	}
}
