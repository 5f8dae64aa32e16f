// Package reports computes the numbers of incident management over a period: how fast incidents were acknowledged,
// declared, mobilized and restored, whether updates kept their cadence, whether PIRs and RCAs were published on time,
// and how many incidents there were by severity, component and month. It is pure: the store gives it the facts, the
// API, the CSV export and the reports page present what it returns.
//
// Durations are summarised as median, 90th percentile and mean, because a mean alone is pulled by one long outage.
// The median is the middle value (the mean of the two middle ones for an even count); the 90th percentile is the
// nearest-rank one: the value at rank ⌈0.9 × n⌉ of the sorted values, so it is always a value that happened.
package reports

import (
	"cmp"
	"slices"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// PercentileMethod says how the figures are computed, for whoever reads them.
const PercentileMethod = "median: middle value (mean of the two middle ones for an even count); " +
	"p90: nearest rank, the value at rank ceil(0.9 n) of the sorted values; mean: arithmetic"

// Incident is what the numbers need of one incident. A zero time is a milestone that did not happen.
type Incident struct {
	Key        string
	Title      string
	Kind       domain.Kind
	Severity   domain.Severity
	Components []string
	Open       bool

	ImpactStartedAt  time.Time
	DetectedAt       time.Time
	DeclaredAt       time.Time
	ICAcknowledgedAt time.Time
	MobilizedAt      time.Time
	RestoredAt       time.Time
	ConcludedAt      time.Time

	// Updates are the published updates, in any order.
	Updates []PublishedUpdate
	// StageMoves are the incident's stage changes, in any order.
	StageMoves []StageMove
	// Severities are the severities it was declared and reclassified with, in any order; none means Severity
	// throughout.
	Severities []SeverityChange
}

// PublishedUpdate is one update customers saw.
type PublishedUpdate struct {
	At time.Time
	// Resolved is a "resolved" update: no update is due after it, until a move back to diagnosis says the fix did
	// not hold.
	Resolved bool
}

// StageMove is one stage change of a major incident, from its timeline.
type StageMove struct {
	At       time.Time
	To       domain.Stage
	Backward bool
}

// SeverityChange is a severity given at declaration or reclassification.
type SeverityChange struct {
	At       time.Time
	Severity domain.Severity
}

// FromWorkflow takes the facts of an incident's state and of its timeline: the stage moves say when the update clock
// started before the first update and restarted after a failed fix, the severity changes which cadence held when.
func FromWorkflow(s workflow.Incident, moves []StageMove, severities []SeverityChange) Incident {
	in := Incident{Key: s.Key, Title: s.Title, Kind: s.Kind, Severity: s.Criteria.Severity,
		Components: slices.Clone(s.Components), Open: s.IsOpen(), StageMoves: slices.Clone(moves),
		Severities:       slices.Clone(severities),
		ImpactStartedAt:  s.Milestones[domain.MilestoneImpactStarted],
		DetectedAt:       s.Milestones[domain.MilestoneDetected],
		DeclaredAt:       s.Milestones[domain.MilestoneDeclared],
		ICAcknowledgedAt: s.Milestones[domain.MilestoneICAcknowledged],
		MobilizedAt:      s.Milestones[domain.MilestoneMobilized],
		RestoredAt:       s.Milestones[domain.MilestoneRestored],
		ConcludedAt:      s.Milestones[domain.MilestoneConcluded],
	}
	for _, u := range s.Updates {
		if u.State == workflow.StatePublished && u.PublishedAt != nil {
			in.Updates = append(in.Updates, PublishedUpdate{At: *u.PublishedAt, Resolved: u.Status == domain.UpdateResolved})
		}
	}
	return in
}

// Document kinds of a Deadline.
const (
	DocumentPIR = "pir"
	DocumentRCA = "rca"
)

// Deadline is when a Post Incident Report or Root Cause Analysis was due and when, if ever, it was published.
type Deadline struct {
	Kind        string // DocumentPIR or DocumentRCA
	IncidentKey string
	ConcludedAt time.Time
	DueAt       time.Time
	PublishedAt *time.Time
}

// Input is everything one report is computed from.
type Input struct {
	// From and To bound the period, [From, To): an incident belongs to it by when it was declared.
	From, To time.Time
	// Now decides what is late among what is not yet published, and ends the cadence of an open incident.
	Now     time.Time
	Cadence workflow.Cadence
	// Location is the organisation's time zone: months are its months. Nil means UTC.
	Location  *time.Location
	Incidents []Incident
	// Deadlines are the PIR and RCA deadlines to rate; those of incidents outside the period are ignored.
	Deadlines []Deadline
}

// Report is the numbers of one period.
type Report struct {
	From             time.Time `json:"from"`
	To               time.Time `json:"to"`
	GeneratedAt      time.Time `json:"generated_at"`
	PercentileMethod string    `json:"percentile_method"`
	// Counts of incidents declared in the period.
	Incidents int `json:"incidents"`
	Major     int `json:"major"`
	Standard  int `json:"standard"`
	Open      int `json:"open"`
	// The durations count major incidents only: standard ones have no commander, mobilization or cadence.
	TimeToAcknowledge Summary     `json:"time_to_acknowledge"`
	TimeToDeclare     Summary     `json:"time_to_declare"`
	TimeToMobilize    Summary     `json:"time_to_mobilize"`
	TimeToRestore     Summary     `json:"time_to_restore"`
	UpdateCadence     Compliance  `json:"update_cadence"`
	PIR               OnTimeRate  `json:"pir"`
	RCA               OnTimeRate  `json:"rca"`
	BySeverity        []Count     `json:"by_severity"`
	ByComponent       []Count     `json:"by_component"`
	ByMonth           []Count     `json:"by_month"`
	Rows              []RowFigure `json:"per_incident"`
}

// Summary is a set of durations in seconds; the figures are null when there is none.
type Summary struct {
	Count         int      `json:"count"`
	MedianSeconds *float64 `json:"median_seconds"`
	P90Seconds    *float64 `json:"p90_seconds"`
	MeanSeconds   *float64 `json:"mean_seconds"`
}

// Compliance is how many published updates were due and how many came within the cadence.
type Compliance struct {
	Due    int `json:"due"`
	OnTime int `json:"on_time"`
	// Rate is OnTime / Due, null when nothing was due.
	Rate *float64 `json:"rate"`
}

// OnTimeRate rates documents against their due time. Pending ones (unpublished, not yet due) are not rated.
type OnTimeRate struct {
	OnTime  int      `json:"on_time"`
	Late    int      `json:"late"`
	Pending int      `json:"pending"`
	Rate    *float64 `json:"rate"`
}

// Count is how many incidents fall in one bucket (a severity, a component slug, a month as YYYY-MM).
type Count struct {
	Key      string `json:"key"`
	Major    int    `json:"major"`
	Standard int    `json:"standard"`
	Total    int    `json:"total"`
}

// Document states of a RowFigure.
const (
	StateOnTime  = "on_time"
	StateLate    = "late"
	StatePending = "pending"
)

// RowFigure is the figures of one incident. A duration is null when a milestone it needs is missing.
type RowFigure struct {
	Key                      string          `json:"key"`
	Title                    string          `json:"title"`
	Kind                     domain.Kind     `json:"kind"`
	Severity                 domain.Severity `json:"severity"`
	Components               []string        `json:"components"`
	Open                     bool            `json:"open"`
	DeclaredAt               time.Time       `json:"declared_at"`
	TimeToAcknowledgeSeconds *float64        `json:"time_to_acknowledge_seconds"`
	TimeToDeclareSeconds     *float64        `json:"time_to_declare_seconds"`
	TimeToMobilizeSeconds    *float64        `json:"time_to_mobilize_seconds"`
	TimeToRestoreSeconds     *float64        `json:"time_to_restore_seconds"`
	UpdatesDue               int             `json:"updates_due"`
	UpdatesOnTime            int             `json:"updates_on_time"`
	// PIR and RCA are on_time, late, pending, or "" when the incident has none.
	PIR string `json:"pir"`
	RCA string `json:"rca"`
}

// Compute returns the report of in. Incidents declared outside [From, To) are left out.
func Compute(in Input) Report {
	loc := in.Location
	if loc == nil {
		loc = time.UTC
	}
	rep := Report{From: in.From, To: in.To, GeneratedAt: in.Now, PercentileMethod: PercentileMethod,
		BySeverity: []Count{}, ByComponent: []Count{}, ByMonth: []Count{}, Rows: []RowFigure{}}
	incidents := slices.Clone(in.Incidents)
	slices.SortStableFunc(incidents, func(a, b Incident) int {
		return cmp.Or(a.DeclaredAt.Compare(b.DeclaredAt), cmp.Compare(a.Key, b.Key))
	})

	docs := map[string]map[string]string{DocumentPIR: {}, DocumentRCA: {}}
	inPeriod := map[string]bool{}
	for _, i := range incidents {
		if inside(i.DeclaredAt, in.From, in.To) {
			inPeriod[i.Key] = true
		}
	}
	for _, d := range in.Deadlines {
		rate := &rep.PIR
		if d.Kind == DocumentRCA {
			rate = &rep.RCA
		} else if d.Kind != DocumentPIR {
			continue
		}
		if !inPeriod[d.IncidentKey] {
			continue
		}
		st := deadlineState(d, in.Now)
		switch st {
		case StateOnTime:
			rate.OnTime++
		case StateLate:
			rate.Late++
		default:
			rate.Pending++
		}
		docs[d.Kind][d.IncidentKey] = st
	}
	rep.PIR.Rate = ratio(rep.PIR.OnTime, rep.PIR.OnTime+rep.PIR.Late)
	rep.RCA.Rate = ratio(rep.RCA.OnTime, rep.RCA.OnTime+rep.RCA.Late)

	severities := map[string]*Count{}
	for _, s := range domain.Severities {
		rep.BySeverity = append(rep.BySeverity, Count{Key: string(s)})
	}
	for i := range rep.BySeverity {
		severities[rep.BySeverity[i].Key] = &rep.BySeverity[i]
	}
	months := map[string]int{}
	for m := monthStart(in.From.In(loc)); m.Before(in.To); m = m.AddDate(0, 1, 0) {
		months[m.Format("2006-01")] = len(rep.ByMonth)
		rep.ByMonth = append(rep.ByMonth, Count{Key: m.Format("2006-01")})
	}
	components := map[string]*Count{}

	var tta, ttd, ttm, ttr []time.Duration
	for _, i := range incidents {
		if !inPeriod[i.Key] {
			continue
		}
		major := i.Kind == domain.KindMajor
		rep.Incidents++
		if major {
			rep.Major++
		} else {
			rep.Standard++
		}
		if i.Open {
			rep.Open++
		}
		if c, ok := severities[string(i.Severity)]; ok {
			c.add(major)
		}
		if idx, ok := months[i.DeclaredAt.In(loc).Format("2006-01")]; ok {
			rep.ByMonth[idx].add(major)
		}
		for _, slug := range i.Components {
			c := components[slug]
			if c == nil {
				c = &Count{Key: slug}
				components[slug] = c
			}
			c.add(major)
		}

		row := RowFigure{Key: i.Key, Title: i.Title, Kind: i.Kind, Severity: i.Severity,
			Components: slices.Clone(i.Components), Open: i.Open, DeclaredAt: i.DeclaredAt,
			PIR: docs[DocumentPIR][i.Key], RCA: docs[DocumentRCA][i.Key]}
		if row.Components == nil {
			row.Components = []string{}
		}
		if major {
			impact := i.ImpactStartedAt
			if impact.IsZero() {
				impact = i.DetectedAt
			}
			row.TimeToAcknowledgeSeconds = collect(&tta, i.DetectedAt, i.ICAcknowledgedAt)
			row.TimeToDeclareSeconds = collect(&ttd, i.DetectedAt, i.DeclaredAt)
			row.TimeToMobilizeSeconds = collect(&ttm, i.DeclaredAt, i.MobilizedAt)
			row.TimeToRestoreSeconds = collect(&ttr, impact, i.RestoredAt)
			row.UpdatesDue, row.UpdatesOnTime = cadence(i, in.Cadence, in.Now)
			rep.UpdateCadence.Due += row.UpdatesDue
			rep.UpdateCadence.OnTime += row.UpdatesOnTime
		}
		rep.Rows = append(rep.Rows, row)
	}
	rep.UpdateCadence.Rate = ratio(rep.UpdateCadence.OnTime, rep.UpdateCadence.Due)
	rep.TimeToAcknowledge, rep.TimeToDeclare = Summarize(tta), Summarize(ttd)
	rep.TimeToMobilize, rep.TimeToRestore = Summarize(ttm), Summarize(ttr)

	for _, c := range components {
		rep.ByComponent = append(rep.ByComponent, *c)
	}
	slices.SortFunc(rep.ByComponent, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.Key, b.Key))
	})
	return rep
}

