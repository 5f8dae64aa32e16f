package workflow

import (
	"time"

	"github.com/mimhq/mim/internal/domain"
)

// Command is something a person (or mim) asks of an incident. The caller fills in ids and looked-up people.
type Command interface{ commandName() string }

// Declare starts a new incident; Handle takes the zero Incident with it.
type Declare struct {
	ID, Key         string
	Title           string
	Description     string
	Source          string
	DedupKey        string
	RecurrenceOf    string
	Components      []string
	Criteria        domain.Criteria
	Classification  domain.Classification
	DetectedAt      *time.Time
	ImpactStartedAt *time.Time
}

// Reclassify records new criteria and their classification; Override, set by an admin, forces the kind.
type Reclassify struct {
	Criteria       domain.Criteria
	Classification domain.Classification
	Override       *domain.Override
	Reason         string
}

// AssignRole gives a role to a person, or for technical leads to a person or a resolver group. For the single roles it
// replaces the holder (a handover).
type AssignRole struct {
	Role   domain.Role
	Person domain.Person
	Group  string
}

// RemoveRole releases a person or group from technical lead or executive sponsor.
type RemoveRole struct {
	Role   domain.Role
	UserID string
	Group  string
}

// AcknowledgeIC is the incident commander engaging.
type AcknowledgeIC struct{}

// OpenBridge opens a bridge, or changes its URL.
type OpenBridge struct {
	Kind     domain.BridgeKind
	URL      string
	Invitees []string
}

// CloseBridge closes a bridge.
type CloseBridge struct{ Kind domain.BridgeKind }

// LogAction records an action.
type LogAction struct {
	ID          string
	Kind        domain.ActionKind
	Description string
}

// DraftUpdate drafts a status update; Publish (the IC's alone) approves and publishes it at once.
type DraftUpdate struct {
	ID         string
	Status     domain.UpdateStatus
	Body       string
	Components map[string]domain.ComponentStatus
	Publish    bool
}

// ApproveUpdate is the IC approving an update, and publishing it unless Publish is false.
type ApproveUpdate struct {
	ID      string
	Publish bool
}

// PublishUpdate publishes an approved update (the Communications Lead's or IC's act).
type PublishUpdate struct{ ID string }

// RecordRestoration records a fix or workaround implemented.
type RecordRestoration struct {
	ID          string
	Kind        domain.RestorationKind
	Description string
}

// RecordVerification records service verified operational.
type RecordVerification struct {
	Method   string
	Accepted []string
}

// MoveStage moves a major incident to another stage.
type MoveStage struct {
	To     domain.Stage
	Note   string
	Reason string
}

// SetStatus moves a standard incident to another status.
type SetStatus struct {
	To     domain.StandardStatus
	Reason string
}

// Escalate escalates functionally or hierarchically.
type Escalate struct {
	Kind      domain.EscalationKind
	Target    string
	Reason    string
	Automatic bool
}

// LinkTicket links a support ticket.
type LinkTicket struct {
	ID     string
	System string
	Ref    string
	URL    string
}

// SetMilestone gives a milestone a time known better than the moment it was recorded.
type SetMilestone struct {
	Milestone domain.Milestone
	At        time.Time
}

// FoldAlert adds a repeat of the incident's alert.
type FoldAlert struct{}

// SetVisibility keeps a standard incident private, or makes it public again (an admin's act).
type SetVisibility struct {
	Private bool
	Reason  string
}

func (Declare) commandName() string            { return "declare" }
func (Reclassify) commandName() string         { return "reclassify" }
func (AssignRole) commandName() string         { return "assign_role" }
func (RemoveRole) commandName() string         { return "remove_role" }
func (AcknowledgeIC) commandName() string      { return "acknowledge_ic" }
func (OpenBridge) commandName() string         { return "open_bridge" }
func (CloseBridge) commandName() string        { return "close_bridge" }
func (LogAction) commandName() string          { return "log_action" }
func (DraftUpdate) commandName() string        { return "draft_update" }
func (ApproveUpdate) commandName() string      { return "approve_update" }
func (PublishUpdate) commandName() string      { return "publish_update" }
func (RecordRestoration) commandName() string  { return "record_restoration" }
func (RecordVerification) commandName() string { return "record_verification" }
func (MoveStage) commandName() string          { return "move_stage" }
func (SetStatus) commandName() string          { return "set_status" }
func (Escalate) commandName() string           { return "escalate" }
func (LinkTicket) commandName() string         { return "link_ticket" }
func (SetMilestone) commandName() string       { return "set_milestone" }
func (FoldAlert) commandName() string          { return "fold_alert" }
func (SetVisibility) commandName() string      { return "set_visibility" }
