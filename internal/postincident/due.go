package postincident

import "time"

// PIR deadlines: a target a day after conclusion, due after two.
const (
	PIRTargetAfter = 24 * time.Hour
	PIRDueAfter    = 48 * time.Hour
	// RCABusinessDays is how many business days after the day of conclusion an RCA is due.
	RCABusinessDays = 7
)

// DateLayout is how a calendar date (a holiday) is written.
const DateLayout = "2006-01-02"

// ParseDate reads a calendar date written in DateLayout, refusing years outside 1 to 9999: PostgreSQL would read
// year 0 as another day (1 BC), so such a date is not stored at all.
func ParseDate(s string) (time.Time, bool) {
	d, err := time.Parse(DateLayout, s)
	return d, err == nil && d.Year() >= 1 && d.Year() <= 9999
}

// Calendar says which local dates are holidays; weekends are never business days whatever it says.
type Calendar map[string]bool

// BusinessDay reports whether the civil date (year, month, day) is neither a Saturday, a Sunday nor a holiday.
func (c Calendar) BusinessDay(d time.Time) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !c[d.Format(DateLayout)]
}

// PIRDeadlines are the target and due times of the PIR of an incident concluded at concluded.
func PIRDeadlines(concluded time.Time) (target, due time.Time) {
	return concluded.Add(PIRTargetAfter), concluded.Add(PIRDueAfter)
}

// RCADue is when the RCA of an incident concluded at concluded is due: by the end of the RCABusinessDays-th business
// day after the local day of conclusion in loc (the day of conclusion never counts; weekends and the calendar's
// holidays are skipped) — the last microsecond of that local day, PostgreSQL's precision. The days are counted on the
// calendar, not in hours, so a change of offset in between moves nothing.
func RCADue(concluded time.Time, loc *time.Location, cal Calendar) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return EndOfLocalDay(AddBusinessDays(concluded, RCABusinessDays, loc, cal), loc)
}

// EndOfLocalDay is the last microsecond of t's local day in loc: the instant before the next local midnight, so a
// day that a daylight-saving change makes 23 or 25 hours long still ends at its own midnight.
func EndOfLocalDay(t time.Time, loc *time.Location) time.Time {
	local := t.In(loc)
	return time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc).Add(-time.Microsecond)
}

// AddBusinessDays is the time n business days after t's local date in loc, at t's local time of day.
func AddBusinessDays(t time.Time, n int, loc *time.Location, cal Calendar) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	local := t.In(loc)
	// Civil dates are stepped at noon UTC, where adding a day is always exactly a day.
	day := time.Date(local.Year(), local.Month(), local.Day(), 12, 0, 0, 0, time.UTC)
	for counted := 0; counted < n; {
		day = day.AddDate(0, 0, 1)
		if cal.BusinessDay(day) {
			counted++
		}
	}
	return time.Date(day.Year(), day.Month(), day.Day(), local.Hour(), local.Minute(), local.Second(),
		local.Nanosecond(), loc)
}

// Holiday is a local date of the business-day calendar that is not a business day.
type Holiday struct {
	Date      string    `json:"date"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}
