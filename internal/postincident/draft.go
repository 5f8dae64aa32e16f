package postincident

import (
	"cmp"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/workflow"
)

// keyEvents are the timeline events a PIR's timeline drafts from; the rest (drafts, approvals, ticket logs, alert
// repeats) are in the evidence export but are not key facts.
var keyEvents = map[workflow.EventType]bool{
	workflow.EventDeclared: true, workflow.EventClassified: true, workflow.EventRoleAssigned: true,
	workflow.EventICAcknowledged: true, workflow.EventBridgeOpened: true, workflow.EventActionLogged: true,
	workflow.EventUpdatePublished: true, workflow.EventRestorationRecorded: true,
	workflow.EventVerificationRecorded: true, workflow.EventStageChanged: true, workflow.EventEscalated: true,
	workflow.EventMilestoneSet: true,
}

// DraftPIR drafts a PIR from the incident's own record: the summary from its classification and what customers
// were told, the timeline from its key events (each naming its seq), and the steps taken to restore from the
// actions, restorations and verification logged.
func DraftPIR(inc workflow.Incident, entries []incident.TimelineEntry) PIR {
	p := PIR{Summary: draftSummary(inc), CustomerSummary: draftCustomerSummary(inc),
		Timeline: []TimelineItem{}, RestorationSteps: []Step{}}
	reverted := map[string]bool{}
	for _, r := range inc.Restorations {
		reverted[r.ID] = r.Reverted
	}
	updates := map[string]workflow.Update{}
	for _, u := range inc.Updates {
		updates[u.ID] = u
	}
	for _, e := range entries {
		if keyEvents[e.Type] {
			if text := describe(e, updates); text != "" {
				p.Timeline = append(p.Timeline, TimelineItem{Seq: e.Seq, Event: string(e.Type), At: e.At,
					Actor: e.Actor.Name, Text: text})
			}
		}
		switch e.Type {
		case workflow.EventActionLogged:
			var d workflow.ActionLogged
			if json.Unmarshal(e.Data, &d) == nil {
				kind := StepAction
				switch d.Kind {
				case domain.ActionWorkaround:
					kind = StepWorkaround
				case domain.ActionFix:
					kind = StepFix
				}
				p.RestorationSteps = append(p.RestorationSteps, Step{Kind: kind, Seq: e.Seq, At: e.At,
					By: e.Actor.Name, Description: fmt.Sprintf("%s (%s)", d.Description, d.Kind)})
			}
		case workflow.EventRestorationRecorded:
			var d workflow.RestorationRecorded
			if json.Unmarshal(e.Data, &d) == nil {
				kind := StepFix
				if d.Kind == domain.RestorationWorkaround {
					kind = StepWorkaround
				}
				desc := d.Description
				if reverted[d.ID] {
					desc += " — did not hold: the incident went back to Diagnosis & Action"
				}
				p.RestorationSteps = append(p.RestorationSteps, Step{Kind: kind, Seq: e.Seq, At: e.At,
					By: e.Actor.Name, Description: desc})
			}
		case workflow.EventVerificationRecorded:
			var d workflow.VerificationRecorded
			if json.Unmarshal(e.Data, &d) == nil {
				desc := "Service verified operational: " + d.Method
				if len(d.Accepted) > 0 {
					desc += " (accepted as they are: " + strings.Join(d.Accepted, ", ") + ")"
				}
				p.RestorationSteps = append(p.RestorationSteps, Step{Kind: StepVerification, Seq: e.Seq, At: e.At,
					By: e.Actor.Name, Description: desc})
			}
		}
	}
	return p
}

