package app_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/importer"
	"github.com/mimhq/mim/internal/postgres"
)

// displayLayout is how the public pages write an instant for a reader, the zone named.
const displayLayout = "2 January 2006, 15:04 MST"

// Secrets of driveIncident: internal details no public page or feed may show.
var internalDetails = []string{
	"https://meet.example.com/secret-bridge", "meet.example.com", "@example.com", "ZD-77881",
	"support.example.com", "Failed over db-7 to the standby in fra-2", "payments-db-sre",
	"Draft: do not publish", "restarted the ledger workers by hand",
}

// driveIncident declares a major incident, gives it everything internal — bridge, roles with e-mail addresses, a
// resolver group, actions, a ticket, a draft that is never approved, a workaround — and publishes the given updates
// in order. It returns the incident's key and each published update's publish time.
func (e *env) driveIncident(title string, updates ...map[string]any) (string, []time.Time) {
	e.t.Helper()
	inc := e.do("responder", "POST", "/api/v1/incidents", map[string]any{
		"title": title, "components": []string{"control-plane-eu", "swg-eu"},
		"severity": "critical", "urgency": "immediate", "scope": map[string]any{"regions": []string{"eu"}},
		"business_impact": []string{"security_enforcement"},
	}, 201)
	key := inc["key"].(string)
	e.engage(key)
	path := "/api/v1/incidents/" + key
	e.do("ic", "POST", path+"/stage", map[string]any{"to": "mobilization"}, 200)
	e.do("ic", "PUT", path+"/bridges/technical", map[string]any{"url": "https://meet.example.com/secret-bridge",
		"invitees": []string{e.emails["tech"]}}, 200)
	e.do("ic", "PUT", path+"/roles/communications_lead", map[string]any{"user": e.emails["comms"]}, 200)
	e.do("ic", "POST", path+"/roles/technical_lead", map[string]any{"user": e.emails["tech"]}, 200)
	e.do("ic", "POST", path+"/roles/technical_lead", map[string]any{"group": "payments-db-sre"}, 200)
	e.do("ic", "POST", path+"/stage", map[string]any{"to": "diagnosis_action"}, 200)
	e.do("tech", "POST", path+"/actions", map[string]any{"kind": "diagnosis",
		"description": "Failed over db-7 to the standby in fra-2"}, 201)
	e.do("comms", "POST", path+"/updates", map[string]any{"status": "identified", "body": "Draft: do not publish"}, 201)
	e.do("comms", "POST", path+"/tickets", map[string]any{"system": "zendesk", "ref": "ZD-77881",
		"url": "https://support.example.com/tickets/77881"}, 201)
	e.do("tech", "POST", path+"/restoration", map[string]any{"kind": "workaround",
		"description": "restarted the ledger workers by hand"}, 200)

	var times []time.Time
	for _, u := range updates {
		body := map[string]any{"publish": true}
		for k, v := range u {
			body[k] = v
		}
		res := e.do("ic", "POST", path+"/updates", body, 201)
		times = append(times, publishedAt(e.t, res))
	}
	return key, times
}

// publishedAt is when the update a command created was published, from the incident the command answered with.
func publishedAt(t testing.TB, res map[string]any) time.Time {
	t.Helper()
	id := res["created"].(map[string]any)["id"].(string)
	for _, u := range res["updates"].([]any) {
		if u := u.(map[string]any); u["id"] == id {
			at, err := time.Parse(time.RFC3339Nano, u["published_at"].(string))
			require.NoError(t, err)
			return at
		}
	}
	require.Failf(t, "no such update", "update %s", id)
	return time.Time{}
}

// page fetches a public HTML page and parses it as a browser would.
func (e *env) page(path string, want int) (*html.Node, response) {
	e.t.Helper()
	r := e.request("", "GET", path, nil, nil)
	require.Equal(e.t, want, r.status, "%s: %s", path, r.body)
	require.Equal(e.t, "text/html; charset=utf-8", r.header.Get("Content-Type"), path)
	require.Contains(e.t, r.header.Get("Content-Security-Policy"), "script-src 'self'", path)
	doc, err := html.Parse(bytes.NewReader(r.body))
	require.NoError(e.t, err)
	return doc, r
}

