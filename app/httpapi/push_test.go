package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/push"
)

// apiKey is the server push key of the tests.
const apiKey = "push-test-api-key-0123456789"

// pushServer serves env with server push enabled (at most 3 user ids per
// request) in mode.
func pushServer(tb testing.TB, env *apptest.Env, mode app.AuthMode, key string) *httptest.Server {
	tb.Helper()
	return newServer(tb, env, httpapi.Options{Auth: authFor(mode, key),
		Push: push.New(env.Publisher, push.Options{MaxBatch: 3})})
}

// pushReply is the answer of POST /api/push.
type pushReply struct {
	Results []push.Result `json:"results"`
}

func TestPush(t *testing.T) {
	for _, mode := range []app.AuthMode{app.AuthInsecure, app.AuthJWT} {
		t.Run(string(mode), func(t *testing.T) {
			env := apptest.MustEnv(t)
			srv := pushServer(t, env, mode, apiKey)
			var got pushReply
			before := time.Now().Unix()
			mustJSON(t, srv, call{Method: "POST", Path: "/api/push", Token: apiKey, Body: map[string]any{
				"user_ids": []int64{tenant, landlord, tenant}, "title": "系统通知", "content": "明天停水",
				"detail": map[string]any{"area": "朝阳"},
			}}, http.StatusOK, &got)
			after := time.Now().Unix()
			if len(got.Results) != 2 {
				t.Fatalf("results %+v, want one per distinct user", got.Results)
			}
			for i, user := range []int64{tenant, landlord} {
				r := got.Results[i]
				msgs := env.Messages(t, user)
				want := []app.Notification{{ID: r.ID, Seq: 1, Epoch: r.Epoch, Type: app.MsgGenericPush, UserID: user,
					Title: "系统通知", Content: "明天停水", Detail: map[string]any{"area": "朝阳"}}}
				if len(msgs) == 1 && msgs[0].Timestamp >= before && msgs[0].Timestamp <= after {
					want[0].Timestamp = msgs[0].Timestamp // sent during the request
				}
				if diff := cmp.Diff(push.Result{UserID: user, Seq: 1, Epoch: r.Epoch, ID: r.ID}, r); diff != "" || len(r.ID) != 32 || r.Epoch == "" {
					t.Errorf("result %d (-want +got):\n%s (id %q)", i, diff, r.ID)
				}
				if diff := cmp.Diff(want, msgs); diff != "" {
					t.Errorf("user %d messages (-want +got):\n%s", user, diff)
				}
			}
			// The next push continues each user's sequence.
			mustJSON(t, srv, call{Method: "POST", Path: "/api/push", Token: apiKey, Body: map[string]any{
				"user_ids": []int64{landlord}, "title": "again"}}, http.StatusOK, &got)
			if diff := cmp.Diff([]push.Result{{UserID: landlord, Seq: 2, Epoch: got.Results[0].Epoch, ID: got.Results[0].ID}}, got.Results); diff != "" {
				t.Errorf("second push (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPushRefusals(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := pushServer(t, env, app.AuthJWT, apiKey)
	ok := func(edit func(b map[string]any)) map[string]any {
		b := map[string]any{"user_ids": []int64{tenant}, "title": "t", "content": "c"}
		edit(b)
		return b
	}
	tests := []struct {
		name   string
		c      call
		status int
		code   string
	}{
		{"batch over limit", call{Token: apiKey, Body: ok(func(b map[string]any) { b["user_ids"] = []int64{1, 2, 3, 4} })}, 400, app.EInvalidArgument},
		{"empty ids", call{Token: apiKey, Body: ok(func(b map[string]any) { b["user_ids"] = []int64{} })}, 400, app.EInvalidArgument},
		{"no ids", call{Token: apiKey, Body: ok(func(b map[string]any) { delete(b, "user_ids") })}, 400, app.EInvalidArgument},
		{"negative id", call{Token: apiKey, Body: ok(func(b map[string]any) { b["user_ids"] = []int64{tenant, -1} })}, 400, app.EInvalidArgument},
		{"ids not integers", call{Token: apiKey, Body: ok(func(b map[string]any) { b["user_ids"] = []string{"1001"} })}, 400, app.EInvalidArgument},
		{"detail array", call{Token: apiKey, Body: ok(func(b map[string]any) { b["detail"] = []int{1} })}, 400, app.EInvalidArgument},
		{"missing title", call{Token: apiKey, Body: ok(func(b map[string]any) { delete(b, "title") })}, 400, app.EInvalidArgument},
		{"no body", call{Token: apiKey}, 400, app.EInvalidArgument},
		{"no api key", call{Body: ok(func(map[string]any) {})}, 401, app.EUnauthenticated},
		{"wrong api key", call{Token: apiKey + "x", Body: ok(func(map[string]any) {})}, 401, app.EUnauthenticated},
		{"user jwt", call{Token: mustToken(t, tenant), Body: ok(func(map[string]any) {})}, 401, app.EUnauthenticated},
		{"body too large", call{Token: apiKey, Body: ok(func(b map[string]any) {
			b["content"] = strings.Repeat("x", httpapi.DefaultMaxBodyBytes)
		})}, 413, app.EResourceExhausted},
		{"chunked body too large", call{Token: apiKey, Body: io.MultiReader(
			strings.NewReader(`{"title":"`), strings.NewReader(strings.Repeat("x", httpapi.DefaultMaxBodyBytes)), strings.NewReader(`"}`),
		)}, 413, app.EResourceExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.Method, tt.c.Path = "POST", "/api/push"
			r := mustDo(t, srv, tt.c)
			if diff := cmp.Diff([]any{tt.status, tt.code}, []any{r.Status, r.errorCode()}); diff != "" {
				t.Errorf("status, code (-want +got):\n%s\nbody %s", diff, r.Body)
			}
			if tt.status == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	for _, user := range []int64{tenant, 1, 2, 3} {
		if msgs := env.Messages(t, user); len(msgs) != 0 {
			t.Errorf("refused pushes stored %d messages for user %d", len(msgs), user)
		}
	}
}

func TestPushDisabled(t *testing.T) {
	env := apptest.MustEnv(t)
	body := map[string]any{"user_ids": []int64{tenant}, "title": "t"}
	t.Run("no api key configured", func(t *testing.T) {
		for _, mode := range []app.AuthMode{app.AuthInsecure, app.AuthJWT} {
			srv := pushServer(t, env, mode, "")
			for _, tok := range []string{"", apiKey} {
				r := mustDo(t, srv, call{Method: "POST", Path: "/api/push", Token: tok, Body: body})
				want := `{"error":{"code":"permission_denied","message":"no api_key is configured: this operation is closed"}}`
				if diff := cmp.Diff([]any{http.StatusForbidden, want}, []any{r.Status, string(r.Body)}); diff != "" {
					t.Errorf("%s mode, token %q (-want +got):\n%s", mode, tok, diff)
				}
			}
		}
	})
	t.Run("no push service", func(t *testing.T) {
		srv := newServer(t, env, httpapi.Options{Auth: authFor(app.AuthInsecure, apiKey)})
		r := mustDo(t, srv, call{Method: "POST", Path: "/api/push", Token: apiKey, Body: body})
		if r.Status != http.StatusServiceUnavailable || r.errorCode() != app.EUnavailable {
			t.Errorf("status %d body %s, want 503 unavailable", r.Status, r.Body)
		}
	})
	if msgs := env.Messages(t, tenant); len(msgs) != 0 {
		t.Errorf("disabled push stored %d messages", len(msgs))
	}
}
