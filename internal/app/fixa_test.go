package app_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var htmlHref = regexp.MustCompile(`href="([^"]+)"`)

// The HTML part of a subscriber's email links to the real manage and unsubscribe pages (html/template once
// escaped the placeholders so the per-recipient substitution never matched), and the confirmation says its
// deadline in words ("48 hours", not "48h0m0s").
func TestSubscriberHTMLEmailLinksAreRealAndConfirmationSaysHours(t *testing.T) {
	n := setupNotify(t, nil)
	code, page := n.subscribeForm(url.Values{"channel": {"email"}, "address": {"ivy@example.com"},
		"components": {"api"}})
	require.Equal(t, 200, code, page)
	mails := n.mail.WaitFor(t, "ivy@example.com", 1)
	require.Contains(t, mails[0].Text, "Confirm within 48 hours:")
	require.Contains(t, mails[0].HTML, "(within 48 hours)")
	require.NotContains(t, mails[0].Text+mails[0].HTML, "48h0m0s")
	link := confirmLink.FindString(mails[0].Text)
	r := n.request("", "GET", n.local(link), nil, nil)
	require.Equal(t, 200, r.status, string(r.body))

	n.standardIncident("API latency", map[string]string{"api": "degraded_performance"}, "Slow.")
	mails = n.mail.WaitFor(t, "ivy@example.com", 2)
	got := mails[1]
	require.NotContains(t, got.HTML, "manage_url")
	require.NotContains(t, got.HTML, "unsubscribe_url")
	var hrefs []string
	for _, m := range htmlHref.FindAllStringSubmatch(got.HTML, -1) {
		hrefs = append(hrefs, m[1])
	}
	require.Contains(t, hrefs, strings.Trim(got.Header.Get("List-Unsubscribe"), "<>"))
	manage := ""
	for _, h := range hrefs {
		if regexp.MustCompile(`^https://status\.example\.com/subscriptions/[A-Za-z0-9_-]+$`).MatchString(h) {
			manage = h
		}
	}
	require.NotEmpty(t, manage, "a manage link: %v", hrefs)
	r = n.request("", "GET", n.local(manage), nil, nil)
	require.Equal(t, 200, r.status, "the HTML manage link opens the subscription")
}