func walkHTML(n *html.Node, visit func(*html.Node)) {
	if n.Type == html.ElementNode {
		visit(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walkHTML(c, visit)
	}
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func byTestID(n *html.Node, id string) []*html.Node {
	var out []*html.Node
	walkHTML(n, func(e *html.Node) {
		if attrOf(e, "data-testid") == id {
			out = append(out, e)
		}
	})
	return out
}

func oneByTestID(t testing.TB, n *html.Node, id string) *html.Node {
	t.Helper()
	found := byTestID(n, id)
	require.Len(t, found, 1, "elements with data-testid=%q", id)
	return found[0]
}

func byTag(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	walkHTML(n, func(e *html.Node) {
		if e.Data == tag {
			out = append(out, e)
		}
	})
	return out
}

// text is the text of n as a reader sees it, whitespace runs collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// requireTimeMatchesItsLabel checks a <time> element (BC-04): its datetime attribute is an instant, and its text is
// that same instant in the zone the text names.
func requireTimeMatchesItsLabel(t testing.TB, el *html.Node) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, attrOf(el, "datetime"))
	require.NoError(t, err)
	label := text(el)
	require.True(t, strings.HasSuffix(label, " UTC"), "the zone is named: %q", label)
	shown, err := time.Parse(displayLayout, label)
	require.NoError(t, err)
	require.True(t, shown.Equal(at.Truncate(time.Minute)), "%q shows %s, datetime says %s", label, shown, at)
	return at
}

// requireNoLiveMarkup fails on any element or attribute that would run script (BC-12). The pages' own deferred
// same-origin script is the only <script> allowed.
func requireNoLiveMarkup(t testing.TB, where string, doc *html.Node) {
	t.Helper()
	walkHTML(doc, func(n *html.Node) {
		if n.Data == "script" {
			src := attrOf(n, "src")
			require.True(t, strings.HasPrefix(src, "/static/") && n.FirstChild == nil, "%s: <script src=%q>", where, src)
		}
		require.NotContains(t, []string{"svg", "iframe", "object", "embed", "math", "form", "base"}, n.Data,
			"%s: element <%s> from user input", where, n.Data)
		for _, a := range n.Attr {
			require.False(t, strings.HasPrefix(strings.ToLower(a.Key), "on"), "%s: <%s %s=%q>", where, n.Data, a.Key, a.Val)
			v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			for _, bad := range []string{"javascript:", "vbscript:", "data:text"} {
				require.False(t, strings.HasPrefix(v, bad), "%s: <%s %s=%q>", where, n.Data, a.Key, a.Val)
			}
		}
	})
}