func inside(t, from, to time.Time) bool { return !t.IsZero() && !t.Before(from) && t.Before(to) }

func (c *Count) add(major bool) {
	c.Total++
	if major {
		c.Major++
	} else {
		c.Standard++
	}
}

func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
}

// collect adds end − start to ds and returns it in seconds, or nil when either is missing or the order is wrong
// (a milestone set by hand cannot be out of order, but imported history is what it is).
func collect(ds *[]time.Duration, start, end time.Time) *float64 {
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return nil
	}
	d := end.Sub(start)
	*ds = append(*ds, d)
	return seconds(d)
}

func seconds(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}

func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

func deadlineState(d Deadline, now time.Time) string {
	switch {
	case d.PublishedAt != nil && !d.PublishedAt.After(d.DueAt):
		return StateOnTime
	case d.PublishedAt != nil || now.After(d.DueAt):
		return StateLate
	default:
		return StatePending
	}
}

// cadence counts the updates that were due and those published within the cadence, replaying internal/workflow's
// update clock (Incident.UpdateClock) over the incident's published updates and stage moves: the clock starts at the
// first published update, or on entering Status Updates with nothing published; each update restarts it; a
// "resolved" update stops it, until a move back to diagnosis restarts it from the move; while the latest update is
// superseded by such a move, the clock runs from the latest stage change; concluding stops it. Each update published
// while the clock ran is one due update, on time when it came within the interval; when the clock ran past the
// interval and no update came before it stopped (or before now, while open), one more was due, and late. The
// interval is that of the severity in force at each moment, as the clock would have said then.
func cadence(i Incident, c workflow.Cadence, now time.Time) (due, onTime int) {
	if c.Critical <= 0 || c.Other <= 0 {
		return 0, 0 // no cadence, nothing due
	}
	severity := i.Severity
	type step struct {
		at       time.Time
		update   *PublishedUpdate
		move     *StageMove
		severity *SeverityChange
	}
	var steps []step
	for k := range i.Severities {
		steps = append(steps, step{at: i.Severities[k].At, severity: &i.Severities[k]})
	}
	for k := range i.Updates {
		steps = append(steps, step{at: i.Updates[k].At, update: &i.Updates[k]})
	}
	for k := range i.StageMoves {
		steps = append(steps, step{at: i.StageMoves[k].At, move: &i.StageMoves[k]})
	}
	// At the same instant a severity change comes first, then a move: an update is published within the stage just
	// entered, under the severity just given.
	rank := func(s step) int {
		switch {
		case s.severity != nil:
			return 0
		case s.move != nil:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(steps, func(a, b step) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(rank(a), rank(b))) })
	if len(steps) > 0 && steps[0].severity != nil {
		severity = steps[0].severity.Severity // as declared
	}
	interval := func() time.Duration { return c.Interval(severity) }
	var (
		running    bool
		since      time.Time
		published  bool // an update was published
		superseded bool // the latest update was superseded by a move back
	)
	// ranOut counts the update that was due when the clock ran past the interval with nothing published by at.
	ranOut := func(at time.Time) {
		if running && at.Sub(since) > interval() {
			due++
		}
	}
	stop := func(at time.Time) { ranOut(at); running = false }
	restart := func(at time.Time) { ranOut(at); running, since = true, at }
	for _, st := range steps {
		m := st.move
		switch {
		case st.severity != nil:
			severity = st.severity.Severity
		case st.update != nil:
			if running {
				due++
				if st.at.Sub(since) <= interval() {
					onTime++
				}
			}
			published, superseded = true, false
			running, since = !st.update.Resolved, st.at
		case m.To == domain.StageConcluded:
			stop(st.at)
		case !published:
			// Nothing public yet: the clock runs from entering Status Updates or any later stage.
			if m.To.Index() >= domain.StageStatusUpdates.Index() {
				restart(st.at)
			} else {
				stop(st.at)
			}
		case m.Backward:
			superseded = true // what was published no longer stands; the clock runs from the move
			restart(st.at)
		case superseded && running:
			restart(st.at) // a superseded update's clock runs from the latest stage change
		}
	}
	end := now
	if !i.Open && !i.ConcludedAt.IsZero() {
		end = i.ConcludedAt
	}
	stop(end)
	return due, onTime
}

// Summarize gives the count, median, nearest-rank 90th percentile and mean of ds.
func Summarize(ds []time.Duration) Summary {
	s := Summary{Count: len(ds)}
	if len(ds) == 0 {
		return s
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	n := len(sorted)
	median := sorted[n/2]
	if n%2 == 0 {
		median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	rank := (9*n + 9) / 10 // ⌈0.9 n⌉ in integers: no floating-point rounding at exact multiples
	var sum float64        // in seconds: years of durations in nanoseconds would overflow an int64
	for _, d := range sorted {
		sum += d.Seconds()
	}
	mean := sum / float64(n)
	s.MedianSeconds = seconds(median)
	s.P90Seconds = seconds(sorted[rank-1])
	s.MeanSeconds = &mean
	return s
}
