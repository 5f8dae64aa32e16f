// Package workflow is the major-incident process as a pure state machine: an Incident's state, the commands people
// give it, who may give them, the guards that must hold to leave each stage, and the events a command produces.
// Handle decides; Apply folds an event into the state; Replay rebuilds a state from its events. No I/O happens here:
// the incident service loads, calls Handle, applies and persists.
package workflow

import (
	"time"

	"github.com/mimhq/mim/internal/domain"
)

// Incident is the whole aggregate the workflow reasons about.
type Incident struct {
	ID          string `json:"id"`
	Key         string `json:"key"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Source      string `json:"source,omitempty"`
	DedupKey    string `json:"dedup_key,omitempty"`
	// RecurrenceOf is the key of a closed incident whose alert this one repeats.
	RecurrenceOf string `json:"recurrence_of,omitempty"`

	Kind domain.Kind `json:"kind"`
	// Stage is set for a major incident, Status for a standard one.
	Stage  domain.Stage          `json:"stage,omitempty"`
	Status domain.StandardStatus `json:"status,omitempty"`
	// StageEnteredAt is when the incident entered its current stage (declared or promoted to major, for the first).
	StageEnteredAt time.Time `json:"stage_entered_at"`

	Criteria       domain.Criteria       `json:"criteria"`
	Classification domain.Classification `json:"classification"`

	// Components are the slugs of the affected components, in the order first named.
	Components []string `json:"components"`
	// ComponentStatus holds the status this incident last published for each component.
	ComponentStatus map[string]domain.ComponentStatus `json:"component_status"`

	Roles        Roles                          `json:"roles"`
	Bridges      map[domain.BridgeKind]*Bridge  `json:"bridges"`
	Actions      []Action                       `json:"actions"`
	Updates      []Update                       `json:"updates"`
	Restorations []Restoration                  `json:"restorations"`
	Verification *Verification                  `json:"verification,omitempty"`
	Tickets      []Ticket                       `json:"tickets"`
	Escalations  []Escalation                   `json:"escalations"`
	Milestones   map[domain.Milestone]time.Time `json:"milestones"`

	// PublicImpact, when set, is the impact customers see instead of one derived from component statuses.
	PublicImpact string `json:"public_impact,omitempty"`
	// Private keeps a standard incident off every public surface, even once updates are published (an admin's call).
	Private bool `json:"private,omitempty"`

	AlertCount  int        `json:"alert_count"`
	LastAlertAt *time.Time `json:"last_alert_at,omitempty"`
	Reopened    int        `json:"reopened"`
}

// Roles are the people engaged on a major incident.
type Roles struct {
	IncidentCommander  *RoleHolder  `json:"incident_commander,omitempty"`
	CommunicationsLead *RoleHolder  `json:"communications_lead,omitempty"`
	TechnicalLeads     []RoleHolder `json:"technical_leads"`
	ExecutiveSponsors  []RoleHolder `json:"executive_sponsors"`
}

// RoleHolder is one person (or, for technical leads, a resolver group) in a role.
type RoleHolder struct {
	domain.Person
	// Group names a resolver group engaged as a whole, instead of a person.
	Group          string     `json:"group,omitempty"`
	AssignedAt     time.Time  `json:"assigned_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
}

