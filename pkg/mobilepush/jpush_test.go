package mobilepush

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeJPush is JPush's /v3/push with basic auth.
type fakeJPush struct {
	t      *testing.T
	srv    *httptest.Server
	ans    answer // empty: 200 with a msg_id
	mu     sync.Mutex
	bodies []map[string]any
}

func newFakeJPush(t *testing.T) *fakeJPush {
	f := &fakeJPush{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/push", f.push)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// push checks the credentials, records the body and replies ans.
func (f *fakeJPush) push(w http.ResponseWriter, r *http.Request) {
	if user, pass, ok := r.BasicAuth(); !ok || user != "appkey-1" || pass != "master-1" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"code":1004,"message":"Authen failed"}}`))
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("body: %v", err)
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.mu.Unlock()
	if f.ans.status == 0 {
		_, _ = w.Write([]byte(`{"sendno":"0","msg_id":"54043196214967471"}`))
		return
	}
	f.ans.write(w)
}

func (f *fakeJPush) provider(t *testing.T, secret string) *JPush {
	p, err := NewJPush(JPushConfig{AppKey: "appkey-1", MasterSecret: secret, BaseURL: f.srv.URL, HTTPClient: f.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestJPushSend(t *testing.T) {
	f := newFakeJPush(t)
	badge := 4
	m := Message{Token: "1a0018970aa0b1c2d3e", Title: "Viewing at 15:00", Body: "12 Elm St", Data: map[string]string{"reservation": "r-9"}, CollapseKey: "r-9", Badge: &badge}
	if err := f.provider(t, "master-1").Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	extras := map[string]any{"reservation": "r-9"}
	want := map[string]any{
		"platform": "all",
		"audience": map[string]any{"registration_id": []any{"1a0018970aa0b1c2d3e"}},
		"notification": map[string]any{
			"alert":   "12 Elm St",
			"android": map[string]any{"alert": "12 Elm St", "title": "Viewing at 15:00", "extras": extras},
			"ios":     map[string]any{"alert": map[string]any{"title": "Viewing at 15:00", "body": "12 Elm St"}, "badge": 4.0, "extras": extras},
		},
		"options": map[string]any{"apns_production": false, "apns_collapse_id": "r-9"},
	}
	if diff := cmp.Diff([]map[string]any{want}, f.bodies); diff != "" {
		t.Errorf("push body (-want +got):\n%s", diff)
	}
}

func TestJPushErrors(t *testing.T) {
	jerr := func(code, msg string) string {
		return `{"msg_id":"1","error":{"code":` + code + `,"message":"` + msg + `"}}`
	}
	tests := []errCase{
		{name: "no such registration id", answer: answer{status: 400, body: jerr("1011", "cannot find user by this audience or has been inactive for more than 255 days")},
			wantKind: DeadToken, wantReason: "1011"},
		{name: "1011 in a 200", answer: answer{status: 200, body: jerr("1011", "cannot find user by this audience")},
			wantKind: DeadToken, wantReason: "1011"},
		{name: "invalid parameter", answer: answer{status: 400, body: jerr("1003", "Invalid parameter")},
			wantKind: Permanent, wantReason: "1003"},
		{name: "rate limit reset header", answer: answer{status: 429, header: map[string]string{"X-Rate-Limit-Reset": "17"}, body: jerr("2002", "Request times of the app_key exceed the limit")},
			wantKind: Retry, wantReason: "2002", wantRetry: 17 * time.Second},
		{name: "rate limit retry-after date", answer: answer{status: 429, header: map[string]string{"Retry-After": httpDateIn(45 * time.Second), "X-Rate-Limit-Reset": "17"}, body: jerr("2001", "Rate limit exceeded")},
			wantKind: Retry, wantReason: "2001", wantRetry: 45 * time.Second},
		{name: "system error", answer: answer{status: 500, body: jerr("1000", "Server error")},
			wantKind: Retry, wantReason: "1000"},
		{name: "service timeout", answer: answer{status: 503, header: map[string]string{"Retry-After": "8"}, body: jerr("1030", "Internal service timeout")},
			wantKind: Retry, wantReason: "1030", wantRetry: 8 * time.Second},
		{name: "bad gateway html", answer: answer{status: 502, body: "<html>bad gateway</html>"},
			wantKind: Retry},
		{name: "forbidden", answer: answer{status: 403, body: jerr("2004", "No permission")},
			wantKind: Permanent, wantReason: "2004"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeJPush(t)
			f.ans = tt.answer
			err := f.provider(t, "master-1").Send(context.Background(), Message{Token: "1a0018970aa0b1c2d3e", Body: "b"})
			checkErr(t, "jpush", err, tt)
		})
	}
}

func TestJPushAuthAndNoAnswer(t *testing.T) {
	f := newFakeJPush(t)
	err := f.provider(t, "wrong").Send(context.Background(), Message{Token: "r1", Body: "b"})
	checkErr(t, "jpush", err, errCase{answer: answer{status: 401}, wantKind: Permanent, wantReason: "1004"})

	p := f.provider(t, "master-1")
	f.srv.Close()
	checkErr(t, "jpush", p.Send(context.Background(), Message{Token: "r1", Body: "b"}), errCase{wantKind: Retry})
	checkErr(t, "jpush", p.Send(context.Background(), Message{Body: "b"}), errCase{wantKind: Permanent, wantReason: "empty_token"})
	if _, err := NewJPush(JPushConfig{AppKey: "k"}); err == nil {
		t.Error("NewJPush accepted no master secret")
	}
	if p.Name() != "jpush" {
		t.Errorf("Name = %q", p.Name())
	}
}