func TestPermalinkShowsEveryPublishedUpdateAndNothingInternal(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key, times := e.driveIncident("EU control plane failure",
		map[string]any{"status": "investigating", "body": "We are investigating failures in the EU region.",
			"components": map[string]string{"control-plane-eu": "major_outage"}},
		map[string]any{"status": "monitoring", "body": "A fix is in place; we are **monitoring**."},
		map[string]any{"status": "resolved", "body": "Resolved: all policies are applied again.",
			"components": map[string]string{"control-plane-eu": "operational"}},
	)

	doc, r := e.page("/incidents/"+key, 200)
	for _, secret := range internalDetails {
		require.NotContains(t, string(r.body), secret, "the permalink leaks %q", secret)
	}
	require.NotEmpty(t, r.header.Get("ETag"))
	require.Equal(t, e.request("", "GET", "/api/v2/summary.json", nil, nil).header.Get("Cache-Control"),
		r.header.Get("Cache-Control"))

	require.Equal(t, "EU control plane failure", text(oneByTestID(t, doc, "incident-title")))
	require.Equal(t, "Status: ✓ Resolved", text(oneByTestID(t, doc, "incident-status")))
	require.Equal(t, "Affects: Control Plane (Europe), Secure Web Gateway (Europe)",
		text(oneByTestID(t, doc, "incident-components")))

	// Every published update, newest first, each with its own time; the draft is not there.
	ups := byTestID(doc, "update")
	require.Len(t, ups, 3)
	wantBodies := []string{"Resolved: all policies are applied again.", "A fix is in place; we are monitoring.",
		"We are investigating failures in the EU region."}
	for i, u := range ups {
		require.Equal(t, wantBodies[i], text(oneByTestID(t, u, "update-body")))
		at := requireTimeMatchesItsLabel(t, oneByTestID(t, u, "update-time"))
		require.True(t, at.Equal(times[len(times)-1-i].Truncate(time.Second)), "update %d at %s, published %s", i, at,
			times[len(times)-1-i])
	}

	// Started and Resolved are labelled, and the duration shown once resolved.
	started := oneByTestID(t, doc, "incident-started")
	require.True(t, strings.HasPrefix(text(started), "Started "))
	// Started is when impact began, else detected: the declaration here, which may be a second before the first update.
	rec, err := e.app.Incidents.Get(t.Context(), key)
	require.NoError(t, err)
	require.True(t, requireTimeMatchesItsLabel(t, byTag(started, "time")[0]).Equal(
		rec.State.Milestones[domain.MilestoneDetected].Truncate(time.Second)))
	resolved := oneByTestID(t, doc, "incident-resolved")
	require.True(t, strings.HasPrefix(text(resolved), "Resolved "))
	require.True(t, requireTimeMatchesItsLabel(t, byTag(resolved, "time")[0]).Equal(times[2].Truncate(time.Second)))
	duration := oneByTestID(t, doc, "incident-duration")
	require.Equal(t, "Lasted less than a minute", text(duration))
	require.True(t, strings.HasPrefix(attrOf(byTag(duration, "time")[0], "datetime"), "PT"))

	// The status page links the incident to its permalink.
	home, _ := e.page("/", 200)
	var links []string
	for _, a := range byTestID(home, "incident-link") {
		links = append(links, attrOf(a, "href"))
	}
	require.Equal(t, []string{"/incidents/" + key}, links)

	// Any case of the key answers the same page.
	lower := e.request("", "GET", "/incidents/"+strings.ToLower(key), nil, nil)
	require.Equal(t, 200, lower.status)
	require.Equal(t, r.body, lower.body)
}

func TestPermalinkIsNotFoundUntilSomethingIsPublished(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key, _ := e.driveIncident("Secret database outage")

	// Unpublished and unknown incidents get the same HTML page, which says nothing of either.
	_, unpublished := e.page("/incidents/"+key, 404)
	require.NotContains(t, string(unpublished.body), "Secret database outage")
	for _, secret := range internalDetails {
		require.NotContains(t, string(unpublished.body), secret)
	}
	_, unknown := e.page("/incidents/INC-999999", 404)
	require.Equal(t, unpublished.body, unknown.body)
	for _, path := range []string{"/incidents/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/incidents/INC-1'%20OR%20'1'='1",
		"/incidents/..%2F..%2Fetc%2Fpasswd", "/incidents/INC-1.json", "/incidents/" + url.PathEscape("支付失败"),
		"/incidents/INC-99999999999999999999999"} {
		doc, r := e.page(path, 404)
		require.Equal(t, "Page not found", text(oneByTestID(t, doc, "not-found")), path)
		require.Equal(t, unknown.body, r.body, path)
	}

	// Publishing makes it public at once: the cached 404 does not outlive the change.
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating",
		"body": "We are looking into it.", "publish": true}, 201)
	doc, _ := e.page("/incidents/"+key, 200)
	require.Equal(t, "Secret database outage", text(oneByTestID(t, doc, "incident-title")))
	require.Len(t, byTestID(doc, "update"), 1)
	require.Empty(t, byTestID(doc, "incident-resolved"))
	require.Empty(t, byTestID(doc, "incident-duration"), "no duration while unresolved")
}

// personioExport is a real Statuspage export: 50 resolved incidents from January 2023 to January 2024.
func personioExport(t testing.TB) *importer.Document {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "cases", "statuspage", "personio-incidents-2024-01-31.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("Statuspage case %s not found", path)
	}
	require.NoError(t, err)
	doc, err := importer.Parse(data)
	require.NoError(t, err)
	return doc
}

