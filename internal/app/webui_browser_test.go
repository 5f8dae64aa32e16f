package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// webArtifacts is where the war-room screenshots go (gitignored).
var webArtifacts = filepath.Join("..", "..", "test-artifacts", "webui")

// tabUI drives one signed-in browser tab through the war room.
type tabUI struct {
	t   *testing.T
	tab context.Context
	e   *env
}

func (b tabUI) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.tab, actions...))
}

func (b tabUI) version() int {
	b.t.Helper()
	v, err := chromedp.Run(b.tab, chromedp.Evaluate[string](`document.querySelector('[data-testid="war-room"]').dataset.version`))
	require.NoError(b.t, err)
	n, err := strconv.Atoi(v)
	require.NoError(b.t, err)
	return n
}

// waitVersion waits until the war room on the tab shows version n: after a submit, or a live swap.
func (b tabUI) waitVersion(n int) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="war-room"][data-version="` + strconv.Itoa(n) + `"]`)))
}

// submit clicks a control that runs one command, and waits for the war room of the next version.
func (b tabUI) submit(sel string, fill ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	v := b.version()
	b.do(fill...)
	b.do(chromedp.Click(chromedp.CSS(sel)))
	b.waitVersion(v + 1)
	errText, err := chromedp.Run(b.tab, chromedp.Evaluate[string](
		`(document.querySelector('[data-testid="error"]') || {textContent: ""}).textContent`))
	require.NoError(b.t, err)
	require.Empty(b.t, errText, "after %s", sel)
}

func (b tabUI) stage() string {
	b.t.Helper()
	s, err := chromedp.Run(b.tab, chromedp.Text(chromedp.CSS(`[data-testid="current-stage"]`)))
	require.NoError(b.t, err)
	return s
}

func (b tabUI) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.tab, chromedp.FullScreenshot(100))
	require.NoError(b.t, err)
	require.NoError(b.t, os.MkdirAll(webArtifacts, 0o755))
	require.NoError(b.t, os.WriteFile(filepath.Join(webArtifacts, name), png, 0o644))
}

func (b tabUI) signIn(who string) {
	b.t.Helper()
	require.NoError(b.t, b.e.app.Accounts.SetPassword(b.t.Context(), b.e.emails[who], testPassword))
	b.do(chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(b.e.srv.URL+"/app/login"),
		chromedp.SendKeys(chromedp.CSS(`#email`), b.e.emails[who]),
		chromedp.SendKeys(chromedp.CSS(`#password`), testPassword),
		chromedp.Click(chromedp.CSS(`form[data-testid="login-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signed-in-as"]`)))
}

