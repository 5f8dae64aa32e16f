package app_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postgres"
)

// uptimeMark is one day's mark of an uptime bar as the page shows it: its status code and its words.
type uptimeMark struct{ status, text string }

// uptimeBar is a component's uptime history as the page shows it.
type uptimeBar struct {
	percent, summary string
	days             []uptimeMark
}

// uptimeBars fetches the status page and reads every component's uptime bar, by component name.
func (e *env) uptimeBars() map[string]uptimeBar {
	e.t.Helper()
	r := e.request("", "GET", "/", nil, nil)
	require.Equal(e.t, 200, r.status)
	doc, err := html.Parse(bytes.NewReader(r.body))
	require.NoError(e.t, err)
	out := map[string]uptimeBar{}
	for _, bar := range uptimeFind(doc, "uptime") {
		var b uptimeBar
		var name string
		for _, n := range uptimeFind(bar, "") {
			switch {
			case n.Data == "ol":
				name, _, _ = strings.Cut(uptimeAttr(n, "aria-label"), ": ")
			case uptimeAttr(n, "data-testid") == "uptime-percent":
				b.percent = uptimeText(n)
			case uptimeAttr(n, "data-testid") == "uptime-summary":
				b.summary = uptimeText(n)
			case n.Data == "li" && strings.HasPrefix(uptimeAttr(n, "class"), "day "):
				require.Equal(e.t, "0", uptimeAttr(n, "tabindex"), "each day is reachable by keyboard")
				code, _ := strings.CutPrefix(strings.Fields(uptimeAttr(n, "class"))[1], "day--")
				b.days = append(b.days, uptimeMark{code, uptimeText(n)})
			}
		}
		out[name] = b
	}
	return out
}

func uptimeFind(n *html.Node, testID string) []*html.Node {
	var out []*html.Node
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.ElementNode && (testID == "" || uptimeAttr(n, "data-testid") == testID) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return out
}

func uptimeAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func uptimeText(n *html.Node) string {
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

// percentOf reads "99.95 % uptime" (or "99.95 % uptime since 3 December").
func percentOf(t *testing.T, s string) float64 {
	t.Helper()
	num, _, ok := strings.Cut(s, " % uptime")
	require.True(t, ok, s)
	v, err := strconv.ParseFloat(num, 64)
	require.NoError(t, err)
	return v
}

// dailyRow is a row of component_daily_status.
type dailyRow struct {
	day, worst   string
	major, other float64
	keys         []string
}

func (e *env) dailyRows(slug string) []dailyRow {
	e.t.Helper()
	rows, err := e.app.DB.Pool.Query(e.t.Context(), `
		SELECT d.day::text, d.worst_status, d.seconds_major, d.seconds_degraded + d.seconds_partial + d.seconds_maintenance,
		       d.incident_keys
		FROM component_daily_status d JOIN components c ON c.id = d.component_id WHERE c.slug = $1 ORDER BY d.day`, slug)
	require.NoError(e.t, err)
	defer rows.Close()
	var out []dailyRow
	for rows.Next() {
		var r dailyRow
		require.NoError(e.t, rows.Scan(&r.day, &r.worst, &r.major, &r.other, &r.keys))
		out = append(out, r)
	}
	require.NoError(e.t, rows.Err())
	return out
}

func TestPageHoldsNinetyDayMarksPerComponentWithWords(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bars := e.uptimeBars()
	require.Len(t, bars, 3, "every component has a bar")
	for name, b := range bars {
		require.Len(t, b.days, 90, name)
		for i, d := range b.days[:89] {
			require.Equal(t, "no_data", d.status, "%s day %d: before the component was created", name, i)
			require.Contains(t, d.text, "No data")
		}
		today := b.days[89]
		require.Equal(t, "operational", today.status)
		require.True(t, strings.HasPrefix(today.text, "Today, "+time.Now().UTC().Format("2 January 2006")+" (UTC), so far:"),
			today.text)
		require.Contains(t, today.text, "Operational. No partial or major outage.")
		require.Equal(t, "100.00 % uptime since "+time.Now().UTC().Format("2 January"), b.percent,
			"components added today say since when")
	}
	page := string(e.request("", "GET", "/", nil, nil).body)
	require.Contains(t, page, `data-testid="uptime-legend"`)
	require.NotContains(t, page, "style=", "no inline styles: the policy forbids them")
}

func TestPublishedOutageIsRolledUpAndShownOnTodaysMark(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	e.engage(key)
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating", "body": "Down",
		"publish": true, "components": map[string]string{"control-plane-eu": "major_outage"}}, 201)

	// While it lasts, the interval is open: counted up to now, not yet rolled up.
	require.Empty(t, e.dailyRows("control-plane-eu"))
	var status string
	var keys []string
	require.NoError(t, e.app.DB.Pool.QueryRow(t.Context(), `SELECT o.status, o.incident_keys FROM component_uptime_open o
		JOIN components c ON c.id = o.component_id WHERE c.slug = 'control-plane-eu'`).Scan(&status, &keys))
	require.Equal(t, "major_outage", status)
	require.Equal(t, []string{key}, keys)
	bar := e.uptimeBars()["Control Plane (Europe)"]
	today := bar.days[89]
	require.Equal(t, "major_outage", today.status)
	require.Regexp(t, `Major outage\. Major outage since \d\d:\d\d UTC, ongoing\.`, today.text)
	require.Contains(t, today.text, "Incident: EU control plane failure ("+key+").")
	require.Less(t, percentOf(t, bar.percent), 100.0)
	require.Equal(t, "Partial or major outage on 1 of the last 90 days", bar.summary)
	require.Equal(t, "100.00 % uptime since "+time.Now().UTC().Format("2 January"), e.uptimeBars()["API"].percent, "other components are untouched")

	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "resolved", "body": "Fixed",
		"publish": true, "components": map[string]string{"control-plane-eu": "operational"}}, 201)
	rows := e.dailyRows("control-plane-eu")
	require.Len(t, rows, 1)
	require.Equal(t, time.Now().UTC().Format(time.DateOnly), rows[0].day)
	require.Equal(t, "major_outage", rows[0].worst)
	require.Greater(t, rows[0].major, 0.0)
	require.Less(t, rows[0].major, 60.0)
	require.Equal(t, []string{key}, rows[0].keys)

	bar = e.uptimeBars()["Control Plane (Europe)"]
	require.Equal(t, "major_outage", bar.days[89].status, "the day's worst status stays, though it is over")
	require.Less(t, percentOf(t, bar.percent), 100.0)
	require.Empty(t, e.dailyRows("swg-eu"), "a component the update did not set has no outage")
}

