package importer

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mimhq/mim/internal/classify"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/workflow"
)

// importIncidents creates the document's incidents not imported yet, oldest first, and adds to those imported before
// the updates they did not have.
func importIncidents(ctx context.Context, tx Tx, doc *Document, slugs map[string]string, r *Result) error {
	if len(doc.Incidents) == 0 {
		return nil
	}
	incRefs, err := tx.Refs(ctx, r.Source, RefIncident)
	if err != nil {
		return err
	}
	updRefs, err := tx.Refs(ctx, r.Source, RefUpdate)
	if err != nil {
		return err
	}
	incidents := slices.Clone(doc.Incidents)
	slices.SortStableFunc(incidents, func(a, b Incident) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	seen := map[string]bool{}
	for _, in := range incidents {
		if seen[in.ID] {
			continue
		}
		seen[in.ID] = true
		var err error
		if local, ok := incRefs[in.ID]; ok {
			err = extendIncident(ctx, tx, in, local, slugs, updRefs, r)
		} else {
			err = createIncident(ctx, tx, doc.Page, in, slugs, r)
		}
		if err != nil {
			return fmt.Errorf("incident %s %q: %w", in.ID, in.Name, err)
		}
	}
	return nil
}

// createIncident makes a standard incident whose whole history is the export's: declared when the incident was
// created, each update drafted and published when it was created, and the status following the updates (resolved
// by a resolved update, closed by a postmortem).
func createIncident(ctx context.Context, tx Tx, page Page, in Incident, slugs map[string]string, r *Result) error {
	ups := chronological(in.Updates)
	declaredAt := utc(in.CreatedAt)
	if len(ups) > 0 && ups[0].CreatedAt.Before(declaredAt) {
		declaredAt = utc(ups[0].CreatedAt) // an update back-dated before its incident: the timeline stays in order
	}
	var compSlugs []string
	for _, c := range in.Components {
		if s, ok := slugs[c.ID]; ok && !c.Group && !slices.Contains(compSlugs, s) {
			compSlugs = append(compSlugs, s)
		}
	}
	comps, _, err := tx.Components(ctx, compSlugs)
	if err != nil {
		return err
	}
	criteria := domain.Criteria{Severity: severityOf(in.Impact), Urgency: domain.UrgencyNormal}
	cl := classify.Evaluate(classify.DefaultPolicy(), classify.FactsOf(criteria, comps))
	if cl.Kind != domain.KindStandard {
		cl.Override = &domain.Override{Kind: domain.KindStandard, By: domain.Person{Name: Actor.Name}, At: declaredAt,
			Reason: "imported from Statuspage, which has no major-incident workflow: the incident keeps the history " +
				"it had there"}
	}
	n, err := tx.NextNumber(ctx)
	if err != nil {
		return err
	}
	title := in.Name
	if strings.TrimSpace(title) == "" {
		title = "Statuspage incident " + in.ID
	}
	d := &workflow.Declared{
		ID: uuid.NewString(), Key: fmt.Sprintf("INC-%d", n), Title: title, Description: description(page, in),
		Source: "statuspage", Components: compSlugs, Criteria: criteria, Classification: cl, DetectedAt: declaredAt,
	}
	if d.Components == nil {
		d.Components = []string{}
	}
	switch in.Impact { // Statuspage states the impact customers saw; keep it rather than derive another
	case "none", "minor", "major", "critical":
		d.PublicImpact = in.Impact
	}
	if in.StartedAt != nil && !in.StartedAt.IsZero() && in.StartedAt.Before(declaredAt) {
		t := utc(*in.StartedAt)
		d.ImpactStartedAt = &t
	}
	h := history{status: domain.StatusOpen, events: []workflow.Event{{Type: workflow.EventDeclared, At: declaredAt, Data: d}}}
	refs, err := h.updates(in, ups, slugs, r)
	if err != nil {
		return err
	}
	state, err := workflow.ApplyAll(workflow.Incident{}, h.events)
	if err != nil {
		return domain.Internal(err)
	}
	rec := incident.Record{State: state, Version: 1, CreatedAt: declaredAt, UpdatedAt: h.last()}
	if err := tx.Insert(ctx, rec); err != nil {
		return err
	}
	if err := tx.Append(ctx, state.ID, timeline(rec.Version, h.events)); err != nil {
		return err
	}
	refs = append(refs, Ref{Source: r.Source, Kind: RefIncident, ExternalID: in.ID, LocalID: state.ID, Data: in.Raw})
	for _, ref := range refs {
		if err := tx.AddRef(ctx, ref); err != nil {
			return err
		}
	}
	r.IncidentsCreated++
	r.UpdatesCreated += len(ups)
	if state.IsOpen() && time.Since(h.last()) > staleAfter {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s (Statuspage incident %s) was unresolved in the export but its "+
			"last update is from %s: it is active on the status page now; resolve it in mim if it is over",
			state.Key, in.ID, h.last().Format(time.DateOnly)))
	}
	return nil
}

