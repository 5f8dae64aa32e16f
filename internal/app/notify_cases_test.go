package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/config"
)

// BC-25: Slack gets valid UTF-8 JSON; user text cannot mention a channel or forge a link; the only link is mim's
// permalink; the time is labelled in the page's zone (and a <!date> token); there is a plain text fallback.
func TestBC25SlackEscapingZoneAndEncoding(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	rcv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, readBody(t, r))
	}))
	t.Cleanup(rcv.Close)
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	n := setupNotify(t, func(c *config.Config) {
		c.TimeZone = paris
		c.AllowTargets = []string{strings.TrimPrefix(rcv.URL, "http://")}
	})
	n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"channel": "slack", "address": rcv.URL + "/slack"}, 201)
	title := "Login <b>broken</b> for :wave: users & `admins` <!channel>"
	inc := n.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": title, "severity": "low",
		"urgency": "low", "components": []string{"api"}}, 201)
	n.do("responder", "POST", "/api/v1/incidents/"+inc["key"].(string)+"/updates", map[string]any{
		"status": "investigating", "body": "Paiement indisponible — 支付失败 — ✓ <https://evil.example|click> <!here>",
		"publish": true, "components": map[string]string{"api": "major_outage"}}, 201)
	n.settle()
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 1)
	raw := bodies[0]
	require.True(t, utf8.Valid(raw))
	var msg struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal(raw, &msg))
	require.NotEmpty(t, msg.Text, "a plain text fallback")
	require.NotContains(t, msg.Text, "<!channel>")
	all := string(raw)
	require.Contains(t, all, "支付失败")
	require.Contains(t, all, "—")
	var mrkdwn []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "mrkdwn" {
				mrkdwn = append(mrkdwn, x["text"].(string))
			}
			if x["type"] == "plain_text" {
				require.Equal(t, false, x["emoji"], "no :emoji: conversion of user text")
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	var generic any
	require.NoError(t, json.Unmarshal(raw, &generic))
	walk(generic)
	joined := strings.Join(mrkdwn, "\n")
	require.NotContains(t, joined, "<!channel>")
	require.NotContains(t, joined, "<!here>")
	require.NotContains(t, joined, "<https://evil.example")
	require.Contains(t, joined, "&lt;!here&gt;")
	// The only <…|…> links are mim's own: the permalink, absolute on the base URL, and the date token.
	for _, m := range strings.Split(joined, "<")[1:] {
		link, _, _ := strings.Cut(m, ">")
		ok := strings.HasPrefix(link, "https://status.example.com/incidents/") || strings.HasPrefix(link, "!date^")
		require.True(t, ok, "unexpected link <%s>", link)
	}
	require.Regexp(t, `\|\d{1,2} \w{3} \d{4} \d{2}:\d{2} CES?T>`, joined, "a time labelled in Paris")
}

// BC-31: one client address is limited across the form and the API alike (5 a minute, then 429 with Retry-After,
// nothing written); X-Forwarded-For from the client does not reset it; one victim address gets one confirmation
// per cooldown however often it is asked for.
func TestBC31SubscribeRateLimitedAcrossFormAndAPI(t *testing.T) {
	n := setupNotify(t, nil)
	for i := range 3 {
		n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"address": "u" + string(rune('a'+i)) + "@example.com"}, 202)
	}
	for i := range 2 {
		code, _ := n.subscribeForm(url.Values{"address": {"f" + string(rune('a'+i)) + "@example.com"}})
		require.Equal(t, 200, code)
	}
	r := n.request("admin", "POST", "/api/v1/subscribers", map[string]any{"address": "over@example.com"},
		map[string]string{"X-Forwarded-For": "1.2.3.4"})
	require.Equal(t, 429, r.status, string(r.body))
	require.NotEmpty(t, r.header.Get("Retry-After"))
	require.Contains(t, r.header.Get("Content-Type"), "application/problem+json")
	code, page := n.subscribeForm(url.Values{"address": {"over2@example.com"}})
	require.Equal(t, 429, code, page)
	subs := n.do("admin", "GET", "/api/v1/subscribers", nil, 200)["subscribers"].([]any)
	require.Len(t, subs, 5, "rejected requests wrote nothing")

	// 50 requests for one victim (as if from 50 clients: the service behind the limit) send one email.
	ctx := context.Background()
	for range 50 {
		_, err := n.app.Subscriptions.Subscribe(ctx, subscriptionRequest("victim@example.org", nil))
		require.NoError(t, err)
	}
	n.settle()
	require.Len(t, n.mail.To("victim@example.org"), 1)
}

