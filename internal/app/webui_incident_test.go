package app_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
)

func TestWebDeclareShowsTheVerdictBeforeSubmittingAndKeepsInputOnValidationErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.signIn("responder")

	// The live preview's JSON: control plane in scope, critical severity.
	r := u.get("/app/classify?severity=high&urgency=normal&components=control-plane-eu&business_impact=financial")
	require.Equal(t, http.StatusOK, r.status, r.body)
	var verdict struct {
		Kind     string
		Priority string
		Criteria []struct {
			Name string
			Met  bool
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &verdict))
	require.Equal(t, "major", verdict.Kind, "scope (control plane) and business impact met")
	require.Len(t, verdict.Criteria, 4)
	require.Equal(t, http.StatusUnprocessableEntity, u.get("/app/classify?severity=high").status)

	form := url.Values{"title": {""}, "description": {"edge proxies"}, "components": {"swg-eu"}, "severity": {"low"},
		"urgency": {"normal"}, "regions": {"eu, us"}, "customers_affected": {"12"}, "business_impact": {"reputational"}}
	// Without JavaScript, "check the classification" shows the verdict and declares nothing.
	form.Set("preview", "1")
	p := u.post("/app/incidents/new", form)
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.text(`[data-testid="verdict-kind"]`), "Major incident", "2 regions and an impact: two criteria")
	require.Zero(t, e.incidentCount())

	form.Del("preview")
	p = u.post("/app/incidents/new", form)
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.text(`[data-testid="title-error"]`), "required")
	require.Equal(t, "edge proxies", p.text(`#description`))
	require.Equal(t, "eu, us", p.doc.Find(`#regions`).AttrOr("value", ""))
	require.Equal(t, "12", p.doc.Find(`#customers_affected`).AttrOr("value", ""))
	require.Equal(t, "low", p.doc.Find(`#severity option[selected]`).AttrOr("value", ""))
	_, checked := p.doc.Find(`input[name="components"][value="swg-eu"]`).Attr("checked")
	require.True(t, checked)
	_, checked = p.doc.Find(`input[name="business_impact"][value="reputational"]`).Attr("checked")
	require.True(t, checked)

	form.Set("customers_affected", "many")
	form.Set("title", "Proxy errors")
	p = u.post("/app/incidents/new", form)
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.text(`[data-testid="customers_affected-error"]`), "whole number")
	require.Zero(t, e.incidentCount())

	form.Set("customers_affected", "12")
	p = u.post("/app/incidents/new", form)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.True(t, strings.HasPrefix(p.location, "/app/incidents/INC-"))
	room := u.get(p.location)
	require.Contains(t, room.text(`[data-testid="flash"]`), "Declared")
	require.Equal(t, "major", room.text(`[data-testid="kind"]`))
}

func TestWebIncidentListPutsActiveFirstFiltersSearchesAndMarksOverdue(t *testing.T) {
	t.Parallel()
	e := setup(t)
	major := e.declareMajor()
	std := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "Slow search in API",
		"components": []string{"api"}, "severity": "low", "urgency": "low", "scope": map[string]any{}, "business_impact": []string{}}, 201)["key"].(string)
	e.do("responder", "POST", "/api/v1/incidents/"+std+"/status", map[string]any{"to": "resolved"}, 200)
	// A published update an hour and a half ago: the critical cadence (30 min) is overdue.
	e.engage(major)
	e.do("ic", "POST", "/api/v1/incidents/"+major+"/updates", map[string]any{"status": "investigating",
		"body": "Looking into it", "publish": true}, 201)
	_, err := e.app.DB.Pool.Exec(t.Context(), `UPDATE incidents SET state = jsonb_set(state, '{updates,0,published_at}',
		to_jsonb((now() - interval '90 minutes')::timestamptz)) WHERE key = $1`, major)
	require.NoError(t, err)

	u := e.signIn("viewer")
	p := u.get("/app/incidents")
	require.Equal(t, http.StatusOK, p.status)
	require.Equal(t, 1, p.doc.Find(`[data-testid="incidents-active"] [data-testid="incident-row"]`).Length())
	require.Equal(t, major, p.doc.Find(`[data-testid="incidents-active"] [data-testid="incident-row"]`).AttrOr("data-key", ""))
	require.Equal(t, std, p.doc.Find(`[data-testid="incidents-past"] [data-testid="incident-row"]`).AttrOr("data-key", ""))
	require.Contains(t, p.text(`[data-testid="incidents-active"] [data-testid="overdue"]`), "update overdue by")

	for q, want := range map[string]string{"?kind=standard": std, "?q=search": std, "?q=" + major: major,
		"?stage=detection_declaration": major, "?stage=mobilization": "", "?severity=critical": major,
		"?component=api": std, "?kind=bogus&q=control": major} {
		p := u.get("/app/incidents" + q)
		require.Equal(t, http.StatusOK, p.status, q)
		var keys []string
		p.doc.Find(`[data-testid="incident-row"]`).Each(func(_ int, s *goquery.Selection) { keys = append(keys, s.AttrOr("data-key", "")) })
		if want == "" {
			require.Empty(t, keys, q)
		} else {
			require.Equal(t, []string{want}, keys, q)
		}
	}
}

