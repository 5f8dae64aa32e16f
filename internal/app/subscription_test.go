package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/mailtest"
)

// notifyEnv is a test mim with a real SMTP sink and quick delivery retries.
type notifyEnv struct {
	*env
	mail *mailtest.Sink
}

func setupNotify(t *testing.T, configure func(*config.Config)) *notifyEnv {
	t.Helper()
	sink := mailtest.New(t)
	e := setupWith(t, func(c *config.Config) {
		c.BaseURL = "https://status.example.com"
		c.SMTPURL, c.MailFrom = sink.URL(), "status@example.com"
		c.Delivery = config.Delivery{Timeout: 3 * time.Second, MaxAttempts: 3, Backoff: 20 * time.Millisecond,
			PollInterval: 20 * time.Millisecond}
		if configure != nil {
			configure(c)
		}
	})
	return &notifyEnv{env: e, mail: sink}
}

// local turns a link on the configured base URL into one on the test server.
func (n *notifyEnv) local(link string) string {
	n.t.Helper()
	require.True(n.t, strings.HasPrefix(link, "https://status.example.com/"), "absolute link on the base URL: %s", link)
	return strings.TrimPrefix(link, "https://status.example.com")
}

var confirmLink = regexp.MustCompile(`https://status\.example\.com/subscriptions/confirm/[A-Za-z0-9_-]{43}`)

// standardIncident declares a standard incident on components and publishes its first update.
func (n *notifyEnv) standardIncident(title string, components map[string]string, body string) string {
	n.t.Helper()
	var slugs []string
	for s := range components {
		slugs = append(slugs, s)
	}
	inc := n.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": title, "severity": "low",
		"urgency": "low", "components": slugs}, 201)
	key := inc["key"].(string)
	n.do("responder", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating",
		"body": body, "publish": true, "components": components}, 201)
	return key
}

