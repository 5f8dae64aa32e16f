package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/postgrestest"
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

// An update that changes no component's status still tells each of the incident's components by name with its
// current public status, the impact as the status page derives it, and the incident under the id /api/v2 uses.
func TestNoticeOfAnUpdateWithoutComponentChangesNamesComponentsAndKeepsImpact(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]any
	rcv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		var b map[string]any
		require.NoError(t, json.Unmarshal(readBody(t, r), &b))
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, b)
	}))
	t.Cleanup(rcv.Close)
	n := setupNotify(t, func(c *config.Config) { c.AllowTargets = []string{strings.TrimPrefix(rcv.URL, "http://")} })
	n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"channel": "webhook", "address": rcv.URL + "/hook"}, 201)
	code, page := n.subscribeForm(url.Values{"channel": {"email"}, "address": {"jo@example.com"}})
	require.Equal(t, 200, code, page)
	mails := n.mail.WaitFor(t, "jo@example.com", 1)
	r := n.request("", "GET", n.local(confirmLink.FindString(mails[0].Text)), nil, nil)
	require.Equal(t, 200, r.status)

	key := n.standardIncident("EU control plane down", map[string]string{"control-plane-eu": "major_outage"}, "Down.")
	n.do("responder", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "identified",
		"body": "Found it.", "publish": true}, 201)
	n.settle()
	mails = n.mail.WaitFor(t, "jo@example.com", 3)
	require.Contains(t, mails[2].Text, "Affected: Control Plane (Europe)")
	require.Contains(t, mails[2].HTML, "Affected: Control Plane (Europe)")

	v2 := n.request("", "GET", "/api/v2/incidents.json", nil, nil)
	require.Equal(t, 200, v2.status)
	v2id := v2.json(t)["incidents"].([]any)[0].(map[string]any)["id"]
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 2)
	for i, b := range bodies {
		inc := b["incident"].(map[string]any)
		require.Equal(t, v2id, inc["id"], "update %d: the /api/v2 id", i)
		require.Equal(t, "critical", inc["impact"], "update %d", i)
		comps := inc["components"].([]any)
		require.Len(t, comps, 1)
		require.Equal(t, map[string]any{"id": "control-plane-eu", "name": "Control Plane (Europe)",
			"status": "major_outage"}, comps[0], "update %d", i)
		upd := inc["incident_updates"].([]any)[0].(map[string]any)
		require.Equal(t, v2id, upd["incident_id"])
		aff := upd["affected_components"].([]any)[0].(map[string]any)
		require.Equal(t, "Control Plane (Europe)", aff["name"])
		require.Equal(t, "major_outage", aff["new_status"])
	}
}

// Without SMTP the subscribe page offers no email and promises no confirmation; asking for email anyway is
// refused (the form's error, the API's 422 email_unavailable) and stores nothing; webhooks still work.
func TestSubscribeWithoutSMTPOffersNoEmail(t *testing.T) {
	n := &notifyEnv{env: setup(t)}
	r := n.request("", "GET", "/subscribe", nil, nil)
	require.Equal(t, 200, r.status)
	require.Contains(t, string(r.body), "Email subscriptions are unavailable")
	require.NotContains(t, string(r.body), `value="email"`)
	code, page := n.subscribeForm(url.Values{"channel": {"email"}, "address": {"kim@example.com"}})
	require.Equal(t, 422, code, page)
	require.Contains(t, page, "Email subscriptions are unavailable")
	require.NotContains(t, page, "on its way")
	r = n.request("admin", "POST", "/api/v1/subscribers", map[string]any{"address": "kim@example.com"}, nil)
	require.Equal(t, 422, r.status, string(r.body))
	require.Equal(t, "email_unavailable", r.json(t)["code"])
	require.Empty(t, n.do("admin", "GET", "/api/v1/subscribers", nil, 200)["subscribers"])
	n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"channel": "webhook",
		"address": "https://hooks.example.com/x"}, 201)
}

// Starting without SMTP says so once, at WARN; with SMTP it says nothing of it.
func TestStartWithoutSMTPWarnsEmailIsOff(t *testing.T) {
	t.Parallel()
	for _, smtp := range []string{"", "smtp://localhost:2525?tls=none"} {
		var buf bytes.Buffer
		cfg := config.Config{PageName: "Test status", BaseURL: "http://status.test", TimeZone: time.UTC,
			SMTPURL: smtp, MailFrom: "status@example.com"}
		a, err := app.New(context.Background(), cfg, postgrestest.NewDatabase(t),
			slog.New(slog.NewTextHandler(&buf, nil)))
		require.NoError(t, err)
		a.Close()
		const warn = `level=WARN msg="email notifications are off: set MIM_SMTP_URL and MIM_MAIL_FROM"`
		if smtp == "" {
			require.Equal(t, 1, strings.Count(buf.String(), warn), buf.String())
		} else {
			require.NotContains(t, buf.String(), "email notifications are off")
		}
		require.NotContains(t, buf.String(), "Producer job counts")
	}
}
