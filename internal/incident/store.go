// Package incident applies commands to incidents: in one transaction it loads the incident, lets the workflow decide,
// saves the new state with its version bumped, appends the timeline and recomputes what the public sees. Storage is
// behind the Store interface, which the postgres package implements.
package incident

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/mimhq/mim/internal/classify"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// Record is an incident as stored: its workflow state and the version that guards concurrent changes.
type Record struct {
	State     workflow.Incident
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TimelineEntry is one event on an incident's append-only timeline, with who did it and from where.
type TimelineEntry struct {
	Seq     int                `json:"seq"`
	Version int                `json:"version"`
	Type    workflow.EventType `json:"type"`
	At      time.Time          `json:"at"`
	Actor   domain.Actor       `json:"actor"`
	Channel domain.Channel     `json:"channel"`
	Data    json.RawMessage    `json:"data"`
}

// ListFilter narrows a listing of incidents.
type ListFilter struct {
	Kind     domain.Kind
	Open     *bool
	Stage    domain.Stage
	Severity domain.Severity
	// Component is a component slug.
	Component string
	// Query matches the key or the title.
	Query string
	// After is an opaque cursor from a previous page.
	After string
	Limit int
}

// ErrDedupConflict is returned by Tx.Insert when another open incident holds the same dedup key.
var ErrDedupConflict = errors.New("incident: another open incident has this dedup key")

// Store reads incidents and runs transactions.
type Store interface {
	// InTx runs fn in one transaction, committed when fn returns nil.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Get reads an incident by id or key. A missing one is a domain not_found error.
	Get(ctx context.Context, ref string) (Record, error)
	// List reads incidents, newest first, and the cursor of the next page ("" when there is none).
	List(ctx context.Context, f ListFilter) ([]Record, string, error)
	// Timeline reads an incident's timeline in order.
	Timeline(ctx context.Context, incidentID string) ([]TimelineEntry, error)
}

// Tx is what a command may do inside its transaction.
type Tx interface {
	// NextNumber draws the next incident number.
	NextNumber(ctx context.Context) (int64, error)
	// Insert stores a new incident (ErrDedupConflict when its dedup key is taken by an open incident).
	Insert(ctx context.Context, r Record) error
	// Lock reads an incident by id or key and locks it until the transaction ends.
	Lock(ctx context.Context, ref string) (Record, error)
	// LockOpenByDedupKey finds and locks the open incident with this dedup key (a not_found error when none).
	LockOpenByDedupKey(ctx context.Context, key string) (Record, error)
	// LastClosedByDedupKey finds the most recent closed incident with this dedup key (not_found when none).
	LastClosedByDedupKey(ctx context.Context, key string) (Record, error)
	// Save writes a changed incident whose Version is already bumped.
	Save(ctx context.Context, r Record) error
	// Append adds entries to an incident's timeline.
	Append(ctx context.Context, incidentID string, entries []TimelineEntry) error
	// Components reads the components with these slugs; the slugs that do not exist are returned as missing.
	Components(ctx context.Context, slugs []string) (found []domain.Component, missing []string, err error)
	// AllComponentSlugs lists every component slug, to name the allowed values.
	AllComponentSlugs(ctx context.Context) ([]string, error)
	// RecomputeComponents sets each named component's status to the worst any open, unresolved incident published
	// for it (operational when none), recording each change, and returns the changes.
	RecomputeComponents(ctx context.Context, slugs []string, at time.Time) ([]ComponentChange, error)
	// User finds a user by id or email (not_found when none).
	User(ctx context.Context, ref string) (domain.User, error)
	// Policy reads the current classification policy.
	Policy(ctx context.Context) (classify.Policy, error)
	// NotifyPublic tells every mim process, at commit, that the public state changed.
	NotifyPublic(ctx context.Context) error
	// React runs the store's reactions to a command's change inside this transaction: what must exist together with
	// the change or not at all (notifications to deliver, a report to open). An error rolls the command back.
	React(ctx context.Context, c Change) error
}

// ComponentChange is a component's public status changing because of an incident.
type ComponentChange struct {
	Slug string                 `json:"slug"`
	Name string                 `json:"name"`
	From domain.ComponentStatus `json:"from"`
	To   domain.ComponentStatus `json:"to"`
}

// Change is what one command did to one incident, as its reactions see it before commit.
type Change struct {
	// Before is the state before the command: the zero Incident for a declaration.
	Before workflow.Incident
	After  Record
	Events []workflow.Event
	Actor  domain.Actor
	// Public reports whether customers see something new (a publication, a change of kind, stage or visibility).
	Public bool
	// Components are the public component status changes the command caused.
	Components []ComponentChange
}

// Declaration reports whether the change opened the incident.
func (c Change) Declaration() bool { return c.Before.ID == "" }
