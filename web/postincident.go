package web

import (
	"context"

	"github.com/a-h/templ"
)

// The responder pages of post-incident work (mounted under /app behind sign-in): the deadline dashboard and the
// PIR and RCA of an incident, with their edit, review and publish forms.

// DeadlinesPage is the deadline dashboard: what is late and what is due soon.
type DeadlinesPage struct {
	// Zone names the zone the times are shown in.
	Zone    string
	Within  string
	Overdue []DeadlineRow
	DueSoon []DeadlineRow
}

// DeadlineRow is one PIR, RCA or corrective action with its deadline.
type DeadlineRow struct {
	Kind     string // PIR, RCA or action
	Incident string
	Title    string
	Status   string
	Owner    string
	Due      StatusTime
	Overdue  bool
	// Link is the page to act on it.
	Link string
}

// DocumentPage is an incident's PIR or RCA, with its forms.
type DocumentPage struct {
	Kind        string // pir or rca
	Heading     string
	IncidentKey string
	Status      string
	Overdue     bool
	Due         StatusTime
	Target      *StatusTime
	Version     int
	// Base is the path the forms post to (…/pir or …/rca).
	Base string
	CSRF string
	// CanEdit is false for viewers: the page shows the document without its forms.
	CanEdit bool
	// Notice and Errors report the outcome of the last form (an error re-renders the form as sent).
	Notice string
	Errors []string

	Summary         string
	CustomerSummary string
	Timeline        []DocumentFact
	Steps           []DocumentStep

	RootCause  string
	Factors    string // one per line
	Preventive []PreventiveRow

	// PublicSummary is the customer-safe version on the status page, if any.
	PublicSummary string
}

// DocumentFact is one timeline fact of a PIR, traceable to its timeline entry.
type DocumentFact struct {
	Seq   int
	At    StatusTime
	Actor string
	Text  string
}

// DocumentStep is one step taken to restore.
type DocumentStep struct {
	Kind        string
	At          StatusTime
	By          string
	Description string
}

// PreventiveRow is one preventative action of an RCA.
type PreventiveRow struct {
	Kind     string
	Title    string
	Due      StatusTime
	ActionID string
}

// HolidaysPage is the business-day calendar with its forms (admins change it).
type HolidaysPage struct {
	Holidays []HolidayRow
	CanEdit  bool
	CSRF     string
	// Base is the path the forms post to.
	Base   string
	Notice string
	Errors []string
}

// HolidayRow is one holiday.
type HolidayRow struct {
	Date string
	Name string
}

// ActionsPage lists corrective actions with a form each to move them on.
type ActionsPage struct {
	Actions []CorrectiveActionRow
	CanEdit bool
	CSRF    string
	// Base is the path the forms post to (…/corrective-actions).
	Base   string
	Notice string
	Errors []string
}

// CorrectiveActionRow is one corrective action.
type CorrectiveActionRow struct {
	ID       string
	Incident string
	Kind     string
	Title    string
	Owner    string
	Due      StatusTime
	Status   string
	Reason   string
	Overdue  bool
	Version  int
}

// ProblemsPage lists the problems, with a form to record one and a button to close or reopen each.
type ProblemsPage struct {
	Problems []ProblemRow
	CanEdit  bool
	CSRF     string
	// Base is the path the forms post to (…/problems).
	Base   string
	Notice string
	Errors []string
}

// ProblemRow is one problem.
type ProblemRow struct {
	ID          string
	Title       string
	KnownError  string
	Workaround  string
	Status      string
	Incidents   string
	OpenActions int
	Version     int
}

type layoutKey struct{}

// WithLayout makes the post-incident pages rendered with ctx put their content inside layout(title) — the
// responder UI's AppLayout — instead of their own document.
func WithLayout(ctx context.Context, layout func(title string) templ.Component) context.Context {
	return context.WithValue(ctx, layoutKey{}, layout)
}

func layoutFrom(ctx context.Context) func(title string) templ.Component {
	l, _ := ctx.Value(layoutKey{}).(func(title string) templ.Component)
	return l
}
