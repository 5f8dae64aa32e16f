// Package postincident is the work that follows a major incident: the Post Incident Report (PIR), the Root Cause
// Analysis (RCA), the corrective actions they lead to, and the problems that group incidents sharing a root cause.
// This package is pure — deadlines, drafting, validation, the customer-safe view and the evidence rendering — and
// the postgres package stores what it decides, inside the transaction that concludes the incident.
package postincident

import (
	"strconv"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
)

// Kind is which document: a PIR or an RCA.
type Kind string

// Document kinds.
const (
	KindPIR Kind = "pir"
	KindRCA Kind = "rca"
)

// Status is where a document is in draft → reviewed → published.
type Status string

// Document statuses. needs_revision: the incident was reopened after the document was written.
const (
	StatusDraft         Status = "draft"
	StatusReviewed      Status = "reviewed"
	StatusPublished     Status = "published"
	StatusNeedsRevision Status = "needs_revision"
)

// Document is a PIR or an RCA of one incident. Exactly one of PIR and RCA is set, as Kind says.
type Document struct {
	IncidentID  string    `json:"incident_id"`
	IncidentKey string    `json:"incident"`
	Kind        Kind      `json:"kind"`
	Status      Status    `json:"status"`
	ConcludedAt time.Time `json:"concluded_at"`
	// TargetAt is the PIR's aim (a day after conclusion); RCAs have none.
	TargetAt    *time.Time     `json:"target_at,omitempty"`
	DueAt       time.Time      `json:"due_at"`
	PIR         *PIR           `json:"pir,omitempty"`
	RCA         *RCA           `json:"rca,omitempty"`
	Version     int            `json:"version"`
	ReviewedBy  *domain.Person `json:"reviewed_by,omitempty"`
	ReviewedAt  *time.Time     `json:"reviewed_at,omitempty"`
	PublishedAt *time.Time     `json:"published_at,omitempty"`
	// Public is the customer-safe version on the incident's permalink, when it was published as such.
	Public    *PublicReport `json:"public,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// Overdue reports whether the document is past due and not published at now.
func (d Document) Overdue(now time.Time) bool {
	return d.Status != StatusPublished && now.After(d.DueAt)
}

// PIR is the Post Incident Report's content.
type PIR struct {
	// Summary is the observed fault, for the organisation.
	Summary string `json:"summary"`
	// CustomerSummary is what customers may read; it becomes the public version when published as such.
	CustomerSummary string `json:"customer_summary"`
	// Timeline holds the key facts; each drafted entry names the timeline seq it came from.
	Timeline []TimelineItem `json:"timeline"`
	// RestorationSteps are the steps taken to restore service: actions, workaround, fix, verification.
	RestorationSteps []Step `json:"restoration_steps"`
}

// TimelineItem is one key fact of a PIR. Seq is the incident timeline entry it was drafted from (0 for one added by
// hand), so an edited text stays traceable to the recorded event.
type TimelineItem struct {
	Seq   int       `json:"seq"`
	Event string    `json:"event,omitempty"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Text  string    `json:"text"`
}

// StepKind is a kind of restoration step.
type StepKind string

// Restoration step kinds.
const (
	StepAction       StepKind = "action"
	StepWorkaround   StepKind = "workaround"
	StepFix          StepKind = "fix"
	StepVerification StepKind = "verification"
)

// StepKinds lists the step kinds.
var StepKinds = []StepKind{StepAction, StepWorkaround, StepFix, StepVerification}

// Step is one thing done to restore service.
type Step struct {
	Kind        StepKind  `json:"kind"`
	Seq         int       `json:"seq"`
	At          time.Time `json:"at"`
	By          string    `json:"by"`
	Description string    `json:"description"`
}

// RCA is the Root Cause Analysis's content.
type RCA struct {
	RootCause           string               `json:"root_cause"`
	ContributingFactors []string             `json:"contributing_factors"`
	PreventativeActions []PreventativeAction `json:"preventative_actions"`
	// CustomerSummary is the customer-safe account of the cause, published on the permalink when asked.
	CustomerSummary string `json:"customer_summary"`
}

// ActionKind is the kind of a preventative (corrective) action.
type ActionKind string