// describe is the one-line text of a key event, or "" when it says nothing worth a line.
func describe(e incident.TimelineEntry, updates map[string]workflow.Update) string {
	decode := func(v any) bool { return json.Unmarshal(e.Data, v) == nil }
	switch e.Type {
	case workflow.EventDeclared:
		var d workflow.Declared
		if decode(&d) {
			return fmt.Sprintf("Declared: %s (severity %s, urgency %s)", d.Title, d.Criteria.Severity, d.Criteria.Urgency)
		}
	case workflow.EventClassified:
		var d workflow.Classified
		if decode(&d) {
			if d.From != d.To {
				return fmt.Sprintf("Reclassified from %s to %s: %s", d.From, d.To, d.Reason)
			}
			return "Reclassified: " + cmp.Or(d.Reason, d.Classification.Reason)
		}
	case workflow.EventRoleAssigned:
		var d workflow.RoleAssigned
		if decode(&d) {
			return fmt.Sprintf("%s assigned: %s", d.Role, cmp.Or(d.Holder.Name, d.Holder.Group))
		}
	case workflow.EventICAcknowledged:
		var d workflow.ICAcknowledged
		if decode(&d) {
			return "Incident Commander engaged: " + d.Person.Name
		}
	case workflow.EventBridgeOpened:
		var d workflow.BridgeOpened
		if decode(&d) {
			return fmt.Sprintf("%s bridge opened", d.Kind)
		}
	case workflow.EventActionLogged:
		var d workflow.ActionLogged
		if decode(&d) {
			return fmt.Sprintf("Action (%s): %s", d.Kind, d.Description)
		}
	case workflow.EventUpdatePublished:
		var d workflow.UpdatePublished
		if decode(&d) {
			if u, ok := updates[d.ID]; ok {
				return fmt.Sprintf("Public update (%s): %s", u.Status, firstLine(u.Body))
			}
			return "Public update published"
		}
	case workflow.EventRestorationRecorded:
		var d workflow.RestorationRecorded
		if decode(&d) {
			return fmt.Sprintf("Restoration (%s): %s", d.Kind, d.Description)
		}
	case workflow.EventVerificationRecorded:
		var d workflow.VerificationRecorded
		if decode(&d) {
			return "Verified operational: " + d.Method
		}
	case workflow.EventStageChanged:
		var d workflow.StageChanged
		if decode(&d) {
			text := "Stage: " + d.To.Title()
			if d.Backward {
				text = "Back to " + d.To.Title() + ": " + d.Reason
			}
			return text
		}
	case workflow.EventEscalated:
		var d workflow.Escalated
		if decode(&d) {
			return fmt.Sprintf("Escalated (%s) to %s: %s", d.Kind, d.Target, d.Reason)
		}
	case workflow.EventMilestoneSet:
		var d workflow.MilestoneSet
		if decode(&d) {
			return fmt.Sprintf("Milestone %s set to %s", d.Milestone, d.At.UTC().Format(time.RFC3339))
		}
	}
	return ""
}

func draftSummary(inc workflow.Incident) string {
	var b strings.Builder
	c := inc.Criteria
	fmt.Fprintf(&b, "%s — %s. A %s %s incident (severity %s, urgency %s", inc.Key, inc.Title,
		cmp.Or(inc.Classification.Priority, "unprioritised"), inc.Kind, c.Severity, c.Urgency)
	if len(c.Scope.Regions) > 0 {
		fmt.Fprintf(&b, ", regions %s", strings.Join(c.Scope.Regions, ", "))
	}
	if c.Scope.Global {
		b.WriteString(", global")
	}
	if len(c.BusinessImpact) > 0 {
		fmt.Fprintf(&b, ", business impact %s", strings.Join(domain.Strings(c.BusinessImpact), ", "))
	}
	b.WriteString(")")
	if len(inc.Components) > 0 {
		fmt.Fprintf(&b, " affecting %s", strings.Join(inc.Components, ", "))
	}
	b.WriteString(".")
	if inc.Description != "" {
		b.WriteString("\n\n" + inc.Description)
	}
	if r := inc.Classification.Reason; r != "" {
		b.WriteString("\n\nClassification: " + r)
	}
	ms := inc.Milestones
	var spans []string
	for _, m := range []domain.Milestone{domain.MilestoneImpactStarted, domain.MilestoneDetected,
		domain.MilestoneDeclared, domain.MilestoneRestored, domain.MilestoneVerified, domain.MilestoneConcluded} {
		if at, ok := ms[m]; ok {
			spans = append(spans, fmt.Sprintf("%s %s", m, at.UTC().Format(time.RFC3339)))
		}
	}
	if len(spans) > 0 {
		b.WriteString("\n\nMilestones: " + strings.Join(spans, "; ") + ".")
	}
	if published := publishedUpdates(inc); len(published) > 0 {
		b.WriteString("\n\nObserved fault, as customers were told:")
		for _, u := range published {
			fmt.Fprintf(&b, "\n- %s (%s): %s", u.PublishedAt.UTC().Format(time.RFC3339), u.Status, firstLine(u.Body))
		}
	}
	return b.String()
}

// draftCustomerSummary uses only what customers were already told: the published updates.
func draftCustomerSummary(inc workflow.Incident) string {
	published := publishedUpdates(inc)
	if len(published) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s.", inc.Title)
	for _, u := range published {
		fmt.Fprintf(&b, "\n\n%s — %s: %s", u.PublishedAt.UTC().Format("2006-01-02 15:04 MST"), u.Status, u.Body)
	}
	return b.String()
}

func publishedUpdates(inc workflow.Incident) []workflow.Update {
	var out []workflow.Update
	for _, u := range inc.Updates {
		if u.State == workflow.StatePublished && u.PublishedAt != nil {
			out = append(out, u)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].PublishedAt.Before(*out[j].PublishedAt) })
	return out
}

// DraftRCA starts an RCA: empty, but for the contributing factors already known (the diagnosis actions).
func DraftRCA(inc workflow.Incident) RCA {
	r := RCA{ContributingFactors: []string{}, PreventativeActions: []PreventativeAction{}}
	for _, a := range inc.Actions {
		if a.Kind == domain.ActionDiagnosis {
			r.ContributingFactors = append(r.ContributingFactors, a.Description)
		}
	}
	return r
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