// BC-32: a hard bounce (550 to RCPT TO) marks the subscriber bounced with the reason, stops further mail to it and
// not to others, shows in the admin list, and an admin can reactivate it.
func TestBC32HardBounceDeactivatesAndAdminReactivates(t *testing.T) {
	n := setupNotify(t, nil)
	ctx := context.Background()
	for _, a := range []string{"ivy@example.com", "jack@example.com"} {
		_, err := n.app.Subscriptions.Subscribe(ctx, subscriptionRequest(a, nil))
		require.NoError(t, err)
		link := confirmLink.FindString(n.mail.WaitFor(t, a, 1)[0].Text)
		require.Equal(t, 200, n.request("", "GET", n.local(link), nil, nil).status)
	}
	n.mail.RefuseRcpt("ivy@example.com")
	n.standardIncident("API errors", map[string]string{"api": "partial_outage"}, "First.")
	n.settle()
	require.Len(t, n.mail.To("jack@example.com"), 2)
	dead := n.deliveries("status=dead")
	require.Len(t, dead, 1)
	require.Equal(t, float64(1), dead[0]["attempts"], "a hard bounce is not retried")
	var ivy map[string]any
	for _, s := range n.do("admin", "GET", "/api/v1/subscribers?status=bounced", nil, 200)["subscribers"].([]any) {
		ivy = s.(map[string]any)
	}
	require.NotNil(t, ivy)
	require.Equal(t, "ivy@example.com", ivy["address"])
	require.Contains(t, ivy["status_reason"], "bounce")
	require.NotEmpty(t, ivy["status_at"], "when it bounced")

	n.standardIncident("API slow", map[string]string{"api": "degraded_performance"}, "Second.")
	n.settle()
	require.Len(t, n.mail.To("jack@example.com"), 3)
	require.Len(t, n.deliveries("subscriber_id="+ivy["id"].(string)+"&topic=incident.update"), 1,
		"nothing more is queued for a bounced subscriber")

	n.do("viewer", "POST", "/api/v1/subscribers/"+ivy["id"].(string)+"/reactivate", nil, 403)
	back := n.do("admin", "POST", "/api/v1/subscribers/"+ivy["id"].(string)+"/reactivate", nil, 200)
	require.Equal(t, "admin@example.com", back["reactivated_by"], "the reactivation is audited")
	require.Equal(t, "bounced", back["reactivated_from"])
	require.NotEmpty(t, back["reactivated_at"])
	again := n.request("admin", "POST", "/api/v1/subscribers/"+ivy["id"].(string)+"/reactivate", nil, nil)
	require.Equal(t, 409, again.status)
	require.Equal(t, "not_deactivated", again.json(t)["code"])
	require.Len(t, n.do("admin", "GET", "/api/v1/subscribers?status=active", nil, 200)["subscribers"].([]any), 2)
}

// BC-18 step 6: the mail server answers 451 when the confirmation is first sent: the request still succeeds, the
// subscriber is stored once, and the confirmation arrives on a retry.
func TestBC18ConfirmationRetriedWhenSMTPFailsTemporarily(t *testing.T) {
	n := setupNotify(t, nil)
	n.mail.FailNext(1)
	n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"address": "erin@example.com", "components": []string{"api"}}, 202)
	mails := n.mail.WaitFor(t, "erin@example.com", 1)
	require.Regexp(t, confirmLink, mails[0].Text)
	n.settle()
	d := n.deliveries("topic=subscription.confirm")
	require.Len(t, d, 1)
	require.Equal(t, "delivered", d[0]["status"])
	require.Equal(t, float64(2), d[0]["attempts"])
	require.Len(t, n.do("admin", "GET", "/api/v1/subscribers?status=pending", nil, 200)["subscribers"].([]any), 1)
}

