package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/pkg/testenv"
)

func TestProbes(t *testing.T) {
	env := apptest.MustEnv(t)
	var (
		mu       sync.Mutex
		readyErr error
	)
	srv := newServer(t, env, httpapi.Options{Ready: func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		return readyErr
	}})
	type probe struct {
		Status int
		Body   string
	}
	check := func(path string, want probe) {
		t.Helper()
		r := mustDo(t, srv, call{Method: "GET", Path: path})
		if diff := cmp.Diff(want, probe{r.Status, string(r.Body)}); diff != "" {
			t.Errorf("GET %s (-want +got):\n%s", path, diff)
		}
	}
	check("/healthz", probe{200, `{"status":"ok"}`})
	check("/readyz", probe{200, `{"status":"ready"}`})

	mu.Lock()
	readyErr = errors.New("dial tcp 127.0.0.1:3306: connection refused")
	mu.Unlock()
	check("/healthz", probe{200, `{"status":"ok"}`})
	check("/readyz", probe{503, `{"error":{"code":"unavailable","message":"not ready"}}`})
}

// Recommend answers the houses in the order the service gives them.
func TestRecommendOrder(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := newServer(t, env, httpapi.Options{})
	// A booking makes house 3001 the most popular.
	mustReserve(t, env, srv, tenant, 24*time.Hour)

	tests := []struct {
		query string
		f     app.HouseFilter
	}{
		{"", app.HouseFilter{Page: app.Page{Page: 1, PageSize: 20}}},
		{"city=北京&page=2&page_size=5", app.HouseFilter{City: "北京", Page: app.Page{Page: 2, PageSize: 5}}},
		{"city=上海&min_price=1000&max_price=20000&rooms=2", app.HouseFilter{City: "上海", MinPrice: 1000, MaxPrice: 20000, Rooms: 2, Page: app.Page{Page: 1, PageSize: 20}}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res, err := env.Service.RecommendHouses(t.Context(), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			want, total := res.Houses, res.Total
			var got struct {
				Houses   []*app.House `json:"houses"`
				Total    int          `json:"total"`
				Page     int          `json:"page"`
				PageSize int          `json:"page_size"`
			}
			mustJSON(t, srv, call{Method: "GET", Path: "/house/recommend?" + tt.query}, http.StatusOK, &got)
			if len(want) == 0 || want[0].ID == 0 {
				t.Fatalf("the service recommends %d houses, the first %+v; the test proves nothing", len(want), want[0])
			}
			if diff := cmp.Diff(want, got.Houses, cmpopts.IgnoreFields(app.House{}, "CreatedAt")); diff != "" {
				t.Errorf("houses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]int{total, tt.f.Page.Page, tt.f.PageSize}, []int{got.Total, got.Page, got.PageSize}); diff != "" {
				t.Errorf("total, page, page_size (-want +got):\n%s", diff)
			}
		})
	}
	var got struct{ Houses []*app.House }
	mustJSON(t, srv, call{Method: "GET", Path: "/house/recommend"}, http.StatusOK, &got)
	if len(got.Houses) == 0 || got.Houses[0].ID != house || got.Houses[0].Title != title {
		t.Errorf("first house %+v, want the booked house %d %q first", *got.Houses[0], house, title)
	}
}

// A panic is a 500 in the error format; the access log names method, route
// and status and never the token.
func TestRecoveryAndAccessLog(t *testing.T) {
	env := apptest.MustEnv(t)
	var logs testenv.SyncBuffer
	h := httpapi.NewHandler(env.Service, httpapi.Options{
		Auth:   authFor(app.AuthJWT, ""),
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	h.GET("/boom", func(*gin.Context) { panic("boom") })
	srv := serve(t, h)

	tok := mustToken(t, tenant)
	r := mustDo(t, srv, call{Method: "GET", Path: "/boom", Token: tok})
	if diff := cmp.Diff(outcome{500, app.EInternal}, outcome{r.Status, r.errorCode()}); diff != "" {
		t.Errorf("panic (-want +got):\n%s", diff)
	}
	mustDo(t, srv, call{Method: "GET", Path: "/api/reservations?user_id=1001", Token: tok})

	out := logs.String()
	for _, want := range []string{`"route":"/boom","status":500`, `"route":"/api/reservations","status":200`, `"method":"GET"`, `"latency":`, `"panic":"boom"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, tok) || strings.Contains(out, "Bearer") {
		t.Errorf("log shows the token:\n%s", out)
	}
}