// A responder who has never seen mim runs a complete major incident through all six stages using only the UI, while
// a second person (another browser session) watches the changes arrive without reloading.
func TestWebRunsAMajorIncidentThroughAllSixStagesInABrowserWhileAnotherSessionWatches(t *testing.T) {
	t.Parallel()
	if chromium() == "" {
		t.Skip("no chromium, chromium-browser or google-chrome on PATH")
	}
	e := setup(t)
	tab := browser(t, 60*time.Second)
	watcherTab, cancel := chromedp.NewContext(tab, chromedp.WithNewBrowserContext()) // its own cookies
	t.Cleanup(cancel)
	ic := tabUI{t: t, tab: tab, e: e}
	watcher := tabUI{t: t, tab: watcherTab, e: e}
	ic.signIn("ic")
	watcher.signIn("admin") // on the incident list, which is empty

	// Declare, with the verdict shown before submitting.
	ic.do(chromedp.Navigate(e.srv.URL+"/app/incidents/new"),
		chromedp.Click(chromedp.CSS(`input[name="components"][value="control-plane-eu"]`)),
		chromedp.Click(chromedp.CSS(`input[name="components"][value="swg-eu"]`)),
		chromedp.SetValue(chromedp.CSS(`#severity`), "critical"),
		chromedp.SetValue(chromedp.CSS(`#urgency`), "immediate"),
		chromedp.Click(chromedp.CSS(`input[name="business_impact"][value="security_enforcement"]`)),
		chromedp.SendKeys(chromedp.CSS(`#title`), "EU control plane failure"))
	_, err := chromedp.Run(tab, chromedp.Poll[bool](
		`(document.querySelector('[data-testid="verdict-kind"]') || {textContent: ""}).textContent.includes("Major incident")`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the live verdict says major before submitting")
	ic.do(chromedp.Click(chromedp.CSS(`[data-testid="declare-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="war-room"]`)))
	loc, err := chromedp.Run(tab, chromedp.Location())
	require.NoError(t, err)
	require.Contains(t, ic.stage(), "Detection & Declaration")
	ic.shot("1-detection-declaration.png")

	_, err = chromedp.Run(watcherTab, chromedp.Poll[bool](
		`document.querySelectorAll('[data-testid="incidents-active"] [data-testid="incident-row"]').length === 1`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the new incident appears on the watcher's list without a reload")
	watcher.do(chromedp.Navigate(loc), chromedp.WaitVisible(chromedp.CSS(`[data-testid="war-room"]`)))
	require.Eventually(t, func() bool { return e.app.UI.Live.Watchers(strings.TrimPrefix(loc, e.srv.URL+"/app/incidents/")) >= 2 },
		10*time.Second, 20*time.Millisecond, "both war rooms follow the incident")

	// 1 → 2: assign and acknowledge the IC, from the guards' own controls.
	ic.submit(`[data-testid="guard-ic-submit"]`, chromedp.SetValue(chromedp.CSS(`#guard-ic-user`), e.emails["ic"]))
	watcher.waitVersion(ic.version()) // the watcher sees it live
	ic.submit(`[data-testid="acknowledge"]`)
	ic.submit(`[data-testid="move-next"]`)
	require.Contains(t, ic.stage(), "Mobilization")
	moved := time.Now()
	watcher.waitVersion(ic.version())
	t.Logf("the watcher's war room showed the move %v after the mover's page did", time.Since(moved).Round(time.Millisecond))
	require.Contains(t, watcher.stage(), "Mobilization", "the watcher's tracker moved without a reload")
	ic.shot("2-mobilization.png")

	// 2 → 3: bridge, Communications Lead, Technical Lead.
	ic.submit(`[data-testid="guard-bridge-submit"]`,
		chromedp.SendKeys(chromedp.CSS(`#guard-bridge-url`), "https://meet.example.com/eu-cp"))
	ic.submit(`[data-testid="guard-comms-submit"]`, chromedp.SetValue(chromedp.CSS(`#guard-comms-user`), e.emails["comms"]))
	ic.submit(`[data-testid="guard-tech-submit"]`, chromedp.SetValue(chromedp.CSS(`#guard-tech-user`), e.emails["tech"]))
	ic.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="join-technical"]`)))
	ic.submit(`[data-testid="move-next"]`)
	require.Contains(t, ic.stage(), "Diagnosis & Action")
	ic.shot("3-diagnosis-action.png")

	// 3 → 4: an action. Meanwhile the watcher types an action of their own: their page says the incident changed
	// instead of swapping under their hands, and their submit is refused as stale with what they typed kept (BC-34).
	watcher.waitVersion(ic.version())
	watcher.do(chromedp.SendKeys(chromedp.CSS(`#actions-description`), "Watcher's note"))
	ic.submit(`[data-testid="guard-action-submit"]`,
		chromedp.SendKeys(chromedp.CSS(`#guard-action-description`), "Rolled back the faulty policy push"))
	_, err = chromedp.Run(watcherTab, chromedp.Poll[bool](
		`document.getElementById("live-note").textContent.includes("Someone changed this incident")`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the typing watcher is told, not swapped")
	watcher.do(chromedp.Click(chromedp.CSS(`[data-testid="actions-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error"]`)))
	stale, err := chromedp.Run(watcherTab, chromedp.Text(chromedp.CSS(`[data-testid="error"]`)))
	require.NoError(t, err)
	require.Contains(t, stale, "changed since you loaded it")
	kept, err := chromedp.Run(watcherTab, chromedp.Value(chromedp.CSS(`#actions-description`)))
	require.NoError(t, err)
	require.Equal(t, "Watcher's note", kept)
	watcher.shot("watcher-stale-form.png")
	ic.submit(`[data-testid="move-next"]`)
	require.Contains(t, ic.stage(), "Status Updates")

	// 4 → 5: the first public update (previewed as the public page will show it), and the fix.
	ic.do(chromedp.SetValue(chromedp.CSS(`[data-testid="update-status"]`), "identified"),
		chromedp.SetValue(chromedp.CSS(`#comp-control-plane-eu`), "major_outage"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="update-body"]`), "We found **the cause** and are rolling back."))
	_, err = chromedp.Run(tab, chromedp.Poll[bool](
		`document.querySelector('[data-testid="update-preview"]').innerHTML.includes("<strong>the cause</strong>")`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the composer previews the Markdown")
	ic.submit(`[data-testid="draft-submit"]`, chromedp.Click(chromedp.CSS(`[data-testid="publish-now"]`)))
	// The cadence clock runs from the publication (30 min for critical) and turns overdue by itself on an open page.
	clock, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(`[data-testid="cadence-clock"]`)))
	require.NoError(t, err)
	require.Contains(t, clock, "next update due in 30 min")
	turned, err := chromedp.Run(tab, chromedp.Evaluate[string](`(function () {
		var due = Date.parse(document.querySelector('[data-testid="cadence-clock"] [data-due]').getAttribute('data-due'));
		var real = Date.now;
		Date.now = function () { return due + 3 * 60000; };
		window.mimTickClocks();
		Date.now = real;
		return document.querySelector('[data-testid="cadence-clock"] [data-testid="overdue"]').textContent;
	})()`))
	require.NoError(t, err)
	require.Contains(t, turned, "update overdue by 3 min")
	ic.submit(`[data-testid="guard-restoration-submit"]`,
		chromedp.SendKeys(chromedp.CSS(`#guard-restoration-description`), "Policy distribution restored"))
	ic.shot("4-status-updates.png")
	ic.submit(`[data-testid="move-next"]`)
	require.Contains(t, ic.stage(), "Service Restoration")

	// 5 → 6: verification and the final resolved update, then conclude.
	ic.submit(`[data-testid="guard-verify-submit"]`,
		chromedp.SendKeys(chromedp.CSS(`#guard-verify-method`), "Synthetic policy checks green in every EU PoP"))
	ic.submit(`[data-testid="draft-submit"]`,
		chromedp.SetValue(chromedp.CSS(`[data-testid="update-status"]`), "resolved"),
		chromedp.SetValue(chromedp.CSS(`#comp-control-plane-eu`), "operational"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="update-body"]`), "Resolved: policies are enforced again."),
		chromedp.Click(chromedp.CSS(`[data-testid="publish-now"]`)))
	ic.shot("5-service-restoration.png")
	ic.submit(`[data-testid="move-next"]`)
	require.Contains(t, ic.stage(), "MI Conclusion")
	ic.shot("6-concluded.png")
	watcher.waitVersion(ic.version())
	require.Contains(t, watcher.stage(), "MI Conclusion", "the watcher saw the conclusion arrive")
	watcher.shot("watcher-concluded.png")

	// Keyboard: "?" lists the shortcuts; "a" goes to the action log's input. At tablet width nothing overflows.
	watcher.do(chromedp.KeyEvent("?"))
	_, err = chromedp.Run(watcherTab, chromedp.Poll[bool](`document.getElementById("shortcuts").open`,
		chromedp.WithPollingTimeout(5*time.Second)))
	require.NoError(t, err, "? opens the shortcuts")
	ic.do(chromedp.Navigate(e.srv.URL+"/app/incidents"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="filters"]`)),
		chromedp.KeyEvent("/"))
	focused, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.activeElement.id`))
	require.NoError(t, err)
	require.Equal(t, "q", focused, "/ focuses the search")
	ic.do(chromedp.EmulateViewport(820, 1180), chromedp.Navigate(loc), chromedp.WaitVisible(chromedp.CSS(`[data-testid="war-room"]`)))
	fits, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	require.NoError(t, err)
	require.True(t, fits, "the war room fits a tablet's width")
	ic.shot("tablet-war-room.png")

	rec, err := e.app.Incidents.Get(t.Context(), strings.TrimPrefix(loc, e.srv.URL+"/app/incidents/"))
	require.NoError(t, err)
	require.Equal(t, "concluded", string(rec.State.Stage))
	require.False(t, rec.State.Bridges["technical"].Open(), "concluding closed the technical bridge")
}
