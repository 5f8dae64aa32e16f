package workflow

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mimhq/mim/internal/domain"
)

// Guard codes: stable, for integrations to switch on.
const (
	GuardClassifiedMajor         = "classified_major"
	GuardICAssigned              = "ic_assigned"
	GuardICAcknowledged          = "ic_acknowledged"
	GuardTechnicalBridgeOpen     = "technical_bridge_open"
	GuardCommunicationsLead      = "communications_lead_assigned"
	GuardTechnicalLeadEngaged    = "technical_lead_engaged"
	GuardActionLogged            = "action_logged"
	GuardPublicUpdatePublished   = "public_update_published"
	GuardRestorationRecorded     = "restoration_recorded"
	GuardServiceVerified         = "service_verified"
	GuardComponentsOperational   = "components_operational"
	GuardResolvedUpdatePublished = "resolved_update_published"
)

// Next returns the stage after s, or "" for the last.
func Next(s domain.Stage) domain.Stage {
	i := s.Index()
	if i < 0 || i+1 >= len(domain.Stages) {
		return ""
	}
	return domain.Stages[i+1]
}

// Guards returns the conditions that must hold to leave the incident's current stage, each met or not. A standard or
// concluded incident has none.
func Guards(s Incident) []domain.Guard {
	if s.Kind != domain.KindMajor {
		return nil
	}
	g := func(code string, met bool, format string, args ...any) domain.Guard {
		return domain.Guard{Code: code, Met: met, Message: fmt.Sprintf(format, args...)}
	}
	ic := s.Roles.IncidentCommander
	switch s.Stage {
	case domain.StageDetectionDeclaration:
		return []domain.Guard{
			g(GuardClassifiedMajor, s.Classification.EffectiveKind() == domain.KindMajor,
				"the incident is classified major (or an admin overrode the classification with a reason)"),
			g(GuardICAssigned, ic != nil, "an Incident Commander is assigned"),
			g(GuardICAcknowledged, ic != nil && ic.AcknowledgedAt != nil, "the Incident Commander has acknowledged"),
		}
	case domain.StageMobilization:
		return []domain.Guard{
			g(GuardTechnicalBridgeOpen, s.Bridges[domain.BridgeTechnical].Open(),
				"the internal technical bridge is open, with its URL recorded"),
			g(GuardCommunicationsLead, s.Roles.CommunicationsLead != nil, "a Communications Lead is assigned"),
			g(GuardTechnicalLeadEngaged, len(s.Roles.TechnicalLeads) > 0,
				"at least one Technical Lead or resolver group is engaged"),
		}
	case domain.StageDiagnosisAction:
		return []domain.Guard{
			g(GuardActionLogged, len(s.Actions) > 0,
				"at least one action is logged (workaround, fix, restart, mitigation)"),
		}
	case domain.StageStatusUpdates:
		return []domain.Guard{
			g(GuardPublicUpdatePublished, s.LatestPublished() != nil, "a first customer-facing update is published"),
			g(GuardRestorationRecorded, s.activeRestoration() != nil,
				"a resolution or workaround is recorded as implemented"),
		}
	case domain.StageServiceRestoration:
		notBack := s.componentsNotOperational()
		msg := "all affected components are back to operational or explicitly accepted"
		if len(notBack) > 0 {
			msg += " (not yet: " + strings.Join(notBack, ", ") + ")"
		}
		latest := s.LatestPublished()
		final := latest != nil && latest.Status == domain.UpdateResolved && !latest.Superseded
		return []domain.Guard{
			g(GuardServiceVerified, s.Verification != nil, "service is verified operational (who verified, and how)"),
			g(GuardComponentsOperational, len(notBack) == 0, "%s", msg),
			g(GuardResolvedUpdatePublished, final,
				"a final public update with status resolved is published (after any move back to Diagnosis & Action)"),
		}
	}
	return nil
}

// Unmet filters the guards that do not hold.
func Unmet(gs []domain.Guard) []domain.Guard {
	var out []domain.Guard
	for _, g := range gs {
		if !g.Met {
			out = append(out, g)
		}
	}
	return out
}

func (s Incident) activeRestoration() *Restoration {
	for i := range s.Restorations {
		if !s.Restorations[i].Reverted {
			return &s.Restorations[i]
		}
	}
	return nil
}

func (s Incident) componentsNotOperational() []string {
	var out []string
	for _, c := range s.Components {
		st, ok := s.ComponentStatus[c]
		if !ok || st == domain.ComponentOperational {
			continue
		}
		if s.Verification != nil && slices.Contains(s.Verification.Accepted, c) {
			continue
		}
		out = append(out, c+" is "+string(st))
	}
	return out
}

// AllowedMoves lists the stages a major incident may move to from its current one.
func AllowedMoves(s Incident) []domain.Stage {
	if s.Kind != domain.KindMajor {
		return nil
	}
	var out []domain.Stage
	if n := Next(s.Stage); n != "" {
		out = append(out, n)
	}
	if backwardAllowed(s.Stage, domain.StageDiagnosisAction) {
		out = append(out, domain.StageDiagnosisAction)
	}
	return out
}

// backwardAllowed: a fix that did not hold sends stages 4–5 back to Diagnosis & Action; a concluded incident reopens
// there too.
func backwardAllowed(from, to domain.Stage) bool {
	if to != domain.StageDiagnosisAction {
		return false
	}
	return from == domain.StageStatusUpdates || from == domain.StageServiceRestoration || from == domain.StageConcluded
}

// milestoneOrder lists pairs (earlier, later) that must hold whenever both are set.
var milestoneOrder = [][2]domain.Milestone{
	{domain.MilestoneImpactStarted, domain.MilestoneDetected},
	{domain.MilestoneDetected, domain.MilestoneDeclared},
	{domain.MilestoneDeclared, domain.MilestoneICAcknowledged},
	{domain.MilestoneICAcknowledged, domain.MilestoneMobilized},
	{domain.MilestoneDeclared, domain.MilestoneMobilized},
	{domain.MilestoneDetected, domain.MilestoneIdentified},
	{domain.MilestoneDeclared, domain.MilestoneFirstPublicUpdate},
	{domain.MilestoneDetected, domain.MilestoneMitigated},
	{domain.MilestoneDetected, domain.MilestoneRestored},
	{domain.MilestoneRestored, domain.MilestoneVerified},
	{domain.MilestoneMitigated, domain.MilestoneVerified},
	{domain.MilestoneVerified, domain.MilestoneConcluded},
	{domain.MilestoneMobilized, domain.MilestoneConcluded},
	{domain.MilestoneIdentified, domain.MilestoneConcluded},
	{domain.MilestoneFirstPublicUpdate, domain.MilestoneConcluded},
}

// SettableMilestones are those a person may date explicitly; the others are stamped by the acts that make them.
var SettableMilestones = []domain.Milestone{
	domain.MilestoneImpactStarted, domain.MilestoneDetected, domain.MilestoneIdentified,
	domain.MilestoneMitigated, domain.MilestoneRestored,
}
