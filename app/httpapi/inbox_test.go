package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/redis"
)

type inboxReply struct {
	UserID     int64  `json:"user_id"`
	Epoch      string `json:"epoch"`
	HeadSeq    int64  `json:"head_seq"`
	Unseen     int64  `json:"unseen"`
	Unread     int64  `json:"unread"`
	NextCursor string `json:"next_cursor"`
	Messages   []struct {
		Seq      int64  `json:"seq"`
		Content  string `json:"content"`
		Seen     bool   `json:"seen"`
		Read     bool   `json:"read"`
		Archived bool   `json:"archived"`
	} `json:"messages"`
}

func (r inboxReply) seqs() []int64 {
	out := []int64{}
	for _, m := range r.Messages {
		out = append(out, m.Seq)
	}
	return out
}

func publishN(t *testing.T, env *apptest.Env, user int64, n int) {
	t.Helper()
	for i := range n {
		note := app.Notification{ID: app.NewMessageID(), UserID: user, Type: app.MsgGenericPush, Title: "t", Content: fmt.Sprintf("m%d", i+1)}
		m, err := note.Message()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.Publisher.Publish(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInboxRoutes: list (newest first, paged, filtered), mark and counts,
// and the states on GET /api/messages.
func TestInboxRoutes(t *testing.T) {
	env := apptest.MustEnv(t)
	c := redis.New(env.Redis, env.Keys)
	srv := newServer(t, env, httpapi.Options{Inbox: redis.NewInbox(c), Messages: redis.NewStreams(c, redis.StreamsOptions{})})
	publishN(t, env, tenant, 5)
	var marked struct {
		Epoch   string `json:"epoch"`
		Unseen  int64  `json:"unseen"`
		Unread  int64  `json:"unread"`
		Changed bool   `json:"changed"`
	}
	mustJSON(t, srv, call{Method: "POST", Path: "/api/inbox/mark", Body: `{"user_id":1001,"state":"read","seq":2}`}, http.StatusOK, &marked)
	if marked.Unseen != 4 || marked.Unread != 4 || !marked.Changed {
		t.Errorf("mark: %+v", marked)
	}
	mustJSON(t, srv, call{Method: "POST", Path: "/api/inbox/mark", Body: fmt.Sprintf(`{"user_id":1001,"state":"archived","seq":4,"epoch":%q}`, marked.Epoch)}, http.StatusOK, &marked)
	mustJSON(t, srv, call{Method: "POST", Path: "/api/inbox/mark", Body: `{"user_id":1001,"state":"seen","up_to":3}`}, http.StatusOK, &marked)
	if marked.Unseen != 1 || marked.Unread != 3 {
		t.Errorf("after three marks: %+v", marked)
	}
	var counts struct{ Unseen, Unread int64 }
	mustJSON(t, srv, call{Method: "GET", Path: "/api/inbox/counts?user_id=1001"}, http.StatusOK, &counts)
	if counts.Unseen != 1 || counts.Unread != 3 {
		t.Errorf("counts: %+v", counts)
	}
	var r inboxReply
	mustJSON(t, srv, call{Method: "GET", Path: "/api/inbox?user_id=1001&limit=2"}, http.StatusOK, &r)
	if diff := cmp.Diff([]int64{5, 3}, r.seqs()); diff != "" || r.NextCursor == "" || r.Unseen != 1 {
		t.Errorf("first page %+v (-want +got):\n%s", r, diff)
	}
	if m := r.Messages[1]; !m.Seen || m.Read || m.Archived || m.Content != "m3" {
		t.Errorf("message 3: %+v", m)
	}
	mustJSON(t, srv, call{Method: "GET", Path: "/api/inbox?user_id=1001&limit=2&before=" + r.NextCursor}, http.StatusOK, &r)
	if diff := cmp.Diff([]int64{2, 1}, r.seqs()); diff != "" || r.NextCursor != "" {
		t.Errorf("second page %+v (-want +got):\n%s", r, diff)
	}
	for q, want := range map[string][]int64{"state=archived": {4}, "state=unread": {5, 3, 1}, "state=read": {2},
		"state=unseen": {5}, "state=all&type=6": {5, 4, 3, 2, 1}, "state=all&type=1": {}} {
		mustJSON(t, srv, call{Method: "GET", Path: "/api/inbox?user_id=1001&" + q}, http.StatusOK, &r)
		if diff := cmp.Diff(want, r.seqs()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", q, diff)
		}
	}
	var msgs inboxReply // GET /api/messages: the same fields per message
	mustJSON(t, srv, call{Method: "GET", Path: "/api/messages?user_id=1001&after=1"}, http.StatusOK, &msgs)
	var states []string
	for _, m := range msgs.Messages {
		states = append(states, fmt.Sprintf("%d:%t,%t,%t", m.Seq, m.Seen, m.Read, m.Archived))
	}
	if diff := cmp.Diff([]string{"2:true,true,false", "3:true,false,false", "4:true,true,true", "5:false,false,false"}, states); diff != "" ||
		msgs.Unseen != 1 || msgs.Unread != 3 {
		t.Errorf("messages' states (-want +got):\n%s\ncounts %d %d", diff, msgs.Unseen, msgs.Unread)
	}
	bad := []struct {
		c    call
		want outcome
	}{
		{call{Method: "POST", Path: "/api/inbox/mark", Body: `{"user_id":1001,"state":"opened","seq":1}`}, outcome{400, app.EInvalidArgument}},
		{call{Method: "POST", Path: "/api/inbox/mark", Body: `{"user_id":1001,"state":"read"}`}, outcome{400, app.EInvalidArgument}},
		{call{Method: "POST", Path: "/api/inbox/mark", Body: `{"user_id":1001,"state":"read","seq":1,"all":true}`}, outcome{400, app.EInvalidArgument}},
		{call{Method: "POST", Path: "/api/inbox/mark", Body: `{"user_id":1001,"state":"read","seq":0}`}, outcome{400, app.EInvalidArgument}},
		{call{Method: "POST", Path: "/api/inbox/mark", Body: `{"user_id":1001,"state":"read","seq":99}`}, outcome{404, app.ENotFound}},
		{call{Method: "POST", Path: "/api/inbox/mark", Body: `{"user_id":1001,"state":"read","seq":1,"epoch":"gone"}`}, outcome{409, app.EFailedPrecondition}},
		{call{Method: "POST", Path: "/api/inbox/mark", Body: `{"state":"read","seq":1}`}, outcome{400, app.EInvalidArgument}},
		{call{Method: "GET", Path: "/api/inbox?user_id=1001&state=new"}, outcome{400, app.EInvalidArgument}},
		{call{Method: "GET", Path: "/api/inbox?user_id=1001&limit=0"}, outcome{400, app.EInvalidArgument}},
		{call{Method: "GET", Path: "/api/inbox?user_id=1001&limit=501"}, outcome{400, app.EInvalidArgument}},
		{call{Method: "GET", Path: "/api/inbox?user_id=1001&type=9"}, outcome{400, app.EInvalidArgument}},
		{call{Method: "GET", Path: "/api/inbox?user_id=1001&before=zzz"}, outcome{400, app.EInvalidArgument}},
		{call{Method: "GET", Path: "/api/inbox?user_id=1001&before=3-gone"}, outcome{409, app.EFailedPrecondition}},
	}
	for _, b := range bad {
		r := mustDo(t, srv, b.c)
		if diff := cmp.Diff(b.want, outcome{r.Status, r.errorCode()}); diff != "" {
			t.Errorf("%s %s %v (-want +got):\n%s\nbody %s", b.c.Method, b.c.Path, b.c.Body, diff, r.Body)
		}
	}
	off := newServer(t, env, httpapi.Options{})
	if r := mustDo(t, off, call{Method: "GET", Path: "/api/inbox/counts?user_id=1001"}); r.Status != 503 {
		t.Errorf("without an inbox: %d %s", r.Status, r.Body)
	}
}

// TestInboxPermissions: in jwt mode a user lists and marks only their own
// inbox; the server API key any user's.
func TestInboxPermissions(t *testing.T) {
	env := apptest.MustEnv(t)
	c := redis.New(env.Redis, env.Keys)
	srv := newServer(t, env, httpapi.Options{Auth: authFor(app.AuthJWT, apiKey), Inbox: redis.NewInbox(c)})
	publishN(t, env, tenant, 2)
	publishN(t, env, tenant2, 2)
	tok := mustToken(t, tenant)
	tests := []struct {
		name string
		c    call
		want outcome
	}{
		{"no token", call{Method: "GET", Path: "/api/inbox"}, outcome{401, app.EUnauthenticated}},
		{"own list", call{Method: "GET", Path: "/api/inbox", Token: tok}, outcome{200, ""}},
		{"own counts", call{Method: "GET", Path: "/api/inbox/counts", Token: tok}, outcome{200, ""}},
		{"own mark", call{Method: "POST", Path: "/api/inbox/mark", Token: tok, Body: `{"state":"read","all":true}`}, outcome{200, ""}},
		{"another's list", call{Method: "GET", Path: "/api/inbox?user_id=1002", Token: tok}, outcome{403, app.EPermissionDenied}},
		{"another's counts", call{Method: "GET", Path: "/api/inbox/counts?user_id=1002", Token: tok}, outcome{403, app.EPermissionDenied}},
		{"another's mark", call{Method: "POST", Path: "/api/inbox/mark", Token: tok, Body: `{"user_id":1002,"state":"read","all":true}`}, outcome{403, app.EPermissionDenied}},
		{"key without a user", call{Method: "GET", Path: "/api/inbox/counts", Token: apiKey}, outcome{400, app.EInvalidArgument}},
		{"key marks any user's", call{Method: "POST", Path: "/api/inbox/mark", Token: apiKey, Body: `{"user_id":1002,"state":"seen","seq":1}`}, outcome{200, ""}},
		{"key lists any user's", call{Method: "GET", Path: "/api/inbox?user_id=1002", Token: apiKey}, outcome{200, ""}},
	}
	for _, tt := range tests {
		r := mustDo(t, srv, tt.c)
		if diff := cmp.Diff(tt.want, outcome{r.Status, r.errorCode()}); diff != "" {
			t.Errorf("%s (-want +got):\n%s\nbody: %.300s", tt.name, diff, r.Body)
		}
	}
	var counts struct{ Unseen, Unread int64 }
	mustJSON(t, srv, call{Method: "GET", Path: "/api/inbox/counts?user_id=1002", Token: apiKey}, http.StatusOK, &counts)
	if counts.Unseen != 1 || counts.Unread != 2 {
		t.Errorf("user 1002's counts after the key's mark: %+v", counts)
	}
}
