package app_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/config"
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

// An address holding invalid UTF-8 or a control character is refused, from the form (its error) and the API
// (422), and nothing is stored or mailed; so is a subscriber URL whose port no connection can use.
func TestSubscribeRefusesInvalidUTF8AddressesAndUnusablePorts(t *testing.T) {
	n := setupNotify(t, nil)
	// Five requests a minute per client: the form's port cases run on a second mim.
	m := setupNotify(t, nil)
	for _, addr := range []string{"a\xffb@example.com", "a\x01b@example.com"} {
		code, page := n.subscribeForm(url.Values{"channel": {"email"}, "address": {addr}})
		require.Equal(t, 422, code, page)
		require.Contains(t, page, "address is not an email address")
		require.NotContains(t, page, "on its way")
	}
	r := n.request("admin", "POST", "/api/v1/subscribers", `{"address":"a`+"\xff"+`b@example.com"}`,
		map[string]string{"Content-Type": "application/json"})
	require.Equal(t, 422, r.status, string(r.body))
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	for _, u := range []string{"https://hooks.example.com:0/x", "https://hooks.example.com:99999/x"} {
		r := n.request("admin", "POST", "/api/v1/subscribers", map[string]any{"channel": "webhook", "address": u}, nil)
		require.Equal(t, 422, r.status, "%s: %s", u, r.body)
		require.Equal(t, "validation_failed", r.json(t)["code"], u)
		code, page := m.subscribeForm(url.Values{"channel": {"webhook"}, "address": {u}})
		require.Equal(t, 422, code, page)
		require.Contains(t, page, "invalid port")
	}
	require.Empty(t, n.do("admin", "GET", "/api/v1/subscribers", nil, 200)["subscribers"])
	n.settle()
	require.Empty(t, n.deliveries(""))
}

// A ticket system's URL gets the subscriber URLs' checks when saved (an unusable port, a private or local address
// unless allowed), and only admins see it whole: its path may be a credential.
func TestTicketSystemURLIsCheckedAndMaskedForNonAdmins(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, c := range []struct{ url, code string }{
		{"https://hooks.example.com:0/zd", "validation_failed"},
		{"https://hooks.example.com:99999/zd", "validation_failed"},
		{"http://127.0.0.1:8080/zd", "target_not_allowed"},
		{"http://169.254.169.254/latest", "target_not_allowed"},
		{"http://localhost/zd", "target_not_allowed"},
	} {
		r := e.request("admin", "POST", "/api/v1/ticket-systems", map[string]any{"name": "zd", "url": c.url}, nil)
		require.Equal(t, 422, r.status, "%s: %s", c.url, r.body)
		require.Equal(t, c.code, r.json(t)["code"], c.url)
	}
	require.Empty(t, e.do("admin", "GET", "/api/v1/ticket-systems", nil, 200)["ticket_systems"])
	e.do("admin", "POST", "/api/v1/ticket-systems", map[string]any{"name": "zd",
		"url": "https://hooks.example.com/zd/s3cr3t-token"}, 201)
	viewer := e.do("viewer", "GET", "/api/v1/ticket-systems", nil, 200)["ticket_systems"].([]any)
	require.Equal(t, "https://hooks.example.com/…", viewer[0].(map[string]any)["url"])
	admin := e.do("admin", "GET", "/api/v1/ticket-systems", nil, 200)["ticket_systems"].([]any)
	require.Equal(t, "https://hooks.example.com/zd/s3cr3t-token", admin[0].(map[string]any)["url"])

	allowed := setupWith(t, func(c *config.Config) { c.AllowTargets = []string{"127.0.0.1:8080"} })
	allowed.do("admin", "POST", "/api/v1/ticket-systems", map[string]any{"name": "zd", "url": "http://127.0.0.1:8080/zd"}, 201)
}
