package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/web"
)

// TestMountWeb serves the test page from the embedded files.
func TestMountWeb(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	httpapi.MountWeb(e, web.Files)
	srv := httptest.NewServer(e)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	type answer struct {
		Status      int
		ContentType string
		Location    string
		CORS        string
	}
	tests := []struct {
		path     string
		want     answer
		contains []string
	}{
		{"/", answer{Status: 302, ContentType: "text/html; charset=utf-8", Location: "/web/"}, nil},
		{"/web", answer{Status: 301, ContentType: "text/html; charset=utf-8", Location: "/web/"}, nil},
		{"/web/", answer{Status: 200, ContentType: "text/html; charset=utf-8"},
			[]string{`<script type="module" src="app.js"></script>`, `<link rel="stylesheet" href="style.css">`, "预约看房"}},
		{"/web/index.html", answer{Status: 200, ContentType: "text/html; charset=utf-8"}, []string{`<script type="module" src="app.js"></script>`}},
		{"/web/app.js", answer{Status: 200, ContentType: "text/javascript; charset=utf-8"},
			[]string{"import { connect, CLOSE_CODES } from './gateway-client.js';", "/house/reserve", "/house/personal-recommend", "/api/messages"}},
		{"/web/style.css", answer{Status: 200, ContentType: "text/css; charset=utf-8"}, []string{"Noto Sans CJK SC"}},
		{"/web/gateway-client.js", answer{Status: 200, ContentType: "text/javascript; charset=utf-8", CORS: "*"},
			[]string{"export function connect(", "action: 'ping'", "gateway:pos:"}},
		{"/web/gateway-client.d.ts", answer{Status: 200, ContentType: "application/typescript; charset=utf-8", CORS: "*"},
			[]string{"export function connect(options: ConnectOptions): GatewayClient;", "pongTimeout?: number;"}},
		{"/web/web.go", answer{Status: 404, ContentType: "application/json; charset=utf-8"}, []string{`"not_found"`}},
		{"/web/nope/", answer{Status: 404, ContentType: "application/json; charset=utf-8"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := client.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			got := answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Location: resp.Header.Get("Location"),
				CORS: resp.Header.Get("Access-Control-Allow-Origin")}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("GET %s (-want +got):\n%s", tt.path, diff)
			}
			for _, s := range tt.contains {
				if !strings.Contains(string(body), s) {
					t.Errorf("GET %s: body does not contain %q", tt.path, s)
				}
			}
		})
	}
}

// chromium is the browser TestWebPageInBrowser drives (Debian's package).
const chromium = "/usr/bin/chromium"

// TestWebPageInBrowser drives the page in headless Chromium against real
// nodes as the landlord: a booking made over REST appears live, confirmed
// from its row; when the node drains, the page reconnects to the node's
// successor on the same address with the client's stored position and
// shows what was published meanwhile, once; a refused handshake stops it
// retrying.
func TestWebPageInBrowser(t *testing.T) {
	env := sharedEnv(t, "GATEWAY_WS_RECONNECT_MAX=1s")
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	page := MustBrowser(t)

	page.Do(t, chromedp.Navigate(a.httpURL+"/web/?user_id=2001&role=landlord"))
	page.Wait(t, `document.getElementById('node-id').textContent === 'a'`)
	body := fmt.Sprintf(`{"landlord_id":2001,"user_id":1001,"user_name":"张三","house_id":3001,"reserve_time":%q}`, future(30*time.Hour))
	if code, out := call(t, "POST", a.httpURL+"/house/reserve", "", body); code != 201 {
		t.Fatalf("reserve: %d %v", code, out)
	}
	page.Wait(t, `document.querySelectorAll('#messages li').length === 1`)
	page.Wait(t, `document.querySelector('#reservations li[data-status=pending]') !== null`)
	page.Do(t, chromedp.Click(chromedp.CSS(`#reservations li[data-status=pending] button[data-verb=confirm]`)))
	page.Wait(t, `document.getElementById('answer').textContent.includes('→ 200') && document.getElementById('answer').textContent.includes('"status": "confirmed"')`)
	page.Wait(t, `document.querySelector('#reservations li[data-status=confirmed]') !== null`)
	page.Wait(t, `document.getElementById('acked').textContent === '1'`)

	// Drain node a; publish while the page has no node; start a2 on a's address.
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-a.exited; err != nil {
		t.Fatalf("node a exit: %v", err)
	}
	body = fmt.Sprintf(`{"landlord_id":2001,"user_id":1002,"user_name":"李四","house_id":3001,"reserve_time":%q}`, future(31*time.Hour))
	if code, out := call(t, "POST", b.httpURL+"/house/reserve", "", body); code != 201 {
		t.Fatalf("reserve on b: %d %v", code, out)
	}
	MustStart(t, append(withNode(env, "a2"), "GATEWAY_HTTP_ADDR="+strings.TrimPrefix(a.httpURL, "http://")))
	page.Wait(t, `document.getElementById('node-id').textContent === 'a2'`)
	page.Wait(t, `[...document.querySelectorAll('#messages li')].map(li => li.dataset.seq).join() === '2,1'`)
	page.Wait(t, `document.querySelectorAll('#reservations li[data-status=pending]').length === 1`)
	page.Wait(t, `document.getElementById('log').textContent.includes('closed 1001')`)
	page.Wait(t, `document.getElementById('reconnects').textContent !== '0'`)
	page.Wait(t, `JSON.parse(localStorage.getItem('gateway:pos:2001')).seq === 2`)

	// A handshake the gateway refuses is reported, not retried.
	page.Do(t, chromedp.SetValue(chromedp.ID("user-id"), "x"), chromedp.Click(chromedp.ID("connect")))
	page.Wait(t, `document.getElementById('state').textContent.includes('invalid_argument')`)
	page.NoExceptions(t)
}