// deliveries reads the delivery log through the API.
func (n *notifyEnv) deliveries(query string) []map[string]any {
	n.t.Helper()
	res := n.do("admin", "GET", "/api/v1/deliveries?"+query, nil, 200)
	var out []map[string]any
	for _, d := range res["deliveries"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

// settle waits until no delivery is pending or retrying.
func (n *notifyEnv) settle() {
	n.t.Helper()
	require.Eventually(n.t, func() bool {
		return len(n.deliveries("status=pending")) == 0 && len(n.deliveries("status=retrying")) == 0
	}, 15*time.Second, 20*time.Millisecond)
}

// subscribeForm subscribes through the public HTML form, with its CSRF cookie, as a browser without JS would.
func (n *notifyEnv) subscribeForm(values url.Values) (int, string) {
	n.t.Helper()
	jar := newJar()
	client := &http.Client{Jar: jar}
	resp, err := client.Get(n.srv.URL + "/subscribe")
	require.NoError(n.t, err)
	page := readAll(n.t, resp)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	require.NotNil(n.t, m, page)
	values.Set("csrf", m[1])
	resp, err = client.PostForm(n.srv.URL+"/subscribe", values)
	require.NoError(n.t, err)
	return resp.StatusCode, readAll(n.t, resp)
}

// BC-18: double opt-in. One confirmation email with an absolute link; nothing else while pending; the link
// confirms once, harmlessly twice, and a forged one changes nothing; then the next incident arrives. BC-19: every
// email carries one-click unsubscribe; a GET of the link changes nothing; the POST stops everything; swapping
// tokens does not work.
func TestBC18BC19DoubleOptInAndOneClickUnsubscribeThroughSMTP(t *testing.T) {
	n := setupNotify(t, nil)
	code, page := n.subscribeForm(url.Values{"channel": {"email"}, "address": {"Erin@Example.com"},
		"components": {"api"}})
	require.Equal(t, 200, code, page)
	require.Contains(t, page, "confirmation link is on its way")

	mails := n.mail.WaitFor(t, "erin@example.com", 1)
	require.Len(t, mails, 1)
	link := confirmLink.FindString(mails[0].Text)
	require.NotEmpty(t, link, mails[0].Text)
	require.Contains(t, mails[0].HTML, link)

	// Pending hears nothing of an incident on its component.
	n.standardIncident("API errors", map[string]string{"api": "partial_outage"}, "Looking into it.")
	n.settle()
	require.Len(t, n.mail.To("erin@example.com"), 1, "a pending subscriber gets only the confirmation")

	forged := []byte(n.local(link))
	forged[len(forged)-1] ^= 1
	if forged[len(forged)-1] == '-' || forged[len(forged)-1] == '_' {
		forged[len(forged)-1] = 'A'
	}
	r := n.request("", "GET", string(forged), nil, nil)
	require.Equal(t, 404, r.status)
	subs := n.do("admin", "GET", "/api/v1/subscribers?status=pending", nil, 200)["subscribers"].([]any)
	require.Len(t, subs, 1, "the forged link changed nothing")

	for range 2 {
		r = n.request("", "GET", n.local(link), nil, nil)
		require.Equal(t, 200, r.status, string(r.body))
		require.Contains(t, string(r.body), "Subscription confirmed")
	}
	subs = n.do("admin", "GET", "/api/v1/subscribers?status=active", nil, 200)["subscribers"].([]any)
	require.Len(t, subs, 1)
	require.Equal(t, "erin@example.com", subs[0].(map[string]any)["address"])

	n.standardIncident("API latency", map[string]string{"api": "degraded_performance"},
		"Requests are **slow**. <script>alert(1)</script>")
	mails = n.mail.WaitFor(t, "erin@example.com", 2)
	got := mails[1]
	require.Contains(t, got.Subject, "API latency")
	require.Contains(t, got.Text, "Requests are **slow**.")
	require.Contains(t, got.HTML, "<strong>slow</strong>")
	require.NotContains(t, got.HTML, "<script>", "the update's Markdown is sanitised")
	require.Contains(t, got.Text, "https://status.example.com/incidents/")
	unsub := got.Header.Get("List-Unsubscribe")
	require.Regexp(t, `^<https://status\.example\.com/subscriptions/[A-Za-z0-9_-]+/unsubscribe>$`, unsub)
	require.Equal(t, "List-Unsubscribe=One-Click", got.Header.Get("List-Unsubscribe-Post"))
	unsubPath := n.local(strings.Trim(unsub, "<>"))

	// A prefetcher's GET shows a button and changes nothing.
	r = n.request("", "GET", unsubPath, nil, nil)
	require.Equal(t, 200, r.status)
	require.Contains(t, string(r.body), `method="post"`)
	require.Len(t, n.do("admin", "GET", "/api/v1/subscribers?status=active", nil, 200)["subscribers"].([]any), 1)

	// Another subscriber's id under Erin's MAC is refused.
	n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"address": "hank@example.com"}, 202)
	tok := strings.TrimSuffix(strings.TrimPrefix(unsubPath, "/subscriptions/"), "/unsubscribe")
	// A token one character off (never the token itself, whatever its first character).
	swapped := "A" + tok[1:]
	if tok[0] == 'A' {
		swapped = "B" + tok[1:]
	}
	r = n.request("", "POST", "/subscriptions/"+swapped+"/unsubscribe", "List-Unsubscribe=One-Click",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	require.Equal(t, 404, r.status)

	// The mail client's one-click POST, twice.
	for range 2 {
		r = n.request("", "POST", unsubPath, "List-Unsubscribe=One-Click",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		require.Equal(t, 200, r.status, string(r.body))
	}
	n.standardIncident("API down", map[string]string{"api": "major_outage"}, "Down.")
	n.settle()
	require.Len(t, n.mail.To("erin@example.com"), 2, "nothing after unsubscribing")
}

// BC-17: case, whitespace and Unicode spellings of one mailbox are one subscriber; parallel submits make one row;
// re-subscribing keeps one row per component; an incident on two followed components sends one email.
func TestBC17DuplicateSubscribersAreOne(t *testing.T) {
	n := setupNotify(t, nil)
	for _, a := range []string{"Bob.Smith@Example.com", "  bob.smith@example.com ", "BOB.SMITH@EXAMPLE.COM"} {
		n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"address": a}, 202)
	}
	// "é" composed and decomposed are one address.
	n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"address": "ren\u00e9@example.com"}, 202)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.request("admin", "POST", "/api/v1/subscribers", map[string]any{"address": "carol@example.net"}, nil)
		}()
	}
	wg.Wait()
	// The per-client limit (5 a minute) stops the rest; a new minute is not waited for: use the app directly.
	ctx := context.Background()
	_, err := n.app.Subscriptions.Subscribe(ctx, subscriptionRequest("Rene\u0301@Example.com", nil))
	require.NoError(t, err)
	subs := n.do("admin", "GET", "/api/v1/subscribers", nil, 200)["subscribers"].([]any)
	var addrs []string
	for _, s := range subs {
		addrs = append(addrs, s.(map[string]any)["address"].(string))
	}
	require.ElementsMatch(t, []string{"bob.smith@example.com", "ren\u00e9@example.com", "carol@example.net"}, addrs)
	require.Len(t, n.mail.WaitFor(t, "bob.smith@example.com", 1), 1, "one confirmation within the cooldown")

	// Dave: api and web, confirm, unsubscribe, subscribe again to both: one row each, one email per incident.
	for _, c := range []map[string]any{{"slug": "web", "name": "Web"}} {
		n.do("admin", "POST", "/api/v1/components", c, 201)
	}
	_, err = n.app.Subscriptions.Subscribe(ctx, subscriptionRequest("dave@example.org", []string{"api", "web"}))
	require.NoError(t, err)
	link := confirmLink.FindString(n.mail.WaitFor(t, "dave@example.org", 1)[0].Text)
	require.Equal(t, 200, n.request("", "GET", n.local(link), nil, nil).status)
	var daveID string
	for _, s := range n.do("admin", "GET", "/api/v1/subscribers?status=active", nil, 200)["subscribers"].([]any) {
		if s.(map[string]any)["address"] == "dave@example.org" {
			daveID = s.(map[string]any)["id"].(string)
		}
	}
	tok, err := n.app.Subscriptions.ManageToken(ctx, daveID)
	require.NoError(t, err)
	_, err = n.app.Subscriptions.Unsubscribe(ctx, tok)
	require.NoError(t, err)
	_, err = n.app.Subscriptions.Subscribe(ctx, subscriptionRequest("dave@example.org", []string{"web", "api", "api"}))
	require.NoError(t, err)
	var rows int
	require.NoError(t, n.app.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM subscriber_components WHERE subscriber_id = $1`,
		daveID).Scan(&rows))
	require.Equal(t, 2, rows)
	var count int
	require.NoError(t, n.app.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM subscribers WHERE address = 'dave@example.org'`).Scan(&count))
	require.Equal(t, 1, count)
	// Re-subscribing after unsubscribing sends a new confirmation; then one incident on both components sends one
	// email.
	mails := n.mail.WaitFor(t, "dave@example.org", 2)
	require.Equal(t, 200, n.request("", "GET", n.local(confirmLink.FindString(mails[1].Text)), nil, nil).status)
	before := len(n.mail.To("dave@example.org"))
	n.standardIncident("API and web down", map[string]string{"api": "major_outage", "web": "major_outage"}, "Both.")
	n.settle()
	require.Len(t, n.mail.To("dave@example.org"), before+1, "one email per mailbox per update")
}

