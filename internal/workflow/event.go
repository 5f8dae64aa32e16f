package workflow

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/mimhq/mim/internal/domain"
)

// EventType names what happened. The values are stored in the timeline: never rename one.
type EventType string

// Event types.
const (
	EventDeclared             EventType = "declared"
	EventClassified           EventType = "classified"
	EventRoleAssigned         EventType = "role_assigned"
	EventRoleRemoved          EventType = "role_removed"
	EventICAcknowledged       EventType = "ic_acknowledged"
	EventBridgeOpened         EventType = "bridge_opened"
	EventBridgeClosed         EventType = "bridge_closed"
	EventActionLogged         EventType = "action_logged"
	EventUpdateDrafted        EventType = "update_drafted"
	EventUpdateApproved       EventType = "update_approved"
	EventUpdatePublished      EventType = "update_published"
	EventRestorationRecorded  EventType = "restoration_recorded"
	EventVerificationRecorded EventType = "verification_recorded"
	EventStageChanged         EventType = "stage_changed"
	EventStatusChanged        EventType = "status_changed"
	EventEscalated            EventType = "escalated"
	EventTicketLinked         EventType = "ticket_linked"
	EventTicketLogged         EventType = "ticket_logged"
	EventMilestoneSet         EventType = "milestone_set"
	EventAlertFolded          EventType = "alert_folded"
	EventVisibilityChanged    EventType = "visibility_changed"
)

// Event is one fact on the timeline. Data is one of the *Data types below, matching Type.
type Event struct {
	Type EventType
	At   time.Time
	Data any
}

// Declared starts an incident.
type Declared struct {
	ID              string                `json:"id"`
	Key             string                `json:"key"`
	Title           string                `json:"title"`
	Description     string                `json:"description"`
	Source          string                `json:"source,omitempty"`
	DedupKey        string                `json:"dedup_key,omitempty"`
	RecurrenceOf    string                `json:"recurrence_of,omitempty"`
	Components      []string              `json:"components"`
	Criteria        domain.Criteria       `json:"criteria"`
	Classification  domain.Classification `json:"classification"`
	DetectedAt      time.Time             `json:"detected_at"`
	ImpactStartedAt *time.Time            `json:"impact_started_at,omitempty"`
	// PublicImpact fixes the impact customers see (none, minor, major, critical) instead of deriving it from the
	// component statuses; set for history imported from Statuspage, which states it.
	PublicImpact string `json:"public_impact,omitempty"`
}

// Classified records a (re)classification.
type Classified struct {
	Criteria       domain.Criteria       `json:"criteria"`
	Classification domain.Classification `json:"classification"`
	Reason         string                `json:"reason,omitempty"`
	// From and To are the incident's kind before and after; they differ on a promotion or demotion.
	From domain.Kind `json:"from"`
	To   domain.Kind `json:"to"`
}

// RoleAssigned records a role given (or, for a single role held by someone else, handed over).
type RoleAssigned struct {
	Role     domain.Role    `json:"role"`
	Holder   RoleHolder     `json:"holder"`
	Previous *domain.Person `json:"previous,omitempty"`
}

// RoleRemoved records a person or group released from a many-holder role.
type RoleRemoved struct {
	Role   domain.Role `json:"role"`
	UserID string      `json:"user_id,omitempty"`
	Group  string      `json:"group,omitempty"`
}

// ICAcknowledged records the incident commander engaging.
type ICAcknowledged struct {
	Person domain.Person `json:"person"`
}

// BridgeOpened records a bridge opened (or its URL changed).
type BridgeOpened struct {
	Kind     domain.BridgeKind `json:"kind"`
	URL      string            `json:"url"`
	Invitees []string          `json:"invitees"`
	By       string            `json:"by"`
}

// BridgeClosed records a bridge closed.
type BridgeClosed struct {
	Kind domain.BridgeKind `json:"kind"`
}

// ActionLogged records an action.
type ActionLogged struct {
	ID          string            `json:"id"`
	Kind        domain.ActionKind `json:"kind"`
	Description string            `json:"description"`
	By          string            `json:"by"`
}

// UpdateDrafted records a status update drafted.
type UpdateDrafted struct {
	ID         string                            `json:"id"`
	Status     domain.UpdateStatus               `json:"status"`
	Body       string                            `json:"body"`
	Components map[string]domain.ComponentStatus `json:"components"`
	By         domain.Person                     `json:"by"`
}

// UpdateApproved records the IC's approval.
type UpdateApproved struct {
	ID string        `json:"id"`
	By domain.Person `json:"by"`
}

