package statuspage

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/uptime"
)

// uptimeState is bc06State with histories: Card processing had a 3-hour major outage on 20 April, with incident
// INC-1, and has been in major outage since 09:00 today; API was added 30 days ago.
func uptimeState(t *testing.T, now time.Time) State {
	t.Helper()
	st := bc06State(t)
	for i := range st.Components {
		c := &st.Components[i]
		var recs []uptime.Record
		open := uptime.Open{}
		switch c.Slug {
		case "card":
			c.Status = domain.ComponentMajorOutage
			recs = []uptime.Record{{Date: at(t, "2026-04-20T00:00:00Z"), Worst: domain.ComponentMajorOutage,
				Totals: uptime.Totals{Major: 3 * time.Hour, Partial: 90 * time.Minute}, Incidents: []string{"INC-1"}}}
			open = uptime.Open{Status: domain.ComponentMajorOutage, Since: at(t, "2026-05-05T09:00:00Z"),
				Incidents: []string{"INC-1"}}
		case "api":
			c.CreatedAt = now.AddDate(0, 0, -30)
		}
		c.Uptime = uptime.History(uptime.Days, now, uptime.Zone, c.CreatedAt, recs, open)
		for j := range c.Uptime {
			for k := range c.Uptime[j].Incidents {
				c.Uptime[j].Incidents[k].Name = "Payment failures"
			}
		}
	}
	return st
}

func TestPageShowsNinetyDayMarksPerComponentEachWithItsStoryInWords(t *testing.T) {
	t.Parallel()
	b := setup(t, State{})
	b.src.set(uptimeState(t, b.clock.Now()), nil)
	doc := renderedPage(t, b)
	comps := byTestID(doc, "component")
	require.Len(t, comps, 3)
	byName := map[string][]string{}
	codes := map[string][]string{}
	percents := map[string]string{}
	for _, c := range comps {
		bar := one(t, c, "uptime")
		ol := byTag(bar, "ol")
		require.Len(t, ol, 1)
		days := byTag(ol[0], "li")
		require.Len(t, days, uptime.Days, "one mark per day")
		label, _ := attr(ol[0], "aria-label")
		name, rest, _ := strings.Cut(label, ": ")
		require.Equal(t, "uptime by day, the last 90 days, oldest first", rest)
		for _, d := range days {
			tab, _ := attr(d, "tabindex")
			require.Equal(t, "0", tab, "every day is reachable by keyboard")
			class, _ := attr(d, "class")
			code, ok := strings.CutPrefix(strings.Fields(class)[1], "day--")
			require.True(t, ok, class)
			require.Len(t, byTag(d, "span"), 1, "the mark's words")
			text := textOf(d)
			require.NotEmpty(t, text)
			byName[name] = append(byName[name], text)
			codes[name] = append(codes[name], code)
		}
		percents[name] = textOf(one(t, c, "uptime-percent")) + " | " + textOf(one(t, c, "uptime-summary"))
	}

	card := byName["Card processing"]
	require.Equal(t, "Today, 5 May 2026 (UTC), so far: Major outage. Major outage since 09:00 UTC, ongoing. "+
		"Incident: Payment failures (INC-1).", card[uptime.Days-1])
	require.Equal(t, "20 April 2026 (UTC): Major outage. Major outage for 3 h, partial outage for 1 h 30 min. "+
		"Incident: Payment failures (INC-1).", card[uptime.Days-1-15])
	require.Equal(t, "4 May 2026 (UTC): Operational. No partial or major outage.", card[uptime.Days-2])

	api := byName["API"]
	require.Equal(t, "5 February 2026 (UTC): No data: the component did not exist yet.", api[0])
	require.Equal(t, "no_data", codes["API"][0])
	require.Equal(t, "operational", codes["API"][uptime.Days-1])
	require.Equal(t, 59, strings.Count(strings.Join(codes["API"], " "), "no_data"), "the days before it was added")

	// 4.5 h of outage before today and 1 h today, over the 89 days and 10 hours since the first day of the window.
	require.Equal(t, "99.74 % uptime | Partial or major outage on 2 of the last 90 days", percents["Card processing"])
	require.Equal(t, "100.00 % uptime since 5 April | No partial or major outage in the last 90 days", percents["API"],
		"a component younger than the bar says since when its percentage counts")

	legend := one(t, doc, "uptime-legend")
	require.Equal(t, uptime.Rule, textOf(one(t, legend, "uptime-rule")))
	for _, words := range []string{"No data", "Operational", "Degraded performance", "Partial outage", "Major outage",
		"Under maintenance"} {
		require.Contains(t, textOf(legend), words)
	}
}

