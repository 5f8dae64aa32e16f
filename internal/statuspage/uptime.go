package statuspage

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/uptime"
	"github.com/mimhq/mim/web"
)

// uptimeChange is when the uptime histories of the components go stale: the next midnight of uptime.Zone, when a
// new day's mark begins; zero when no component has a history. The page is not rebuilt by the minute while an
// outage goes on: today's words say since when it has lasted, which needs no counting, and every rebuild would tell
// each live reader that the status changed when it has not. The percentage is as of the last rebuild.
func uptimeChange(components []Component, now time.Time) time.Time {
	for _, c := range components {
		if len(c.Uptime) > 0 {
			_, next := uptime.Bounds(uptime.Date(now, uptime.Zone), uptime.Zone)
			return next
		}
	}
	return time.Time{}
}

// earliest is the earlier of two instants, a zero one being none.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// uptimeLegend is the page's legend, when any component has a history to explain.
func uptimeLegend(components []Component) *web.StatusUptimeLegend {
	for _, c := range components {
		if len(c.Uptime) > 0 {
			return &web.StatusUptimeLegend{Rule: uptime.Rule}
		}
	}
	return nil
}

// uptimeView shapes a component's history for the page; nil when it has none.
func uptimeView(c Component) *web.StatusUptime {
	n := len(c.Uptime)
	if n == 0 {
		return nil
	}
	u := &web.StatusUptime{
		Label: fmt.Sprintf("%s: uptime by day, the last %d days, oldest first", c.Name, n),
		From:  c.Uptime[0].Date.Format("2 January"),
	}
	if pct, ok := uptime.Percent(c.Uptime); ok {
		u.Percent = strconv.FormatFloat(uptime.Floor2(pct), 'f', 2, 64) + " % uptime"
		// A component younger than the bar: say over what time the percentage is, so a short history does not
		// read as 90 days.
		for _, d := range c.Uptime {
			if !d.NoData() {
				if d.Date != c.Uptime[0].Date {
					u.Percent += " since " + d.Date.Format("2 January")
				}
				break
			}
		}
	} else {
		u.Percent = "No uptime data yet"
	}
	var outage, degraded int
	for i, d := range c.Uptime {
		if d.Totals.Down() > 0 {
			outage++
		} else if d.Totals.Degraded > 0 {
			degraded++
		}
		u.Days = append(u.Days, dayView(d, i == n-1))
	}
	switch outage {
	case 0:
		u.Summary = fmt.Sprintf("No partial or major outage in the last %d days", n)
	case 1:
		u.Summary = fmt.Sprintf("Partial or major outage on 1 of the last %d days", n)
	default:
		u.Summary = fmt.Sprintf("Partial or major outage on %d of the last %d days", outage, n)
	}
	switch degraded {
	case 0:
	case 1:
		u.Summary += "; degraded performance, with no outage, on 1 day"
	default:
		u.Summary += fmt.Sprintf("; degraded performance, with no outage, on %d days", degraded)
	}
	return u
}

// dayView says what happened on a day, in words.
func dayView(d uptime.Day, today bool) web.StatusDay {
	out := web.StatusDay{Date: d.Date.Format(time.DateOnly),
		DateText: d.Date.Format("2 January 2006") + " (" + uptime.Zone.String() + ")"}
	if today {
		out.DateText = "Today, " + out.DateText + ", so far"
	}
	out.DateText += ":"
	if d.NoData() {
		out.Code = "no_data"
		out.Text = "No data: the component did not exist yet."
		return out
	}
	out.Code = string(d.Worst)
	sentences := []string{componentBadge(d.Worst).Text + "."}
	t := d.Totals
	on := d.Ongoing
	if on != nil {
		t.Add(on.Status, -on.Duration) // what is over; the interval in progress is said on its own
	}
	var outage []string
	if t.Major > 0 {
		outage = append(outage, "major outage for "+durationWords(t.Major))
	}
	if t.Partial > 0 {
		outage = append(outage, "partial outage for "+durationWords(t.Partial))
	}
	switch {
	case len(outage) > 0:
		o := strings.Join(outage, ", ")
		sentences = append(sentences, strings.ToUpper(o[:1])+o[1:]+".")
	case on == nil || (on.Status != domain.ComponentPartialOutage && on.Status != domain.ComponentMajorOutage):
		sentences = append(sentences, "No partial or major outage.")
	}
	if t.Degraded > 0 {
		sentences = append(sentences, "Degraded performance for "+durationWords(t.Degraded)+".")
	}
	if t.Maintenance > 0 {
		sentences = append(sentences, "Under maintenance for "+durationWords(t.Maintenance)+".")
	}
	if on != nil {
		since := on.Since.In(uptime.Zone).Format("15:04 MST")
		if !uptime.Date(on.Since, uptime.Zone).Equal(d.Date) {
			since = on.Since.In(uptime.Zone).Format("2 January 2006, 15:04 MST")
		}
		sentences = append(sentences, componentBadge(on.Status).Text+" since "+since+", ongoing.")
	}
	if len(d.Incidents) > 0 {
		names := make([]string, len(d.Incidents))
		for i, in := range d.Incidents {
			names[i] = in.Name + " (" + in.Key + ")"
		}
		label := "Incident: "
		if len(names) > 1 {
			label = "Incidents: "
		}
		sentences = append(sentences, label+strings.Join(names, "; ")+".")
	}
	out.Text = strings.Join(sentences, " ")
	return out
}

// durationWords is a length of time for a reader, in whole minutes rounded down: "2 h 5 min". A moment short of a
// minute is said as such, never as none.
func durationWords(d time.Duration) string {
	if d <= 0 {
		return "0 min"
	}
	if d < time.Minute {
		return "less than a minute"
	}
	m := int(d / time.Minute)
	h, m := m/60, m%60
	switch {
	case h == 0:
		return strconv.Itoa(m) + " min"
	case m == 0:
		return strconv.Itoa(h) + " h"
	}
	return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
}