// Action kinds.
const (
	ActionCodeFix        ActionKind = "code_fix"
	ActionInfrastructure ActionKind = "infrastructure_change"
	ActionProcess        ActionKind = "process"
	ActionMonitoring     ActionKind = "monitoring"
	ActionDocumentation  ActionKind = "documentation"
	ActionOther          ActionKind = "other"
)

// ActionKinds lists the action kinds.
var ActionKinds = []ActionKind{ActionCodeFix, ActionInfrastructure, ActionProcess, ActionMonitoring,
	ActionDocumentation, ActionOther}

// PreventativeAction is one action an RCA calls for; saving the RCA makes each a corrective action (ActionID).
type PreventativeAction struct {
	Kind  ActionKind `json:"kind"`
	Title string     `json:"title"`
	// Owner is a user's id or email on input; the store keeps the id.
	Owner    string    `json:"owner"`
	DueAt    time.Time `json:"due_at"`
	ActionID string    `json:"action_id,omitempty"`
}

// ValidatePIR checks an edited PIR.
func ValidatePIR(p *PIR) error {
	var v domain.Validator
	p.Summary, p.CustomerSummary = strings.TrimSpace(p.Summary), strings.TrimSpace(p.CustomerSummary)
	v.Check(p.Summary != "", "summary", "is required")
	v.Check(len(p.Summary) <= 20000, "summary", "is longer than 20000 bytes")
	v.Check(len(p.CustomerSummary) <= 20000, "customer_summary", "is longer than 20000 bytes")
	v.Check(len(p.Timeline) <= 1000, "timeline", "has more than 1000 entries")
	v.Check(len(p.RestorationSteps) <= 1000, "restoration_steps", "has more than 1000 entries")
	for i := range p.Timeline {
		it := &p.Timeline[i]
		it.Text = strings.TrimSpace(it.Text)
		f := "timeline[" + strconv.Itoa(i) + "]"
		v.Check(it.Text != "", f+".text", "is required")
		v.Check(!it.At.IsZero(), f+".at", "is required")
		v.Check(it.Seq >= 0, f+".seq", "must be 0 (added by hand) or the seq of a timeline entry")
	}
	for i := range p.RestorationSteps {
		s := &p.RestorationSteps[i]
		s.Description = strings.TrimSpace(s.Description)
		f := "restoration_steps[" + strconv.Itoa(i) + "]"
		domain.OneOf(&v, f+".kind", s.Kind, StepKinds)
		v.Check(s.Description != "", f+".description", "is required")
	}
	if p.Timeline == nil {
		p.Timeline = []TimelineItem{}
	}
	if p.RestorationSteps == nil {
		p.RestorationSteps = []Step{}
	}
	return v.Err()
}

// ValidateRCA checks an edited RCA; owners are resolved by the store.
func ValidateRCA(r *RCA) error {
	var v domain.Validator
	r.RootCause, r.CustomerSummary = strings.TrimSpace(r.RootCause), strings.TrimSpace(r.CustomerSummary)
	v.Check(len(r.RootCause) <= 20000, "root_cause", "is longer than 20000 bytes")
	v.Check(len(r.CustomerSummary) <= 20000, "customer_summary", "is longer than 20000 bytes")
	v.Check(len(r.ContributingFactors) <= 100, "contributing_factors", "has more than 100 entries")
	v.Check(len(r.PreventativeActions) <= 100, "preventative_actions", "has more than 100 entries")
	factors := r.ContributingFactors[:0:0]
	for i, f := range r.ContributingFactors {
		f = strings.TrimSpace(f)
		v.Check(f != "", "contributing_factors["+strconv.Itoa(i)+"]", "is empty")
		factors = append(factors, f)
	}
	r.ContributingFactors = factors
	for i := range r.PreventativeActions {
		a := &r.PreventativeActions[i]
		f := "preventative_actions[" + strconv.Itoa(i) + "]"
		a.Title, a.Owner = strings.TrimSpace(a.Title), strings.TrimSpace(a.Owner)
		domain.OneOf(&v, f+".kind", a.Kind, ActionKinds)
		v.Check(a.Title != "", f+".title", "is required")
		v.Check(len(a.Title) <= 500, f+".title", "is longer than 500 bytes")
		v.Check(a.Owner != "", f+".owner", "is required: a user's id or email")
		v.Check(!a.DueAt.IsZero(), f+".due_at", "is required")
	}
	if r.PreventativeActions == nil {
		r.PreventativeActions = []PreventativeAction{}
	}
	return v.Err()
}