// exportIncidents counts the export's incidents by name and the minute of their first update.
func exportIncidents(t *testing.T) map[string]int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "cases", "statuspage", "personio-incidents-2024-01-31.json"))
	require.NoError(t, err)
	var doc struct {
		Incidents []struct {
			Name      string     `json:"name"`
			StartedAt *time.Time `json:"started_at"`
			Updates   []struct {
				CreatedAt time.Time `json:"created_at"`
			} `json:"incident_updates"`
		} `json:"incidents"`
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	out := map[string]int{}
	for _, in := range doc.Incidents {
		first := in.Updates[0].CreatedAt
		for _, u := range in.Updates {
			if u.CreatedAt.Before(first) {
				first = u.CreatedAt
			}
		}
		// "Started" is when the impact began, as the export says, when that was before the first update.
		if in.StartedAt != nil && in.StartedAt.Before(first) {
			first = *in.StartedAt
		}
		out[in.Name+" @ "+first.UTC().Truncate(time.Minute).Format(time.RFC3339)]++
	}
	return out
}

func (e *env) importPersonio() {
	e.t.Helper()
	im := importer.New(postgres.NewImportStore(e.app.DB))
	res, err := im.Import(e.t.Context(), personioExport(e.t))
	require.NoError(e.t, err)
	require.Equal(e.t, 50, res.IncidentsCreated)
	e.app.StatusPage.Invalidate() // the import also notifies; do not wait for the notification
}

// historyEntry is one incident as a history page lists it.
type historyEntry struct {
	month, href, name, status string
	started                   time.Time
	resolved                  bool
}

// walkHistory follows the history's "Older" links from the first page to the last, and returns every incident
// listed and the pages visited.
func (e *env) walkHistory() ([]historyEntry, []string) {
	e.t.Helper()
	t := e.t
	var entries []historyEntry
	var pages []string
	seenMonths := map[string]bool{}
	var lastMonth, prevPage time.Time
	for path := "/history"; path != ""; {
		require.Less(t, len(pages), 500, "the history does not end")
		pages = append(pages, path)
		doc, _ := e.page(path, 200)
		months := byTestID(doc, "history-month")
		require.Len(t, months, 3, "%s shows three months", path)
		for _, m := range months {
			name := text(byTag(m, "h2")[0])
			month, err := time.Parse("January 2006", name)
			require.NoError(t, err)
			require.False(t, seenMonths[name], "%s shown twice", name)
			seenMonths[name] = true
			if !lastMonth.IsZero() {
				require.Equal(t, lastMonth.AddDate(0, -1, 0), month, "months newest first, none skipped within a page")
			}
			require.True(t, prevPage.IsZero() || month.Before(prevPage), "pages newest first")
			lastMonth = month
			for _, in := range byTestID(m, "incident") {
				link := oneByTestID(t, in, "incident-link")
				started := requireTimeMatchesItsLabel(t, byTag(oneByTestID(t, in, "incident-started"), "time")[0])
				require.Equal(t, month.Format("2006-01"), started.UTC().Format("2006-01"), "listed under its month")
				entries = append(entries, historyEntry{month: name, href: attrOf(link, "href"), name: text(link),
					status: text(byTestID(in, "status")[0]), started: started,
					resolved: len(byTestID(in, "incident-resolved")) == 1 && len(byTestID(in, "incident-duration")) == 1})
			}
		}
		path = ""
		if older := byTestID(doc, "history-older"); len(older) > 0 {
			path = attrOf(older[0], "href")
		}
		// The links skip pages with nothing on them: months are consecutive within a page only.
		prevPage, lastMonth = lastMonth, time.Time{}
	}
	return entries, pages
}