func TestWebIncidentListPagesThroughClosedIncidents(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for i := range 27 {
		key := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "Blip " + string(rune('a'+i)),
			"components": []string{"api"}, "severity": "low", "urgency": "low", "scope": map[string]any{}, "business_impact": []string{}}, 201)["key"].(string)
		e.do("responder", "POST", "/api/v1/incidents/"+key+"/status", map[string]any{"to": "resolved"}, 200)
	}
	u := e.signIn("viewer")
	first := u.get("/app/incidents")
	require.Equal(t, 25, first.doc.Find(`[data-testid="incidents-past"] [data-testid="incident-row"]`).Length())
	next, ok := first.doc.Find(`[data-testid="next-page"]`).Attr("href")
	require.True(t, ok)
	second := u.get(next)
	require.Equal(t, 2, second.doc.Find(`[data-testid="incidents-past"] [data-testid="incident-row"]`).Length())
	require.Zero(t, second.doc.Find(`[data-testid="next-page"]`).Length())
	require.Equal(t, http.StatusSeeOther, u.get("/app/incidents?after=garbage").status, "a foreign cursor starts over")
}

// BC-34: two people holding the same version; the second submit is refused as stale, with the fresh state and their
// input kept, and changes nothing; racing submits of one version: exactly one wins.
func TestWebStaleFormIsRefusedWithTheFreshStateAndRacingSubmitsNeverBothApply(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	e.engage(key)
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/stage", map[string]any{"to": "mobilization"}, 200)
	ic, tech := e.signIn("ic"), e.signIn("admin")
	roomA, roomB := ic.get("/app/incidents/"+key), tech.get("/app/incidents/"+key)
	v := roomA.version(t)
	require.Equal(t, v, roomB.version(t))

	ok := ic.post("/app/incidents/"+key+"/assign-role", url.Values{"role": {"communications_lead"}, "user": {e.emails["comms"]}, "version": {v}})
	require.Equal(t, http.StatusSeeOther, ok.status, ok.body)
	stale := tech.post("/app/incidents/"+key+"/log-action", url.Values{"kind": {"diagnosis"},
		"description": {"DB failover started"}, "version": {v}})
	require.Equal(t, http.StatusPreconditionFailed, stale.status)
	require.Contains(t, stale.text(`[data-testid="error"]`), "changed since you loaded it")
	require.Contains(t, stale.text(`[data-testid="role-comms"]`), "Comms", "the fresh state is shown")
	require.Equal(t, "DB failover started", stale.doc.Find(`#actions-description`).AttrOr("value", ""), "input kept")
	require.NotEqual(t, v, stale.version(t))
	rec, err := e.app.Incidents.Get(t.Context(), key)
	require.NoError(t, err)
	require.Empty(t, rec.State.Actions)
	require.Equal(t, "comms@example.com", rec.State.Roles.CommunicationsLead.Email)

	// Race: both hold the new version and submit at once.
	fresh := rec.Version
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, who := range []*ui{ic, tech} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = who.post("/app/incidents/"+key+"/open-bridge", url.Values{"kind": {"technical"},
				"url": {"https://meet.example.com/" + string(rune('a'+i))}, "version": {itoa(fresh)}}).status
		}()
	}
	wg.Wait()
	require.ElementsMatch(t, []int{http.StatusSeeOther, http.StatusPreconditionFailed}, statuses)
	rec, err = e.app.Incidents.Get(t.Context(), key)
	require.NoError(t, err)
	require.Equal(t, fresh+1, rec.Version)
	timeline := e.do("admin", "GET", "/api/v1/incidents/"+key+"/timeline", nil, 200)["entries"].([]any)
	opened := 0
	for _, en := range timeline {
		if en.(map[string]any)["type"] == "bridge_opened" {
			opened++
		}
	}
	require.Equal(t, 1, opened, "the accepted change is on the timeline once")
}

func itoa(n int) string { return strconv.Itoa(n) }

