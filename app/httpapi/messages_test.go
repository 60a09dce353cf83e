package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
)

// messagesReply is the answer of GET /api/messages.
type messagesReply struct {
	UserID    int64  `json:"user_id"`
	Epoch     string `json:"epoch"`
	HeadSeq   int64  `json:"head_seq"`
	After     int64  `json:"after"`
	Truncated bool   `json:"truncated"`
	Reset     bool   `json:"reset"`
	More      bool   `json:"more"`
	Messages  []struct {
		Seq     int64  `json:"seq"`
		Epoch   string `json:"epoch"`
		Content string `json:"content"`
	} `json:"messages"`
}

// page is a reply without its messages' bodies: seqs only.
type page struct {
	Epoch                  string
	Head, After            int64
	Truncated, Reset, More bool
	Seqs                   []int64
}

func (r messagesReply) page() page {
	p := page{Epoch: r.Epoch, Head: r.HeadSeq, After: r.After, Truncated: r.Truncated, Reset: r.Reset, More: r.More}
	for _, m := range r.Messages {
		p.Seqs = append(p.Seqs, m.Seq)
	}
	return p
}

func TestMessages(t *testing.T) {
	env := apptest.MustEnv(t)
	streams := redis.NewStreams(redis.New(env.Redis, env.Keys), redis.StreamsOptions{})
	revocations := coord.NewRevocations(redis.New(env.Redis, env.Keys), 10*time.Millisecond)
	srv := newServer(t, env, httpapi.Options{Messages: streams,
		Auth: auth.New(auth.Options{Mode: app.AuthInsecure, Revocations: revocations})})
	for i := range 5 {
		n := app.Notification{ID: fmt.Sprintf("id%d", i), UserID: tenant, Type: app.MsgGenericPush, Title: "t", Content: fmt.Sprintf("m%d", i)}
		m, err := n.Message()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.Publisher.Publish(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	get := func(query string) messagesReply {
		t.Helper()
		var r messagesReply
		mustJSON(t, srv, call{Method: "GET", Path: "/api/messages?user_id=1001" + query}, http.StatusOK, &r)
		if r.UserID != tenant {
			t.Fatalf("user %d", r.UserID)
		}
		for _, m := range r.Messages {
			if m.Epoch != r.Epoch || m.Content != fmt.Sprintf("m%d", m.Seq-1) {
				t.Fatalf("message %+v of page %+v", m, r.page())
			}
		}
		return r
	}
	first := get("&limit=2")
	epoch := first.Epoch
	for _, tt := range []struct {
		query string
		want  page
	}{
		{"&limit=2", page{Epoch: epoch, Head: 5, After: 0, More: true, Seqs: []int64{1, 2}}},
		{"&after=2&epoch=" + epoch, page{Epoch: epoch, Head: 5, After: 2, Seqs: []int64{3, 4, 5}}},
		{"&after=5&epoch=" + epoch, page{Epoch: epoch, Head: 5, After: 5}},
		// A position of a stream Redis lost: the page starts over.
		{"&after=3&epoch=gone1", page{Epoch: epoch, Head: 5, After: 0, Reset: true, Seqs: []int64{1, 2, 3, 4, 5}}},
		// No epoch: the seq is taken as of the current one.
		{"&after=4", page{Epoch: epoch, Head: 5, After: 4, Seqs: []int64{5}}},
	} {
		if diff := cmp.Diff(tt.want, get(tt.query).page()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.query, diff)
		}
	}

	// Asking after seq 3 acknowledged 1..3: the delivered cursor moved
	// (a WebSocket without last_seq starts after it).
	get("&after=3&epoch=" + epoch)
	if err := streams.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	p, err := streams.Read(t.Context(), tenant, app.Resume{FromCursor: true}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if p.After < 3 {
		t.Errorf("delivered cursor %d after GET ?after=3, want at least 3", p.After)
	}

	// A revoked user (POST /api/users/{id}/disconnect with until) polls no
	// more than it connects.
	if _, err := revocations.Disconnect(t.Context(), tenant, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r := mustDo(t, srv, call{Method: "GET", Path: "/api/messages?user_id=1001"})
	if r.Status != http.StatusForbidden || r.errorCode() != app.EPermissionDenied {
		t.Errorf("revoked user: %d %s, want 403 permission_denied", r.Status, r.Body)
	}
}

func TestMessagesRefusals(t *testing.T) {
	env := apptest.MustEnv(t)
	streams := redis.NewStreams(redis.New(env.Redis, env.Keys), redis.StreamsOptions{})
	insecure := newServer(t, env, httpapi.Options{Messages: streams})
	jwt := newServer(t, env, httpapi.Options{Auth: authFor(app.AuthJWT, apiKey), Messages: streams})
	off := newServer(t, env, httpapi.Options{})
	for _, tt := range []struct {
		name   string
		srv    string
		path   string
		token  string
		status int
		code   string
	}{
		{"no user", "insecure", "/api/messages", "", 400, app.EInvalidArgument},
		{"bad user", "insecure", "/api/messages?user_id=x", "", 400, app.EInvalidArgument},
		{"bad after", "insecure", "/api/messages?user_id=1&after=-1", "", 400, app.EInvalidArgument},
		{"bad epoch", "insecure", "/api/messages?user_id=1&after=1&epoch=a-b", "", 400, app.EInvalidArgument},
		{"bad limit", "insecure", "/api/messages?user_id=1&limit=0", "", 400, app.EInvalidArgument},
		{"limit too big", "insecure", "/api/messages?user_id=1&limit=1001", "", 400, app.EInvalidArgument},
		{"no token", "jwt", "/api/messages", "", 401, app.EUnauthenticated},
		{"bad token", "jwt", "/api/messages?token=nope", "", 401, app.EUnauthenticated},
		{"another user's", "jwt", "/api/messages?user_id=1002", mustToken(t, tenant), 403, app.EPermissionDenied},
		{"the api key is no user", "jwt", "/api/messages", apiKey, 401, app.EUnauthenticated},
		{"off", "off", "/api/messages?user_id=1", "", 503, app.EUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := map[string]*httptest.Server{"insecure": insecure, "jwt": jwt, "off": off}[tt.srv]
			r := mustDo(t, srv, call{Method: "GET", Path: tt.path, Token: tt.token})
			if r.Status != tt.status || r.errorCode() != tt.code {
				t.Errorf("status %d, code %q (%s); want %d %q", r.Status, r.errorCode(), r.Body, tt.status, tt.code)
			}
		})
	}
	// jwt mode: the token in the query or the header names the user.
	var r messagesReply
	mustJSON(t, jwt, call{Method: "GET", Path: "/api/messages?token=" + mustToken(t, tenant2)}, 200, &r)
	if r.UserID != tenant2 {
		t.Errorf("user %d, want %d", r.UserID, tenant2)
	}
	var raw map[string]json.RawMessage
	mustJSON(t, jwt, call{Method: "GET", Path: "/api/messages", Token: mustToken(t, tenant)}, 200, &raw)
	if string(raw["messages"]) != "[]" {
		t.Errorf("messages of an empty stream: %s, want []", raw["messages"])
	}
}