func TestHistoryListsEveryIncidentByMonthAcrossPages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.importPersonio()
	liveKey, _ := e.driveIncident("Live incident", map[string]any{"status": "investigating", "body": "Looking."})
	hiddenKey, _ := e.driveIncident("Never published")

	entries, pages := e.walkHistory()
	require.Greater(t, len(pages), 2, "the history spans several pages")
	require.Len(t, entries, 51, "the 50 imported incidents and the live one; not the unpublished one")

	// The live incident is on the first page, in this month.
	require.Equal(t, "/incidents/"+liveKey, entries[0].href)
	require.Equal(t, time.Now().UTC().Format("January 2006"), entries[0].month)
	require.Equal(t, "! Investigating", entries[0].status)
	require.False(t, entries[0].resolved)

	// Every imported incident once, under the month its first update went out, resolved with its dates.
	want := exportIncidents(t)
	months := map[string]bool{}
	for _, en := range entries[1:] {
		require.NotEqual(t, "/incidents/"+hiddenKey, en.href)
		months[en.month] = true
		require.Equal(t, "✓ Resolved", en.status, en.name)
		require.True(t, en.resolved, en.name)
		k := en.name + " @ " + en.started.UTC().Truncate(time.Minute).Format(time.RFC3339)
		require.Positive(t, want[k], "%s is not in the export, or listed twice", k)
		want[k]--
	}
	require.GreaterOrEqual(t, len(months), 12, "incidents across many months")
	for i := 1; i < len(entries); i++ {
		require.False(t, entries[i].started.After(entries[i-1].started), "newest first")
	}

	// A listed incident's permalink shows all its updates; the page past the last is 404.
	sample := entries[len(entries)-1]
	doc, _ := e.page(sample.href, 200)
	require.Equal(t, sample.name, text(oneByTestID(t, doc, "incident-title")))
	require.NotEmpty(t, byTestID(doc, "update"))
	last := pages[len(pages)-1]
	n := 1
	if i := strings.LastIndexAny(last, "=/"); i >= 0 && i+1 < len(last) {
		after := last[i+1:]
		_, err := fmt.Sscan(after, &n)
		require.NoError(t, err)
	}
	e.page(fmt.Sprintf("/history?page=%d", n+1), 404)
	e.page(fmt.Sprintf("/history/%d", n+1), 404)
	e.page(fmt.Sprintf("/history/%d", n), 200)
	e.page("/history/02", 404)
	e.page("/history?page=abc", 404)

	// Going back: a page's "Newer" link leads to the page before it with incidents.
	doc, _ = e.page(pages[1], 200)
	require.Equal(t, pages[0], attrOf(oneByTestID(t, doc, "history-newer"), "href"))
}

// feedTitle, feedBody and feedName hold the characters feeds most often break: markup characters, quotes, a dash
// and a non-Latin script.
const (
	feedTitle = `Payments & "billing" <EU> — 支付失败`
	feedBody  = "Fix **deployed** for 支付失败 — refunds & retries <soon> \"quoted\" 'single'"
	feedText  = `Fix deployed for 支付失败 — refunds & retries "quoted" 'single'`
)

