package workflow

import (
	"github.com/mimhq/mim/internal/domain"
)

// mayAct decides whether the actor may give this command to this incident in its current state, following the roles
// of the process: the Incident Commander owns the incident, approves communications and alone concludes; the
// Communications Lead drafts and publishes approved updates; Technical Leads log actions, restoration and verification;
// Executive Sponsors read and change nothing; an admin administers (roles, stages) but neither approves nor concludes.
func mayAct(s Incident, a domain.Actor, cmd Command) error {
	if a.OrgRole == domain.OrgViewer || (a.OrgRole != domain.OrgAdmin && a.OrgRole != domain.OrgResponder) {
		return forbidden("viewers cannot change incidents")
	}
	if _, ok := cmd.(Declare); ok {
		return nil
	}
	admin := a.OrgRole == domain.OrgAdmin
	ic := s.holds(a, domain.RoleIncidentCommander)
	comms := s.holds(a, domain.RoleCommunicationsLead)
	tech := s.holds(a, domain.RoleTechnicalLead)
	if s.holds(a, domain.RoleExecutiveSponsor) && !admin && !ic {
		return forbidden("executive sponsors receive summaries and change nothing during the major incident")
	}
	if _, ok := cmd.(FoldAlert); ok {
		return nil
	}
	major := s.Kind == domain.KindMajor
	// Workflow-only commands make no sense on a standard incident.
	switch cmd.(type) {
	case AssignRole, RemoveRole, AcknowledgeIC, OpenBridge, CloseBridge,
		RecordRestoration, RecordVerification, MoveStage, Escalate:
		if !major {
			return domain.Errorf(domain.ErrConflict, "not_major",
				"%s is a standard incident; reclassify it as major to run the major-incident workflow", s.Key)
		}
	case SetStatus:
		if major {
			return domain.Errorf(domain.ErrConflict, "not_standard",
				"%s is a major incident: move its stage instead", s.Key)
		}
	case SetVisibility:
		// A major incident may be made public (one kept private before its promotion), never hidden.
		if major && cmd.(SetVisibility).Private {
			return domain.Errorf(domain.ErrConflict, "not_standard",
				"%s is a major incident: customers follow it on the status page", s.Key)
		}
		if !admin {
			return forbidden("only an admin keeps an incident private")
		}
	}
	// A concluded or closed incident takes only what cannot trigger side effects: reclassification (recorded only),
	// ticket links, and the move that reopens it.
	if !s.IsOpen() {
		switch cmd.(type) {
		case Reclassify, LinkTicket, SetMilestone, MoveStage, SetStatus, SetVisibility:
			// MoveStage and SetStatus refuse every move but the reopening one themselves.
		default:
			state := string(s.Status)
			if major {
				state = string(s.Stage)
			}
			return domain.Errorf(domain.ErrConflict, "incident_closed",
				"%s is %s; reopen it first", s.Key, state)
		}
	}
	if c, ok := cmd.(Reclassify); ok && c.Override != nil && !admin {
		return forbidden("only an admin may override the classification")
	}
	if !major {
		return nil // any responder works a standard incident
	}

	switch c := cmd.(type) {
	case Reclassify:
		if s.Roles.IncidentCommander != nil && !ic && !admin {
			return forbidden("only the Incident Commander or an admin may reclassify once an IC is assigned")
		}
	case AssignRole:
		if c.Role == domain.RoleIncidentCommander && s.Roles.IncidentCommander == nil {
			return nil // whoever declares often takes or assigns the first IC
		}
		if !ic && !admin {
			if c.Role == domain.RoleIncidentCommander {
				return forbidden("only the current Incident Commander or an admin may hand over the IC role")
			}
			return forbidden("only the Incident Commander or an admin assigns roles")
		}
	case RemoveRole:
		if !ic && !admin {
			return forbidden("only the Incident Commander or an admin changes roles")
		}
	case AcknowledgeIC:
		if s.Roles.IncidentCommander == nil {
			return domain.Errorf(domain.ErrConflict, "no_incident_commander", "no Incident Commander is assigned yet")
		}
		if !ic {
			return forbidden("only the assigned Incident Commander acknowledges")
		}
	case OpenBridge, CloseBridge:
		if !ic && !comms && !tech && !admin {
			return forbidden("only the Incident Commander, Communications Lead, Technical Leads or an admin manage bridges")
		}
	case LogAction, RecordRestoration, RecordVerification, SetMilestone:
		if !ic && !tech && !admin {
			return forbidden("only the Incident Commander, Technical Leads or an admin record this")
		}
	case DraftUpdate:
		if c.Publish && !ic {
			return forbidden("only the Incident Commander may publish without approval; draft it for approval instead")
		}
		if !ic && !comms && !admin {
			return forbidden("only the Communications Lead or the Incident Commander draft updates")
		}
	case ApproveUpdate:
		if !ic {
			return forbidden("only the Incident Commander approves communications")
		}
	case PublishUpdate:
		if !ic && !comms {
			return forbidden("only the Communications Lead or the Incident Commander publish approved updates")
		}
	case MoveStage:
		if c.To == domain.StageConcluded && !ic {
			return forbidden("only the Incident Commander concludes a major incident")
		}
		if !ic && !admin {
			return forbidden("only the Incident Commander or an admin moves stages")
		}
	case Escalate:
		if !ic && !admin && a.Channel != domain.ChannelSystem {
			return forbidden("only the Incident Commander or an admin escalates")
		}
	}
	return nil
}

func forbidden(msg string) error {
	return &domain.Error{Kind: domain.ErrForbidden, Code: "forbidden", Message: msg}
}
