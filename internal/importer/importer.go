package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
)

// RefKind names what an external id identifies.
type RefKind string

// Reference kinds.
const (
	RefComponent RefKind = "component"
	RefIncident  RefKind = "incident"
	RefUpdate    RefKind = "incident_update"
)

// Ref records that an entity of a source, known there by ExternalID, became the local entity LocalID.
type Ref struct {
	Source     string
	Kind       RefKind
	ExternalID string
	LocalID    string
	// Data is the entity's JSON as the source had it when it was imported: what mim does not model (Statuspage's
	// display_at, impact, shortlink) is kept here.
	Data json.RawMessage
}

// Store runs an import in one transaction.
type Store interface {
	// InTx runs fn in one transaction, committed when fn returns nil.
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Tx is what an import does inside its transaction: what an incident command may do (incident.Tx), and keeping
// external references and creating components.
type Tx interface {
	incident.Tx
	// LockSource makes imports from one source take turns until the transaction ends, so two imports of one export
	// at once still create everything once.
	LockSource(ctx context.Context, source string) error
	// Refs reads the local ids recorded for a source's external ids of one kind, by external id.
	Refs(ctx context.Context, source string, kind RefKind) (map[string]string, error)
	// AddRef records a reference; the (source, kind, external id) must be new.
	AddRef(ctx context.Context, r Ref) error
	// AllComponents lists every component.
	AllComponents(ctx context.Context) ([]domain.Component, error)
	// CreateComponent stores a validated component whose id, slug, position and times are set. It does not notify.
	CreateComponent(ctx context.Context, c domain.Component) error
	// UpdateComponent changes a component's name, group, description, status and updated_at (the time of the
	// change), recording a status change for uptime history. It does not notify.
	UpdateComponent(ctx context.Context, c domain.Component) error
}

// Actor is who an import acts as on the timeline.
var Actor = domain.Actor{Name: "import", OrgRole: domain.OrgAdmin, Channel: domain.ChannelCLI}

// Importer imports Statuspage documents.
type Importer struct {
	store Store
}

// New returns an Importer over store.
func New(store Store) *Importer { return &Importer{store: store} }

// Result counts what one import created and what it found already imported.
type Result struct {
	// Source names the page the document came from, as references record it.
	Source string
	Kind   DocumentKind

	ComponentsCreated, ComponentsSkipped int
	// ComponentsUpdated counts components imported before that a newer export changed.
	ComponentsUpdated                  int
	IncidentsCreated, IncidentsSkipped int
	// IncidentsExtended counts incidents imported before that this import gave new updates.
	IncidentsExtended              int
	UpdatesCreated, UpdatesSkipped int
	// MaintenancesSkipped counts scheduled maintenances, which mim does not import.
	MaintenancesSkipped int
	// Warnings say what of the document was left out, and why.
	Warnings []string
}

// Changed reports whether the import created or changed anything.
func (r Result) Changed() bool {
	return r.ComponentsCreated+r.ComponentsUpdated+r.IncidentsCreated+r.UpdatesCreated > 0
}

// Add adds o's counts and warnings to r, for a total over several documents.
func (r *Result) Add(o Result) {
	r.ComponentsCreated += o.ComponentsCreated
	r.ComponentsSkipped += o.ComponentsSkipped
	r.ComponentsUpdated += o.ComponentsUpdated
	r.IncidentsCreated += o.IncidentsCreated
	r.IncidentsSkipped += o.IncidentsSkipped
	r.IncidentsExtended += o.IncidentsExtended
	r.UpdatesCreated += o.UpdatesCreated
	r.UpdatesSkipped += o.UpdatesSkipped
	r.MaintenancesSkipped += o.MaintenancesSkipped
	r.Warnings = append(r.Warnings, o.Warnings...)
}

// String is the one-line summary the CLI prints.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "created %s, %s, %s", plural(r.ComponentsCreated, "component"),
		plural(r.IncidentsCreated, "incident"), plural(r.UpdatesCreated, "update"))
	if r.IncidentsExtended > 0 {
		fmt.Fprintf(&b, " (new updates on %s imported before)", plural(r.IncidentsExtended, "incident"))
	}
	if r.ComponentsUpdated > 0 {
		fmt.Fprintf(&b, "; updated %s from this newer export", plural(r.ComponentsUpdated, "component"))
	}
	fmt.Fprintf(&b, "; skipped %s, %s, %s that already existed", plural(r.ComponentsSkipped, "component"),
		plural(r.IncidentsSkipped, "incident"), plural(r.UpdatesSkipped, "update"))
	if r.MaintenancesSkipped > 0 {
		fmt.Fprintf(&b, "; %s not imported (mim does not import maintenances)",
			plural(r.MaintenancesSkipped, "scheduled maintenance"))
	}
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// SourceOf names a Statuspage page as external references record it: by its id, which outlives renames and domain
// changes.
func SourceOf(p Page) string { return "statuspage:" + p.ID }

// Import creates in mim what of doc is not imported yet, in one transaction: the components, then the incidents
// (oldest first, so their numbers follow their dates) with all their updates, and then new updates of incidents
// imported before. Nothing of doc is imported when it fails.
func (im *Importer) Import(ctx context.Context, doc *Document) (Result, error) {
	res := Result{Source: SourceOf(doc.Page), Kind: doc.Kind, MaintenancesSkipped: doc.Maintenances}
	if len(doc.Components) == 0 && len(doc.Incidents) == 0 {
		return res, nil
	}
	var out Result
	err := im.store.InTx(ctx, func(tx Tx) error {
		r := res
		r.Warnings = nil
		if err := tx.LockSource(ctx, r.Source); err != nil {
			return err
		}
		slugs, err := importComponents(ctx, tx, doc, &r)
		if err != nil {
			return err
		}
		if err := importIncidents(ctx, tx, doc, slugs, &r); err != nil {
			return err
		}
		if r.Changed() {
			if err := tx.NotifyPublic(ctx); err != nil {
				return err
			}
		}
		out = r
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("import %s of %s: %w", doc.Kind, pageName(doc.Page), err)
	}
	return out, nil
}

func pageName(p Page) string {
	if p.Name != "" {
		return fmt.Sprintf("%q (page %s)", p.Name, p.ID)
	}
	return "page " + p.ID
}

// utc is a time as mim stores it: UTC, to the microsecond. The instant is the export's (its milliseconds and offset
// lose nothing); only the zone it is written in changes, so that a state built here and one replayed from the
// database are equal.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
