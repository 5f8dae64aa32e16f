package statuspage

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/web"
)

// displayLayout is how the page shows an instant to a reader: in the page's zone, with the zone named.
const displayLayout = "2 January 2006, 15:04 MST"

// renderPage renders the HTML status page of a view.
func (v *view) renderPage(ctx context.Context) ([]byte, error) {
	var buf bytes.Buffer
	if err := web.StatusPageView(v.pageView()).Render(web.WithBrand(ctx, v.page.Brand), &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pageView shapes the view for the page's template.
func (v *view) pageView() web.StatusPage {
	p := web.StatusPage{
		Name:         v.page.Name,
		SubscribeURL: strings.TrimSuffix(v.page.URL, "/") + "/subscribe",
		Banner:       web.StatusBanner{Indicator: string(v.status.Indicator), Text: v.status.Description},
		UpdatedAt:    v.displayTime(v.updatedAt),
		// The legend explains the uptime bars once, for every component.
		UptimeLegend: uptimeLegend(v.state.Components),
	}
	if !v.asOf.IsZero() {
		t := v.displayTime(v.asOf)
		p.Delayed = &t
	}
	for _, e := range v.top {
		if e.component != nil {
			// Consecutive ungrouped components share one unnamed group.
			if n := len(p.Groups); n == 0 || p.Groups[n-1].Name != "" {
				p.Groups = append(p.Groups, web.StatusGroup{})
			}
			g := &p.Groups[len(p.Groups)-1]
			g.Components = append(g.Components, componentView(*e.component))
			continue
		}
		g := web.StatusGroup{Name: e.group}
		worst := domain.ComponentOperational
		for _, m := range e.members {
			worst = domain.Worse(worst, m.Status)
			g.Components = append(g.Components, componentView(m))
		}
		g.Status = componentBadge(worst)
		p.Groups = append(p.Groups, g)
	}
	for _, in := range v.active {
		p.Active = append(p.Active, v.incidentView(in))
	}
	for _, in := range v.recent {
		p.Resolved = append(p.Resolved, v.incidentView(in))
	}
	for _, mv := range v.inProgress {
		p.InProgress = append(p.InProgress, v.maintenanceView(mv))
	}
	for _, mv := range v.upcoming {
		p.Upcoming = append(p.Upcoming, v.maintenanceView(mv))
	}
	return p
}

func componentView(c Component) web.StatusComponent {
	return web.StatusComponent{Name: c.Name, Description: c.Description, Status: componentBadge(c.Status),
		Uptime: uptimeView(c)}
}

func (v *view) incidentView(in Incident) web.StatusIncident {
	out := web.StatusIncident{
		Key:     in.Key,
		Name:    in.Name,
		Status:  updateBadge(in.Status),
		Impact:  impactText(in.Impact),
		Started: v.displayTime(startedAt(in)),
	}
	if !unresolved(in) {
		t := v.displayTime(resolvedAt(in))
		out.Resolved = &t
	}
	for _, slug := range in.Components {
		if c, ok := v.bySlug[slug]; ok {
			out.Components = append(out.Components, c.Name)
		}
	}
	for _, u := range newestUpdatesFirst(in.Updates) {
		out.Updates = append(out.Updates, web.StatusUpdate{
			ID:        u.ID,
			Status:    updateBadge(u.Status),
			Body:      web.SanitizedHTML(RenderMarkdown(u.Body)),
			Published: v.displayTime(u.PublishedAt),
		})
	}
	return out
}

func (v *view) displayTime(t time.Time) web.StatusTime {
	t = t.In(v.loc)
	return web.StatusTime{Datetime: t.Format(time.RFC3339), Text: t.Format(displayLayout)}
}

// componentWords and updateWords are the statuses in words, as the page shows them.
var (
	componentWords = map[domain.ComponentStatus]string{
		domain.ComponentOperational:         "Operational",
		domain.ComponentDegradedPerformance: "Degraded performance",
		domain.ComponentPartialOutage:       "Partial outage",
		domain.ComponentMajorOutage:         "Major outage",
		domain.ComponentUnderMaintenance:    "Under maintenance",
	}
	updateWords = map[domain.UpdateStatus]string{
		domain.UpdateInvestigating: "Investigating",
		domain.UpdateIdentified:    "Identified",
		domain.UpdateMonitoring:    "Monitoring",
		domain.UpdateResolved:      "Resolved",
	}
)

func componentBadge(s domain.ComponentStatus) web.StatusBadge {
	text := componentWords[s]
	if text == "" {
		text = string(s)
	}
	return web.StatusBadge{Code: string(s), Text: text}
}

func updateBadge(s domain.UpdateStatus) web.StatusBadge {
	text := updateWords[s]
	if text == "" {
		text = string(s)
	}
	return web.StatusBadge{Code: string(s), Text: text}
}

func impactText(impact string) string {
	switch impact {
	case "minor":
		return "Minor impact"
	case "major":
		return "Major impact"
	case "critical":
		return "Critical impact"
	}
	return ""
}
