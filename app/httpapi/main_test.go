package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/pkg/jwtauth"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode) // no debug route list
	os.Exit(m.Run())
}

// secret signs the tokens of jwt-mode tests.
var secret = []byte("httpapi-test-secret-0123456789abcdef")

// Users and house of the README.
const (
	tenant   = 1001
	tenant2  = 1002
	landlord = 2001
	house    = 3001
	title    = "精装修两室一厅"
)

// newServer serves NewHandler(env.Service, opts) over real HTTP.
func newServer(tb testing.TB, env *apptest.Env, opts httpapi.Options) *httptest.Server {
	tb.Helper()
	if opts.Auth == nil {
		opts.Auth = authFor(app.AuthInsecure, "")
	}
	return serve(tb, httpapi.NewHandler(env.Service, opts))
}

// authFor is the real authenticator of mode, trusting secret and apiKey.
func authFor(mode app.AuthMode, apiKey string) *auth.Authenticator {
	return apptest.NewAuth(mode, secret, apiKey)
}

// serve serves h over real HTTP until the test ends.
func serve(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// mustToken signs a token for user.
func mustToken(tb testing.TB, user int64) string {
	tb.Helper()
	tok, err := jwtauth.Sign(secret, user, time.Now(), time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// response is an HTTP answer read in full.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorCode returns the code of an error answer, "" for any other body.
func (r response) errorCode() string {
	var e struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// call is one request: a nil body sends none, a string is sent as is and
// anything else as JSON.
type call struct {
	Method, Path, Token string
	Body                any
}

// mustDo sends c to srv.
func mustDo(tb testing.TB, srv *httptest.Server, c call) response {
	tb.Helper()
	var body io.Reader
	switch b := c.Body.(type) {
	case nil:
	case string:
		body = bytes.NewBufferString(b)
	case io.Reader:
		body = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(tb.Context(), c.Method, srv.URL+c.Path, body)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", c.Method, c.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// mustJSON sends c, checks the status and decodes the answer into v.
func mustJSON(tb testing.TB, srv *httptest.Server, c call, status int, v any) {
	tb.Helper()
	r := mustDo(tb, srv, c)
	if r.Status != status {
		tb.Fatalf("%s %s: status %d, want %d; body %s", c.Method, c.Path, r.Status, status, r.Body)
	}
	if v != nil {
		if err := json.Unmarshal(r.Body, v); err != nil {
			tb.Fatalf("%s %s: decode %s: %v", c.Method, c.Path, r.Body, err)
		}
	}
}

// reservationReply is the body of every single-reservation answer.
type reservationReply struct {
	Reservation app.ReservationJSON `json:"reservation"`
}

// reserveBody is the README's booking with a chosen time.
func reserveBody(user int64, at string) map[string]any {
	return map[string]any{
		"landlord_id": landlord, "user_id": user, "user_name": "张三",
		"house_id": house, "house_title": title, "reserve_time": at,
	}
}

// mustReserve books house 3001 for user at the time d from now.
func mustReserve(tb testing.TB, env *apptest.Env, srv *httptest.Server, user int64, d time.Duration) app.ReservationJSON {
	tb.Helper()
	var got reservationReply
	mustJSON(tb, srv, call{Method: "POST", Path: "/house/reserve", Body: reserveBody(user, env.ReserveTime(d))}, http.StatusCreated, &got)
	return got.Reservation
}
