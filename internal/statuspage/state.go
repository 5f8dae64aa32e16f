// Package statuspage serves what customers see: the public status page and the Statuspage-compatible JSON API. It
// renders from a snapshot of the public state, rebuilt when something changes, so a spike of readers during an outage
// costs no database work. Nothing internal (bridges, responders, notes, tickets, classification) is in the snapshot.
package statuspage

import (
	"context"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/maintenance"
	"github.com/mimhq/mim/internal/uptime"
	"github.com/mimhq/mim/web"
)

// State is the public state of the page: only what customers may see.
type State struct {
	Components []Component
	// Incidents are those with at least one published update: every unresolved one, and those resolved recently.
	Incidents []Incident
	// Maintenances are the scheduled maintenances still to be shown: every recurring one, and the one-offs that are
	// upcoming, in progress or ended recently. Their windows are computed when a snapshot is built, so a component
	// shows under_maintenance during a window without anything being stored when the window opens or closes.
	Maintenances []maintenance.Maintenance
	// Branding is the brand an admin stored, read with the rest so that every process shows a change after the
	// public-change notification; nil when none is stored, and the Page's (the configuration's) applies.
	Branding *Branding
}

// Branding is a stored brand: it replaces the Page's name, accent colour and header links; its logo, when it has
// one, replaces the Page's.
type Branding struct {
	Name     string
	Accent   string
	Links    []web.BrandLink
	Logo     []byte
	LogoType string
}

// Component is a component as customers see it.
type Component struct {
	ID          string
	Slug        string
	Name        string
	Group       string
	Description string
	Status      domain.ComponentStatus
	Position    int
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Uptime is the component's history of the last uptime.Days dates (uptime.Zone dates), oldest first, counted up
	// to when the state was read: each date's worst status, time by status, and the public incidents that touched it.
	// Empty when the Source keeps no history; the page then shows no uptime bar.
	Uptime []uptime.Day
}

// Incident is an incident as customers see it: its title, public status and published updates.
type Incident struct {
	ID   string
	Key  string
	Name string
	// Status is the status of the latest published update.
	Status domain.UpdateStatus
	// Impact is derived from the worst component status the incident published: none, minor, major or critical.
	Impact    string
	CreatedAt time.Time // the first published update
	UpdatedAt time.Time // the latest published update
	// StartedAt is when customers were first affected, as responders recorded it (impact started, else detected);
	// never after CreatedAt. Zero means CreatedAt.
	StartedAt  time.Time
	ResolvedAt *time.Time
	// Components are the slugs of the components the incident affects.
	Components []string
	// Updates are the published updates, newest first.
	Updates []Update
}

// Update is one published update.
type Update struct {
	ID     string
	Status domain.UpdateStatus
	// Body is the update's Markdown source, as the Communications Lead wrote it.
	Body        string
	PublishedAt time.Time
	// Components holds the statuses the update set, by component slug.
	Components map[string]domain.ComponentStatus
}

// Source loads the public state. Implementations must return only public information: incidents as
// postgres.PublicIncident builds them, with nothing of an incident until an update of it is published.
type Source interface {
	PublicState(ctx context.Context) (State, error)
	// PublicIncident returns the incident with that key, for its permalink. It returns a domain.ErrNotFound error
	// when there is no such incident or nothing of it is published.
	PublicIncident(ctx context.Context, key string) (Incident, error)
	// PublicHistory returns the incidents whose first published update went out in [from, to), newest first, and
	// when the nearest ones outside that span went public.
	PublicHistory(ctx context.Context, from, to time.Time) (History, error)
	// PublicLatest returns the n incidents whose latest published update is the most recent, latest first.
	PublicLatest(ctx context.Context, n int) ([]Incident, error)
}

// Report is a customer-safe post-incident report (PIR or RCA) of one incident.
type Report struct {
	Kind        string // pir or rca
	Summary     string // Markdown
	PublishedAt time.Time
}

// ReportSource is implemented by a Source that also serves the post-incident reports published for customers; the
// permalink shows them under the updates.
type ReportSource interface {
	PublicReports(ctx context.Context, key string) ([]Report, error)
}

// NoHistory is the history part of a Source that has none, to embed in one that serves only the current state (a
// benchmark's): no incident is found by key, and the history and the feeds are empty.
type NoHistory struct{}

// PublicIncident implements Source: there is no such incident.
func (NoHistory) PublicIncident(_ context.Context, key string) (Incident, error) {
	return Incident{}, domain.Errorf(domain.ErrNotFound, "not_found", "no public incident %q", key)
}

// PublicHistory implements Source: the span is empty.
func (NoHistory) PublicHistory(context.Context, time.Time, time.Time) (History, error) {
	return History{}, nil
}

// PublicLatest implements Source: there is none.
func (NoHistory) PublicLatest(context.Context, int) ([]Incident, error) { return nil, nil }

// History is one span of the public incident history.
type History struct {
	// Incidents are those that went public in the span, newest first.
	Incidents []Incident
	// Truncated is set when the span held more incidents than one read returns; Incidents are the newest of them.
	Truncated bool
	// Older is when the latest incident before the span went public, and Newer when the earliest after it did;
	// zero when there is none.
	Older, Newer time.Time
}

// Page holds the page's settings.
type Page struct {
	// ID is a stable identifier of the page, for the JSON API's page.id.
	ID   string
	Name string
	// URL is the public base URL, without a trailing slash.
	URL string
	// Location is the zone times are shown in when the viewer's is unknown.
	Location *time.Location
	// Brand dresses the pages: logo, accent colour, links. Its LogoURL is set by New when Logo is given.
	Brand web.Brand
	// Logo is the organisation's logo image, served by mim itself at /brand/logo so the page depends on no other
	// host; LogoType is its content type.
	Logo     []byte
	LogoType string
}