func TestFeedsCarryEachIncidentsLatestState(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.importPersonio()
	key, times := e.driveIncident(feedTitle,
		map[string]any{"status": "investigating", "body": "Looking into it."},
		map[string]any{"status": "monitoring", "body": feedBody},
	)
	permalink := "http://status.test/incidents/" + key
	jsonHeaders := e.request("", "GET", "/api/v2/summary.json", nil, nil).header

	for _, c := range []struct{ path, contentType, feedType string }{
		{"/history.rss", "application/rss+xml; charset=utf-8", "rss"},
		{"/history.atom", "application/atom+xml; charset=utf-8", "atom"},
	} {
		r := e.request("", "GET", c.path, nil, nil)
		require.Equal(t, 200, r.status, c.path)
		require.Equal(t, c.contentType, r.header.Get("Content-Type"))
		for _, h := range []string{"Cache-Control", "Access-Control-Allow-Origin", "Vary", "X-Content-Type-Options"} {
			require.Equal(t, jsonHeaders.Get(h), r.header.Get(h), "%s %s", c.path, h)
		}
		etag := r.header.Get("ETag")
		require.NotEmpty(t, etag)
		require.Equal(t, 304, e.request("", "GET", c.path, nil, map[string]string{"If-None-Match": etag}).status)

		// Well-formed XML, then what a feed reader makes of it.
		dec := xml.NewDecoder(bytes.NewReader(r.body))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			require.NoError(t, err, "%s is well-formed XML", c.path)
		}
		feed, err := gofeed.NewParser().ParseString(string(r.body))
		require.NoError(t, err, c.path)
		require.Equal(t, c.feedType, feed.FeedType)
		require.Equal(t, "Test status", feed.Title)
		require.Len(t, feed.Items, 50, "the latest 50 of 51 incidents")

		first := feed.Items[0]
		require.Equal(t, feedTitle, first.Title, "%s: the title intact", c.path)
		require.Equal(t, permalink, first.Link)
		require.Equal(t, permalink, first.GUID, "the id is the permalink")
		latest := first.UpdatedParsed
		if c.feedType == "rss" {
			latest = first.PublishedParsed
		} else {
			require.NotNil(t, first.PublishedParsed)
			require.True(t, first.PublishedParsed.Equal(times[0].Truncate(time.Second)), "atom published is the first update")
		}
		require.NotNil(t, latest, c.path)
		require.True(t, latest.Equal(times[1].Truncate(time.Second)), "%s: %s, latest update %s", c.path, latest, times[1])
		content, err := html.Parse(strings.NewReader(first.Content))
		require.NoError(t, err)
		require.Contains(t, text(content), "Monitoring", "%s: the status", c.path)
		require.Contains(t, text(content), feedText, "%s: the latest update", c.path)
		require.NotContains(t, text(content), "Looking into it.", "%s: only the latest update", c.path)
		require.Equal(t, []string{"deployed"}, func() (out []string) {
			for _, s := range byTag(content, "strong")[1:] {
				out = append(out, text(s))
			}
			return out
		}(), "%s: Markdown rendered", c.path)
		for _, secret := range internalDetails {
			require.NotContains(t, string(r.body), secret, "%s leaks %q", c.path, secret)
		}

		// Every item links to a permalink that answers, and the items are latest first.
		for i, it := range feed.Items {
			require.True(t, strings.HasPrefix(it.Link, "http://status.test/incidents/INC-"), it.Link)
			require.Equal(t, it.Link, it.GUID)
			if i > 0 {
				prev, cur := feed.Items[i-1].UpdatedParsed, it.UpdatedParsed
				if c.feedType == "rss" {
					prev, cur = feed.Items[i-1].PublishedParsed, it.PublishedParsed
				}
				require.False(t, cur.After(*prev), "latest first")
			}
		}
		path := strings.TrimPrefix(feed.Items[len(feed.Items)-1].Link, "http://status.test")
		require.Equal(t, 200, e.request("", "GET", path, nil, nil).status)
	}

	// The pages name their feeds.
	home, _ := e.page("/", 200)
	alternates := map[string]string{}
	for _, l := range byTag(byTag(home, "head")[0], "link") {
		if attrOf(l, "rel") == "alternate" {
			alternates[attrOf(l, "type")] = attrOf(l, "href")
		}
	}
	require.Equal(t, "/history.rss", alternates["application/rss+xml"])
	require.Equal(t, "/history.atom", alternates["application/atom+xml"])
}

// BC-12: markup in a title, an update and a component name is text or sanitised on the permalink, the history and
// in the feeds, never live.
func TestPublicArchiveNeutralisesStoredXSS(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const (
		title     = `Outage <img src=x onerror=alert(1)>`
		component = `"><img src=x onerror=alert(5)>`
		body      = `Details: <a href="javascript:alert(2)">here</a> and [md link](javascript:alert(3)) and ` +
			`<svg onload=alert(4)> <script>alert(6)</script> [docs](https://example.com/docs)`
	)
	e.do("admin", "POST", "/api/v1/components", map[string]any{"slug": "xss", "name": component}, 201)
	inc := e.do("responder", "POST", "/api/v1/incidents", map[string]any{
		"title": title, "components": []string{"xss"}, "severity": "low", "urgency": "low",
		"scope": map[string]any{}, "business_impact": []string{},
	}, 201)
	key := inc["key"].(string)
	if inc["kind"] == "major" {
		e.engage(key)
	}
	who := "ic"
	if inc["kind"] == "standard" {
		who = "admin"
	}
	e.do(who, "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating", "body": body,
		"publish": true, "components": map[string]string{"xss": "major_outage"}}, 201)

	doc, _ := e.page("/incidents/"+key, 200)
	requireNoLiveMarkup(t, "permalink", doc)
	require.Equal(t, title, text(oneByTestID(t, doc, "incident-title")), "the title is shown as the text it is")
	require.Equal(t, "Affects: "+component, text(oneByTestID(t, doc, "incident-components")))
	var hrefs []string
	for _, a := range byTag(oneByTestID(t, doc, "update-body"), "a") {
		hrefs = append(hrefs, attrOf(a, "href"))
	}
	require.Equal(t, []string{"https://example.com/docs"}, hrefs, "only the safe link survives")

	doc, _ = e.page("/history", 200)
	requireNoLiveMarkup(t, "history", doc)
	require.Equal(t, title, text(oneByTestID(t, doc, "incident-link")))

	for _, path := range []string{"/history.rss", "/history.atom"} {
		r := e.request("", "GET", path, nil, nil)
		require.Equal(t, 200, r.status)
		feed, err := gofeed.NewParser().ParseString(string(r.body))
		require.NoError(t, err, path)
		require.Len(t, feed.Items, 1)
		require.Equal(t, title, feed.Items[0].Title, "%s: the title is text", path)
		for _, field := range []string{feed.Items[0].Content, feed.Items[0].Description} {
			frag, err := html.Parse(strings.NewReader(field))
			require.NoError(t, err)
			requireNoLiveMarkup(t, path, frag)
			require.Empty(t, byTag(frag, "script"), path)
		}
		require.Contains(t, feed.Items[0].Content, `href="https://example.com/docs"`)
	}
}

