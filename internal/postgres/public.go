package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/statuspage"
	"github.com/mimhq/mim/internal/workflow"
	"github.com/mimhq/mim/web"
)

// PublicSource implements statuspage.Source: it copies out of each incident only what customers may see — the
// title, the published updates and the component statuses they set — and nothing else of the state.
type PublicSource struct {
	db *DB
	// RecentlyResolved is how long a resolved incident stays on the page.
	RecentlyResolved time.Duration
	// Now is the clock up to which the uptime history's interval in progress is counted; nil for the wall clock.
	Now func() time.Time
}

// NewPublicSource returns the public source on db.
func NewPublicSource(db *DB) *PublicSource {
	return &PublicSource{db: db, RecentlyResolved: 7 * 24 * time.Hour}
}

var _ statuspage.Source = (*PublicSource)(nil)

// PublicState implements statuspage.Source.
func (s *PublicSource) PublicState(ctx context.Context) (statuspage.State, error) {
	var st statuspage.State
	comps, err := listComponents(ctx, s.db.Pool, "")
	if err != nil {
		return st, err
	}
	for _, c := range comps {
		st.Components = append(st.Components, statuspage.Component{ID: c.ID, Slug: c.Slug, Name: c.Name,
			Group: c.Group, Description: c.Description, Status: c.Status, Position: c.Position,
			CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if err := addUptime(ctx, s.db.Pool, st.Components, now()); err != nil {
		return st, err
	}
	// Every recurring maintenance not ended long ago, and the one-offs not ended long ago: the snapshot works out
	// which window is open when it is built.
	st.Maintenances, err = listMaintenances(ctx, s.db.Pool, `
		WHERE (m.frequency IS NULL AND m.ends_at > now() - $1::interval)
		   OR (m.frequency IS NOT NULL AND (m.until_on IS NULL OR m.until_on >= (now() - $1::interval)::date))`,
		s.RecentlyResolved.String())
	if err != nil {
		return st, err
	}
	switch b, err := getBrand(ctx, s.db.Pool); {
	case err == nil:
		st.Branding = &statuspage.Branding{Name: b.Name, Accent: b.Accent, Logo: b.Logo, LogoType: b.LogoType}
		for _, l := range b.Links {
			st.Branding.Links = append(st.Branding.Links, web.BrandLink{Label: l.Label, URL: l.URL})
		}
	case !domain.IsKind(err, domain.ErrNotFound):
		return st, err
	}
	rows, err := s.db.Pool.Query(ctx, `
		(SELECT state FROM incidents
		 WHERE public_status IS NOT NULL AND public_status <> 'resolved' AND NOT coalesce((state->>'private')::boolean, false)
		 ORDER BY updated_at DESC LIMIT 500)
		UNION ALL
		-- The latest resolved ones, for incidents.json and the page's recently resolved: never at an active one's cost.
		(SELECT state FROM incidents
		 WHERE public_status = 'resolved' AND NOT coalesce((state->>'private')::boolean, false)
		 ORDER BY public_updated_at DESC NULLS LAST LIMIT $1)`, statuspage.MaxListedIncidents)
	if err != nil {
		return st, mapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return st, mapError(err)
		}
		var inc workflow.Incident
		if err := json.Unmarshal(raw, &inc); err != nil {
			return st, domain.Internal(err)
		}
		if p, ok := PublicIncident(inc); ok {
			st.Incidents = append(st.Incidents, p)
		}
	}
	return st, mapError(rows.Err())
}

// PublicIncident is the customer-safe view of an incident, or false while nothing of it is published.
func PublicIncident(inc workflow.Incident) (statuspage.Incident, bool) {
	if inc.Private {
		return statuspage.Incident{}, false
	}
	var ups []statuspage.Update
	worst := domain.ComponentOperational
	for _, u := range inc.Updates {
		if u.State != workflow.StatePublished || u.PublishedAt == nil {
			continue
		}
		ups = append(ups, statuspage.Update{ID: u.ID, Status: u.Status, Body: u.Body, PublishedAt: *u.PublishedAt,
			Components: cloneStatuses(u.Components)})
		for _, cs := range u.Components {
			worst = domain.Worse(worst, cs)
		}
	}
	if len(ups) == 0 {
		return statuspage.Incident{}, false
	}
	slices.SortStableFunc(ups, func(a, b statuspage.Update) int { return b.PublishedAt.Compare(a.PublishedAt) })
	p := statuspage.Incident{
		ID: inc.ID, Key: inc.Key, Name: inc.Title, Status: ups[0].Status, Impact: cmp.Or(inc.PublicImpact, impactOf(worst)),
		CreatedAt: ups[len(ups)-1].PublishedAt, UpdatedAt: ups[0].PublishedAt,
		Components: slices.Clone(inc.Components), Updates: ups,
	}
	for _, m := range []domain.Milestone{domain.MilestoneImpactStarted, domain.MilestoneDetected} {
		if at, ok := inc.Milestones[m]; ok {
			p.StartedAt = at
			break
		}
	}
	if p.Status == domain.UpdateResolved {
		t := ups[0].PublishedAt
		p.ResolvedAt = &t
	}
	return p, true
}

func impactOf(worst domain.ComponentStatus) string {
	switch worst {
	case domain.ComponentMajorOutage:
		return "critical"
	case domain.ComponentPartialOutage:
		return "major"
	case domain.ComponentDegradedPerformance:
		return "minor"
	}
	return "none"
}

func cloneStatuses(m map[string]domain.ComponentStatus) map[string]domain.ComponentStatus {
	out := make(map[string]domain.ComponentStatus, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
