package statuspage

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/maintenance"
	"github.com/mimhq/mim/web"
)

// maintView is a maintenance as it stands when the snapshot is built.
type maintView struct {
	m      maintenance.Maintenance
	status maintenance.Status
	// window is the one in progress, else the next, else the last (maintenance.Current).
	window maintenance.Window
}

// Statuspage's names for a maintenance's status. mim posts no verifying step: a window is in progress until it ends.
var maintenanceStatusJSON = map[maintenance.Status]string{
	maintenance.Upcoming:   "scheduled",
	maintenance.InProgress: "in_progress",
	maintenance.Completed:  "completed",
}

// The texts of the updates mim posts for a maintenance when its window opens and closes, as Statuspage words them.
const (
	maintenanceInProgressText = "Scheduled maintenance is currently in progress. We will provide updates as necessary."
	maintenanceCompletedText  = "The scheduled maintenance has been completed."
)

// maintenanceViews evaluates every maintenance at now, dropping any that has no window at all.
func maintenanceViews(ms []maintenance.Maintenance, now time.Time) []maintView {
	out := make([]maintView, 0, len(ms))
	for _, m := range ms {
		w, ok := maintenance.Current(m, now)
		if !ok {
			continue
		}
		out = append(out, maintView{m: m, status: maintenance.Phase(m, now), window: w})
	}
	return out
}

// effectiveComponents applies the maintenances in progress at now to the stored component statuses: a covered
// component shows the worse of its own status and under_maintenance, so maintenance marks an operational component
// and never hides a degradation or an outage (domain.ComponentStatus.Rank). A component whose shown status a
// window changed was last updated when that window opened or closed.
func effectiveComponents(components []Component, ms []maintenance.Maintenance, now time.Time) []Component {
	out := slices.Clone(components)
	if len(ms) == 0 {
		return out
	}
	type cover struct {
		active  bool
		changed time.Time
	}
	covers := map[string]cover{}
	for _, m := range ms {
		_, active := maintenance.ActiveAt(m, now)
		changed, _ := maintenance.LastBoundary(m, now)
		for _, slug := range m.Components {
			c := covers[slug]
			c.active = c.active || active
			c.changed = later(c.changed, changed)
			covers[slug] = c
		}
	}
	for i := range out {
		c, ok := covers[out[i].Slug]
		if !ok {
			continue
		}
		stored := out[i].Status
		if c.active {
			out[i].Status = domain.Worse(stored, domain.ComponentUnderMaintenance)
		}
		if stored.Rank() < domain.ComponentUnderMaintenance.Rank() {
			out[i].UpdatedAt = later(out[i].UpdatedAt, c.changed)
		}
	}
	return out
}