// Once built, the permalink, the history and the feeds are served from memory: with the incidents table gone they
// still answer, the same, until the next public change.
func TestPublicArchiveIsServedFromMemory(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key, _ := e.driveIncident("Cached incident", map[string]any{"status": "investigating", "body": "Looking."})
	paths := []string{"/incidents/" + key, "/history", "/history.rss", "/history.atom", "/incidents/INC-424242"}
	first := map[string][]byte{}
	for _, p := range paths {
		first[p] = e.request("", "GET", p, nil, nil).body
	}
	_, err := e.app.DB.Pool.Exec(t.Context(), `ALTER TABLE incidents RENAME TO incidents_away`)
	require.NoError(t, err)
	for range 20 {
		for _, p := range paths {
			r := e.request("", "GET", p, nil, nil)
			require.Contains(t, []int{200, 404}, r.status, p)
			require.Equal(t, first[p], r.body, "%s is answered from memory", p)
		}
	}
	// A change with the database failing: the last good pages stay in service.
	e.app.StatusPage.Invalidate()
	for _, p := range paths[:4] {
		r := e.request("", "GET", p, nil, nil)
		require.Equal(t, 200, r.status, p)
		require.Equal(t, first[p], r.body, p)
	}
	_, err = e.app.DB.Pool.Exec(t.Context(), `ALTER TABLE incidents_away RENAME TO incidents`)
	require.NoError(t, err)

	// A publish is a change: the pages are rebuilt.
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "resolved", "body": "Fixed.",
		"publish": true}, 201)
	require.Eventually(t, func() bool {
		return !slices.Equal(first["/incidents/"+key], e.request("", "GET", "/incidents/"+key, nil, nil).body)
	}, 5*time.Second, 50*time.Millisecond)
	require.Contains(t, string(e.request("", "GET", "/history.atom", nil, nil).body), "Fixed.")
}

// privateIncident is a standard incident with a published update that an admin then made private.
func (e *env) privateIncident(title string) string {
	e.t.Helper()
	key := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": title, "severity": "medium",
		"urgency": "normal", "components": []string{"api"}}, 201)["key"].(string)
	e.do("responder", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating",
		"body": "Private body", "publish": true}, 201)
	e.do("admin", "PUT", "/api/v1/incidents/"+key+"/visibility", map[string]any{"private": true, "reason": "internal"}, 200)
	return key
}

func TestPrivateIncidentIsOnNoArchiveSurface(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.privateIncident("Private tooling outage")
	e.page("/incidents/"+key, 404)
	for _, path := range []string{"/history", "/history.rss", "/history.atom"} {
		r := e.request("", "GET", path, nil, nil)
		require.Equal(t, 200, r.status, path)
		require.NotContains(t, string(r.body), "Private tooling outage", path)
		require.NotContains(t, string(r.body), "Private body", path)
		require.NotContains(t, string(r.body), "/incidents/"+key, path)
	}
}

