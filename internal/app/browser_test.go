package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// browserArtifacts is where the browser tests leave their screenshots, at the repository root (gitignored).
var browserArtifacts = filepath.Join("..", "..", "test-artifacts", "statuspage")

// chromium finds a Chromium or Chrome binary on PATH; "" when there is none.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return ""
}

// browser starts a headless Chromium for the test, with a fresh profile, and returns a tab's context. Call it after
// the server is started: the tab holds a live stream open, and a test server waits for open requests when it closes.
func browser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium, chromium-browser or google-chrome on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is small in containers
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	require.NoError(t, chromedp.Do(tab), "start chromium")
	return tab
}

func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(browserArtifacts, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(browserArtifacts, name), png, 0o644))
}

// The status page in a real browser: a published update appears without a reload, times are shown in the viewer's
// zone with the zone named, and the page fits a phone.
func TestStatusPageShowsAPublishedUpdateLiveInABrowser(t *testing.T) {
	t.Parallel()
	if chromium() == "" {
		t.Skip("no chromium, chromium-browser or google-chrome on PATH")
	}
	e := setup(t)
	tab := browser(t, 40*time.Second) // after setup: its cleanup closes the browser, and its stream, first
	key := e.declareMajor()
	e.engage(key)

	// The viewer is in New York; the page is served in UTC.
	_, err := chromedp.Call(tab, emulation.SetTimezoneOverride,
		emulation.SetTimezoneOverrideParams{TimezoneID: "America/New_York"})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tab,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(e.srv.URL+"/"),
	))
	_, err = chromedp.Run(tab, chromedp.Poll[bool](`document.documentElement.dataset.live === "open"`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the page opens its live stream")
	type local struct {
		Text      string `json:"text"`
		Title     string `json:"title"`
		DatesOnly int    `json:"datesOnly"`
	}
	shown, err := chromedp.Run(tab, chromedp.Evaluate[local](`({
		text: document.querySelector("time[data-local]").textContent,
		title: document.querySelector("time[data-local]").title,
		datesOnly: document.querySelectorAll('time[data-local]:not([datetime*="T"])').length,
	})`))
	require.NoError(t, err, "an instant on the page is localised")
	require.Regexp(t, regexp.MustCompile(`\b(EST|EDT|GMT-[45])\b`), shown.Text, "the viewer's zone, named")
	require.Contains(t, shown.Title, "UTC", "the page's own text stays on hover")
	require.Zero(t, shown.DatesOnly, "a date alone (an uptime day) has no zone and is left as it is")
	// A reload would lose this.
	require.NoError(t, chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`window.mimNoReload = true`)))
	screenshot(t, tab, "desktop-before.png")

	const text = "We have found the faulty configuration change and are rolling it back in every region."
	published := time.Now()
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "identified", "body": text,
		"publish": true, "components": map[string]string{"control-plane-eu": "major_outage"}}, 201)
	_, err = chromedp.Run(tab, chromedp.Poll[bool](
		`Array.from(document.querySelectorAll("[data-testid=update-body]")).some(b => b.textContent.includes(`+
			"`"+text+"`"+`))`,
		chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	require.NoError(t, err, "the update appears without a reload")
	t.Logf("the published update appeared in the browser %v after the API answered",
		time.Since(published).Round(time.Millisecond))

	type after struct {
		NoReload   bool   `json:"noReload"`
		Banner     string `json:"banner"`
		Notice     string `json:"notice"`
		UpdateTime string `json:"updateTime"`
		Localized  bool   `json:"localized"`
	}
	_, err = chromedp.Run(tab, chromedp.Poll[bool](`document.querySelector("[data-testid=live-notice]").textContent !== ""`,
		chromedp.WithPollingTimeout(5*time.Second)))
	require.NoError(t, err, "the change is announced")
	got, err := chromedp.Run(tab, chromedp.Evaluate[after](`({
		noReload: window.mimNoReload === true,
		banner: document.querySelector("[data-testid=overall-status-text]").textContent.trim(),
		notice: document.querySelector("[data-testid=live-notice]").textContent,
		updateTime: document.querySelector("[data-testid=update-time]").textContent,
		localized: document.querySelector("[data-testid=update-time]").hasAttribute("data-local"),
	})`))
	require.NoError(t, err)
	require.True(t, got.NoReload, "the page was updated in place")
	require.Equal(t, "Major System Outage", got.Banner)
	require.Contains(t, got.Notice, "Status updated")
	require.Contains(t, got.Notice, "Major System Outage")
	require.True(t, got.Localized, "the swapped-in times are localised too")
	require.Regexp(t, regexp.MustCompile(`\b(EST|EDT|GMT-[45])\b`), got.UpdateTime)
	screenshot(t, tab, "desktop-live-update.png")

	// A reader whose focus is on the incident's link keeps it through the next swap.
	focused, err := chromedp.Run(tab, chromedp.Evaluate[string](
		`(() => { const a = document.querySelector("main article a[href]"); a.focus(); return a.getAttribute("href"); })()`))
	require.NoError(t, err)
	require.NotEmpty(t, focused)
	const text2 = "The rollback is complete; we are watching error rates."
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "monitoring", "body": text2,
		"publish": true}, 201)
	_, err = chromedp.Run(tab, chromedp.Poll[bool](`document.querySelector("main").textContent.includes(`+"`"+text2+"`"+`)`,
		chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	require.NoError(t, err)
	still, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.activeElement.getAttribute("href") || document.activeElement.tagName`))
	require.NoError(t, err)
	require.Equal(t, focused, still, "focus stays on the same link")

	// A phone: the same page fits its width, nothing scrolls sideways.
	require.NoError(t, chromedp.Do(tab, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)))
	overflow, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
	require.NoError(t, err)
	require.LessOrEqual(t, overflow, 0, "the page scrolls sideways on a phone")
	screenshot(t, tab, "phone.png")
}