// BC-12: hostile titles, bodies and component names are text everywhere in the UI; Markdown is sanitised.
func TestWebEscapesHostileInputEverywhere(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.do("admin", "POST", "/api/v1/components", map[string]any{"slug": "evil", "name": `"><img src=x onerror=alert(5)>`}, 201)
	key := e.do("responder", "POST", "/api/v1/incidents", map[string]any{
		"title": `Outage <img src=x onerror=alert(1)>`, "description": `<svg onload=alert(4)>`,
		"components": []string{"evil", "control-plane-eu"}, "severity": "critical", "urgency": "immediate",
		"scope": map[string]any{"regions": []string{"<script>alert(6)</script>"}}, "business_impact": []string{"financial"}}, 201)["key"].(string)
	e.engage(key)
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating", "publish": true,
		"body": "Details: <a href=\"javascript:alert(2)\">here</a> and [md link](javascript:alert(3)) and <svg onload=alert(4)>"}, 201)
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/actions", map[string]any{"kind": "finding", "description": `<img src=x onerror=alert(7)>`}, 201)
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/tickets", map[string]any{"system": "<b>zd</b>", "ref": "1", "url": "https://zd.example.com/1"}, 201)

	u := e.signIn("admin")
	for _, path := range []string{"/app/incidents", "/app/incidents/" + key, "/app/components", "/app/incidents/new"} {
		p := u.get(path)
		require.Equal(t, http.StatusOK, p.status, path)
		requireNoLiveUIMarkup(t, path, p.body)
	}
	room := u.get("/app/incidents/" + key)
	require.Contains(t, room.doc.Find("h1").Text(), `Outage <img src=x onerror=alert(1)>`, "the title is visible text")
	// The Markdown preview endpoint sanitises the same way.
	prev := u.post("/app/markdown", url.Values{"body": {"[x](javascript:alert(1)) <img src=x onerror=alert(1)> **ok**"}})
	require.Equal(t, http.StatusOK, prev.status)
	var out map[string]string
	require.NoError(t, json.Unmarshal([]byte(prev.body), &out))
	require.Contains(t, out["html"], "<strong>ok</strong>")
	requireNoLiveUIMarkup(t, "markdown preview", out["html"])
}

// requireNoLiveUIMarkup parses HTML and fails on any on* attribute, javascript: URL, or script/svg element other than
// the UI's own script.
func requireNoLiveUIMarkup(t *testing.T, where, doc string) {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	require.NoError(t, err)
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "svg", "iframe", "object", "embed":
				t.Errorf("%s: live <%s> element", where, n.Data)
			case "script":
				src := ""
				for _, a := range n.Attr {
					if a.Key == "src" {
						src = a.Val
					}
				}
				if src != "/static/app.js" {
					t.Errorf("%s: unexpected <script src=%q>", where, src)
				}
			case "img":
				t.Errorf("%s: live <img> from user input", where)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") {
					t.Errorf("%s: live %s attribute on <%s>", where, a.Key, n.Data)
				}
				if (a.Key == "href" || a.Key == "src" || a.Key == "action") &&
					strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
					t.Errorf("%s: javascript: URL in %s", where, a.Key)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
}

// The war room's stream hears a change committed by another process on the same database (another replica), through
// pg_notify at commit.
func TestWebWarRoomEventsStreamTellsWatchersOfChangesMadeOnAnotherReplica(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	other, err := app.New(t.Context(), config.Config{PageName: "Replica", BaseURL: "http://status.test", TimeZone: time.UTC},
		e.app.DB.Pool.Config().ConnString(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	replica := httptest.NewServer(other.Handler)
	t.Cleanup(func() { replica.Close(); other.Close() })
	u := e.signIn("viewer") // sessions are in the database: the same cookie works on the replica
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, replica.URL+"/app/incidents/"+key+"/events", nil)
	require.NoError(t, err)
	srvURL, _ := url.Parse(e.srv.URL)
	replicaURL, _ := url.Parse(replica.URL)
	u.c.Jar.SetCookies(replicaURL, u.c.Jar.Cookies(srvURL))
	require.NoError(t, err)
	resp, err := u.c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	require.Eventually(t, func() bool { return other.UI.Live.Watchers(key) == 1 }, 5*time.Second, 10*time.Millisecond)
	// A change through the first process's API.
	e.do("responder", "PUT", "/api/v1/incidents/"+key+"/roles/incident_commander", map[string]any{"user": e.emails["ic"]}, 200)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "stream ended")
			if l == "event: changed" {
				return
			}
		case <-deadline:
			t.Fatal("no changed event within 5 s")
		}
	}
}

// Declaring from the UI may say when the fault was detected and when impact began, in the organisation's zone, so
// the numbers (time to declare, MTTR) count from then; a time that is not one is shown on the form, nothing declared.
func TestWebDeclareTakesDetectionAndImpactTimesInTheOrganisationsZone(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.signIn("responder")
	form := url.Values{"title": {"Edge errors"}, "components": {"api"}, "severity": {"low"}, "urgency": {"low"},
		"detected_at": {"2026-03-02T09:15"}, "impact_started_at": {"soon"}}
	p := u.post("/app/incidents/new", form)
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.NotEmpty(t, p.text(`[data-testid="impact_started_at-error"]`))
	require.Equal(t, "2026-03-02T09:15", p.doc.Find(`#detected_at`).AttrOr("value", ""))
	require.Zero(t, e.incidentCount())

	form.Set("impact_started_at", "2026-03-02T09:05")
	p = u.post("/app/incidents/new", form)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	list := e.do("admin", "GET", "/api/v1/incidents", nil, 200)["incidents"].([]any)
	require.Len(t, list, 1)
	ms := list[0].(map[string]any)["milestones"].(map[string]any)
	// The harness's zone is UTC.
	require.Equal(t, "2026-03-02T09:15:00Z", ms["detected"])
	require.Equal(t, "2026-03-02T09:05:00Z", ms["impact_started"])
}
