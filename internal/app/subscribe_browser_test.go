package app_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// A visitor subscribes with the public form in a real browser, the confirmation arrives through SMTP, and opening
// its link in the browser confirms: the form works as plain HTML (no script is involved) with its CSRF cookie.
func TestSubscribeFormInABrowser(t *testing.T) {
	if chromium() == "" {
		t.Skip("no chromium, chromium-browser or google-chrome on PATH")
	}
	n := setupNotify(t, nil)
	tab := browser(t, 40*time.Second)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(n.srv.URL+"/subscribe"),
		chromedp.WaitVisible(`[data-testid=subscribe-form]`),
		chromedp.SendKeys(`#address`, " Visitor@Example.com "),
		chromedp.Click(`input[name=components][value=api]`),
		chromedp.Click(`[data-testid=subscribe-form] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=subscribe-done]`),
	))
	link := confirmLink.FindString(n.mail.WaitFor(t, "visitor@example.com", 1)[0].Text)
	require.NotEmpty(t, link)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(n.srv.URL+n.local(link)),
		chromedp.WaitVisible(`[data-testid=notice-title]`),
	))
	title, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector("[data-testid=notice-title]").textContent`))
	require.NoError(t, err)
	require.Equal(t, "Subscription confirmed", title)
	subs := n.do("admin", "GET", "/api/v1/subscribers?status=active", nil, 200)["subscribers"].([]any)
	require.Len(t, subs, 1)
	require.Equal(t, []any{"api"}, subs[0].(map[string]any)["components"])
}
