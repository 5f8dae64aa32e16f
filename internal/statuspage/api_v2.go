package statuspage

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/mimhq/mim/internal/domain"
)

// The Statuspage v2 JSON shapes. Field order follows Statuspage's own responses, so a diff against a real export
// reads line by line.

type pageJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	TimeZone  string `json:"time_zone"`
	UpdatedAt string `json:"updated_at"`
}

type statusJSON struct {
	Indicator   Indicator `json:"indicator"`
	Description string    `json:"description"`
}

type componentJSON struct {
	ID                 string                 `json:"id"`
	Name               string                 `json:"name"`
	Status             domain.ComponentStatus `json:"status"`
	CreatedAt          string                 `json:"created_at"`
	UpdatedAt          string                 `json:"updated_at"`
	Position           int                    `json:"position"`
	Description        *string                `json:"description"`
	Showcase           bool                   `json:"showcase"`
	StartDate          *string                `json:"start_date"`
	GroupID            *string                `json:"group_id"`
	PageID             string                 `json:"page_id"`
	Group              bool                   `json:"group"`
	OnlyShowIfDegraded bool                   `json:"only_show_if_degraded"`
	// Components lists a group's member ids; absent on components that are not groups.
	Components []string `json:"components,omitempty"`
}

type incidentJSON struct {
	ID              string              `json:"id"`
	Name            string              `json:"name"`
	Status          domain.UpdateStatus `json:"status"`
	CreatedAt       string              `json:"created_at"`
	UpdatedAt       string              `json:"updated_at"`
	MonitoringAt    *string             `json:"monitoring_at"`
	ResolvedAt      *string             `json:"resolved_at"`
	Impact          string              `json:"impact"`
	Shortlink       string              `json:"shortlink"`
	StartedAt       string              `json:"started_at"`
	PageID          string              `json:"page_id"`
	IncidentUpdates []updateJSON        `json:"incident_updates"`
	Components      []componentJSON     `json:"components"`
	// ReminderIntervals is in current Statuspage exports (null or a string); mim has no reminders, so it is null.
	ReminderIntervals *string `json:"reminder_intervals"`
}

type updateJSON struct {
	ID         string              `json:"id"`
	Status     domain.UpdateStatus `json:"status"`
	Body       string              `json:"body"`
	IncidentID string              `json:"incident_id"`
	CreatedAt  string              `json:"created_at"`
	UpdatedAt  string              `json:"updated_at"`
	DisplayAt  string              `json:"display_at"`
	// AffectedComponents is null when the update set no component status, as Statuspage does.
	AffectedComponents   []affectedJSON `json:"affected_components"`
	DeliverNotifications bool           `json:"deliver_notifications"`
	CustomTweet          *string        `json:"custom_tweet"`
	TweetID              *string        `json:"tweet_id"`
}

type affectedJSON struct {
	Code      string                 `json:"code"`
	Name      string                 `json:"name"`
	OldStatus domain.ComponentStatus `json:"old_status"`
	NewStatus domain.ComponentStatus `json:"new_status"`
}

type summaryJSON struct {
	Page                  pageJSON          `json:"page"`
	Components            []componentJSON   `json:"components"`
	Incidents             []incidentJSON    `json:"incidents"`
	ScheduledMaintenances []maintenanceJSON `json:"scheduled_maintenances"`
	Status                statusJSON        `json:"status"`
}

type statusDocJSON struct {
	Page   pageJSON   `json:"page"`
	Status statusJSON `json:"status"`
}

type componentsDocJSON struct {
	Page       pageJSON        `json:"page"`
	Components []componentJSON `json:"components"`
}

type incidentsDocJSON struct {
	Page      pageJSON       `json:"page"`
	Incidents []incidentJSON `json:"incidents"`
}

// stampLayout is Statuspage's timestamp: milliseconds and an explicit offset, Z for UTC.
const stampLayout = "2006-01-02T15:04:05.000Z07:00"

// apiDocs are the rendered JSON documents of one snapshot.
type apiDocs struct {
	summary, status, components, incidents, unresolved []byte
	maintenances, upcoming, activeMaintenances         []byte
}

func (v *view) stamp(t time.Time) string { return t.In(v.loc).Format(stampLayout) }

func (v *view) stampPtr(t *time.Time) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	s := v.stamp(*t)
	return &s
}

