// Package importer brings history from other status tools into mim. It reads Atlassian Statuspage's public v2 JSON
// (summary.json, incidents.json, components.json, one incident) and creates the components and incidents it holds,
// idempotently: every external id is recorded with the local id it became, so importing an export again, or an
// export that overlaps one already imported, creates nothing twice.
//
// An imported incident's state is built from workflow events with the export's own times — declared, each update
// drafted and published, status changes — and its timeline holds exactly those events, so it replays to its state
// like any other incident.
package importer

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// DocumentKind names which Statuspage v2 resource a document is, detected from its top-level keys.
type DocumentKind string

// Document kinds.
const (
	KindSummary      DocumentKind = "summary.json"
	KindIncidents    DocumentKind = "incidents.json"
	KindComponents   DocumentKind = "components.json"
	KindIncident     DocumentKind = "incident"
	KindMaintenances DocumentKind = "scheduled-maintenances.json"
)

// Document is one Statuspage v2 JSON document: what it holds of a page's components and incidents.
type Document struct {
	Kind DocumentKind
	Page Page
	// Components are the page's components as the export lists them, groups included.
	Components []Component
	// Incidents are the incidents, in the export's order (newest first).
	Incidents []Incident
	// Maintenances counts the scheduled maintenances in the document; mim does not import them.
	Maintenances int
}

// Page is the page an export comes from.
type Page struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Component is a Statuspage component, or a group of components (Group, with member ids in Members).
type Component struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Position    int       `json:"position"`
	Description *string   `json:"description"`
	GroupID     *string   `json:"group_id"`
	PageID      string    `json:"page_id"`
	Group       bool      `json:"group"`
	Members     []string  `json:"components"`
	// Raw is the component's JSON as the export has it.
	Raw json.RawMessage `json:"-"`
}

