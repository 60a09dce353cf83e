package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
)

// presenceKey is the server API key of jwt-mode presence tests.
const presenceKey = "presence-test-api-key"

// runPresence runs p until the test ends, then stops it normally.
func runPresence(tb testing.TB, p *coord.Presence) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
}

// waitOnline polls p until its online users are want (bounded).
func waitOnline(tb testing.TB, p *coord.Presence, want []int64) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := p.Online(tb.Context())
		if err == nil && cmp.Equal(want, got) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("online users %v (%v), want %v", got, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWebsocketPresence(t *testing.T) {
	env := apptest.MustEnv(t)
	at := time.Now()
	clock := func() time.Time { return at } // fixed: heartbeats are exact
	opts := func(id string) coord.PresenceOptions {
		// The heartbeat never comes during the test: connections and extras
		// are set before the first one.
		return coord.PresenceOptions{NodeID: id, Heartbeat: time.Hour, TTL: 2 * time.Hour, Now: clock}
	}
	a := coord.NewPresence(redis.New(env.Redis, env.Keys), opts("node-a"))
	a.SetConnections(3)
	a.SetInfo("http_addr", "10.0.0.1:8080")
	a.UserOnline(1001)
	a.UserOnline(1002)
	b := coord.NewPresence(redis.New(env.Redis, env.Keys), opts("node-b"))
	b.SetConnections(1)
	b.UserOnline(1002)
	b.UserOnline(1003)
	runPresence(t, a)
	runPresence(t, b)
	waitOnline(t, a, []int64{1001, 1002, 1003})

	wantStats := app.ClusterStats{TotalConnections: 4, OnlineUsers: 3, Nodes: []app.NodeStats{
		{NodeID: "node-a", Connections: 3, Users: 2, StartedAt: at.Unix(), HeartbeatAt: at.UnixMilli(),
			Extra: map[string]string{"http_addr": "10.0.0.1:8080"}},
		{NodeID: "node-b", Connections: 1, Users: 2, StartedAt: at.Unix(), HeartbeatAt: at.UnixMilli()},
	}}
	const wantOnline = `{"users":[1001,1002,1003],"count":3}`

	// An empty deployment and one whose Redis is down.
	empty := coord.NewPresence(redis.New(env.Redis, redis.NewKeys("empty", env.RedisDB)), coord.PresenceOptions{NodeID: "x"})
	down := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	broken := coord.NewPresence(redis.New(down, env.Keys), coord.PresenceOptions{NodeID: "x"})

	insecure := newServer(t, env, httpapi.Options{Presence: a})
	jwt := newServer(t, env, httpapi.Options{Auth: authFor(app.AuthJWT, presenceKey), Presence: b})
	jwtNoKey := newServer(t, env, httpapi.Options{Auth: authFor(app.AuthJWT, ""), Presence: a})
	insecureNil := newServer(t, env, httpapi.Options{})
	jwtNil := newServer(t, env, httpapi.Options{Auth: authFor(app.AuthJWT, presenceKey)})
	emptySrv := newServer(t, env, httpapi.Options{Presence: empty})
	brokenSrv := newServer(t, env, httpapi.Options{Presence: broken})

	const online, stats = "/api/websocket/online-users", "/api/websocket/stats"
	type answer struct {
		Status int
		Body   string // the exact body of an online-users answer, or the error code
	}
	userTok := mustToken(t, tenant)
	tests := []struct {
		name  string
		srv   *httptest.Server
		path  string
		token string
		want  answer
	}{
		{"insecure online", insecure, online, "", answer{200, wantOnline}},
		{"insecure ignores tokens", insecure, online, "whatever", answer{200, wantOnline}},
		{"jwt online with the api key", jwt, online, presenceKey, answer{200, wantOnline}},
		{"jwt without a token", jwt, online, "", answer{401, app.EUnauthenticated}},
		{"jwt with a wrong key", jwt, online, presenceKey + "x", answer{401, app.EUnauthenticated}},
		{"jwt with a user token", jwt, online, userTok, answer{401, app.EUnauthenticated}},
		{"jwt stats without a token", jwt, stats, "", answer{401, app.EUnauthenticated}},
		{"jwt without a configured key", jwtNoKey, online, presenceKey, answer{403, app.EPermissionDenied}},
		{"jwt stats without a configured key", jwtNoKey, stats, "", answer{403, app.EPermissionDenied}},
		{"insecure without presence", insecureNil, online, "", answer{503, app.EUnavailable}},
		{"insecure stats without presence", insecureNil, stats, "", answer{503, app.EUnavailable}},
		{"jwt without presence", jwtNil, stats, presenceKey, answer{503, app.EUnavailable}},
		{"jwt without presence checks the key first", jwtNil, stats, "", answer{401, app.EUnauthenticated}},
		{"empty deployment", emptySrv, online, "", answer{200, `{"users":[],"count":0}`}},
		{"redis down", brokenSrv, online, "", answer{503, app.EUnavailable}},
		{"redis down stats", brokenSrv, stats, "", answer{503, app.EUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustDo(t, tt.srv, call{Method: "GET", Path: tt.path, Token: tt.token})
			got := answer{r.Status, r.errorCode()}
			if r.Status == http.StatusOK {
				got.Body = string(r.Body)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("GET %s (-want +got):\n%s\nbody: %s", tt.path, diff, r.Body)
			}
		})
	}

	t.Run("stats", func(t *testing.T) {
		for _, c := range []struct {
			srv   *httptest.Server
			token string
		}{{insecure, ""}, {jwt, presenceKey}} {
			var got app.ClusterStats
			mustJSON(t, c.srv, call{Method: "GET", Path: stats, Token: c.token}, http.StatusOK, &got)
			if diff := cmp.Diff(wantStats, got); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		}
		r := mustDo(t, emptySrv, call{Method: "GET", Path: stats})
		if diff := cmp.Diff(`{"total_connections":0,"online_users":0,"nodes":[]}`, string(r.Body)); diff != "" {
			t.Errorf("empty stats (-want +got):\n%s", diff)
		}
	})

	t.Run("no api key message", func(t *testing.T) {
		r := mustDo(t, jwtNoKey, call{Method: "GET", Path: online})
		var e struct{ Error struct{ Message string } }
		_ = json.Unmarshal(r.Body, &e)
		if diff := cmp.Diff("no api_key is configured: this operation is closed", e.Error.Message); diff != "" {
			t.Errorf("message (-want +got):\n%s", diff)
		}
	})

	// A disconnect shows in the next answer.
	b.UserOffline(1003)
	waitOnline(t, a, []int64{1001, 1002})
	r := mustDo(t, insecure, call{Method: "GET", Path: online})
	if diff := cmp.Diff(`{"users":[1001,1002],"count":2}`, string(r.Body)); diff != "" {
		t.Errorf("after a disconnect (-want +got):\n%s", diff)
	}
}