// timeZone names the page's zone the way Statuspage does (Etc/UTC for UTC).
func (v *view) timeZone() string {
	switch name := v.loc.String(); name {
	case "", "UTC":
		return "Etc/UTC"
	default:
		return name
	}
}

func (v *view) pageJSON() pageJSON {
	return pageJSON{
		ID: v.page.ID, Name: v.page.Name, URL: v.page.URL, TimeZone: v.timeZone(), UpdatedAt: v.stamp(v.updatedAt),
	}
}

func (v *view) statusJSON() statusJSON {
	return statusJSON{Indicator: v.status.Indicator, Description: v.status.Description}
}

func (v *view) componentJSON(c Component, groupID *string) componentJSON {
	out := componentJSON{
		ID: c.ID, Name: c.Name, Status: c.Status,
		CreatedAt: v.stamp(c.CreatedAt), UpdatedAt: v.stamp(c.UpdatedAt),
		Position: c.Position, GroupID: groupID, PageID: v.page.ID,
	}
	if c.Description != "" {
		out.Description = &c.Description
	}
	if !c.CreatedAt.IsZero() {
		d := c.CreatedAt.In(v.loc).Format(time.DateOnly)
		out.StartDate = &d
	}
	return out
}

// componentsJSON lists every component, each group followed by its members. A group is synthesised per group name:
// its id is derived from the name, its status is its members' worst, its position and dates come from its members.
func (v *view) componentsJSON() []componentJSON {
	// Positions count as Statuspage's do: the top level (groups and ungrouped components) from 1, and each group's
	// members from 1 within it.
	out := make([]componentJSON, 0, len(v.state.Components)+len(v.top))
	for top, e := range v.top {
		if e.component != nil {
			c := v.componentJSON(*e.component, nil)
			c.Position = top + 1
			out = append(out, c)
			continue
		}
		id := groupID(e.group)
		g := componentJSON{
			ID: id, Name: e.group, Status: domain.ComponentOperational, Position: top + 1,
			PageID: v.page.ID, Group: true, Components: make([]string, 0, len(e.members)),
		}
		var created, updated time.Time
		for i, m := range e.members {
			g.Status = domain.Worse(g.Status, m.Status)
			g.Components = append(g.Components, m.ID)
			if i == 0 || m.CreatedAt.Before(created) {
				created = m.CreatedAt
			}
			updated = later(updated, m.UpdatedAt)
		}
		g.CreatedAt, g.UpdatedAt = v.stamp(created), v.stamp(updated)
		out = append(out, g)
		for i, m := range e.members {
			c := v.componentJSON(m, &id)
			c.Position = i + 1
			out = append(out, c)
		}
	}
	return out
}

