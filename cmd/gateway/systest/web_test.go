package systest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

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

	page.Do(t, chromedp.Navigate(a.HTTPURL+"/web/?user_id=2001&role=landlord"))
	page.Wait(t, `document.getElementById('node-id').textContent === 'a'`)
	body := fmt.Sprintf(`{"landlord_id":2001,"user_id":1001,"user_name":"张三","house_id":3001,"reserve_time":%q}`, future(30*time.Hour))
	if code, out := call(t, "POST", a.HTTPURL+"/house/reserve", "", body); code != 201 {
		t.Fatalf("reserve: %d %v", code, out)
	}
	page.Wait(t, `document.querySelectorAll('#messages li').length === 1`)
	page.Wait(t, `document.querySelector('#reservations li[data-status=pending]') !== null`)
	page.Do(t, chromedp.Click(chromedp.CSS(`#reservations li[data-status=pending] button[data-verb=confirm]`)))
	page.Wait(t, `document.getElementById('answer').textContent.includes('→ 200') && document.getElementById('answer').textContent.includes('"status": "confirmed"')`)
	page.Wait(t, `document.querySelector('#reservations li[data-status=confirmed]') !== null`)
	page.Wait(t, `document.getElementById('acked').textContent === '1'`)

	// Drain node a; publish while the page has no node; start a2 on a's address.
	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(); err != nil {
		t.Fatalf("node a exit: %v", err)
	}
	body = fmt.Sprintf(`{"landlord_id":2001,"user_id":1002,"user_name":"李四","house_id":3001,"reserve_time":%q}`, future(31*time.Hour))
	if code, out := call(t, "POST", b.HTTPURL+"/house/reserve", "", body); code != 201 {
		t.Fatalf("reserve on b: %d %v", code, out)
	}
	MustStart(t, append(withNode(env, "a2"), "GATEWAY_HTTP_ADDR="+strings.TrimPrefix(a.HTTPURL, "http://")))
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
