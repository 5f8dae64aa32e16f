package reports

import (
	"context"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// Stored is one incident as the store has it: its state, and from its timeline its stage moves and severities.
type Stored struct {
	State      workflow.Incident
	StageMoves []StageMove
	Severities []SeverityChange
}

// IncidentSource loads the incidents declared in [from, to), major and standard.
type IncidentSource interface {
	IncidentsDeclared(ctx context.Context, from, to time.Time) ([]Stored, error)
}

// DeadlineSource loads the PIR and RCA deadlines of incidents concluded in [from, to).
type DeadlineSource interface {
	DocumentDeadlines(ctx context.Context, from, to time.Time) ([]Deadline, error)
}

// DeadlineFunc is a DeadlineSource made of a function, to adapt another package's store without this one knowing it.
type DeadlineFunc func(ctx context.Context, from, to time.Time) ([]Deadline, error)

// DocumentDeadlines implements DeadlineSource.
func (f DeadlineFunc) DocumentDeadlines(ctx context.Context, from, to time.Time) ([]Deadline, error) {
	return f(ctx, from, to)
}

// Service computes reports from the stored incidents.
type Service struct {
	Incidents IncidentSource
	// Deadlines is nil until PIRs and RCAs are stored: the on-time rates then rate nothing.
	Deadlines DeadlineSource
	Cadence   workflow.Cadence
	// Location is the organisation's time zone: months and plain dates are its own.
	Location *time.Location
	Now      func() time.Time
}

// DefaultPeriod is the period a report covers when none is asked for: the last 90 days.
const DefaultPeriod = 90 * 24 * time.Hour

// MaxPeriod bounds a report, so one request cannot load the whole history of a large installation.
const MaxPeriod = 3 * 366 * 24 * time.Hour

// Metrics computes the report of [from, to).
func (s *Service) Metrics(ctx context.Context, from, to time.Time) (Report, error) {
	now := s.now()
	incidents, err := s.Incidents.IncidentsDeclared(ctx, from, to)
	if err != nil {
		return Report{}, err
	}
	in := Input{From: from, To: to, Now: now, Cadence: s.Cadence, Location: s.location()}
	for _, inc := range incidents {
		in.Incidents = append(in.Incidents, FromWorkflow(inc.State, inc.StageMoves, inc.Severities))
	}
	if s.Deadlines != nil {
		// An incident of the period concludes after it is declared, so up to now; Compute keeps only the deadlines
		// of the period's incidents.
		if in.Deadlines, err = s.Deadlines.DocumentDeadlines(ctx, from, now.Add(time.Second)); err != nil {
			return Report{}, err
		}
	}
	return Compute(in), nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) location() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

// Period reads a report's period from the from and to query values: RFC 3339 times, or dates (YYYY-MM-DD) in the
// organisation's zone, from the start of from's date to the end of to's. An empty to is now, an empty from 90 days
// before to. A bad value is a bad request, with the field named.
func (s *Service) Period(fromText, toText string) (time.Time, time.Time, error) {
	loc := s.location()
	var fields []domain.FieldError
	to := s.now()
	if strings.TrimSpace(toText) != "" {
		t, ok := parseBound(toText, loc, true)
		if !ok {
			fields = append(fields, domain.FieldError{Field: "to", Message: "must be an RFC 3339 time or a date YYYY-MM-DD"})
		}
		to = t
	}
	from := to.Add(-DefaultPeriod)
	if strings.TrimSpace(fromText) != "" {
		t, ok := parseBound(fromText, loc, false)
		if !ok {
			fields = append(fields, domain.FieldError{Field: "from", Message: "must be an RFC 3339 time or a date YYYY-MM-DD"})
		}
		from = t
	}
	if len(fields) == 0 {
		switch {
		case !from.Before(to):
			fields = append(fields, domain.FieldError{Field: "from", Message: "must be before to"})
		case to.Sub(from) > MaxPeriod:
			fields = append(fields, domain.FieldError{Field: "from", Message: "the period may span at most three years"})
		}
	}
	if len(fields) > 0 {
		return time.Time{}, time.Time{}, &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_period",
			Message: "the period is not valid: " + fields[0].Field + " " + fields[0].Message, Fields: fields}
	}
	return from.UTC(), to.UTC(), nil
}

// parseBound reads a time or a date; a date as the end of a period means the end of that day.
func parseBound(s string, loc *time.Location, end bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, t.Year() >= 1970 && t.Year() <= 9999
	}
	d, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil || d.Year() < 1970 {
		return time.Time{}, false
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, true
}