// groupID is a stable, Statuspage-looking id (12 characters of [0-9a-z]) for a group name.
func groupID(name string) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte("mim component group\x00" + name))
	id := make([]byte, 12)
	for i := range id {
		id[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(id)
}

// componentRef is the component object of a member, with its group id, for an incident's components list.
func (v *view) componentRef(c Component) componentJSON {
	if c.Group == "" {
		return v.componentJSON(c, nil)
	}
	id := groupID(c.Group)
	return v.componentJSON(c, &id)
}

func (v *view) incidentJSON(in Incident) incidentJSON {
	updates := newestUpdatesFirst(in.Updates)
	out := incidentJSON{
		ID: in.ID, Name: in.Name, Status: in.Status,
		CreatedAt: v.stamp(in.CreatedAt), UpdatedAt: v.stamp(in.UpdatedAt), StartedAt: v.stamp(startedAt(in)),
		Impact: cmp.Or(in.Impact, "none"), Shortlink: v.page.URL + "/incidents/" + in.Key, PageID: v.page.ID,
		IncidentUpdates: make([]updateJSON, len(updates)),
		Components:      []componentJSON{},
		MonitoringAt:    v.stampPtr(monitoringAt(updates)),
	}
	if !unresolved(in) {
		at := resolvedAt(in)
		out.ResolvedAt = v.stampPtr(&at)
	}

	// Walk oldest to newest, remembering the last status each update set, for affected_components' old_status.
	last := map[string]domain.ComponentStatus{}
	for i := len(updates) - 1; i >= 0; i-- {
		u := updates[i]
		at := v.stamp(u.PublishedAt)
		uj := updateJSON{
			ID: u.ID, Status: u.Status, Body: u.Body, IncidentID: in.ID,
			CreatedAt: at, UpdatedAt: at, DisplayAt: at, DeliverNotifications: true,
		}
		slugs := v.sortSlugs(slices.Collect(maps.Keys(u.Components)))
		for _, slug := range slugs {
			next := u.Components[slug]
			old, ok := last[slug]
			if !ok {
				old = domain.ComponentOperational
			}
			code, name := slug, slug // a component removed since keeps its slug as code and name
			if c, ok := v.bySlug[slug]; ok {
				code, name = c.ID, c.Name
			}
			uj.AffectedComponents = append(uj.AffectedComponents,
				affectedJSON{Code: code, Name: name, OldStatus: old, NewStatus: next})
			last[slug] = next
		}
		out.IncidentUpdates[i] = uj
	}

	for _, slug := range v.sortSlugs(slices.Clone(in.Components)) {
		if c, ok := v.bySlug[slug]; ok {
			out.Components = append(out.Components, v.componentRef(c))
		}
	}
	return out
}

// monitoringAt is when the incident last moved into monitoring, from updates sorted newest first; nil if never.
func monitoringAt(updates []Update) *time.Time {
	var at *time.Time
	prev := domain.UpdateStatus("")
	for i := len(updates) - 1; i >= 0; i-- {
		u := updates[i]
		if u.Status == domain.UpdateMonitoring && prev != domain.UpdateMonitoring {
			t := u.PublishedAt
			at = &t
		}
		prev = u.Status
	}
	return at
}

// sortSlugs orders slugs by their component's position, unknown slugs last; duplicates are dropped.
func (v *view) sortSlugs(slugs []string) []string {
	slices.SortFunc(slugs, func(a, b string) int {
		ca, oka := v.bySlug[a]
		cb, okb := v.bySlug[b]
		switch {
		case oka && okb:
			return cmp.Or(cmp.Compare(ca.Position, cb.Position), cmp.Compare(ca.Name, cb.Name), cmp.Compare(a, b))
		case oka:
			return -1
		case okb:
			return 1
		}
		return cmp.Compare(a, b)
	})
	return slices.Compact(slugs)
}

func (v *view) incidentsJSON(incidents []Incident) []incidentJSON {
	out := make([]incidentJSON, 0, len(incidents))
	for _, in := range incidents {
		out = append(out, v.incidentJSON(in))
	}
	return out
}

// apiDocs renders the JSON documents.
func (v *view) apiDocs() (apiDocs, error) {
	page := v.pageJSON()
	status := v.statusJSON()
	components := v.componentsJSON()
	active := v.incidentsJSON(v.active)

	// incidents.json lists the most recent incidents, newest first, as Statuspage does: every unresolved one and the
	// latest resolved ones, up to MaxListedIncidents.
	resolved := v.resolved[:min(len(v.resolved), max(0, MaxListedIncidents-len(v.active)))]
	all := slices.Concat(v.active, resolved)
	slices.SortStableFunc(all, func(a, b Incident) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})

	allMaint, upcoming, activeMaint, summaryMaint := v.maintenanceLists()

	var docs apiDocs
	var err error
	for _, d := range []struct {
		dst *[]byte
		v   any
	}{
		{&docs.summary, summaryJSON{
			Page: page, Components: components, Incidents: active, ScheduledMaintenances: summaryMaint, Status: status,
		}},
		{&docs.status, statusDocJSON{Page: page, Status: status}},
		{&docs.components, componentsDocJSON{Page: page, Components: components}},
		{&docs.incidents, incidentsDocJSON{Page: page, Incidents: v.incidentsJSON(all)}},
		{&docs.unresolved, incidentsDocJSON{Page: page, Incidents: active}},
		{&docs.maintenances, maintenancesDocJSON{Page: page, ScheduledMaintenances: allMaint}},
		{&docs.upcoming, maintenancesDocJSON{Page: page, ScheduledMaintenances: upcoming}},
		{&docs.activeMaintenances, maintenancesDocJSON{Page: page, ScheduledMaintenances: activeMaint}},
	} {
		if *d.dst, err = json.Marshal(d.v); err != nil {
			return apiDocs{}, err
		}
	}
	return docs, nil
}
