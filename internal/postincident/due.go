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

// RCADue is when the RCA of an incident concluded at concluded is due: the same local time of day in loc on the
// RCABusinessDays-th business day after the local day of conclusion (which never counts itself). The days are
// counted on the calendar, not in hours, so a change of offset in between moves nothing: the answer keeps the local
// time of day. A local time that the due date does not have (skipped by a spring-forward change) becomes the instant
// of the change, as time.Date normalises it.
func RCADue(concluded time.Time, loc *time.Location, cal Calendar) time.Time {
	return AddBusinessDays(concluded, RCABusinessDays, loc, cal)
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
