package systest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/houseview/gateway/pkg/testenv"
)

// TestDemoPage drives the demo page (/web/) in two tabs against two nodes
// sharing a database and Redis. The tenant 1001 (page from node a, which it
// connects to, with node b next in ?nodes=) finds house 3001 with the filters
// and books it from its card; the landlord 2001 (page from node b) sees the
// request arrive live and confirms it from its row; the tenant's page shows
// the confirmation, and a reminder the tenant sends appears on both pages.
// Then node a is killed: a push sent while the tenant's page has no node is
// shown once the page reconnects to b (the badge names b and counts one
// reconnect), a cancellation by the landlord arrives live, and nothing is
// shown twice. CJK text must render (fonts-noto-cjk).
func TestDemoPage(t *testing.T) {
	// The tenant's page comes from a and moves to b: b must allow a's
	// origin. A first retry after 1.5-3 s leaves time to publish while the
	// page has no node.
	env := sharedEnv(t, "GATEWAY_WS_ALLOWED_ORIGINS=*", "GATEWAY_WS_RECONNECT_BASE=3s", "GATEWAY_WS_RECONNECT_MAX=6s")
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	browser := MustBrowser(t)
	tenant, landlord := browser.NewTab(t), browser.NewTab(t)
	shots := newScreenshots(t, map[string]*browserPage{"tenant": tenant, "landlord": landlord})
	host := func(p *testenv.Gateway) string { return strings.TrimPrefix(p.HTTPURL, "http://") }

	landlord.Do(t, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(b.HTTPURL+"/web/?user_id=2001&role=landlord"))
	tenant.Do(t, chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(fmt.Sprintf("%s/web/?user_id=1001&role=tenant&nodes=%s,%s", a.HTTPURL, host(a), host(b))))
	landlord.Wait(t, `document.getElementById('node-id').textContent === 'b' && document.getElementById('state').className === 'open'`)
	tenant.Wait(t, `document.getElementById('node-id').textContent === 'a' && document.getElementById('state').className === 'open'`)
	tenant.Wait(t, `document.querySelector('#houses[aria-busy=false] .house') !== null`)
	for name, p := range map[string]*browserPage{"tenant": tenant, "landlord": landlord} {
		if !evaluate[bool](t, p, cjkRenders) {
			t.Errorf("%s's page: CJK text does not render (no CJK font? apt-get install fonts-noto-cjk)", name)
		}
	}

	// The tenant narrows the recommended houses to find 3001 and books it.
	tenant.Do(t, chromedp.SetValue(chromedp.ID("filter-city"), "北京"), chromedp.SetValue(chromedp.ID("filter-district"), "朝阳"),
		chromedp.SetValue(chromedp.ID("filter-rooms"), "2"), chromedp.Click(chromedp.ID("filter-submit")))
	tenant.Wait(t, `(() => {
		const card = document.querySelector('#houses[aria-busy=false] .house[data-house-id="3001"]');
		return card !== null && ['精装修两室一厅', '北京 · 朝阳', '¥', '2 室'].every((s) => card.textContent.includes(s));
	})()`)
	tenant.Do(t, chromedp.Click(chromedp.CSS(`#houses .house[data-house-id="3001"] button`)))
	tenant.Wait(t, `!document.getElementById('book').hidden`)
	tenant.Do(t, chromedp.SetValue(chromedp.CSS(`#book-form [name=user_name]`), "张三"),
		chromedp.Click(chromedp.CSS(`#book-form button[type=submit]`)))
	tenant.Wait(t, `document.getElementById('answer').textContent.includes('→ 201')`)
	tenant.Wait(t, `[...document.querySelectorAll('#reservations li[data-status=pending]')].some((li) => li.textContent.includes('精装修两室一厅'))`)
	id := evaluate[string](t, tenant, `document.querySelector('#reservations li').dataset.id`)
	row := fmt.Sprintf(`#reservations li[data-id="%s"]`, id)

	// The landlord sees it live and confirms; the tenant sees the confirmation.
	landlord.Wait(t, fmt.Sprintf(`document.querySelector('%s[data-status=pending]') !== null`, row))
	landlord.Wait(t, `[...document.querySelectorAll('#messages li[data-type="1"]')].some((li) => li.textContent.includes('张三 预约了您的房源《精装修两室一厅》'))`)
	shots.Take(t, "booked")
	landlord.Do(t, chromedp.Click(chromedp.CSS(row+` button[data-verb=confirm]`)))
	landlord.Wait(t, fmt.Sprintf(`document.querySelector('%s[data-status=confirmed]') !== null`, row))
	tenant.Wait(t, `[...document.querySelectorAll('#messages li[data-type="2"]')].some((li) => li.textContent.includes('预约已确认'))`)
	tenant.Wait(t, fmt.Sprintf(`document.querySelector('%s[data-status=confirmed]') !== null`, row))

	// A reminder sent by the tenant appears on both pages.
	tenant.Do(t, chromedp.Click(chromedp.CSS(row+` button[data-verb=remind]`)))
	for _, p := range []*browserPage{tenant, landlord} {
		p.Wait(t, `[...document.querySelectorAll('#reminders .reminder')].some((r) => r.textContent.includes('看房提醒'))`)
	}
	// Personal recommendations leave out the house just booked.
	tenant.Do(t, chromedp.Click(chromedp.ID("tab-personal")))
	tenant.Wait(t, `document.querySelector('#houses[data-tab=personal][aria-busy=false] .house') !== null &&
		!document.querySelector('#houses .house[data-house-id="3001"]')`)
	shots.Take(t, "confirmed")

	// Node a dies. A push while the tenant's page has no node, then the page
	// moves to node b and shows it.
	if err := a.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.Exited()
	tenant.Wait(t, `document.getElementById('state').className === 'waiting'`)
	body := `{"user_ids":[1001],"title":"系统通知","content":"节点 a 已下线，页面应已切换到节点 b"}`
	if code, out := call(t, "POST", b.HTTPURL+"/api/push", apiKey, body); code != 200 {
		t.Fatalf("push on b: %d %v", code, out)
	}
	if !evaluate[bool](t, tenant, `document.getElementById('reconnects').textContent === '0' && document.getElementById('state').className !== 'open'`) {
		t.Fatal("the tenant's page reconnected before the push was sent: the test proves nothing about catching up")
	}
	tenant.Wait(t, `document.getElementById('node-id').textContent === 'b' && document.getElementById('reconnects').textContent === '1' &&
		document.getElementById('state').className === 'open'`)
	tenant.Wait(t, `[...document.querySelectorAll('#messages li[data-type="6"]')].some((li) => li.textContent.includes('节点 a 已下线'))`)
	shots.Take(t, "failover")

	// The landlord cancels; the tenant's page (on b now) shows it live.
	landlord.Do(t, chromedp.SetValue(chromedp.ID("reason"), "临时有事"), chromedp.Click(chromedp.CSS(row+` button[data-verb=cancel]`)))
	landlord.Wait(t, fmt.Sprintf(`document.querySelector('%s[data-status=cancelled]') !== null`, row))
	tenant.Wait(t, `[...document.querySelectorAll('#messages li[data-type="3"]')].some((li) => li.textContent.includes('临时有事'))`)
	tenant.Wait(t, fmt.Sprintf(`document.querySelector('%s[data-status=cancelled]') !== null`, row))

	// Each notification once, newest first: confirmed, reminder, push, cancelled.
	tenant.Wait(t, `[...document.querySelectorAll('#messages li')].map((li) => li.dataset.type + ':' + li.dataset.seq).join() === '3:4,6:3,4:2,2:1'`)
	landlord.Wait(t, `[...document.querySelectorAll('#messages li')].map((li) => li.dataset.type + ':' + li.dataset.seq).join() === '4:2,1:1'`)

	for _, p := range []*browserPage{tenant, landlord} {
		p.NoExceptions(t)
	}
	shots.Take(t, "done")
}

