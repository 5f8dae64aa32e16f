// Package statuspage serves what customers see: the public status page and the Statuspage-compatible JSON API. It
// renders from a snapshot of the public state, rebuilt when something changes, so a spike of readers during an outage
// costs no database work. Nothing internal (bridges, responders, notes, tickets, classification) is in the snapshot.
package statuspage

import (
	"context"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/maintenance"
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
}

// Incident is an incident as customers see it: its title, public status and published updates.
type Incident struct {
	ID   string
	Key  string
	Name string
	// Status is the status of the latest published update.
	Status domain.UpdateStatus
	// Impact is derived from the worst component status the incident published: none, minor, major or critical.
	Impact     string
	CreatedAt  time.Time // the first published update
	UpdatedAt  time.Time // the latest published update
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

// Source loads the public state. Implementations must return only public information.
type Source interface {
	PublicState(ctx context.Context) (State, error)
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
}