// staleAfter is how old the last update of an unresolved imported incident may be before the import warns that it
// is probably over: an old summary export still lists what was active then.
const staleAfter = 7 * 24 * time.Hour

// extendIncident adds to an incident imported before the updates a later export has and it has not.
func extendIncident(ctx context.Context, tx Tx, in Incident, localID string, slugs map[string]string,
	updRefs map[string]string, r *Result) error {
	all := chronological(in.Updates)
	var fresh []Update
	for _, u := range all {
		if _, ok := updRefs[u.ID]; !ok {
			fresh = append(fresh, u)
		}
	}
	r.UpdatesSkipped += len(all) - len(fresh)
	if len(fresh) == 0 {
		r.IncidentsSkipped++
		return nil
	}
	rec, err := tx.Lock(ctx, localID)
	if err != nil {
		return err
	}
	if rec.State.Kind != domain.KindStandard {
		r.IncidentsSkipped++
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s (Statuspage incident %s) became a major incident in mim "+
			"since its import: its %s from Statuspage are not imported", rec.State.Key, in.ID,
			plural(len(fresh), "new update")))
		return nil
	}
	h := history{status: rec.State.Status}
	refs, err := h.updates(in, fresh, slugs, r)
	if err != nil {
		return err
	}
	state, err := workflow.ApplyAll(rec.State, h.events)
	if err != nil {
		return domain.Internal(err)
	}
	next := incident.Record{State: state, Version: rec.Version + 1, CreatedAt: rec.CreatedAt,
		UpdatedAt: latest(rec.UpdatedAt, h.last())}
	if err := tx.Save(ctx, next); err != nil {
		return err
	}
	if err := tx.Append(ctx, state.ID, timeline(next.Version, h.events)); err != nil {
		return err
	}
	for _, ref := range refs {
		if err := tx.AddRef(ctx, ref); err != nil {
			return err
		}
	}
	r.IncidentsExtended++
	r.UpdatesCreated += len(fresh)
	return nil
}

// history collects the events of an imported incident, following its standard status.
type history struct {
	events []workflow.Event
	status domain.StandardStatus
}

// updates adds, for each update in order, its drafting and publication, and the status change it makes; it returns
// the updates' references.
func (h *history) updates(in Incident, ups []Update, slugs map[string]string, r *Result) ([]Ref, error) {
	var refs []Ref
	by := domain.Person{Name: Actor.Name}
	for _, u := range ups {
		public, want, err := updateStatus(u.Status)
		if err != nil {
			return nil, fmt.Errorf("update %s: %w", u.ID, err)
		}
		comps := map[string]domain.ComponentStatus{}
		for _, a := range u.Affected {
			st := domain.ComponentStatus(a.NewStatus)
			if !st.Valid() {
				return nil, fmt.Errorf("update %s: component %q has status %q, not one of %s", u.ID, a.Name,
					a.NewStatus, strings.Join(domain.Strings(domain.ComponentStatuses), ", "))
			}
			slug, ok := slugs[a.Code]
			if !ok {
				r.Warnings = append(r.Warnings, fmt.Sprintf("incident %s, update %s: component %q (%s) is in no "+
					"component list of this page; its status %s is left out", in.ID, u.ID, a.Name, a.Code, st))
				continue
			}
			comps[slug] = st
		}
		at := utc(u.CreatedAt)
		id := uuid.NewString()
		h.events = append(h.events,
			workflow.Event{Type: workflow.EventUpdateDrafted, At: at, Data: &workflow.UpdateDrafted{
				ID: id, Status: public, Body: u.Body, Components: comps, By: by}},
			workflow.Event{Type: workflow.EventUpdatePublished, At: at, Data: &workflow.UpdatePublished{ID: id, By: by}})
		h.moveTo(want, at, u.Status)
		refs = append(refs, Ref{Source: r.Source, Kind: RefUpdate, ExternalID: u.ID, LocalID: id, Data: u.Raw})
	}
	return refs, nil
}

