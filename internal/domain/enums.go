// Package domain holds mim's vocabulary: the enumerations of the major-incident process, the entities shared by every
// layer, and the one application error type. It depends on the standard library only.
package domain

import "slices"

// Severity is the first classification criterion: how bad the impact on a service is.
type Severity string

// Severities, worst first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
)

// Severities lists the allowed values, worst first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow}

// Valid reports whether s is one of Severities.
func (s Severity) Valid() bool { return slices.Contains(Severities, s) }

// Urgency is how fast the incident needs attention.
type Urgency string

// Urgencies, most urgent first.
const (
	UrgencyImmediate Urgency = "immediate"
	UrgencyHigh      Urgency = "high"
	UrgencyNormal    Urgency = "normal"
	UrgencyLow       Urgency = "low"
)

// Urgencies lists the allowed values.
var Urgencies = []Urgency{UrgencyImmediate, UrgencyHigh, UrgencyNormal, UrgencyLow}

// Valid reports whether u is one of Urgencies.
func (u Urgency) Valid() bool { return slices.Contains(Urgencies, u) }

// BusinessImpact is one kind of business risk an incident carries.
type BusinessImpact string

// Business impacts.
const (
	ImpactFinancial           BusinessImpact = "financial"
	ImpactReputational        BusinessImpact = "reputational"
	ImpactRegulatory          BusinessImpact = "regulatory"
	ImpactSecurityEnforcement BusinessImpact = "security_enforcement"
)

// BusinessImpacts lists the allowed values.
var BusinessImpacts = []BusinessImpact{ImpactFinancial, ImpactReputational, ImpactRegulatory, ImpactSecurityEnforcement}

// Valid reports whether b is one of BusinessImpacts.
func (b BusinessImpact) Valid() bool { return slices.Contains(BusinessImpacts, b) }

// Kind says whether an incident runs the major-incident workflow.
type Kind string

// Kinds.
const (
	KindMajor    Kind = "major"
	KindStandard Kind = "standard"
)

// Kinds lists the allowed values.
var Kinds = []Kind{KindMajor, KindStandard}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Stage is a stage of the major-incident workflow.
type Stage string

// The six stages, in order.
const (
	StageDetectionDeclaration Stage = "detection_declaration"
	StageMobilization         Stage = "mobilization"
	StageDiagnosisAction      Stage = "diagnosis_action"
	StageStatusUpdates        Stage = "status_updates"
	StageServiceRestoration   Stage = "service_restoration"
	StageConcluded            Stage = "concluded"
)

// Stages lists the six stages in workflow order.
var Stages = []Stage{
	StageDetectionDeclaration, StageMobilization, StageDiagnosisAction,
	StageStatusUpdates, StageServiceRestoration, StageConcluded,
}

// Valid reports whether s is one of Stages.
func (s Stage) Valid() bool { return slices.Contains(Stages, s) }

// Index is the stage's position in Stages, or -1.
func (s Stage) Index() int { return slices.Index(Stages, s) }

// Title is the stage's human name, as the process document writes it.
func (s Stage) Title() string {
	switch s {
	case StageDetectionDeclaration:
		return "Detection & Declaration"
	case StageMobilization:
		return "Mobilization"
	case StageDiagnosisAction:
		return "Diagnosis & Action"
	case StageStatusUpdates:
		return "Status Updates"
	case StageServiceRestoration:
		return "Service Restoration"
	case StageConcluded:
		return "MI Conclusion"
	}
	return string(s)
}

// StandardStatus is the status of a standard (not major) incident.
type StandardStatus string

// Standard incident statuses, in order.
const (
	StatusOpen     StandardStatus = "open"
	StatusResolved StandardStatus = "resolved"
	StatusClosed   StandardStatus = "closed"
)

// StandardStatuses lists the allowed values.
var StandardStatuses = []StandardStatus{StatusOpen, StatusResolved, StatusClosed}

// Valid reports whether s is one of StandardStatuses.
func (s StandardStatus) Valid() bool { return slices.Contains(StandardStatuses, s) }

// Role is a role a person holds on one major incident.
type Role string

// Incident roles.
const (
	RoleIncidentCommander  Role = "incident_commander"
	RoleCommunicationsLead Role = "communications_lead"
	RoleTechnicalLead      Role = "technical_lead"
	RoleExecutiveSponsor   Role = "executive_sponsor"
)