func subscriptionRequest(addr string, comps []string) subscriptionReq {
	return subscriptionReq{Channel: delivery.ChannelEmail, Address: addr, Components: comps}
}

// Webhook, Slack and Teams subscribers; component filtering; nothing internal in any body.
func TestComponentFilteringAndChannels(t *testing.T) {
	var mu sync.Mutex
	got := map[string][][]byte{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got[r.URL.Path] = append(got[r.URL.Path], readBody(t, r))
	}))
	t.Cleanup(rcv.Close)
	n := setupNotify(t, func(c *config.Config) { c.AllowTargets = []string{strings.TrimPrefix(rcv.URL, "http://")} })
	sub := func(ch, path string, comps []string) map[string]any {
		return n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"channel": ch, "address": rcv.URL + path,
			"components": comps}, 201)
	}
	hookA := sub("webhook", "/hook-api", []string{"api"})
	require.Regexp(t, `^whsec_`, hookA["secret"])
	sub("webhook", "/hook-swg", []string{"swg-eu"})
	sub("slack", "/slack-all", nil)
	sub("teams", "/teams-api", []string{"api"})
	n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"channel": "webhook", "address": rcv.URL + "/hook-api"}, 409)

	key, _ := n.driveIncident("EU control plane failure",
		map[string]any{"status": "identified", "body": "Login <b>broken</b> for :wave: users & `admins` <!channel>",
			"components": map[string]string{"swg-eu": "major_outage"}})
	n.settle()
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, got["/hook-api"], "a subscriber to api hears nothing of an incident on swg-eu")
	require.Empty(t, got["/teams-api"])
	require.Len(t, got["/hook-swg"], 1)
	require.Len(t, got["/slack-all"], 1)
	body := string(got["/hook-swg"][0])
	require.Contains(t, body, `"incident_updates"`)
	require.Contains(t, body, `"meta"`)
	require.Contains(t, body, key)
	slack := string(got["/slack-all"][0])
	require.Contains(t, slack, "&lt;!channel&gt;")
	require.NotContains(t, slack, "<!channel>")
	for _, b := range [][]byte{got["/hook-swg"][0], got["/slack-all"][0]} {
		for _, secret := range []string{"secret-bridge", "payments-db-sre", "ZD-77881", "tech@example.com",
			"restarted the ledger", "Draft: do not publish"} {
			require.NotContains(t, string(b), secret)
		}
	}
}
