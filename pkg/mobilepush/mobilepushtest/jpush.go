package mobilepushtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The JPush stand-in's app credentials.
const (
	JPushAppKey       = "appkey-1"
	JPushMasterSecret = "master-1"
)

// JPush is JPush's POST /v3/push with basic auth (else 401 and error 1004,
// as JPush): one registration id per push.
type JPush struct {
	*recorder
	srv *httptest.Server
}

// NewJPush starts a JPush stand-in, closed when tb ends.
func NewJPush(tb testing.TB) *JPush {
	j := &JPush{recorder: newRecorder()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/push", j.push)
	j.srv = httptest.NewServer(mux)
	tb.Cleanup(j.srv.Close)
	return j
}

// URL is the stand-in's base URL.
func (j *JPush) URL() string { return j.srv.URL }

// push checks the credentials, records the send and answers.
func (j *JPush) push(w http.ResponseWriter, r *http.Request) {
	if user, pass, ok := r.BasicAuth(); !ok || user != JPushAppKey || pass != JPushMasterSecret {
		Answer{Status: http.StatusUnauthorized, Body: `{"error":{"code":1004,"message":"Authen failed"}}`}.write(w)
		return
	}
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	var token string
	if aud, ok := body["audience"].(map[string]any); ok {
		if ids, ok := aud["registration_id"].([]any); ok && len(ids) == 1 {
			token, _ = ids[0].(string)
		}
	}
	j.next(Request{Token: token, Header: r.Header.Clone(), Body: body}, Answer{Body: `{"sendno":"0","msg_id":"54043196214967471"}`}).write(w)
}