// Roles lists the allowed values.
var Roles = []Role{RoleIncidentCommander, RoleCommunicationsLead, RoleTechnicalLead, RoleExecutiveSponsor}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Single reports whether exactly one person holds the role at a time (assigned with PUT), rather than many (added
// with POST).
func (r Role) Single() bool { return r == RoleIncidentCommander || r == RoleCommunicationsLead }

// OrgRole is an account's role in the organisation.
type OrgRole string

// Organisation roles.
const (
	OrgAdmin     OrgRole = "admin"
	OrgResponder OrgRole = "responder"
	OrgViewer    OrgRole = "viewer"
)

// OrgRoles lists the allowed values.
var OrgRoles = []OrgRole{OrgAdmin, OrgResponder, OrgViewer}

// Valid reports whether r is one of OrgRoles.
func (r OrgRole) Valid() bool { return slices.Contains(OrgRoles, r) }

// ComponentStatus is the public status of a component.
type ComponentStatus string

// Component statuses.
const (
	ComponentOperational         ComponentStatus = "operational"
	ComponentDegradedPerformance ComponentStatus = "degraded_performance"
	ComponentPartialOutage       ComponentStatus = "partial_outage"
	ComponentMajorOutage         ComponentStatus = "major_outage"
	ComponentUnderMaintenance    ComponentStatus = "under_maintenance"
)

// ComponentStatuses lists the allowed values.
var ComponentStatuses = []ComponentStatus{
	ComponentOperational, ComponentDegradedPerformance, ComponentPartialOutage, ComponentMajorOutage,
	ComponentUnderMaintenance,
}

// Valid reports whether s is one of ComponentStatuses.
func (s ComponentStatus) Valid() bool { return slices.Contains(ComponentStatuses, s) }

// Rank orders statuses for "the worst wins": operational < under_maintenance < degraded < partial < major.
// Maintenance ranks below every real degradation, so planned work never hides an outage.
func (s ComponentStatus) Rank() int {
	switch s {
	case ComponentUnderMaintenance:
		return 1
	case ComponentDegradedPerformance:
		return 2
	case ComponentPartialOutage:
		return 3
	case ComponentMajorOutage:
		return 4
	}
	return 0
}

// Worse returns the worse of two statuses.
func Worse(a, b ComponentStatus) ComponentStatus {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}

// UpdateStatus is the public status a status update announces.
type UpdateStatus string

// Update statuses, in the order an incident usually passes them.
const (
	UpdateInvestigating UpdateStatus = "investigating"
	UpdateIdentified    UpdateStatus = "identified"
	UpdateMonitoring    UpdateStatus = "monitoring"
	UpdateResolved      UpdateStatus = "resolved"
)

// UpdateStatuses lists the allowed values.
var UpdateStatuses = []UpdateStatus{UpdateInvestigating, UpdateIdentified, UpdateMonitoring, UpdateResolved}

// Valid reports whether s is one of UpdateStatuses.
func (s UpdateStatus) Valid() bool { return slices.Contains(UpdateStatuses, s) }

// ActionKind is the kind of an action logged during diagnosis.
type ActionKind string

// Action kinds.
const (
	ActionDiagnosis  ActionKind = "diagnosis"
	ActionWorkaround ActionKind = "workaround"
	ActionFix        ActionKind = "fix"
	ActionRestart    ActionKind = "restart"
	ActionMitigation ActionKind = "mitigation"
	ActionFinding    ActionKind = "finding"
	ActionOther      ActionKind = "other"
)

// ActionKinds lists the allowed values.
var ActionKinds = []ActionKind{
	ActionDiagnosis, ActionWorkaround, ActionFix, ActionRestart, ActionMitigation, ActionFinding, ActionOther,
}

// Valid reports whether k is one of ActionKinds.
func (k ActionKind) Valid() bool { return slices.Contains(ActionKinds, k) }

// RestorationKind says whether service came back through a permanent fix or a workaround.
type RestorationKind string

// Restoration kinds.
const (
	RestorationFix        RestorationKind = "fix"
	RestorationWorkaround RestorationKind = "workaround"
)

// RestorationKinds lists the allowed values.
var RestorationKinds = []RestorationKind{RestorationFix, RestorationWorkaround}

// Valid reports whether k is one of RestorationKinds.
func (k RestorationKind) Valid() bool { return slices.Contains(RestorationKinds, k) }

// BridgeKind is one of the two conference bridges of a major incident.
type BridgeKind string

// Bridge kinds.
const (
	// BridgeTechnical is internal: it never appears on anything public.
	BridgeTechnical BridgeKind = "technical"
	BridgeCustomer  BridgeKind = "customer"
)

// BridgeKinds lists the allowed values.
var BridgeKinds = []BridgeKind{BridgeTechnical, BridgeCustomer}

// Valid reports whether k is one of BridgeKinds.
func (k BridgeKind) Valid() bool { return slices.Contains(BridgeKinds, k) }

// EscalationKind is the direction of an escalation.
type EscalationKind string

// Escalation kinds.
const (
	// EscalationFunctional engages another resolver group.
	EscalationFunctional EscalationKind = "functional"
	// EscalationHierarchical goes up the management chain to executive sponsors.
	EscalationHierarchical EscalationKind = "hierarchical"
)

// EscalationKinds lists the values a person may choose.
var EscalationKinds = []EscalationKind{EscalationFunctional, EscalationHierarchical}

// Valid reports whether k is one of EscalationKinds.
func (k EscalationKind) Valid() bool { return slices.Contains(EscalationKinds, k) }

// Channel is where a command came from, recorded on the timeline.
type Channel string

// Channels.
const (
	ChannelAPI    Channel = "api"
	ChannelUI     Channel = "ui"
	ChannelCLI    Channel = "cli"
	ChannelSystem Channel = "system"
)

// Milestone names a timestamped fact of an incident.
type Milestone string

// Milestones in their usual order.
const (
	MilestoneImpactStarted     Milestone = "impact_started"
	MilestoneDetected          Milestone = "detected"
	MilestoneDeclared          Milestone = "declared"
	MilestoneICAcknowledged    Milestone = "ic_acknowledged"
	MilestoneMobilized         Milestone = "mobilized"
	MilestoneIdentified        Milestone = "identified"
	MilestoneFirstPublicUpdate Milestone = "first_public_update"
	MilestoneMitigated         Milestone = "mitigated"
	MilestoneRestored          Milestone = "restored"
	MilestoneVerified          Milestone = "verified"
	MilestoneConcluded         Milestone = "concluded"
)

// Milestones lists every milestone in its usual order.
var Milestones = []Milestone{
	MilestoneImpactStarted, MilestoneDetected, MilestoneDeclared, MilestoneICAcknowledged, MilestoneMobilized,
	MilestoneIdentified, MilestoneFirstPublicUpdate, MilestoneMitigated, MilestoneRestored, MilestoneVerified,
	MilestoneConcluded,
}

// Valid reports whether m is one of Milestones.
func (m Milestone) Valid() bool { return slices.Contains(Milestones, m) }

// Strings turns a list of string-typed values into plain strings, for error messages naming allowed values.
func Strings[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}