// BC-24 at subscribe time, through both doors: a private or numeric-trick URL is refused with a clear answer
// and nothing is stored; the public form shows the reason on the form again.
func TestBC24PrivateWebhookRefusedAtSubscribe(t *testing.T) {
	n := setupNotify(t, nil)
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]:6379/",
		"http://0x7f000001/"} {
		r := n.request("admin", "POST", "/api/v1/subscribers", map[string]any{"channel": "webhook", "address": u}, nil)
		require.Equal(t, 422, r.status, u)
		require.Equal(t, "target_not_allowed", r.json(t)["code"], u)
	}
	code, page := n.subscribeForm(url.Values{"channel": {"webhook"}, "address": {"http://169.254.169.254/latest/"}})
	require.Equal(t, 422, code)
	require.Contains(t, page, "private or local address")
	require.Contains(t, page, `name="csrf"`, "the form is shown again")
	require.Empty(t, n.do("admin", "GET", "/api/v1/subscribers", nil, 200)["subscribers"])
}

// The manage page: a subscriber changes its components with the form (CSRF-checked), and a post without the
// cookie is refused and changes nothing.
func TestManagePageChangesComponentsWithCSRF(t *testing.T) {
	n := setupNotify(t, nil)
	ctx := context.Background()
	_, err := n.app.Subscriptions.Subscribe(ctx, subscriptionRequest("gina@example.com", []string{"api"}))
	require.NoError(t, err)
	link := confirmLink.FindString(n.mail.WaitFor(t, "gina@example.com", 1)[0].Text)
	require.Equal(t, 200, n.request("", "GET", n.local(link), nil, nil).status)
	subs := n.do("admin", "GET", "/api/v1/subscribers", nil, 200)["subscribers"].([]any)
	id := subs[0].(map[string]any)["id"].(string)
	tok, err := n.app.Subscriptions.ManageToken(ctx, id)
	require.NoError(t, err)

	r := n.request("", "POST", "/subscriptions/"+tok, "components=swg-eu",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	require.Equal(t, 403, r.status, "no CSRF cookie, no change")

	client := &http.Client{Jar: newJar()}
	resp, err := client.Get(n.srv.URL + "/subscriptions/" + tok)
	require.NoError(t, err)
	page := readAll(t, resp)
	require.Contains(t, page, "gina@example.com")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	resp, err = client.PostForm(n.srv.URL+"/subscriptions/"+tok, url.Values{"csrf": {csrf},
		"components": {"swg-eu", "api"}})
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, readAll(t, resp), "Saved.")
	subs = n.do("admin", "GET", "/api/v1/subscribers", nil, 200)["subscribers"].([]any)
	require.Equal(t, []any{"api", "swg-eu"}, subs[0].(map[string]any)["components"])
	require.Equal(t, 404, n.request("", "GET", "/subscriptions/not-a-token", nil, nil).status)
}

// The delivery log through the API: admins only, filters, pages by cursor, clear errors for bad input.
func TestDeliveryLogPagesAndFilters(t *testing.T) {
	n := setupNotify(t, nil)
	for _, a := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"address": a}, 202)
	}
	n.settle()
	n.do("viewer", "GET", "/api/v1/deliveries", nil, 403)
	var seen []string
	cursor := ""
	for range 3 {
		res := n.do("admin", "GET", "/api/v1/deliveries?limit=1&topic=subscription.confirm&cursor="+cursor, nil, 200)
		page := res["deliveries"].([]any)
		require.Len(t, page, 1)
		d := page[0].(map[string]any)
		seen = append(seen, d["target"].(string))
		require.Equal(t, "delivered", d["status"])
		cursor, _ = res["next_cursor"].(string)
	}
	require.Empty(t, cursor, "no page after the last")
	require.ElementsMatch(t, []string{"a@example.com", "b@example.com", "c@example.com"}, seen)
	require.Len(t, n.deliveries("channel=email&status=delivered"), 3)
	require.Empty(t, n.deliveries("channel=webhook"))
	for _, q := range []string{"status=lost", "channel=fax", "limit=0", "cursor=%21%21", "subscriber_id=x"} {
		r := n.request("admin", "GET", "/api/v1/deliveries?"+q, nil, nil)
		require.Equal(t, 422, r.status, q)
		require.Contains(t, r.header.Get("Content-Type"), "application/problem+json")
	}
	r := n.request("admin", "POST", "/api/v1/deliveries/not-an-id/retry", nil, nil)
	require.Equal(t, 404, r.status)
	id := n.deliveries("limit=1")[0]["id"].(string)
	r = n.request("admin", "POST", "/api/v1/deliveries/"+id+"/retry", nil, nil)
	require.Equal(t, 409, r.status)
	require.Equal(t, "not_dead_letter", r.json(t)["code"])
}