func TestNinetyDayViewOfRecordedHistoryNamesOnlyPublicIncidents(t *testing.T) {
	t.Parallel()
	e := setup(t)
	public := e.declareMajor()
	e.engage(public)
	e.do("ic", "POST", "/api/v1/incidents/"+public+"/updates", map[string]any{"status": "investigating",
		"body": "Looking", "publish": true}, 201)
	hidden := e.do("responder", "POST", "/api/v1/incidents", map[string]any{
		"title": "Internal-only hiccup", "components": []string{"api"}, "severity": "low", "urgency": "low",
		"scope": map[string]any{}, "business_impact": []string{}}, 201)["key"].(string)

	// API was added 60 days ago; its history is recorded at past times, as an import of older history would.
	_, err := e.app.DB.Pool.Exec(t.Context(), `UPDATE components SET created_at = now() - interval '60 days' WHERE slug = 'api'`)
	require.NoError(t, err)
	midnight := time.Now().UTC().Truncate(24 * time.Hour)
	dayAt := func(daysAgo int, hour int) time.Time {
		return midnight.AddDate(0, 0, -daysAgo).Add(time.Duration(hour) * time.Hour)
	}
	store := postgres.NewUptimeStore(e.app.DB)
	for _, c := range []struct {
		status domain.ComponentStatus
		at     time.Time
		keys   []string
	}{
		{domain.ComponentMajorOutage, dayAt(40, 22), []string{public}}, // a 3-day outage over four dates
		{domain.ComponentOperational, dayAt(37, 22), nil},
		{domain.ComponentDegradedPerformance, dayAt(10, 10), []string{public, hidden}},
		{domain.ComponentOperational, dayAt(10, 11), nil},
	} {
		require.NoError(t, store.Record(t.Context(), "api", c.status, c.at, c.keys))
	}

	day := func(daysAgo int) string { return midnight.AddDate(0, 0, -daysAgo).Format(time.DateOnly) }
	require.Equal(t, []dailyRow{
		{day(40), "major_outage", 2 * 3600, 0, []string{public}},
		{day(39), "major_outage", 24 * 3600, 0, []string{public}},
		{day(38), "major_outage", 24 * 3600, 0, []string{public}},
		{day(37), "major_outage", 22 * 3600, 0, []string{public}},
		{day(10), "degraded_performance", 0, 3600, uniqueSorted(public, hidden)},
	}, e.dailyRows("api"))

	bar := e.uptimeBars()["API"]
	require.Len(t, bar.days, 90)
	mark := func(daysAgo int) uptimeMark { return bar.days[89-daysAgo] }
	for ago := 89; ago > 60; ago-- {
		require.Equal(t, "no_data", mark(ago).status, "%d days ago, before API was added", ago)
	}
	require.Equal(t, "operational", mark(60).status, "the day it was added")
	for ago := 40; ago >= 37; ago-- {
		require.Equal(t, "major_outage", mark(ago).status)
		require.Contains(t, mark(ago).text, "Incident: EU control plane failure ("+public+").")
	}
	require.Contains(t, mark(39).text, "Major outage for 24 h.")
	require.Contains(t, mark(37).text, "Major outage for 22 h.")
	require.Equal(t, "operational", mark(36).status)
	require.Equal(t, "degraded_performance", mark(10).status)
	require.Contains(t, mark(10).text, midnight.AddDate(0, 0, -10).Format("2 January 2006")+" (UTC):")
	require.Contains(t, mark(10).text, "Degraded performance. No partial or major outage. Degraded performance for 1 h.")
	require.Contains(t, mark(10).text, "Incident: EU control plane failure ("+public+").")
	require.NotContains(t, mark(10).text, hidden, "an incident with nothing published is never named")
	require.NotContains(t, mark(10).text, "Internal-only hiccup")

	// 72 hours of major outage in the 60 days since API was added; degraded time counts as up.
	require.Equal(t, "95.00 % uptime since "+midnight.AddDate(0, 0, -60).Format("2 January"), bar.percent)
	require.Equal(t, "Partial or major outage on 4 of the last 90 days; degraded performance, with no outage, on 1 day",
		bar.summary)
}

