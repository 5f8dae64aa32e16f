package statuspage

import (
	"cmp"
	"slices"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/maintenance"
)

// view is the public state sorted and indexed once, shared by the JSON and the HTML renderings of a snapshot.
type view struct {
	page   Page
	loc    *time.Location
	state  State
	status Status
	// top is the display order: ungrouped components and groups by position, each group followed by its members.
	top []entry
	// bySlug finds a component by slug, for incidents and updates, which name components by slug.
	bySlug map[string]Component
	// active are the unresolved incidents, newest first; resolved the others, most recently resolved first; recent
	// those of resolved that the page shows (resolved within RecentlyResolved).
	active, resolved, recent []Incident
	// maintenances are every maintenance with a window, as it stands at the build; inProgress and upcoming are those
	// in progress and those to come, soonest window first.
	maintenances, inProgress, upcoming []maintView
	// nextChange is when a maintenance window next opens or closes, or a new day of the uptime bars begins, and the
	// view goes stale; zero for never.
	nextChange time.Time
	updatedAt  time.Time
	// asOf is when the state was read, set when it is shown because the Source is failing; zero otherwise.
	asOf time.Time
}

// entry is one line of the top-level component list: a component, or a group with its members.
type entry struct {
	component *Component
	group     string
	members   []Component
}

func newView(page Page, state State, builtAt time.Time) *view {
	v := &view{page: page, loc: page.Location, state: state, bySlug: make(map[string]Component, len(state.Components))}
	if v.loc == nil {
		v.loc = time.UTC
	}
	// Maintenance is applied here, at build time, to what the components store: nothing is written when a window
	// opens or closes, and the snapshot is rebuilt at nextChange.
	components := effectiveComponents(state.Components, state.Maintenances, builtAt)
	v.status = Overall(components, state.Incidents)
	// The uptime bars go stale at midnight, when a new day's mark begins.
	v.nextChange = earliest(nextChange(state.Maintenances, builtAt), uptimeChange(state.Components, builtAt))
	v.maintenances = maintenanceViews(state.Maintenances, builtAt)
	for _, mv := range v.maintenances {
		v.updatedAt = later(v.updatedAt, mv.m.UpdatedAt)
		if at, ok := maintenance.LastBoundary(mv.m, builtAt); ok {
			v.updatedAt = later(v.updatedAt, at)
		}
		switch mv.status {
		case maintenance.InProgress:
			v.inProgress = append(v.inProgress, mv)
		case maintenance.Upcoming:
			v.upcoming = append(v.upcoming, mv)
		}
	}
	soonestFirst := func(a, b maintView) int {
		return cmp.Or(a.window.Start.Compare(b.window.Start), cmp.Compare(a.m.ID, b.m.ID))
	}
	slices.SortStableFunc(v.inProgress, soonestFirst)
	slices.SortStableFunc(v.upcoming, soonestFirst)

	slices.SortStableFunc(components, func(a, b Component) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	groups := map[string]int{} // group name → index in top
	for i := range components {
		c := components[i]
		v.bySlug[c.Slug] = c
		v.updatedAt = later(v.updatedAt, c.UpdatedAt)
		if c.Group == "" {
			v.top = append(v.top, entry{component: &components[i]})
			continue
		}
		at, ok := groups[c.Group]
		if !ok {
			at = len(v.top)
			groups[c.Group] = at
			v.top = append(v.top, entry{group: c.Group})
		}
		v.top[at].members = append(v.top[at].members, c)
	}

	for _, in := range state.Incidents {
		v.updatedAt = later(v.updatedAt, in.UpdatedAt)
		if unresolved(in) {
			v.active = append(v.active, in)
		} else {
			v.resolved = append(v.resolved, in)
		}
	}
	newestFirst := func(a, b Incident) int { return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID)) }
	slices.SortStableFunc(v.active, newestFirst)
	slices.SortStableFunc(v.resolved, func(a, b Incident) int {
		return cmp.Or(resolvedAt(b).Compare(resolvedAt(a)), newestFirst(a, b))
	})
	for _, in := range v.resolved {
		if builtAt.Sub(resolvedAt(in)) <= RecentlyResolved {
			v.recent = append(v.recent, in)
		}
	}
	if v.updatedAt.IsZero() {
		v.updatedAt = builtAt
	}
	return v
}

// startedAt is when an incident's impact began, for "Started" and durations.
func startedAt(in Incident) time.Time {
	if !in.StartedAt.IsZero() && in.StartedAt.Before(in.CreatedAt) {
		return in.StartedAt
	}
	return in.CreatedAt
}

// RecentlyResolved is how long a resolved incident stays on the page; incidents.json and the history keep it longer.
const RecentlyResolved = 7 * 24 * time.Hour

// MaxListedIncidents is how many incidents incidents.json lists at most (besides every unresolved one), as
// Statuspage's does.
const MaxListedIncidents = 50

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// resolvedAt is when a resolved incident was resolved: ResolvedAt, or else its latest resolved update.
func resolvedAt(in Incident) time.Time {
	if in.ResolvedAt != nil {
		return *in.ResolvedAt
	}
	var at time.Time
	for _, u := range in.Updates {
		if u.Status == domain.UpdateResolved {
			at = later(at, u.PublishedAt)
		}
	}
	if at.IsZero() {
		return in.UpdatedAt
	}
	return at
}

// newestUpdatesFirst returns the updates newest first, whatever order the Source gave them in.
func newestUpdatesFirst(updates []Update) []Update {
	out := slices.Clone(updates)
	slices.SortStableFunc(out, func(a, b Update) int { return b.PublishedAt.Compare(a.PublishedAt) })
	return out
}
