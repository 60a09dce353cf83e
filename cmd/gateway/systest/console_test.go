package systest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/houseview/gateway/pkg/jwtauth"
)

// consoleEnv is two jwt-mode nodes' environment with the operator's
// credentials: admin and the API key.
func consoleEnv(t *testing.T) []string {
	return procEnv(t, "GATEWAY_JWT_SECRET="+secret, "GATEWAY_API_KEY="+apiKey)
}

// TestConsole drives the operator console in Chromium on node a while
// user 1001 is connected to node b: the console lists both nodes and the
// user's session on b with its stream and, as b answers, the session's
// position in it; publishing a test notification
// reaches the user's socket; disconnecting closes it with 4003 and shows
// the revocation; lifting it lets the user in again. With
// CONSOLE_SCREENSHOT=file.png it saves a screenshot of the page.
func TestConsole(t *testing.T) {
	env := consoleEnv(t)
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	token, err := jwtauth.Sign([]byte(secret), 1001, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	user := wsDial(t, b.HTTPURL, "token="+token)

	page := MustBrowser(t)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+apiKey))
	page.Do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Authorization": basic}})
		return err
	}), chromedp.EmulateViewport(1280, 900), chromedp.Navigate(a.HTTPURL+"/console/?user=1001"))
	page.Wait(t, `document.querySelectorAll('#nodes tbody tr').length === 2`)
	page.Wait(t, `[...document.querySelectorAll('#sessions tbody td')].some((td) => td.textContent === 'b')`)

	page.Do(t, chromedp.Click(chromedp.CSS(`#push button[type=submit]`)))
	if f := user.next(t); f.Type != 6 {
		t.Fatalf("the user got %+v, want the console's push (type 6)", f)
	}
	page.Wait(t, `document.querySelector('#head').textContent === '1' && document.querySelectorAll('#messages tbody tr').length === 1`)
	// The session's position, which only node b knows, as b answered it.
	page.Wait(t, `[...document.querySelector('#sessions tbody tr').children].map((td) => td.textContent).slice(3).join('|') === 'live|1|no acks'`)
	if got := consoleSessions(t, a.HTTPURL, basic, 1001); len(got) != 1 || got[0].Position == nil ||
		*got[0].Position != (consolePosition{Epoch: got[0].Position.Epoch, Sent: 1, State: "live"}) || got[0].Position.Epoch == "" {
		t.Errorf("console sessions of 1001 = %+v, want one on b, live, sent_seq 1, no acks", got)
	}
	if path := os.Getenv("CONSOLE_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(page.ctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(path, png, 0o644)
		}
		if err != nil {
			t.Errorf("screenshot: %v", err)
		}
	}

	page.Do(t, chromedp.SetValue(chromedp.CSS(`#disconnect [name=minutes]`), "5"), chromedp.Click(chromedp.CSS(`#disconnect button[type=submit]`)))
	if code := user.closeCode(t); code != 4003 {
		t.Errorf("the user's session closed with %d, want 4003", code)
	}
	page.Wait(t, `document.querySelector('#revoked').textContent.includes('refused until')`)
	if code := wsStatus(t, b.HTTPURL, "token="+token); code == http.StatusSwitchingProtocols {
		t.Error("a revoked user connected")
	}
	page.Do(t, chromedp.Click(chromedp.ID("lift")))
	page.Wait(t, `document.querySelector('#revoked').textContent === ''`)
	wsDial(t, b.HTTPURL, "token="+token)
	page.NoExceptions(t)
}

// TestConsoleGuard: the console and its API need the operator's
// credentials (or the API key); a user's token is not enough, and an
// action a browser sends from another site is refused even with them.
func TestConsoleGuard(t *testing.T) {
	n := MustStart(t, consoleEnv(t))
	token, _ := jwtauth.Sign([]byte(secret), 1001, time.Now(), time.Hour)
	do := func(method, path, auth string, header ...string) int {
		req, _ := http.NewRequest(method, n.HTTPURL+path, strings.NewReader(`{"title":"t","content":"c"}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+apiKey))
	for _, tt := range []struct {
		name, method, path, auth string
		header                   []string
		want                     int
	}{
		{"page without credentials", "GET", "/console/", "", nil, 401},
		{"api without credentials", "GET", "/console/api/nodes", "", nil, 401},
		{"a user's token", "GET", "/console/api/users/1001", "Bearer " + token, nil, 401},
		{"operator", "GET", "/console/api/users/1001", basic, nil, 200},
		{"api key", "GET", "/console/api/nodes", "Bearer " + apiKey, nil, 200},
		{"wrong password", "GET", "/console/api/nodes", "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:nope")), nil, 401},
		{"same-site push", "POST", "/console/api/users/1001/push", basic, []string{"Sec-Fetch-Site", "same-origin"}, 200},
		{"cross-site push", "POST", "/console/api/users/1001/push", basic, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403},
		{"cross-site disconnect", "POST", "/console/api/users/1001/disconnect", basic, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403},
	} {
		if got := do(tt.method, tt.path, tt.auth, tt.header...); got != tt.want {
			t.Errorf("%s: %s %s answered %d, want %d", tt.name, tt.method, tt.path, got, tt.want)
		}
	}
}

type consolePosition struct {
	Epoch string `json:"epoch"`
	Sent  int64  `json:"sent_seq"`
	Acked int64  `json:"acked_seq"`
	Acks  bool   `json:"acks"`
	State string `json:"state"`
}

type consoleSession struct {
	ID       string           `json:"id"`
	NodeID   string           `json:"node_id"`
	Position *consolePosition `json:"position"`
}

// consoleSessions reads user's sessions from the console's API at base.
func consoleSessions(t *testing.T, base, auth string, user int64) []consoleSession {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/console/api/users/%d", base, user), nil)
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply struct {
		Sessions []consoleSession `json:"sessions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("console user %d: %d, %v", user, resp.StatusCode, err)
	}
	return reply.Sessions
}