// browserPage is one tab of a headless Chromium.
type browserPage struct {
	ctx        context.Context
	wg         sync.WaitGroup // the exception recorder
	mu         sync.Mutex
	exceptions []string
}

// MustBrowser starts Chromium with a fresh profile and opens a tab that
// records the page's uncaught exceptions.
func MustBrowser(tb testing.TB) *browserPage {
	tb.Helper()
	if _, err := os.Stat(chromium); err != nil {
		tb.Fatalf("this test needs Chromium (apt-get install chromium): %v", err)
	}
	dir, err := os.MkdirTemp("", "gateway-chromium-")
	if err != nil {
		tb.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(dir))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	p := &browserPage{ctx: ctx}
	tb.Cleanup(func() {
		cancel()
		cancelAlloc()
		p.wg.Wait()
		// Chromium's helpers may still write to the profile for a moment.
		for range 50 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("starting %s: %v", chromium, err)
	}
	p.recordExceptions()
	return p
}

// NewTab opens another tab of p's browser, in a browser context of its own
// (its own storage, like another profile) and a window of its own (never
// hidden, so its timers run at full speed). It closes with the test.
func (p *browserPage) NewTab(tb testing.TB) *browserPage {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithNewBrowserContext())
	tab := &browserPage{ctx: ctx}
	tb.Cleanup(func() {
		cancel()
		tab.wg.Wait()
	})
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("opening a tab: %v", err)
	}
	tab.recordExceptions()
	return tab
}

// recordExceptions collects the tab's uncaught exceptions until it closes.
func (p *browserPage) recordExceptions() {
	events := chromedp.Events(p.ctx, runtime.ExceptionThrown)
	p.wg.Go(func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.exceptions = append(p.exceptions, (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
			p.mu.Unlock()
		}
	})
}

// Do runs actions in the tab, each step within 30 s.
func (p *browserPage) Do(tb testing.TB, steps ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.Fatalf("browser: %v\n%s", err, p.eventLog())
	}
}

// Wait waits up to 30 s until the JavaScript expression is true.
func (p *browserPage) Wait(tb testing.TB, expr string) {
	tb.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		tb.Fatalf("waiting for %s: %v\npage log:\n%s", expr, err, p.eventLog())
	}
}

// NoExceptions fails when the page threw an uncaught exception.
func (p *browserPage) NoExceptions(tb testing.TB) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.exceptions {
		tb.Errorf("page exception: %s", e)
	}
}

// eventLog is the page's own event log, for failure messages.
func (p *browserPage) eventLog() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('log') ? document.getElementById('log').textContent : ''`))
	return s
}