func uniqueSorted(a, b string) []string {
	if a > b {
		a, b = b, a
	}
	return []string{a, b}
}

// The uptime bar in a real browser at 320 px: nothing scrolls sideways, every mark is drawn, and a day's words show
// when the keyboard focuses its mark, inside the screen.
func TestUptimeBarIsReadableAt320PixelsAndByKeyboard(t *testing.T) {
	t.Parallel()
	if chromium() == "" {
		t.Skip("no chromium, chromium-browser or google-chrome on PATH")
	}
	e := setup(t)
	tab := browser(t, 40*time.Second)
	_, err := e.app.DB.Pool.Exec(t.Context(), `UPDATE components SET created_at = now() - interval '60 days'`)
	require.NoError(t, err)
	midnight := time.Now().UTC().Truncate(24 * time.Hour)
	store := postgres.NewUptimeStore(e.app.DB)
	require.NoError(t, store.Record(t.Context(), "api", domain.ComponentMajorOutage, midnight.AddDate(0, 0, -5).Add(9*time.Hour), nil))
	require.NoError(t, store.Record(t.Context(), "api", domain.ComponentOperational, midnight.AddDate(0, 0, -5).Add(11*time.Hour), nil))

	require.NoError(t, chromedp.Do(tab,
		chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile),
		chromedp.Navigate(e.srv.URL+"/"),
	))
	overflow, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
	require.NoError(t, err)
	require.LessOrEqual(t, overflow, 0, "the page scrolls sideways at 320 px")

	// The tab has no window focus of its own when headless: emulate it, so :focus matches as on a screen. Focus goes
	// to the day before the outage, and Tab moves it on, as a keyboard user would.
	_, err = chromedp.Call(tab, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Evaluate[chromedp.Void](`(() => {
			const day = document.querySelector(".uptime-days > .day--major_outage");
			day.scrollIntoView();
			day.previousElementSibling.focus();
		})()`),
		chromedp.KeyEvent("\t"),
	))
	type shown struct {
		Marks     int     `json:"marks"`
		Narrowest float64 `json:"narrowest"`
		Focused   bool    `json:"focused"`
		TipLeft   float64 `json:"tipLeft"`
		TipRight  float64 `json:"tipRight"`
		TipWidth  float64 `json:"tipWidth"`
		TipText   string  `json:"tipText"`
	}
	got, err := chromedp.Run(tab, chromedp.Evaluate[shown](`(() => {
		const marks = Array.from(document.querySelectorAll(".uptime-days > li"));
		const day = document.querySelector(".uptime-days > .day--major_outage");
		const tip = day.querySelector(".day-tip");
		const box = tip.getBoundingClientRect();
		return {
			marks: marks.length,
			narrowest: Math.min(...marks.map(m => m.getBoundingClientRect().width)),
			focused: document.activeElement === day,
			tipLeft: box.left, tipRight: box.right, tipWidth: box.width, tipText: tip.innerText,
		};
	})()`))
	require.NoError(t, err)
	require.Equal(t, 3*90, got.Marks)
	require.GreaterOrEqual(t, got.Narrowest, 2.0, "every mark is drawn")
	require.True(t, got.Focused, "a mark takes keyboard focus")
	require.Greater(t, got.TipWidth, 100.0, "its words show on focus: %s", got.TipText)
	require.GreaterOrEqual(t, got.TipLeft, 0.0)
	require.LessOrEqual(t, got.TipRight, 320.0, "inside the screen")
	require.Contains(t, got.TipText, "Major outage for 2 h.")
	screenshot(t, tab, "uptime-320.png")
}
