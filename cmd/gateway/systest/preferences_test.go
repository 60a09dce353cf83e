package systest

import (
	"fmt"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
)

// TestPreferencesAcrossNodes: two nodes; node b has the tenant's default
// preferences cached (a push delivered to the tenant's session on b).
// The tenant turns generic pushes off in the app through node a: within a
// second a push sent through node b answers muted and reaches no session,
// while a reservation event of another type, caused through node b, still
// reaches the tenant's session next.
func TestPreferencesAcrossNodes(t *testing.T) {
	env := sharedEnv(t)
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	tenant := wsDial(t, b.HTTPURL, "user_id=1001")
	if r := pushREST(t, b.HTTPURL, `{"user_ids":[1001],"title":"before"}`)[0]; r["muted"] != nil {
		t.Fatalf("push before any preference: %v, want delivered", r)
	}
	if f := tenant.next(t); f.Type != 6 || f.Seq != 1 {
		t.Fatalf("tenant got %+v, want the push (type 6, seq 1)", f)
	}

	code, out := call(t, "PUT", a.HTTPURL+"/api/preferences", "", `{"user_id":1001,"types":{"push":{"in_app":false}}}`)
	if code != 200 {
		t.Fatalf("PUT /api/preferences on node a: %d %v", code, out)
	}
	changed := time.Now()
	delivered := 0
	testenv.Eventually(t, time.Second, "node b applies node a's change", func() bool {
		r := pushREST(t, b.HTTPURL, `{"user_ids":[1001],"title":"muted?"}`)[0]
		if r["muted"] == true {
			return true
		}
		delivered++ // sent before node b heard of the change
		return false
	})
	t.Logf("node b muted the tenant's pushes %v after the change on node a", time.Since(changed))
	for range delivered {
		if f := tenant.next(t); f.Type != 6 {
			t.Fatalf("tenant got %+v, want one of the pushes sent before the change applied", f)
		}
	}
	if r := pushREST(t, b.HTTPURL, `{"user_ids":[1001,2001],"title":"muted"}`); r[0]["muted"] != true || r[1]["muted"] != nil {
		t.Errorf("push to the tenant and the landlord: %v, want only the tenant's muted", r)
	}

	// A confirmation (type 2) is not muted: it is the next frame the tenant gets.
	body := fmt.Sprintf(`{"landlord_id":2001,"user_id":1001,"user_name":"张三","house_id":3001,"house_title":"精装修两室一厅","reserve_time":%q}`, future(30*time.Hour))
	code, out = call(t, "POST", b.HTTPURL+"/house/reserve", "", body)
	if code != 201 {
		t.Fatalf("reserve: %d %v", code, out)
	}
	id := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
	if code, out := call(t, "POST", fmt.Sprintf("%s/api/reservations/%d/confirm", b.HTTPURL, id), "", `{"landlord_id":2001}`); code != 200 {
		t.Fatalf("confirm: %d %v", code, out)
	}
	if f := tenant.next(t); f.Type != 2 || f.Seq != int64(2+delivered) {
		t.Errorf("tenant's next frame %+v, want the confirmation (type 2, seq %d): no muted push in between", f, 2+delivered)
	}
	code, out = call(t, "GET", b.HTTPURL+"/api/messages?user_id=1001", "", "")
	if msgs, _ := out["messages"].([]any); code != 200 || len(msgs) != 2+delivered {
		t.Errorf("tenant's stored messages: %d, %d of them; want %d (the muted pushes not stored)", code, len(msgs), 2+delivered)
	}
}