func TestPageWithoutHistoryShowsNoUptimeBar(t *testing.T) {
	t.Parallel()
	doc := renderedPage(t, setup(t, bc06State(t)))
	require.Empty(t, byTestID(doc, "uptime"))
	require.Empty(t, byTestID(doc, "uptime-legend"))
}

func TestUptimeBarsAreRebuiltAtMidnight(t *testing.T) {
	t.Parallel()
	now := at(t, "2026-05-05T10:00:00Z")
	st := uptimeState(t, now)
	require.Equal(t, at(t, "2026-05-06T00:00:00Z"), uptimeChange(st.Components, now), "a new day begins")
	require.True(t, uptimeChange(bc06State(t).Components, now).IsZero(), "no history, nothing to count")

	b := setup(t, st)
	require.NoError(t, b.svc.Refresh(t.Context()))
	snap, err := b.svc.Current(t.Context())
	require.NoError(t, err)
	require.Equal(t, at(t, "2026-05-06T00:00:00Z"), snap.NextChange, "not by the minute while card's outage goes on")
}

func TestDayWordsSayTheWorstStatusTheOutageTimeAndTheIncidents(t *testing.T) {
	t.Parallel()
	ongoing := func(day uptime.Day, st domain.ComponentStatus, since time.Time, d time.Duration) uptime.Day {
		day.Ongoing = &uptime.Ongoing{Status: st, Since: since, Duration: d}
		return day
	}
	d := func(tot uptime.Totals, worst domain.ComponentStatus, incidents ...uptime.Incident) uptime.Day {
		return uptime.Day{Date: at(t, "2026-05-01T00:00:00Z"), Observed: 24 * time.Hour, Totals: tot, Worst: worst,
			Incidents: incidents}
	}
	for _, tc := range []struct {
		name string
		day  uptime.Day
		want string
	}{
		{"degraded is shown but is no outage", d(uptime.Totals{Degraded: 2*time.Hour + 5*time.Minute},
			domain.ComponentDegradedPerformance),
			"Degraded performance. No partial or major outage. Degraded performance for 2 h 5 min."},
		{"a moment of partial outage is never nothing", d(uptime.Totals{Partial: 300 * time.Millisecond},
			domain.ComponentPartialOutage), "Partial outage. Partial outage for less than a minute."},
		{"maintenance", d(uptime.Totals{Maintenance: time.Hour}, domain.ComponentUnderMaintenance),
			"Under maintenance. No partial or major outage. Under maintenance for 1 h."},
		{"two incidents", d(uptime.Totals{Major: 24 * time.Hour}, domain.ComponentMajorOutage,
			uptime.Incident{Key: "INC-1", Name: "A"}, uptime.Incident{Key: "INC-2", Name: "B"}),
			"Major outage. Major outage for 24 h. Incidents: A (INC-1); B (INC-2)."},
		{"an outage that goes on since yesterday, after degraded time today", ongoing(d(uptime.Totals{
			Degraded: time.Hour, Partial: 3 * time.Hour}, domain.ComponentPartialOutage),
			domain.ComponentPartialOutage, at(t, "2026-04-30T22:00:00Z"), 3*time.Hour),
			"Partial outage. Degraded performance for 1 h. Partial outage since 30 April 2026, 22:00 UTC, ongoing."},
		{"degraded since this morning, after an outage that is over", ongoing(d(uptime.Totals{
			Degraded: 2 * time.Hour, Major: 10 * time.Minute}, domain.ComponentMajorOutage),
			domain.ComponentDegradedPerformance, at(t, "2026-05-01T07:00:00Z"), 2*time.Hour),
			"Major outage. Major outage for 10 min. Degraded performance since 07:00 UTC, ongoing."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := dayView(tc.day, false)
			require.Equal(t, tc.want, got.Text)
			require.Equal(t, "2026-05-01", got.Date)
			require.Equal(t, "1 May 2026 (UTC):", got.DateText)
			require.Equal(t, string(tc.day.Worst), got.Code)
		})
	}
}