// moveTo adds the status changes that bring the incident to want, through the moves a standard incident makes:
// open → resolved → closed, and back to open when a later update reopens it. A resolved update after a postmortem
// leaves the incident closed.
func (h *history) moveTo(want domain.StandardStatus, at time.Time, update string) {
	change := func(to domain.StandardStatus, reason string) {
		h.events = append(h.events, workflow.Event{Type: workflow.EventStatusChanged, At: at,
			Data: &workflow.StatusChanged{From: h.status, To: to, Reason: reason}})
		h.status = to
	}
	switch {
	case want == h.status:
	case want == domain.StatusOpen:
		change(domain.StatusOpen, "reopened on Statuspage by an update with status "+update)
	case h.status == domain.StatusOpen:
		change(domain.StatusResolved, "resolved on Statuspage")
		if want == domain.StatusClosed {
			change(domain.StatusClosed, "postmortem published on Statuspage")
		}
	case h.status == domain.StatusResolved && want == domain.StatusClosed:
		change(domain.StatusClosed, "postmortem published on Statuspage")
	}
}

// last is the time of the latest event.
func (h *history) last() time.Time {
	var t time.Time
	for _, e := range h.events {
		t = latest(t, e.At)
	}
	return t
}

func timeline(version int, events []workflow.Event) []incident.TimelineEntry {
	entries := make([]incident.TimelineEntry, len(events))
	for i, e := range events {
		data, _ := json.Marshal(e.Data) // event data are plain structs: encoding them does not fail
		entries[i] = incident.TimelineEntry{Version: version, Type: e.Type, At: e.At, Actor: Actor,
			Channel: Actor.Channel, Data: data}
	}
	return entries
}

// chronological orders updates oldest first, each id once. The export lists them newest first; updates created at
// the same instant keep the export's order reversed.
func chronological(ups []Update) []Update {
	seen := map[string]bool{}
	var out []Update
	for _, u := range ups {
		if !seen[u.ID] {
			seen[u.ID] = true
			out = append(out, u)
		}
	}
	slices.Reverse(out)
	slices.SortStableFunc(out, func(a, b Update) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// updateStatus maps a Statuspage update status to mim's public status and the standard status it leaves the
// incident in. A postmortem is public as resolved, and closes the incident.
func updateStatus(s string) (domain.UpdateStatus, domain.StandardStatus, error) {
	switch s {
	case "investigating", "identified", "monitoring":
		return domain.UpdateStatus(s), domain.StatusOpen, nil
	case "resolved":
		return domain.UpdateResolved, domain.StatusResolved, nil
	case "postmortem":
		return domain.UpdateResolved, domain.StatusClosed, nil
	}
	return "", "", fmt.Errorf("status %q is not one of investigating, identified, monitoring, resolved, postmortem", s)
}

// severityOf maps Statuspage's impact to a severity: critical → critical, major → high, minor → medium, and none
// (or anything else) → low.
func severityOf(impact string) domain.Severity {
	switch impact {
	case "critical":
		return domain.SeverityCritical
	case "major":
		return domain.SeverityHigh
	case "minor":
		return domain.SeverityMedium
	}
	return domain.SeverityLow
}

// description says where an imported incident came from; it is internal, like every description.
func description(p Page, in Incident) string {
	var b strings.Builder
	b.WriteString("Imported from Statuspage")
	if p.Name != "" || p.URL != "" {
		fmt.Fprintf(&b, " (%s)", strings.TrimSpace(strings.Join(nonEmpty(p.Name, p.URL), ", ")))
	}
	fmt.Fprintf(&b, ": incident %s", in.ID)
	if in.Shortlink != "" {
		fmt.Fprintf(&b, ", %s", in.Shortlink)
	}
	fmt.Fprintf(&b, ", impact %s.", cmp.Or(in.Impact, "none"))
	return b.String()
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
