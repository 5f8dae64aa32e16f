// Package uptime is the arithmetic of a component's uptime history, as the status page shows it: a status interval
// split across the days it spans, the boundaries of a day in a zone, what one day holds, and the uptime percentage.
// It does no I/O and reads no clock.
//
// # The rules
//
//   - A day is a civil date in a zone, from its first instant to the next date's first instant: 23, 24 or 25 hours
//     across a change of offset. Where midnight does not exist (a zone that springs forward at 00:00), the day
//     starts at the change. The history is kept in [Zone].
//   - A component's status holds from the change that set it to the next change. Before its first recorded change a
//     component is operational. Before it was created there is no data.
//   - A day's worst status is the worst status ([domain.Worse]) the component had at any instant of the day, however
//     short; a day with data and nothing worse is operational.
//   - Uptime is the share of observed time with no partial or major outage. Observed time is the time the component
//     existed in the window, up to now. Partial outage counts in full, like major. Degraded performance and
//     maintenance count as up: a day shows them, but they are not outages. Maintenance is counted as up, not left
//     out of the denominator, because scheduled windows are not status changes and are not in the history: counted
//     as up, both kinds of maintenance weigh the same. See [Rule].
package uptime

import (
	"math"
	"slices"
	"time"

	"github.com/mimhq/mim/internal/domain"
)

// Days is how many days the status page shows: today and the 89 before it.
const Days = 90

// Zone is the zone whose days the history is kept in: UTC, so that the rollups never depend on configuration, a
// day's row never has to be recomputed when the organisation's zone changes, and every day is 24 hours long. The
// page says so. The functions here take any zone.
var Zone = time.UTC

// Rule is the percentage's rule, in words for the page's legend.
const Rule = "Uptime is the share of time in the last 90 days (or since the component was added, if later) with no " +
	"partial or major outage. Degraded performance and maintenance count as up. Each mark is one day, midnight to " +
	"midnight UTC, shown in the worst status the component had that day."

// Date returns the civil date of t in loc, as midnight UTC of that date: the form a PostgreSQL date takes in Go.
func Date(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Bounds returns the instants at which the date (any time on it; only its year, month and day count) starts and
// ends in loc. The end is the next date's start.
func Bounds(date time.Time, loc *time.Location) (start, end time.Time) {
	y, m, d := date.Date()
	return dayStart(y, m, d, loc), dayStart(y, m, d+1, loc)
}

// dayStart is the first instant of a date in loc. time.Date normalises a local time that does not exist (skipped by a
// change of offset) with either offset; when that lands on the day before, the day starts at the change itself.
func dayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	want := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if Date(t, loc).Before(want) {
		if _, end := t.ZoneBounds(); !end.IsZero() {
			return end
		}
	}
	return t
}

// Piece is the part of an interval that falls on one date.
type Piece struct {
	// Date is the date, as midnight UTC.
	Date time.Time
	// Duration is how much of the interval falls on that date: more than zero.
	Duration time.Duration
}

// Split cuts the half-open interval [start, end) at the day boundaries of loc, oldest first. An empty or reversed
// interval has no pieces.
func Split(start, end time.Time, loc *time.Location) []Piece {
	var out []Piece
	for start.Before(end) {
		date := Date(start, loc)
		_, next := Bounds(date, loc)
		stop := end
		if next.Before(stop) {
			stop = next
		}
		out = append(out, Piece{Date: date, Duration: stop.Sub(start)})
		start = stop
	}
	return out
}

// Totals is the time a component spent in each status other than operational.
type Totals struct {
	Degraded    time.Duration
	Partial     time.Duration
	Major       time.Duration
	Maintenance time.Duration
}

// Add adds d to the total of status; operational time is not counted.
func (t *Totals) Add(status domain.ComponentStatus, d time.Duration) {
	switch status {
	case domain.ComponentDegradedPerformance:
		t.Degraded += d
	case domain.ComponentPartialOutage:
		t.Partial += d
	case domain.ComponentMajorOutage:
		t.Major += d
	case domain.ComponentUnderMaintenance:
		t.Maintenance += d
	}
}

// Plus returns the sum of two totals.
func (t Totals) Plus(o Totals) Totals {
	return Totals{Degraded: t.Degraded + o.Degraded, Partial: t.Partial + o.Partial, Major: t.Major + o.Major,
		Maintenance: t.Maintenance + o.Maintenance}
}

// Down is the time in partial or major outage: the time that counts against uptime.
func (t Totals) Down() time.Duration { return t.Partial + t.Major }

// Record is what is stored of one date of a component: the closed intervals that touched it.
type Record struct {
	Date   time.Time
	Totals Totals
	// Worst is the worst status the closed intervals had on the date.
	Worst domain.ComponentStatus
	// Incidents are the keys of the incidents that contributed a status other than operational during the date.
	Incidents []string
}