// nextChange is the first instant after now at which a window of any maintenance opens or closes; zero for none.
func nextChange(ms []maintenance.Maintenance, now time.Time) time.Time {
	var next time.Time
	for _, m := range ms {
		if at, ok := maintenance.NextBoundary(m, now); ok && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next
}

// maintenanceJSON is a scheduled maintenance as Statuspage's v2 API has it.
type maintenanceJSON struct {
	ID              string                  `json:"id"`
	Name            string                  `json:"name"`
	Status          string                  `json:"status"`
	CreatedAt       string                  `json:"created_at"`
	UpdatedAt       string                  `json:"updated_at"`
	MonitoringAt    *string                 `json:"monitoring_at"`
	ResolvedAt      *string                 `json:"resolved_at"`
	Impact          string                  `json:"impact"`
	Shortlink       string                  `json:"shortlink"`
	StartedAt       string                  `json:"started_at"`
	PageID          string                  `json:"page_id"`
	IncidentUpdates []maintenanceUpdateJSON `json:"incident_updates"`
	Components      []componentJSON         `json:"components"`
	ScheduledFor    string                  `json:"scheduled_for"`
	ScheduledUntil  string                  `json:"scheduled_until"`
}

// maintenanceUpdateJSON is one update of a maintenance; its status is a maintenance status.
type maintenanceUpdateJSON struct {
	ID                   string         `json:"id"`
	Status               string         `json:"status"`
	Body                 string         `json:"body"`
	IncidentID           string         `json:"incident_id"`
	CreatedAt            string         `json:"created_at"`
	UpdatedAt            string         `json:"updated_at"`
	DisplayAt            string         `json:"display_at"`
	AffectedComponents   []affectedJSON `json:"affected_components"`
	DeliverNotifications bool           `json:"deliver_notifications"`
	CustomTweet          *string        `json:"custom_tweet"`
	TweetID              *string        `json:"tweet_id"`
}

type maintenancesDocJSON struct {
	Page                  pageJSON          `json:"page"`
	ScheduledMaintenances []maintenanceJSON `json:"scheduled_maintenances"`
}

// maintenancePost is one update of a maintenance.
type maintenancePost struct {
	status, body string
	at           time.Time
}

// maintenancePosts are the updates of a maintenance, newest first: its announcement (the body, as last saved),
// then, as the window opens and closes, the notices Statuspage posts automatically.
func maintenancePosts(mv maintView) []maintenancePost {
	posts := []maintenancePost{{"scheduled", cmp.Or(strings.TrimSpace(mv.m.Body), mv.m.Title), mv.m.UpdatedAt}}
	switch mv.status {
	case maintenance.InProgress:
		posts = append(posts, maintenancePost{"in_progress", maintenanceInProgressText, mv.window.Start})
	case maintenance.Completed:
		posts = append(posts, maintenancePost{"completed", maintenanceCompletedText, mv.window.End})
	}
	slices.SortStableFunc(posts, func(a, b maintenancePost) int { return b.at.Compare(a.at) })
	return posts
}

func (v *view) maintenanceJSON(mv maintView) maintenanceJSON {
	posts := maintenancePosts(mv)
	out := maintenanceJSON{
		ID: mv.m.ID, Name: mv.m.Title, Status: maintenanceStatusJSON[mv.status],
		CreatedAt: v.stamp(mv.m.CreatedAt), UpdatedAt: v.stamp(later(mv.m.UpdatedAt, posts[0].at)),
		StartedAt: v.stamp(mv.m.CreatedAt), Impact: "maintenance", Shortlink: v.page.URL + "/#maintenance-" + mv.m.ID,
		PageID: v.page.ID, IncidentUpdates: make([]maintenanceUpdateJSON, 0, len(posts)), Components: []componentJSON{},
		ScheduledFor: v.stamp(mv.window.Start), ScheduledUntil: v.stamp(mv.window.End),
	}
	for _, p := range posts {
		at := v.stamp(p.at)
		out.IncidentUpdates = append(out.IncidentUpdates, maintenanceUpdateJSON{
			ID:     stableID("mim maintenance update", mv.m.ID, p.status, p.at.UTC().Format(time.RFC3339Nano)),
			Status: p.status, Body: p.body, IncidentID: mv.m.ID, CreatedAt: at, UpdatedAt: at, DisplayAt: at,
		})
	}
	if mv.status == maintenance.Completed {
		out.ResolvedAt = v.stampPtr(&mv.window.End)
	}
	for _, slug := range v.sortSlugs(slices.Clone(mv.m.Components)) {
		if c, ok := v.bySlug[slug]; ok {
			out.Components = append(out.Components, v.componentRef(c))
		}
	}
	return out
}

// maxMaintenancesJSON is how many scheduled-maintenances.json lists, as Statuspage's does.
const maxMaintenancesJSON = 50

// maintenanceLists are the maintenance documents' contents: all (latest window first, at most 50), upcoming and
// active (soonest window first), and the summary's (active, then upcoming).
func (v *view) maintenanceLists() (all, upcoming, active, summary []maintenanceJSON) {
	all, upcoming, active = []maintenanceJSON{}, []maintenanceJSON{}, []maintenanceJSON{}
	byLatest := slices.Clone(v.maintenances)
	slices.SortStableFunc(byLatest, func(a, b maintView) int {
		return cmp.Or(b.window.Start.Compare(a.window.Start), cmp.Compare(a.m.ID, b.m.ID))
	})
	for i, mv := range byLatest {
		if i == maxMaintenancesJSON {
			break
		}
		all = append(all, v.maintenanceJSON(mv))
	}
	for _, mv := range v.inProgress {
		active = append(active, v.maintenanceJSON(mv))
	}
	for _, mv := range v.upcoming {
		upcoming = append(upcoming, v.maintenanceJSON(mv))
	}
	summary = append(append(make([]maintenanceJSON, 0, len(active)+len(upcoming)), active...), upcoming...)
	return all, upcoming, active, summary
}

// stableID is a Statuspage-looking id (12 characters of [0-9a-z]) derived from its parts.
func stableID(parts ...string) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	id := make([]byte, 12)
	for i := range id {
		id[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(id)
}

// maintenanceWords are the maintenance statuses in words, as the page shows them.
var maintenanceWords = map[maintenance.Status]string{
	maintenance.Upcoming:   "Scheduled",
	maintenance.InProgress: "In progress",
	maintenance.Completed:  "Completed",
}

// maintenanceView shapes a maintenance for the page: its window in the page's zone with the zone named, and a
// recurrence in its own zone, named too, so no clock is ever shown beside another zone's label (BC-04).
func (v *view) maintenanceView(mv maintView) web.StatusMaintenance {
	out := web.StatusMaintenance{
		ID:     mv.m.ID,
		Name:   mv.m.Title,
		Status: web.StatusBadge{Code: maintenanceStatusJSON[mv.status], Text: maintenanceWords[mv.status]},
		Body:   web.SanitizedHTML(RenderMarkdown(mv.m.Body)),
		Starts: v.displayTime(mv.window.Start),
		Ends:   v.displayTime(mv.window.End),
	}
	if r := mv.m.Recurrence; r != nil {
		out.Recurrence = recurrenceText(*r)
	}
	for _, slug := range v.sortSlugs(slices.Clone(mv.m.Components)) {
		if c, ok := v.bySlug[slug]; ok {
			out.Components = append(out.Components, c.Name)
		}
	}
	return out
}

// recurrenceText says a recurrence in words, in its own zone: "Every Tuesday at 05:00 (UTC) for 1 hour".
func recurrenceText(r maintenance.Recurrence) string {
	var b strings.Builder
	if r.Frequency == maintenance.Weekly && r.Weekday != "" {
		b.WriteString("Every " + strings.ToUpper(r.Weekday[:1]) + r.Weekday[1:])
	} else {
		b.WriteString("Every day")
	}
	fmt.Fprintf(&b, " at %s (%s) for %s", r.LocalStart, r.Zone, durationText(r.Duration))
	if r.Until != "" {
		b.WriteString(", until " + r.Until)
	}
	return b.String()
}

// durationText says a duration in days, hours and minutes: "1 hour 30 minutes", "7 days".
func durationText(d time.Duration) string {
	var parts []string
	unit := func(n int, one string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n, one))
		}
	}
	minutes := int(d / time.Minute)
	unit(minutes/(24*60), "day")
	unit(minutes/60%24, "hour")
	unit(minutes%60, "minute")
	if len(parts) == 0 {
		return d.String()
	}
	return strings.Join(parts, " ")
}
