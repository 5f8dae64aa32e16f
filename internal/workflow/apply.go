package workflow

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/mimhq/mim/internal/domain"
)

// Apply folds one event into a state and returns the new state; s is not modified. Milestones are stamped here, by
// the events that make them, so replaying the timeline gives them back.
func Apply(s Incident, e Event) (Incident, error) {
	n := s.clone()
	at := e.At
	switch d := e.Data.(type) {
	case *Declared:
		n = Incident{
			ID: d.ID, Key: d.Key, Title: d.Title, Description: d.Description, Source: d.Source,
			DedupKey: d.DedupKey, RecurrenceOf: d.RecurrenceOf,
			Criteria: d.Criteria, Classification: d.Classification,
			Components: cloneSlice(d.Components), ComponentStatus: map[string]domain.ComponentStatus{},
			Roles:   Roles{TechnicalLeads: []RoleHolder{}, ExecutiveSponsors: []RoleHolder{}},
			Bridges: map[domain.BridgeKind]*Bridge{}, Actions: []Action{}, Updates: []Update{},
			Restorations: []Restoration{}, Tickets: []Ticket{}, Escalations: []Escalation{},
			Milestones: map[domain.Milestone]time.Time{domain.MilestoneDetected: d.DetectedAt, domain.MilestoneDeclared: at},
			AlertCount: 1, StageEnteredAt: at,
		}
		if n.Components == nil {
			n.Components = []string{}
		}
		if d.ImpactStartedAt != nil {
			n.Milestones[domain.MilestoneImpactStarted] = *d.ImpactStartedAt
		}
		n.PublicImpact = d.PublicImpact
		n.setKind(d.Classification.EffectiveKind())
	case *Classified:
		n.Criteria = d.Criteria
		n.Classification = d.Classification
		if d.To != n.Kind {
			// A promotion enters the first stage now: the clocks that run from a stage (the IC's acknowledgement,
			// the cadence) count from it, not from when the standard incident was declared.
			n.setKind(d.To)
			n.StageEnteredAt = at
		}
	case *RoleAssigned:
		h := d.Holder
		switch d.Role {
		case domain.RoleIncidentCommander:
			n.Roles.IncidentCommander = &h
		case domain.RoleCommunicationsLead:
			n.Roles.CommunicationsLead = &h
		case domain.RoleTechnicalLead:
			n.Roles.TechnicalLeads = append(n.Roles.TechnicalLeads, h)
		case domain.RoleExecutiveSponsor:
			n.Roles.ExecutiveSponsors = append(n.Roles.ExecutiveSponsors, h)
		}
	case *RoleRemoved:
		match := func(h RoleHolder) bool {
			return (d.UserID != "" && h.UserID == d.UserID) || (d.UserID == "" && d.Group != "" && h.Group == d.Group)
		}
		if d.Role == domain.RoleTechnicalLead {
			n.Roles.TechnicalLeads = slices.DeleteFunc(n.Roles.TechnicalLeads, match)
		} else {
			n.Roles.ExecutiveSponsors = slices.DeleteFunc(n.Roles.ExecutiveSponsors, match)
		}
	case *ICAcknowledged:
		if n.Roles.IncidentCommander != nil {
			t := at
			n.Roles.IncidentCommander.AcknowledgedAt = &t
		}
		n.stamp(domain.MilestoneICAcknowledged, at)
	case *BridgeOpened:
		n.Bridges[d.Kind] = &Bridge{URL: d.URL, Invitees: cloneSlice(d.Invitees), OpenedAt: at, OpenedBy: d.By}
	case *BridgeClosed:
		if b := n.Bridges[d.Kind]; b != nil {
			t := at
			b.ClosedAt = &t
		}
	case *ActionLogged:
		n.Actions = append(n.Actions, Action{ID: d.ID, Kind: d.Kind, Description: d.Description, By: d.By, At: at})
	case *UpdateDrafted:
		n.Updates = append(n.Updates, Update{ID: d.ID, State: StateDraft, Status: d.Status, Body: d.Body,
			Components: cloneMap(d.Components), DraftedBy: d.By, DraftedAt: at})
	case *UpdateApproved:
		u, ok := n.Update(d.ID)
		if !ok {
			return s, fmt.Errorf("workflow: approve of unknown update %s", d.ID)
		}
		by, t := d.By, at
		u.State, u.ApprovedBy, u.ApprovedAt = StateApproved, &by, &t
	case *UpdatePublished:
		u, ok := n.Update(d.ID)
		if !ok {
			return s, fmt.Errorf("workflow: publish of unknown update %s", d.ID)
		}
		by, t := d.By, at
		u.State, u.PublishedBy, u.PublishedAt = StatePublished, &by, &t
		// In slug order: map order would append new components differently on every Apply, and Replay would not
		// give back the state that was saved.
		for _, slug := range slices.Sorted(maps.Keys(u.Components)) {
			n.ComponentStatus[slug] = u.Components[slug]
			if !slices.Contains(n.Components, slug) {
				n.Components = append(n.Components, slug)
			}
		}
		n.stamp(domain.MilestoneFirstPublicUpdate, at)
		if u.Status == domain.UpdateIdentified {
			n.stamp(domain.MilestoneIdentified, at)
		}
	case *RestorationRecorded:
		n.Restorations = append(n.Restorations, Restoration{ID: d.ID, Kind: d.Kind, Description: d.Description,
			By: d.By, At: at})
		if d.Kind == domain.RestorationWorkaround {
			n.stamp(domain.MilestoneMitigated, at)
		} else {
			n.stamp(domain.MilestoneRestored, at)
		}
	case *VerificationRecorded:
		n.Verification = &Verification{Method: d.Method, Accepted: cloneSlice(d.Accepted), By: d.By, At: at}
		n.stamp(domain.MilestoneVerified, at)
	case *StageChanged:
		n.Stage = d.To
		n.StageEnteredAt = at
		switch {
		case d.Backward:
			// The fix did not hold: what said service was back no longer does.
			for i := range n.Restorations {
				n.Restorations[i].Reverted = true
			}
			n.Verification = nil
			for i := range n.Updates {
				if n.Updates[i].State == StatePublished {
					n.Updates[i].Superseded = true
				}
			}
			for _, m := range []domain.Milestone{domain.MilestoneMitigated, domain.MilestoneRestored,
				domain.MilestoneVerified, domain.MilestoneConcluded} {
				delete(n.Milestones, m)
			}
			if d.From == domain.StageConcluded {
				n.Reopened++
			}
		case d.To == domain.StageDiagnosisAction:
			n.stamp(domain.MilestoneMobilized, at)
		case d.To == domain.StageConcluded:
			n.Milestones[domain.MilestoneConcluded] = at
			for _, b := range n.Bridges {
				if b.ClosedAt == nil {
					t := at
					b.ClosedAt = &t
				}
			}
		}
	case *StatusChanged:
		n.Status = d.To
	case *Escalated:
		n.Escalations = append(n.Escalations, Escalation{Kind: d.Kind, Target: d.Target, Reason: d.Reason,
			Automatic: d.Automatic, By: d.By, At: at})
	case *TicketLinked:
		n.Tickets = append(n.Tickets, Ticket{ID: d.ID, System: d.System, Ref: d.Ref, URL: d.URL, Log: []TicketLog{},
			LinkedAt: at, LinkedBy: d.By})
	case *TicketLogged:
		for i := range n.Tickets {
			if n.Tickets[i].ID == d.TicketID {
				n.Tickets[i].Log = append(n.Tickets[i].Log, TicketLog{UpdateID: d.UpdateID, Status: d.Status, At: at})
			}
		}
	case *MilestoneSet:
		n.Milestones[d.Milestone] = d.At
	case *VisibilityChanged:
		n.Private = d.Private
	case *AlertFolded:
		n.AlertCount = d.Count
		t := at
		n.LastAlertAt = &t
	default:
		return s, fmt.Errorf("workflow: cannot apply event %s with data %T", e.Type, e.Data)
	}
	return n, nil
}

// ApplyAll folds events in order.
func ApplyAll(s Incident, events []Event) (Incident, error) {
	var err error
	for _, e := range events {
		if s, err = Apply(s, e); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Replay rebuilds an incident from its whole timeline.
func Replay(events []Event) (Incident, error) { return ApplyAll(Incident{}, events) }

func (n *Incident) setKind(k domain.Kind) {
	n.Kind = k
	if k == domain.KindMajor {
		n.Stage, n.Status = domain.StageDetectionDeclaration, ""
	} else {
		n.Stage, n.Status = "", domain.StatusOpen
	}
}

// stamp sets a milestone the first time it happens.
func (n *Incident) stamp(m domain.Milestone, at time.Time) {
	if _, ok := n.Milestones[m]; !ok {
		n.Milestones[m] = at
	}
}
