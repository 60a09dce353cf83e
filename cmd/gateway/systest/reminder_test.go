package systest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/jwtauth"
)

// TestReminderAcrossAPIAndWorkerNodes runs an API-only node and a
// worker-only node: a confirm on the first schedules the reminder, the
// second fires it, and both parties' WebSockets get it within 1 s of its
// time.
func TestReminderAcrossAPIAndWorkerNodes(t *testing.T) {
	env := sharedEnv(t, "GATEWAY_REMINDER_LEADS=2s")
	api := MustStart(t, append(withNode(env, "api"), "GATEWAY_WORKER_ENABLED=false"))
	MustStart(t, append(withNode(env, "worker"), "GATEWAY_API_ENABLED=false"))
	tenant := wsDial(t, api.HTTPURL, "user_id=1001")
	landlord := wsDial(t, api.HTTPURL, "user_id=2001")

	at := time.Now().Add(5 * time.Second).Truncate(time.Second)
	due := at.Add(-2 * time.Second)
	body := fmt.Sprintf(`{"user_id":1001,"user_name":"张三","house_id":3001,"reserve_time":%q}`, at.In(shanghai()).Format("2006-01-02 15:04:05"))
	code, out := call(t, "POST", api.HTTPURL+"/house/reserve", "", body)
	if code != 201 {
		t.Fatalf("reserve: %d %v", code, out)
	}
	id := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
	if code, out := call(t, "POST", fmt.Sprintf("%s/api/reservations/%d/confirm", api.HTTPURL, id), "", `{"landlord_id":2001}`); code != 200 {
		t.Fatalf("confirm: %d %v", code, out)
	}
	for name, cl := range map[string]*wsClient{"tenant": tenant, "landlord": landlord} {
		for {
			f := cl.next(t)
			if f.Type != 4 {
				continue // the booking and confirmation notices
			}
			if late := time.Since(due); late < 0 || late >= time.Second {
				t.Errorf("%s reminded %v after its time, want within [0, 1s)", name, late)
			}
			break
		}
	}
}

func shanghai() *time.Location {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return loc
}

// TestAsynqUI: the asynq web UI answers at /asynq/; in jwt mode only with
// operator credentials.
func TestAsynqUI(t *testing.T) {
	open := MustStart(t, withNode(sharedEnv(t), "open"))
	locked := MustStart(t, procEnv(t, "GATEWAY_JWT_SECRET="+secret, "GATEWAY_API_KEY="+apiKey, "GATEWAY_UI_PASSWORD=s3cret-operator"))
	get := func(url string, set func(*http.Request)) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if set != nil {
			set(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	userToken, err := jwtauth.Sign([]byte(secret), 1001, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		url  string
		set  func(*http.Request)
		want int
	}{
		{"insecure node: open", open.HTTPURL + "/asynq/", nil, 200},
		{"jwt node: no credentials", locked.HTTPURL + "/asynq/", nil, 401},
		{"jwt node: a user's token", locked.HTTPURL + "/asynq/", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+userToken) }, 401},
		{"jwt node: wrong password", locked.HTTPURL + "/asynq/", func(r *http.Request) { r.SetBasicAuth("admin", "nope") }, 401},
		{"jwt node: basic auth", locked.HTTPURL + "/asynq/", func(r *http.Request) { r.SetBasicAuth("admin", "s3cret-operator") }, 200},
		{"jwt node: api key", locked.HTTPURL + "/asynq/", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+apiKey) }, 200},
		{"jwt node: ui api with api key", locked.HTTPURL + "/asynq/api/queues", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+apiKey) }, 200},
	}
	for _, tt := range tests {
		code, body := get(tt.url, tt.set)
		if code != tt.want {
			t.Errorf("%s: %d, want %d (%.200s)", tt.name, code, tt.want, body)
		}
		if code == 200 && strings.HasSuffix(tt.url, "/asynq/") && !strings.Contains(body, "<html") {
			t.Errorf("%s: not the UI page: %.200s", tt.name, body)
		}
	}
	// The reminder queue shows up once a viewing is confirmed.
	body := fmt.Sprintf(`{"user_id":1001,"user_name":"张三","house_id":3001,"reserve_time":%q}`, future(48*time.Hour))
	code, out := call(t, "POST", open.HTTPURL+"/house/reserve", "", body)
	if code != 201 {
		t.Fatal(code, out)
	}
	id := int64(out["reservation"].(map[string]any)["reservation_id"].(float64))
	call(t, "POST", fmt.Sprintf("%s/api/reservations/%d/confirm", open.HTTPURL, id), "", `{"landlord_id":2001}`)
	_, queues := get(open.HTTPURL+"/asynq/api/queues", nil)
	var q struct {
		Queues []struct {
			Queue     string `json:"queue"`
			Scheduled int    `json:"scheduled"`
		} `json:"queues"`
	}
	if err := json.Unmarshal([]byte(queues), &q); err != nil || len(q.Queues) != 1 || q.Queues[0].Queue != "reminders" || q.Queues[0].Scheduled != 2 {
		t.Errorf("UI queues: %s (%v)", queues, err)
	}
}