// TestDemoPageBell: one tenant in two windows, on two nodes. Two pushes
// raise both windows' bells to 2; reading one notification in the first
// window lowers both to 1 and shows it read in both; "mark all read" in
// the second brings both to 0.
func TestDemoPageBell(t *testing.T) {
	env := sharedEnv(t, "GATEWAY_WS_ALLOWED_ORIGINS=*")
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	browser := MustBrowser(t)
	phone, laptop := browser.NewTab(t), browser.NewTab(t)
	shots := newScreenshots(t, map[string]*browserPage{"phone": phone, "laptop": laptop})
	both := []*browserPage{phone, laptop}
	phone.Do(t, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(a.HTTPURL+"/web/?user_id=1001&role=tenant"))
	laptop.Do(t, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(b.HTTPURL+"/web/?user_id=1001&role=tenant"))
	phone.Wait(t, `document.getElementById('node-id').textContent === 'a' && document.getElementById('state').className === 'open'`)
	laptop.Wait(t, `document.getElementById('node-id').textContent === 'b' && document.getElementById('state').className === 'open'`)
	bell := func(n int) string {
		return fmt.Sprintf(`document.getElementById('unread').textContent === '%d' && document.getElementById('bell').classList.contains('unread') === %t`, n, n > 0)
	}
	for _, p := range both {
		p.Wait(t, bell(0))
	}
	for _, content := range []string{"第一条 first", "第二条 second"} {
		if code, out := call(t, "POST", a.HTTPURL+"/api/push", apiKey, fmt.Sprintf(`{"user_ids":[1001],"title":"系统通知","content":%q}`, content)); code != 200 {
			t.Fatalf("push: %d %v", code, out)
		}
	}
	for _, p := range both {
		p.Wait(t, `document.querySelectorAll('#messages li.unread').length === 2`)
		p.Wait(t, bell(2))
	}
	shots.Take(t, "two-unread")

	phone.Do(t, chromedp.Click(chromedp.CSS(`#messages li[data-seq="1"]`)))
	phone.Wait(t, `document.querySelector('#messages li[data-seq="1"]').classList.contains('read')`)
	for _, p := range both {
		p.Wait(t, bell(1))
		p.Wait(t, `document.querySelector('#messages li[data-seq="1"]').classList.contains('read') &&
			document.querySelector('#messages li[data-seq="2"]').classList.contains('unread')`)
	}
	shots.Take(t, "one-read")

	laptop.Do(t, chromedp.Click(chromedp.ID("mark-all")))
	for _, p := range both {
		p.Wait(t, bell(0))
		p.Wait(t, `document.querySelectorAll('#messages li.unread').length === 0`)
	}
	for _, p := range both {
		p.NoExceptions(t)
	}
	shots.Take(t, "all-read")
}