// TestPreferencesMutedKeptInList: the tenant turns generic pushes off in
// the app but keeps them in the list (through node a). A push through node
// b answers muted with its stored seq and epoch, reaches neither of the
// tenant's sessions (on a and b), and leaves the counts as they were; the
// next message (a confirmation) is the next frame of both; GET /api/inbox
// lists the push marked seen and read, the confirmation unread; a session
// resuming from before the push gets only the confirmation.
func TestPreferencesMutedKeptInList(t *testing.T) {
	env := sharedEnv(t)
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	code, out := call(t, "PUT", a.HTTPURL+"/api/preferences", "", `{"user_id":1001,"types":{"push":{"in_app":false,"list":true}}}`)
	prefs, _ := out["preferences"].(map[string]any)
	if types, _ := prefs["types"].(map[string]any); code != 200 || fmt.Sprint(types["push"]) != "map[in_app:false list:true push:true]" {
		t.Fatalf("PUT /api/preferences on node a: %d %v", code, out)
	}
	onA, onB := wsDial(t, a.HTTPURL, "user_id=1001"), wsDial(t, b.HTTPURL, "user_id=1001")
	r := pushREST(t, b.HTTPURL, `{"user_ids":[1001,2001],"title":"muted but listed"}`)
	if r[0]["muted"] != true || r[0]["seq"] != 1.0 || r[0]["epoch"] == "" || r[1]["muted"] != nil {
		t.Fatalf("push to the tenant and the landlord: %v, want the tenant's muted at seq 1, the landlord's delivered", r)
	}
	code, counts := call(t, "GET", a.HTTPURL+"/api/inbox/counts?user_id=1001", "", "")
	if code != 200 || counts["unseen"] != 0.0 || counts["unread"] != 0.0 {
		t.Fatalf("counts after the muted push: %d %v, want 0 and 0", code, counts)
	}

	body := fmt.Sprintf(`{"landlord_id":2001,"user_id":1001,"user_name":"张三","house_id":3001,"house_title":"精装修两室一厅","reserve_time":%q}`, future(30*time.Hour))
	code, out = call(t, "POST", b.HTTPURL+"/house/reserve", "", body)
	if code != 201 {
		t.Fatalf("reserve: %d %v", code, out)
	}
	id := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
	if code, out := call(t, "POST", fmt.Sprintf("%s/api/reservations/%d/confirm", b.HTTPURL, id), "", `{"landlord_id":2001}`); code != 200 {
		t.Fatalf("confirm: %d %v", code, out)
	}
	for _, s := range []*wsClient{onA, onB} {
		if f := s.next(t); f.Type != 2 || f.Seq != 2 {
			t.Errorf("tenant's next frame %+v, want the confirmation (type 2, seq 2), not the muted push", f)
		}
		// The counts every session learnt never counted the push.
		for len(s.inboxes) > 0 {
			if f := <-s.inboxes; f.Unread > 1 || f.Unseen > 1 {
				t.Errorf("inbox frame %+v counts the muted push", f)
			}
		}
	}

	code, list := call(t, "GET", a.HTTPURL+"/api/inbox?user_id=1001", "", "")
	msgs, _ := list["messages"].([]any)
	if code != 200 || len(msgs) != 2 || list["unseen"] != 1.0 || list["unread"] != 1.0 {
		t.Fatalf("inbox: %d %v, want 2 messages, 1 unseen and unread", code, list)
	}
	confirmed, push := msgs[0].(map[string]any), msgs[1].(map[string]any)
	if push["seq"] != 1.0 || push["type"] != 6.0 || push["seen"] != true || push["read"] != true || push["muted"] != true {
		t.Errorf("inbox's older message %v, want the muted push, seen and read", push)
	}
	if confirmed["seq"] != 2.0 || confirmed["read"] != false || confirmed["muted"] != nil {
		t.Errorf("inbox's newest message %v, want the confirmation, unread", confirmed)
	}
	code, out = call(t, "GET", b.HTTPURL+"/api/messages?user_id=1001&last_seq=0", "", "")
	if msgs, _ := out["messages"].([]any); code != 200 || len(msgs) != 2 || msgs[0].(map[string]any)["read"] != true {
		t.Errorf("GET /api/messages: %d %v, want both messages, the push read", code, out)
	}

	resumed := wsDial(t, b.HTTPURL, fmt.Sprintf("user_id=1001&last_seq=0&epoch=%s", r[0]["epoch"]))
	if f := resumed.next(t); f.Seq != 2 {
		t.Errorf("a session resuming from 0 got %+v first, want the confirmation (seq 2)", f)
	}
}