// BC-25, Teams: an Adaptive Card TextBlock renders a Markdown subset, so user text in the title and the update is
// escaped: it cannot forge a link, bold, a heading, a quote or a list; the characters still read as typed, and the
// card's only link is mim's permalink.
func TestBC25TeamsCardUserTextCannotForgeLinksOrFormatting(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	rcv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, readBody(t, r))
	}))
	t.Cleanup(rcv.Close)
	n := setupNotify(t, func(c *config.Config) { c.AllowTargets = []string{strings.TrimPrefix(rcv.URL, "http://")} })
	n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"channel": "teams", "address": rcv.URL + "/teams"}, 201)
	title := "Login **down** [reset here](https://evil.example) <b>now</b>"
	inc := n.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": title, "severity": "low",
		"urgency": "low", "components": []string{"api"}}, 201)
	body := "# Urgent\n> quoted\n- item\n1. first\n_it_ ~gone~ `code` \\[x] ![img](https://evil.example/p.png) 支付失败"
	n.do("responder", "POST", "/api/v1/incidents/"+inc["key"].(string)+"/updates", map[string]any{
		"status": "investigating", "body": body, "publish": true,
		"components": map[string]string{"api": "major_outage"}}, 201)
	n.settle()
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 1)
	var msg struct {
		Attachments []struct {
			Content struct {
				Body []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"body"`
				Actions []struct {
					URL string `json:"url"`
				} `json:"actions"`
			} `json:"content"`
		} `json:"attachments"`
	}
	require.NoError(t, json.Unmarshal(bodies[0], &msg))
	require.Len(t, msg.Attachments, 1)
	card := msg.Attachments[0].Content
	var texts []string
	for _, b := range card.Body {
		if b.Type == "TextBlock" {
			texts = append(texts, b.Text)
		}
	}
	require.Len(t, texts, 2, "the title and the update")
	unescape := strings.NewReplacer(`\\`, `\`, `\[`, "[", `\]`, "]", `\(`, "(", `\)`, ")", `\*`, "*", `\_`, "_",
		`\~`, "~", `\#`, "#", `\>`, ">", `\<`, "<", "\\`", "`", `\-`, "-", `\.`, ".")
	require.Equal(t, title, unescape.Replace(texts[0]), "the title reads as typed")
	require.Equal(t, body, unescape.Replace(texts[1]), "the update reads as typed")
	for _, text := range texts {
		// Every Markdown character is preceded by a backslash that is not itself escaped.
		for i, r := range text {
			if !strings.ContainsRune("[]()*_~#><`", r) {
				continue
			}
			slashes := 0
			for j := i - 1; j >= 0 && text[j] == '\\'; j-- {
				slashes++
			}
			require.Equal(t, 1, slashes%2, "%q at %d of %q is escaped", r, i, text)
		}
		for _, line := range strings.Split(text, "\n") {
			require.NotRegexp(t, `^\s*([-+]|\d+\.) `, line, "no list marker starts a line")
		}
	}
	require.Len(t, card.Actions, 1)
	require.True(t, strings.HasPrefix(card.Actions[0].URL, "https://status.example.com/incidents/"))
}