// Migration 000005 works out, for the incidents already stored, the times that saves keep from then on.
func TestMigrationBackfillsWhenIncidentsWentPublic(t *testing.T) {
	t.Parallel()
	e := setup(t)
	published, times := e.driveIncident("Published",
		map[string]any{"status": "investigating", "body": "One."}, map[string]any{"status": "monitoring", "body": "Two."})
	unpublished, _ := e.driveIncident("Unpublished")
	private := e.privateIncident("Private")

	type span struct{ started, updated *time.Time }
	read := func() map[string]span {
		rows, err := e.app.DB.Pool.Query(t.Context(), `SELECT key, public_started_at, public_updated_at FROM incidents`)
		require.NoError(t, err)
		defer rows.Close()
		out := map[string]span{}
		for rows.Next() {
			var key string
			var s span
			require.NoError(t, rows.Scan(&key, &s.started, &s.updated))
			out[key] = s
		}
		require.NoError(t, rows.Err())
		return out
	}
	saved := read()
	require.True(t, saved[published].started.Equal(times[0].Truncate(time.Microsecond)))
	require.True(t, saved[published].updated.Equal(times[1].Truncate(time.Microsecond)))
	require.Nil(t, saved[unpublished].started)
	require.Nil(t, saved[private].started, "a private incident is not public")
	require.Nil(t, saved[private].updated)

	url := e.app.DB.Pool.Config().ConnString()
	latest, err := postgres.LatestMigration()
	require.NoError(t, err)
	require.NoError(t, postgres.MigrateDown(t.Context(), url, int(latest)-4))
	require.NoError(t, postgres.MigrateUp(t.Context(), url))
	require.Equal(t, saved, read())
}

// incidents.json lists the most recent incidents as Statuspage's does, old ones included; the page shows only the
// recently resolved.
func TestIncidentsJSONListsTheLatestFiftyAndThePageOnlyRecentOnes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.importPersonio()
	e.app.StatusPage.Invalidate()
	listed := e.do("", "GET", "/api/v2/incidents.json", nil, 200)["incidents"].([]any)
	require.Len(t, listed, 50, "Personio's export holds 50 incidents, all resolved long ago")
	page := string(e.request("", "GET", "/", nil, nil).body)
	name := listed[0].(map[string]any)["name"].(string)
	require.NotContains(t, page, name, "a year-old incident is not 'recently resolved'")
}

// Customers see when they were first affected, not when the first update went out.
func TestPublicStartIsWhenImpactBegan(t *testing.T) {
	t.Parallel()
	e := setup(t)
	began := time.Now().Add(-45 * time.Minute).UTC().Truncate(time.Second)
	key := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "Slow logins", "severity": "low",
		"urgency": "low", "impact_started_at": began.Format(time.RFC3339)}, 201)["key"].(string)
	e.do("responder", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating", "body": "b",
		"publish": true}, 201)
	inc := e.do("", "GET", "/api/v2/summary.json", nil, 200)["incidents"].([]any)[0].(map[string]any)
	started, err := time.Parse(time.RFC3339Nano, inc["started_at"].(string))
	require.NoError(t, err)
	require.True(t, started.Equal(began), "started_at %s, impact began %s", started, began)
	created, err := time.Parse(time.RFC3339Nano, inc["created_at"].(string))
	require.NoError(t, err)
	require.True(t, created.After(began))
}

// A static copy holds every page of the history: the pages link to each other by path.
func TestStaticExportHoldsEveryHistoryPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.importPersonio()
	e.app.StatusPage.Invalidate()
	dir := t.TempDir()
	_, err := e.app.StatusPage.Export(t.Context(), dir)
	require.NoError(t, err)
	_, pages := e.walkHistory()
	require.Greater(t, len(pages), 2)
	for _, p := range pages {
		if p == "/history" {
			continue
		}
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(p, "/"))))
		require.NoError(t, err, "%s is in the copy", p)
	}
}

// Positions count as Statuspage's do: top level from 1, and from 1 again inside each group.
func TestComponentPositionsCountWithinTheirGroup(t *testing.T) {
	t.Parallel()
	e := setup(t)
	comps := e.do("", "GET", "/api/v2/components.json", nil, 200)["components"].([]any)
	top, inGroup := []float64{}, map[string][]float64{}
	for _, c := range comps {
		m := c.(map[string]any)
		if g, ok := m["group_id"].(string); ok && g != "" {
			inGroup[g] = append(inGroup[g], m["position"].(float64))
		} else {
			top = append(top, m["position"].(float64))
		}
	}
	require.Equal(t, []float64{1, 2}, top, "the Europe group and the ungrouped API")
	for g, ps := range inGroup {
		for i, p := range ps {
			require.EqualValues(t, i+1, p, "group %s", g)
		}
	}
}