// Incident is a Statuspage incident with its updates.
type Incident struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Status     string      `json:"status"`
	Impact     string      `json:"impact"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
	StartedAt  *time.Time  `json:"started_at"`
	ResolvedAt *time.Time  `json:"resolved_at"`
	Shortlink  string      `json:"shortlink"`
	PageID     string      `json:"page_id"`
	Updates    []Update    `json:"incident_updates"`
	Components []Component `json:"components"`
	// Raw is the incident's JSON as the export has it, without its updates (each update keeps its own).
	Raw json.RawMessage `json:"-"`
}

// Update is one incident update.
type Update struct {
	ID        string     `json:"id"`
	Status    string     `json:"status"`
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
	DisplayAt *time.Time `json:"display_at"`
	Affected  []Affected `json:"affected_components"`
	// Raw is the update's JSON as the export has it.
	Raw json.RawMessage `json:"-"`
}

// Affected is one component status an update set.
type Affected struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

// Parse reads a Statuspage v2 JSON document. Which resource it is follows from its keys: components and incidents
// (summary.json), incidents alone (incidents.json, incidents/unresolved.json), components alone (components.json),
// incident (one incident), scheduled_maintenances alone (scheduled-maintenances.json).
func Parse(data []byte) (*Document, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not a Statuspage v2 JSON document: %w", err)
	}
	has := func(k string) bool { _, ok := top[k]; return ok && !bytes.Equal(top[k], []byte("null")) }
	doc := &Document{}
	switch {
	case has("components") && has("incidents"):
		doc.Kind = KindSummary
	case has("incidents"):
		doc.Kind = KindIncidents
	case has("components"):
		doc.Kind = KindComponents
	case has("incident"):
		doc.Kind = KindIncident
	case has("scheduled_maintenances"):
		doc.Kind = KindMaintenances
	default:
		keys := make([]string, 0, len(top))
		for k := range top {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return nil, fmt.Errorf("not a Statuspage v2 export: no components, incidents, incident or scheduled_maintenances "+
			"among its keys (%s)", strings.Join(keys, ", "))
	}
	if has("page") {
		if err := json.Unmarshal(top["page"], &doc.Page); err != nil {
			return nil, fmt.Errorf("page: %w", err)
		}
	}
	if has("components") {
		var raws []json.RawMessage
		if err := json.Unmarshal(top["components"], &raws); err != nil {
			return nil, fmt.Errorf("components: %w", err)
		}
		for i, raw := range raws {
			c, err := parseComponent(raw)
			if err != nil {
				return nil, fmt.Errorf("components[%d]: %w", i, err)
			}
			doc.Components = append(doc.Components, c)
		}
	}
	var incidents []json.RawMessage
	switch {
	case has("incidents"):
		if err := json.Unmarshal(top["incidents"], &incidents); err != nil {
			return nil, fmt.Errorf("incidents: %w", err)
		}
	case has("incident"):
		incidents = []json.RawMessage{top["incident"]}
	}
	for i, raw := range incidents {
		in, err := parseIncident(raw)
		if err != nil {
			return nil, fmt.Errorf("incidents[%d]: %w", i, err)
		}
		doc.Incidents = append(doc.Incidents, in)
	}
	if has("scheduled_maintenances") {
		var ms []json.RawMessage
		if err := json.Unmarshal(top["scheduled_maintenances"], &ms); err != nil {
			return nil, fmt.Errorf("scheduled_maintenances: %w", err)
		}
		doc.Maintenances = len(ms)
	}
	if doc.Page.ID == "" { // an incident or component names its page even where the document has no page object
		for _, in := range doc.Incidents {
			doc.Page.ID = cmp.Or(doc.Page.ID, in.PageID)
		}
		for _, c := range doc.Components {
			doc.Page.ID = cmp.Or(doc.Page.ID, c.PageID)
		}
	}
	if doc.Page.ID == "" && (len(doc.Components) > 0 || len(doc.Incidents) > 0) {
		return nil, fmt.Errorf("no page id (page.id or page_id): the import could not recognise this page's " +
			"components and incidents again")
	}
	if err := checkLimits(doc, time.Now()); err != nil {
		return nil, err
	}
	return doc, nil
}

// Limits of one import, the same as the API's where it has one: an export past them is refused whole, never cut.
const (
	maxComponents = 1000
	maxIncidents  = 20000
	maxUpdates    = 1000
	maxTitle      = 300
	maxBody       = 20000
)

// checkLimits refuses a document the page could not show sensibly: too many things, texts longer than the API
// accepts, or times in the future (which would pin "last updated" there).
func checkLimits(doc *Document, now time.Time) error {
	future := now.Add(24 * time.Hour)
	if len(doc.Components) > maxComponents {
		return fmt.Errorf("%d components: at most %d in one import", len(doc.Components), maxComponents)
	}
	if len(doc.Incidents) > maxIncidents {
		return fmt.Errorf("%d incidents: at most %d in one import", len(doc.Incidents), maxIncidents)
	}
	for i, c := range doc.Components {
		if n := utf8.RuneCountInString(c.Name); n > 200 {
			return fmt.Errorf("components[%d]: name of %d characters, at most 200", i, n)
		}
	}
	for i, in := range doc.Incidents {
		if n := utf8.RuneCountInString(in.Name); n > maxTitle {
			return fmt.Errorf("incidents[%d] (%s): name of %d characters, at most %d", i, in.ID, n, maxTitle)
		}
		if len(in.Updates) > maxUpdates {
			return fmt.Errorf("incidents[%d] (%s): %d updates, at most %d", i, in.ID, len(in.Updates), maxUpdates)
		}
		if in.CreatedAt.After(future) {
			return fmt.Errorf("incidents[%d] (%s): created_at %s is in the future", i, in.ID, in.CreatedAt.Format(time.RFC3339))
		}
		for j, u := range in.Updates {
			if n := utf8.RuneCountInString(u.Body); n > maxBody {
				return fmt.Errorf("incidents[%d] (%s), update %d: body of %d characters, at most %d", i, in.ID, j, n, maxBody)
			}
			if u.CreatedAt.After(future) {
				return fmt.Errorf("incidents[%d] (%s), update %d: created_at %s is in the future", i, in.ID, j,
					u.CreatedAt.Format(time.RFC3339))
			}
		}
	}
	return nil
}

func parseComponent(raw json.RawMessage) (Component, error) {
	var c Component
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, err
	}
	if c.ID == "" {
		return c, fmt.Errorf("component %q has no id", c.Name)
	}
	c.Raw = raw
	return c, nil
}

func parseIncident(raw json.RawMessage) (Incident, error) {
	var in Incident
	if err := json.Unmarshal(raw, &in); err != nil {
		return in, err
	}
	if in.ID == "" {
		return in, fmt.Errorf("incident %q has no id", in.Name)
	}
	if in.CreatedAt.IsZero() {
		return in, fmt.Errorf("incident %s has no created_at", in.ID)
	}
	var parts struct {
		Updates []json.RawMessage `json:"incident_updates"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return in, err
	}
	for i := range in.Updates {
		u := &in.Updates[i]
		if u.ID == "" {
			return in, fmt.Errorf("incident %s: update %d has no id", in.ID, i)
		}
		if u.CreatedAt.IsZero() {
			return in, fmt.Errorf("incident %s: update %s has no created_at", in.ID, u.ID)
		}
		u.Raw = parts.Updates[i]
	}
	var rest map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rest); err != nil {
		return in, err
	}
	delete(rest, "incident_updates")
	in.Raw, _ = json.Marshal(rest) // re-encoding decoded JSON values does not fail
	return in, nil
}