// Bridge is a conference bridge.
type Bridge struct {
	URL      string     `json:"url"`
	Invitees []string   `json:"invitees"`
	OpenedAt time.Time  `json:"opened_at"`
	OpenedBy string     `json:"opened_by"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
}

// Open reports whether the bridge exists and is not closed.
func (b *Bridge) Open() bool { return b != nil && b.ClosedAt == nil }

// Action is something responders did or found.
type Action struct {
	ID          string            `json:"id"`
	Kind        domain.ActionKind `json:"kind"`
	Description string            `json:"description"`
	By          string            `json:"by"`
	At          time.Time         `json:"at"`
}

// UpdateState is where a status update is in draft → approved → published.
type UpdateState string

// Update states.
const (
	StateDraft     UpdateState = "draft"
	StateApproved  UpdateState = "approved"
	StatePublished UpdateState = "published"
)

// Update is a status update for customers.
type Update struct {
	ID          string                            `json:"id"`
	State       UpdateState                       `json:"state"`
	Status      domain.UpdateStatus               `json:"status"`
	Body        string                            `json:"body"`
	Components  map[string]domain.ComponentStatus `json:"components"`
	DraftedBy   domain.Person                     `json:"drafted_by"`
	DraftedAt   time.Time                         `json:"drafted_at"`
	ApprovedBy  *domain.Person                    `json:"approved_by,omitempty"`
	ApprovedAt  *time.Time                        `json:"approved_at,omitempty"`
	PublishedBy *domain.Person                    `json:"published_by,omitempty"`
	PublishedAt *time.Time                        `json:"published_at,omitempty"`
	// Superseded is set on what was published before the incident went back to Diagnosis & Action: it no longer
	// counts as the final word.
	Superseded bool `json:"superseded,omitempty"`
}

// Restoration records a fix or workaround implemented.
type Restoration struct {
	ID          string                 `json:"id"`
	Kind        domain.RestorationKind `json:"kind"`
	Description string                 `json:"description"`
	By          string                 `json:"by"`
	At          time.Time              `json:"at"`
	// Reverted is set when the incident went back to diagnosis: the fix did not hold.
	Reverted bool `json:"reverted"`
}

// Verification records that service was verified operational.
type Verification struct {
	Method string `json:"method"`
	// Accepted lists affected components explicitly accepted as they are (not back to operational).
	Accepted []string      `json:"accepted_components"`
	By       domain.Person `json:"by"`
	At       time.Time     `json:"at"`
}

// Ticket is a support ticket linked to the incident.
type Ticket struct {
	ID     string `json:"id"`
	System string `json:"system"`
	Ref    string `json:"ref"`
	URL    string `json:"url,omitempty"`
	// Log holds one entry per update published while the ticket was linked.
	Log      []TicketLog `json:"log"`
	LinkedAt time.Time   `json:"linked_at"`
	LinkedBy string      `json:"linked_by"`
}

// TicketLog is one published update logged on a ticket.
type TicketLog struct {
	UpdateID string              `json:"update_id"`
	Status   domain.UpdateStatus `json:"status"`
	At       time.Time           `json:"at"`
}

// Escalation is a functional or hierarchical escalation.
type Escalation struct {
	Kind      domain.EscalationKind `json:"kind"`
	Target    string                `json:"target"`
	Reason    string                `json:"reason"`
	Automatic bool                  `json:"automatic"`
	By        string                `json:"by"`
	At        time.Time             `json:"at"`
}

// IsOpen reports whether the incident still takes alerts and work: a major incident until concluded, a standard one
// until resolved.
func (s Incident) IsOpen() bool {
	if s.Kind == domain.KindMajor {
		return s.Stage != domain.StageConcluded
	}
	return s.Status == domain.StatusOpen
}

// LatestPublished returns the most recently published update, or nil.
func (s Incident) LatestPublished() *Update {
	var latest *Update
	for i := range s.Updates {
		u := &s.Updates[i]
		if u.State == StatePublished && (latest == nil || !u.PublishedAt.Before(*latest.PublishedAt)) {
			latest = u
		}
	}
	return latest
}

// PublicStatus is the status of the latest published update, or "" while nothing is public.
func (s Incident) PublicStatus() domain.UpdateStatus {
	if u := s.LatestPublished(); u != nil {
		return u.Status
	}
	return ""
}

// Update returns the update with the given id.
func (s Incident) Update(id string) (*Update, bool) {
	for i := range s.Updates {
		if s.Updates[i].ID == id {
			return &s.Updates[i], true
		}
	}
	return nil, false
}

// holds reports whether the actor holds the role on this incident.
func (s Incident) holds(a domain.Actor, r domain.Role) bool {
	if a.UserID == "" {
		return false
	}
	switch r {
	case domain.RoleIncidentCommander:
		return s.Roles.IncidentCommander != nil && s.Roles.IncidentCommander.UserID == a.UserID
	case domain.RoleCommunicationsLead:
		return s.Roles.CommunicationsLead != nil && s.Roles.CommunicationsLead.UserID == a.UserID
	case domain.RoleTechnicalLead:
		return holderIn(s.Roles.TechnicalLeads, a.UserID)
	case domain.RoleExecutiveSponsor:
		return holderIn(s.Roles.ExecutiveSponsors, a.UserID)
	}
	return false
}

func holderIn(hs []RoleHolder, userID string) bool {
	for _, h := range hs {
		if h.UserID == userID {
			return true
		}
	}
	return false
}

// clone returns a deep copy, so Apply never aliases the caller's state.
func (s Incident) clone() Incident {
	c := s
	c.Criteria.Scope.Regions = cloneSlice(s.Criteria.Scope.Regions)
	c.Criteria.BusinessImpact = cloneSlice(s.Criteria.BusinessImpact)
	c.Components = cloneSlice(s.Components)
	c.ComponentStatus = cloneMap(s.ComponentStatus)
	c.Roles.IncidentCommander = clonePtr(s.Roles.IncidentCommander)
	c.Roles.CommunicationsLead = clonePtr(s.Roles.CommunicationsLead)
	c.Roles.TechnicalLeads = cloneSlice(s.Roles.TechnicalLeads)
	c.Roles.ExecutiveSponsors = cloneSlice(s.Roles.ExecutiveSponsors)
	c.Bridges = make(map[domain.BridgeKind]*Bridge, len(s.Bridges))
	for k, b := range s.Bridges {
		nb := *b
		nb.Invitees = cloneSlice(b.Invitees)
		c.Bridges[k] = &nb
	}
	c.Actions = cloneSlice(s.Actions)
	c.Updates = make([]Update, len(s.Updates))
	for i, u := range s.Updates {
		u.Components = cloneMap(u.Components)
		c.Updates[i] = u
	}
	c.Restorations = cloneSlice(s.Restorations)
	c.Verification = clonePtr(s.Verification)
	c.Tickets = make([]Ticket, len(s.Tickets))
	for i, t := range s.Tickets {
		t.Log = cloneSlice(t.Log)
		c.Tickets[i] = t
	}
	c.Escalations = cloneSlice(s.Escalations)
	c.Milestones = cloneMap(s.Milestones)
	return c
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
