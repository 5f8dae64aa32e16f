package postincident

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/workflow"
)

// Evidence is one incident's record for an auditor: its classification, every timeline event, the communications,
// the PIR, the RCA, its corrective actions and problems.
type Evidence struct {
	ExportedAt time.Time                `json:"exported_at"`
	Incident   workflow.Incident        `json:"incident"`
	Timeline   []incident.TimelineEntry `json:"timeline"`
	// Communications are the status updates, every state (draft, approved, published) included.
	Communications []workflow.Update  `json:"communications"`
	PIR            *Document          `json:"pir"`
	RCA            *Document          `json:"rca"`
	Actions        []CorrectiveAction `json:"corrective_actions"`
	Problems       []Problem          `json:"problems"`
}

// NewEvidence assembles the evidence from the incident's parts.
func NewEvidence(inc workflow.Incident, timeline []incident.TimelineEntry, docs []Document,
	actions []CorrectiveAction, problems []Problem, now time.Time) Evidence {
	e := Evidence{ExportedAt: now.UTC(), Incident: inc, Timeline: timeline, Communications: inc.Updates,
		Actions: actions, Problems: problems}
	if e.Timeline == nil {
		e.Timeline = []incident.TimelineEntry{}
	}
	if e.Communications == nil {
		e.Communications = []workflow.Update{}
	}
	for i := range docs {
		switch docs[i].Kind {
		case KindPIR:
			e.PIR = &docs[i]
		case KindRCA:
			e.RCA = &docs[i]
		}
	}
	return e
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func tsp(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return ts(*t)
}

// mdCell keeps a table cell on one line and its pipes from splitting it.
func mdCell(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ", "|", `\|`).Replace(strings.TrimSpace(s))
}

// Markdown renders the evidence as one Markdown document, every timeline event a row.
func (e Evidence) Markdown() string {
	var b strings.Builder
	inc := e.Incident
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Evidence: %s — %s\n\n", inc.Key, inc.Title)
	w("Exported %s. Kind: %s. Stage: %s%s. Reopened: %d time(s).\n\n", ts(e.ExportedAt), inc.Kind, inc.Stage,
		inc.Status, inc.Reopened)

	w("## Classification\n\n")
	c, cl := inc.Criteria, inc.Classification
	w("| criterion | value | met | reason |\n| --- | --- | --- | --- |\n")
	w("| severity | %s | %t | %s |\n", c.Severity, cl.Severity.Met, mdCell(cl.Severity.Reason))
	w("| scope | %d customers, regions %s, global %t | %t | %s |\n", c.Scope.CustomersAffected,
		mdCell(strings.Join(c.Scope.Regions, ", ")), c.Scope.Global, cl.Scope.Met, mdCell(cl.Scope.Reason))
	var impacts []string
	for _, bi := range c.BusinessImpact {
		impacts = append(impacts, string(bi))
	}
	w("| business impact | %s | %t | %s |\n", mdCell(strings.Join(impacts, ", ")), cl.BusinessImpact.Met,
		mdCell(cl.BusinessImpact.Reason))
	w("| urgency | %s | %t | %s |\n\n", c.Urgency, cl.Urgency.Met, mdCell(cl.Urgency.Reason))
	w("Policy version %d: %s (%d criteria met, impact %s, priority %s).\n", cl.PolicyVersion, cl.Kind, cl.CriteriaMet,
		cl.Impact, cl.Priority)
	if cl.Override != nil {
		w("Overridden by an admin: %s.\n", mdCell(cl.Override.Reason))
	}
	w("\nComponents: %s.\n\n", strings.Join(inc.Components, ", "))

	w("### Milestones\n\n")
	var ms []domain.Milestone
	for m := range inc.Milestones {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool {
		a, b := inc.Milestones[ms[i]], inc.Milestones[ms[j]]
		return a.Before(b) || a.Equal(b) && ms[i] < ms[j]
	})
	for _, m := range ms {
		w("- %s: %s\n", m, ts(inc.Milestones[m]))
	}

	w("\n## Timeline (%d events)\n\n", len(e.Timeline))
	w("| seq | at | event | actor | channel | data |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, t := range e.Timeline {
		w("| %d | %s | %s | %s | %s | `%s` |\n", t.Seq, ts(t.At), t.Type, mdCell(actorOf(t)), t.Channel,
			strings.ReplaceAll(mdCell(string(t.Data)), "`", "'"))
	}

	w("\n## Communications (%d)\n\n", len(e.Communications))
	for _, u := range e.Communications {
		w("### %s — %s (%s)\n\nDrafted %s by %s", u.ID, u.Status, u.State, ts(u.DraftedAt), u.DraftedBy.Name)
		if u.ApprovedBy != nil {
			w("; approved %s by %s", tsp(u.ApprovedAt), u.ApprovedBy.Name)
		}
		if u.PublishedBy != nil {
			w("; published %s by %s", tsp(u.PublishedAt), u.PublishedBy.Name)
		}
		w(".\n\n%s\n\n", quote(u.Body))
	}

	w("## Post Incident Report\n\n")
	if d := e.PIR; d == nil {
		w("None (the incident was not concluded as a major incident).\n\n")
	} else {
		docHeader(&b, *d)
		w("### Summary\n\n%s\n\n### Timeline\n\n", d.PIR.Summary)
		for _, it := range d.PIR.Timeline {
			w("- %s (seq %d, %s): %s\n", ts(it.At), it.Seq, mdCell(it.Actor), mdCell(it.Text))
		}
		w("\n### Steps taken to restore\n\n")
		for _, s := range d.PIR.RestorationSteps {
			w("- %s, %s by %s (seq %d): %s\n", s.Kind, ts(s.At), mdCell(s.By), s.Seq, mdCell(s.Description))
		}
		w("\n")
	}

	w("## Root Cause Analysis\n\n")
	if d := e.RCA; d == nil {
		w("None.\n\n")
	} else {
		docHeader(&b, *d)
		w("### Root cause\n\n%s\n\n### Contributing factors\n\n", orNone(d.RCA.RootCause))
		for _, f := range d.RCA.ContributingFactors {
			w("- %s\n", mdCell(f))
		}
		w("\n### Preventative actions\n\n")
		for _, a := range d.RCA.PreventativeActions {
			w("- %s: %s (due %s, action %s)\n", a.Kind, mdCell(a.Title), ts(a.DueAt), a.ActionID)
		}
		w("\n")
	}

	w("## Corrective actions (%d)\n\n", len(e.Actions))
	w("| id | kind | title | owner | due | status | reason |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, a := range e.Actions {
		w("| %s | %s | %s | %s | %s | %s | %s |\n", a.ID, a.Kind, mdCell(a.Title), mdCell(a.Owner.Name), ts(a.DueAt),
			a.Status, mdCell(a.Reason))
	}
	w("\n## Problems (%d)\n\n", len(e.Problems))
	for _, p := range e.Problems {
		w("- %s (%s): known error %s; workaround %s; incidents %s\n", mdCell(p.Title), p.Status,
			mdCell(orNone(p.KnownError)), mdCell(orNone(p.Workaround)), strings.Join(p.Incidents, ", "))
	}
	return b.String()
}

func docHeader(b *strings.Builder, d Document) {
	fmt.Fprintf(b, "Status %s, version %d. Concluded %s; due %s", d.Status, d.Version, ts(d.ConcludedAt), ts(d.DueAt))
	if d.TargetAt != nil {
		fmt.Fprintf(b, " (target %s)", ts(*d.TargetAt))
	}
	fmt.Fprintf(b, "; reviewed %s", tsp(d.ReviewedAt))
	if d.ReviewedBy != nil {
		fmt.Fprintf(b, " by %s", d.ReviewedBy.Name)
	}
	fmt.Fprintf(b, "; published %s; customer-safe version public: %t.\n\n", tsp(d.PublishedAt), d.Public != nil)
}

func actorOf(t incident.TimelineEntry) string {
	s := t.Actor.Name
	if t.Actor.Email != "" {
		s += " <" + t.Actor.Email + ">"
	}
	return s
}

func quote(s string) string {
	return "> " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n> ")
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}