// UpdatePublished records an update made public; its component statuses apply from now.
type UpdatePublished struct {
	ID string        `json:"id"`
	By domain.Person `json:"by"`
}

// RestorationRecorded records a fix or workaround implemented.
type RestorationRecorded struct {
	ID          string                 `json:"id"`
	Kind        domain.RestorationKind `json:"kind"`
	Description string                 `json:"description"`
	By          string                 `json:"by"`
}

// VerificationRecorded records service verified operational.
type VerificationRecorded struct {
	Method   string        `json:"method"`
	Accepted []string      `json:"accepted_components"`
	By       domain.Person `json:"by"`
}

// StageChanged records a stage move.
type StageChanged struct {
	From     domain.Stage `json:"from"`
	To       domain.Stage `json:"to"`
	Note     string       `json:"note,omitempty"`
	Reason   string       `json:"reason,omitempty"`
	Backward bool         `json:"backward"`
}

// StatusChanged records a standard incident's status change.
type StatusChanged struct {
	From   domain.StandardStatus `json:"from"`
	To     domain.StandardStatus `json:"to"`
	Reason string                `json:"reason,omitempty"`
}

// Escalated records an escalation.
type Escalated struct {
	Kind      domain.EscalationKind `json:"kind"`
	Target    string                `json:"target"`
	Reason    string                `json:"reason"`
	Automatic bool                  `json:"automatic"`
	By        string                `json:"by"`
}

// TicketLinked records a support ticket linked.
type TicketLinked struct {
	ID     string `json:"id"`
	System string `json:"system"`
	Ref    string `json:"ref"`
	URL    string `json:"url,omitempty"`
	By     string `json:"by"`
}

// TicketLogged records a published update logged on a linked ticket.
type TicketLogged struct {
	TicketID string              `json:"ticket_id"`
	UpdateID string              `json:"update_id"`
	Status   domain.UpdateStatus `json:"status"`
}

// MilestoneSet records a milestone given a time by a person (for instance, impact that began before detection).
type MilestoneSet struct {
	Milestone domain.Milestone `json:"milestone"`
	At        time.Time        `json:"at"`
}

// VisibilityChanged records an admin keeping an incident private, or making it public again.
type VisibilityChanged struct {
	Private bool   `json:"private"`
	Reason  string `json:"reason,omitempty"`
}

// AlertFolded records a repeat of the incident's alert.
type AlertFolded struct {
	Count int `json:"count"`
}

var eventData = map[EventType]func() any{
	EventDeclared:             func() any { return &Declared{} },
	EventClassified:           func() any { return &Classified{} },
	EventRoleAssigned:         func() any { return &RoleAssigned{} },
	EventRoleRemoved:          func() any { return &RoleRemoved{} },
	EventICAcknowledged:       func() any { return &ICAcknowledged{} },
	EventBridgeOpened:         func() any { return &BridgeOpened{} },
	EventBridgeClosed:         func() any { return &BridgeClosed{} },
	EventActionLogged:         func() any { return &ActionLogged{} },
	EventUpdateDrafted:        func() any { return &UpdateDrafted{} },
	EventUpdateApproved:       func() any { return &UpdateApproved{} },
	EventUpdatePublished:      func() any { return &UpdatePublished{} },
	EventRestorationRecorded:  func() any { return &RestorationRecorded{} },
	EventVerificationRecorded: func() any { return &VerificationRecorded{} },
	EventStageChanged:         func() any { return &StageChanged{} },
	EventStatusChanged:        func() any { return &StatusChanged{} },
	EventEscalated:            func() any { return &Escalated{} },
	EventTicketLinked:         func() any { return &TicketLinked{} },
	EventTicketLogged:         func() any { return &TicketLogged{} },
	EventMilestoneSet:         func() any { return &MilestoneSet{} },
	EventAlertFolded:          func() any { return &AlertFolded{} },
	EventVisibilityChanged:    func() any { return &VisibilityChanged{} },
}

// DecodeEvent rebuilds an event from its stored type, time and JSON data.
func DecodeEvent(t EventType, at time.Time, data []byte) (Event, error) {
	mk, ok := eventData[t]
	if !ok {
		return Event{}, fmt.Errorf("unknown event type %q", t)
	}
	v := mk()
	if err := json.Unmarshal(data, v); err != nil {
		return Event{}, fmt.Errorf("decode %s event: %w", t, err)
	}
	return Event{Type: t, At: at, Data: v}, nil
}

func ev(t EventType, at time.Time, data any) Event { return Event{Type: t, At: at, Data: data} }