// Merge adds the piece of an interval in status, to which incidents contributed, to the record of its date.
func (r *Record) Merge(status domain.ComponentStatus, p Piece, incidents []string) {
	r.Date = p.Date
	r.Totals.Add(status, p.Duration)
	r.Worst = domain.Worse(orOperational(r.Worst), status)
	r.Incidents = Union(r.Incidents, incidents)
}

func orOperational(s domain.ComponentStatus) domain.ComponentStatus {
	if s == "" {
		return domain.ComponentOperational
	}
	return s
}

// Union returns the sorted set of the keys of a and b.
func Union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// Open is the interval in progress: the status a component has had since a change, and the incidents contributing.
type Open struct {
	Status    domain.ComponentStatus
	Since     time.Time
	Incidents []string
}

// Incident is an incident that touched a day, as customers may see it.
type Incident struct {
	Key  string
	Name string
}

// Day is one date of a component's history as the page shows it.
type Day struct {
	// Date is the date, as midnight UTC.
	Date time.Time
	// Observed is how long the component existed on the date, up to now; zero for no data.
	Observed time.Duration
	Totals   Totals
	// Worst is the worst status of the day, or "" for no data.
	Worst domain.ComponentStatus
	// Incidents touched the day: the source fills in their names and leaves out any that is not public.
	Incidents []Incident
	// Ongoing is the interval in progress when it is not operational and the day is today: its part of Totals is
	// counted up to now, and grows.
	Ongoing *Ongoing
}

// Ongoing is the part of today that the interval in progress covers.
type Ongoing struct {
	Status domain.ComponentStatus
	// Since is when the interval began, maybe on an earlier day.
	Since time.Time
	// Duration is how much of the day's Totals it holds, up to now.
	Duration time.Duration
}

// NoData reports whether the component did not exist on the date (or not yet, for today).
func (d Day) NoData() bool { return d.Observed <= 0 }

// History builds the n days that end with the date of now in loc, oldest first, for a component created at
// created, from the records of its closed intervals (any order; those outside the window are ignored) and its open
// interval, which is counted up to now. An open interval with no Since is ignored.
func History(n int, now time.Time, loc *time.Location, created time.Time, records []Record, open Open) []Day {
	byDate := make(map[time.Time]Record, len(records))
	for _, r := range records {
		byDate[Date(r.Date, time.UTC)] = r
	}
	today := Date(now, loc)
	days := make([]Day, 0, n)
	for i := n - 1; i >= 0; i-- {
		date := today.AddDate(0, 0, -i)
		start, end := Bounds(date, loc)
		d := Day{Date: date, Observed: overlap(start, end, created, now)}
		if d.NoData() {
			days = append(days, d)
			continue
		}
		d.Worst = domain.ComponentOperational
		keys := []string(nil)
		if r, ok := byDate[date]; ok {
			d.Totals = r.Totals
			d.Worst = domain.Worse(d.Worst, orOperational(r.Worst))
			keys = r.Incidents
		}
		if !open.Since.IsZero() {
			if o := overlap(start, end, open.Since, now); o > 0 {
				d.Totals.Add(open.Status, o)
				d.Worst = domain.Worse(d.Worst, open.Status)
				keys = Union(keys, open.Incidents)
				if open.Status != domain.ComponentOperational && now.Before(end) {
					d.Ongoing = &Ongoing{Status: open.Status, Since: open.Since, Duration: o}
				}
			}
		}
		for _, k := range keys {
			d.Incidents = append(d.Incidents, Incident{Key: k})
		}
		days = append(days, d)
	}
	return days
}

// overlap is the length of [a, b) ∩ [from, to).
func overlap(a, b, from, to time.Time) time.Duration {
	if from.After(a) {
		a = from
	}
	if to.Before(b) {
		b = to
	}
	if !a.Before(b) {
		return 0
	}
	return b.Sub(a)
}

// Percent is the uptime of the days in percent, by the package's rule: observed time less partial and major
// outage, over observed time. ok is false when nothing was observed. Outage recorded beyond the observed time (a
// change dated before the component's creation) counts at most the whole observed time.
func Percent(days []Day) (pct float64, ok bool) {
	var observed, down time.Duration
	for _, d := range days {
		if d.NoData() {
			continue
		}
		observed += d.Observed
		down += min(d.Totals.Down(), d.Observed)
	}
	if observed <= 0 {
		return 0, false
	}
	return 100 * float64(observed-down) / float64(observed), true
}

// Floor2 rounds a percentage down to two decimals, so that any outage shows below 100: 99.999 is 99.99, never 100.
// A hair of tolerance keeps a quotient that is exact on paper (95) from showing as 94.99 through rounding error.
func Floor2(pct float64) float64 {
	f := math.Floor(pct*100+1e-6) / 100
	if pct < 100 && f >= 100 {
		return 99.99
	}
	return f
}
