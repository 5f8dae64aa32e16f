package postincident

import (
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
)

// ActionStatus is where a corrective action is.
type ActionStatus string

// Action statuses. wont_do needs a reason.
const (
	ActionOpen       ActionStatus = "open"
	ActionInProgress ActionStatus = "in_progress"
	ActionDone       ActionStatus = "done"
	ActionWontDo     ActionStatus = "wont_do"
)

// ActionStatuses lists the action statuses.
var ActionStatuses = []ActionStatus{ActionOpen, ActionInProgress, ActionDone, ActionWontDo}

// Pending reports whether the action is still to be done (open or in progress).
func (s ActionStatus) Pending() bool { return s == ActionOpen || s == ActionInProgress }

// CorrectiveAction is tracked work that keeps an incident from happening again.
type CorrectiveAction struct {
	ID          string        `json:"id"`
	IncidentKey string        `json:"incident,omitempty"`
	ProblemID   string        `json:"problem,omitempty"`
	Kind        ActionKind    `json:"kind"`
	Title       string        `json:"title"`
	Owner       domain.Person `json:"owner"`
	DueAt       time.Time     `json:"due_at"`
	Status      ActionStatus  `json:"status"`
	Reason      string        `json:"reason,omitempty"`
	Overdue     bool          `json:"overdue"`
	Version     int           `json:"version"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
	DoneAt      *time.Time    `json:"done_at,omitempty"`
}

// ActionOverdue reports whether an action with this status and due time is late at now.
func ActionOverdue(status ActionStatus, due, now time.Time) bool {
	return status.Pending() && now.After(due)
}

// ValidateAction checks a new or changed action (its owner is resolved by the store).
func ValidateAction(a *CorrectiveAction) error {
	var v domain.Validator
	a.Title, a.Reason = strings.TrimSpace(a.Title), strings.TrimSpace(a.Reason)
	if a.Kind == "" {
		a.Kind = ActionOther
	}
	if a.Status == "" {
		a.Status = ActionOpen
	}
	domain.OneOf(&v, "kind", a.Kind, ActionKinds)
	domain.OneOf(&v, "status", a.Status, ActionStatuses)
	v.Check(a.Title != "", "title", "is required")
	v.Check(len(a.Title) <= 500, "title", "is longer than 500 bytes")
	v.Check(len(a.Reason) <= 5000, "reason", "is longer than 5000 bytes")
	v.Check(!a.DueAt.IsZero(), "due_at", "is required")
	v.Check(a.Status != ActionWontDo || a.Reason != "", "reason", "is required when the status is wont_do")
	v.Check(a.IncidentKey != "" || a.ProblemID != "", "incident", "is required unless the action belongs to a problem")
	return v.Err()
}

// ProblemStatus is open or closed.
type ProblemStatus string

// Problem statuses.
const (
	ProblemOpen   ProblemStatus = "open"
	ProblemClosed ProblemStatus = "closed"
)

// ProblemStatuses lists the problem statuses.
var ProblemStatuses = []ProblemStatus{ProblemOpen, ProblemClosed}

// Problem groups incidents that share a root cause, with the known error and its workaround.
type Problem struct {
	ID         string        `json:"id"`
	Title      string        `json:"title"`
	RootCause  string        `json:"root_cause"`
	KnownError string        `json:"known_error"`
	Workaround string        `json:"workaround"`
	Status     ProblemStatus `json:"status"`
	Incidents  []string      `json:"incidents"`
	// OpenActions counts the problem's actions still open or in progress: it cannot close while any is.
	OpenActions int        `json:"open_actions"`
	Version     int        `json:"version"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
}

// ValidateProblem checks a new or changed problem.
func ValidateProblem(p *Problem) error {
	var v domain.Validator
	p.Title = strings.TrimSpace(p.Title)
	p.RootCause, p.KnownError, p.Workaround = strings.TrimSpace(p.RootCause), strings.TrimSpace(p.KnownError),
		strings.TrimSpace(p.Workaround)
	if p.Status == "" {
		p.Status = ProblemOpen
	}
	domain.OneOf(&v, "status", p.Status, ProblemStatuses)
	v.Check(p.Title != "", "title", "is required")
	v.Check(len(p.Title) <= 500, "title", "is longer than 500 bytes")
	for f, s := range map[string]string{"root_cause": p.RootCause, "known_error": p.KnownError, "workaround": p.Workaround} {
		v.Check(len(s) <= 20000, f, "is longer than 20000 bytes")
	}
	if p.Incidents == nil {
		p.Incidents = []string{}
	}
	return v.Err()
}

// ErrProblemHasOpenActions refuses closing a problem while any of its actions is pending.
func ErrProblemHasOpenActions(n int) error {
	return domain.Errorf(domain.ErrConflict, "problem_has_open_actions",
		"the problem has %d corrective action(s) still open or in progress: finish them (done, or wont_do with a reason) before closing it", n)
}

// Deadline is one PIR, RCA or action on the deadline dashboard.
type Deadline struct {
	Kind        string         `json:"kind"` // pir, rca or action
	ID          string         `json:"id,omitempty"`
	IncidentKey string         `json:"incident,omitempty"`
	Title       string         `json:"title"`
	Status      string         `json:"status"`
	DueAt       time.Time      `json:"due_at"`
	Owner       *domain.Person `json:"owner,omitempty"`
	Overdue     bool           `json:"overdue"`
}

// ActionFilter narrows a listing of corrective actions.
type ActionFilter struct {
	Incident string // id or key
	Problem  string
	Status   ActionStatus
	Overdue  bool
}

// ActionInput is a corrective action to create, or the fields of one to change (nil: unchanged).
type ActionInput struct {
	Incident *string
	Problem  *string
	Kind     *ActionKind
	Title    *string
	Owner    *string
	DueAt    *time.Time
	Status   *ActionStatus
	Reason   *string
}

// ProblemInput is a problem to create, or the fields of one to change (nil: unchanged). AddIncidents links more
// incidents (by id or key) to it.
type ProblemInput struct {
	Title        *string
	RootCause    *string
	KnownError   *string
	Workaround   *string
	Status       *ProblemStatus
	AddIncidents []string
}