// TestDemoPageJWT checks the page in jwt mode: a pasted token connects,
// the houses load with it, and a booking from a card is the token's user's.
func TestDemoPageJWT(t *testing.T) {
	env := procEnv(t, "GATEWAY_JWT_SECRET="+secret, "GATEWAY_API_KEY="+apiKey)
	n := MustStart(t, withNode(env, "j"))
	cmd := exec.Command(binary, "token", "-user", "1001", "-ttl", "1h")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gateway token: %v", err)
	}
	page := MustBrowser(t)
	shots := newScreenshots(t, map[string]*browserPage{"tenant": page})

	page.Do(t, chromedp.Navigate(n.HTTPURL+"/web/?role=tenant"),
		chromedp.SetValue(chromedp.ID("token"), strings.TrimSpace(string(out))), chromedp.Click(chromedp.ID("connect")))
	page.Wait(t, `document.getElementById('node-id').textContent === 'j' && document.getElementById('state').className === 'open' &&
		document.getElementById('conn-user').textContent === '1001'`)
	page.Do(t, chromedp.Click(chromedp.ID("tab-personal")))
	page.Wait(t, `document.querySelector('#houses[data-tab=personal][aria-busy=false] .house') !== null`)
	page.Do(t, chromedp.Click(chromedp.CSS(`#houses .house button`)))
	page.Do(t, chromedp.SetValue(chromedp.CSS(`#book-form [name=user_name]`), "张三"),
		chromedp.Click(chromedp.CSS(`#book-form button[type=submit]`)))
	page.Wait(t, `document.getElementById('answer').textContent.includes('→ 201')`)
	page.Wait(t, `[...document.querySelectorAll('#reservations li[data-status=pending]')].some((li) => li.textContent.includes('张三 (1001)'))`)
	page.NoExceptions(t)
	shots.Take(t, "booked")
}

// cjkRenders is true when the page's font draws CJK characters: two
// different ones come out as different, non-blank pixels. Without a CJK
// font both are the same missing-glyph box, or nothing.
const cjkRenders = `(() => {
	const font = '40px ' + getComputedStyle(document.body).fontFamily;
	const draw = (ch) => {
		const c = document.createElement('canvas');
		c.width = 48;
		c.height = 48;
		const g = c.getContext('2d');
		g.font = font;
		g.textBaseline = 'top';
		g.fillText(ch, 4, 4);
		return g.getImageData(0, 0, 48, 48).data.join();
	};
	const blank = draw(' '), a = draw('精'), b = draw('装');
	return a !== blank && b !== blank && a !== b;
})()`

// evaluate runs a JavaScript expression in the tab.
func evaluate[T any](tb testing.TB, p *browserPage, expr string) T {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// screenshots writes full-page PNGs of tabs into
// $TMPDIR/demo-screenshots-<test>, which outlives the test: it is kept and
// logged when the test fails (with a last shot of every tab) or when
// DEMO_SCREENSHOTS_KEEP is set, and removed when the test passes.
type screenshots struct {
	dir  string
	tabs map[string]*browserPage
	n    int
}

// newScreenshots empties the test's directory. Call it after opening the
// tabs, so that the failure shots are taken before they close.
func newScreenshots(t *testing.T, tabs map[string]*browserPage) *screenshots {
	dir := filepath.Join(os.TempDir(), "demo-screenshots-"+strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &screenshots{dir: dir, tabs: tabs}
	t.Cleanup(func() {
		switch {
		case t.Failed():
			s.Take(t, "failed")
			t.Logf("screenshots kept in %s", dir)
		case os.Getenv("DEMO_SCREENSHOTS_KEEP") != "":
			t.Logf("screenshots in %s (DEMO_SCREENSHOTS_KEEP)", dir)
		default:
			os.RemoveAll(dir)
		}
	})
	return s
}

// Take writes a shot of every tab, named after the step. A shot that fails
// is logged, not fatal: shots are evidence, not checks.
func (s *screenshots) Take(tb testing.TB, step string) {
	s.n++
	names := make([]string, 0, len(s.tabs))
	for name := range s.tabs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ctx, cancel := context.WithTimeout(s.tabs[name].ctx, 15*time.Second)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err == nil {
			err = os.WriteFile(filepath.Join(s.dir, fmt.Sprintf("%02d-%s-%s.png", s.n, step, name)), png, 0o644)
		}
		if err != nil {
			tb.Logf("screenshot %s of %s: %v", step, name, err)
		}
	}
}
