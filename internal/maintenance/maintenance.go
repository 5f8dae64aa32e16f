// Package maintenance is scheduled maintenance: a one-off window, or a daily or weekly window recurring at a local
// wall-clock time in an IANA zone. It validates maintenances and computes their windows — occurrences, the one
// active at an instant, the phase, the next boundary — as pure functions. Zone rules come from the host's tz database
// when it has one and from the copy embedded in the binary (time/tzdata) when it has none, each zone loaded once.
//
// # Windows and their time zone rules
//
// A one-off maintenance is the half-open window [StartsAt, EndsAt): instants, stored and compared as such.
//
// A recurring maintenance has one occurrence per matching local date (every day for daily, every Weekday for
// weekly) from From to Until, both inclusive, in Zone. An occurrence of local date D is the half-open window
// [start(D), end(D)), where:
//
//   - start(D) is LocalStart on D in Zone. When that wall-clock time does not exist on D (the hour skipped when
//     daylight saving time begins: 02:30 on 2026-03-29 in Europe/Berlin), it moves forward to the first instant
//     that exists after it, the moment of the change (03:00 CEST). When it exists twice (the hour repeated when
//     daylight saving time ends: 02:30 on 2026-10-25 in Europe/Berlin), it is the first of the two (02:30 CEST).
//     Either way D has exactly one occurrence. Go's time.Date does not follow these rules (it moves a skipped time
//     by the size of the gap, sometimes backwards, and picks either instant of a repeated one), so they are
//     implemented here.
//   - end(D), when Duration is a whole number of days N, is LocalStart on D+N by the same rule: "until the same
//     wall-clock time N days later", so a 7-day weekly window ends exactly where the next begins and every start
//     stays at LocalStart, across every change of offset. Otherwise end(D) is start(D) + Duration, elapsed time:
//     a 90-minute window lasts 90 minutes even when the clocks change inside it.
//   - end(D) is never after the start of the next occurrence by frequency (D+1 or D+7): occurrences never overlap.
//
// Validation keeps Duration within one period (a day for daily, a week for weekly), so that cap only trims a
// window of almost a whole period that spans a change of offset.
package maintenance

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zone rules are part of the program, not of the host it runs on

	"github.com/mimhq/mim/internal/domain"
)

// Maintenance is planned work on some components, shown on the status page. It is either one-off (StartsAt,
// EndsAt) or recurring (Recurrence), never both. Every field is public: it may be shown to customers.
type Maintenance struct {
	ID    string
	Title string
	// Body is the customer-facing description, in Markdown.
	Body string
	// Components are the slugs of the components the work covers: they show under_maintenance during a window.
	Components []string
	// StartsAt and EndsAt bound a one-off maintenance; both are zero when it recurs.
	StartsAt time.Time
	EndsAt   time.Time
	// Recurrence is the rule of a recurring maintenance; nil for a one-off.
	Recurrence *Recurrence
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Version counts the maintenance's saves, for optimistic concurrency.
	Version int
}

// Frequency is how often a recurring maintenance repeats.
type Frequency string

// Frequencies.
const (
	Daily  Frequency = "daily"
	Weekly Frequency = "weekly"
)

// Frequencies lists the allowed values.
var Frequencies = []Frequency{Daily, Weekly}

// Recurrence is a window repeating at a local wall-clock time: its fields are kept as the API spells them, and
// Validate checks them.
type Recurrence struct {
	Frequency Frequency
	// Weekday is the day of a weekly window, a lower-case English day name ("tuesday"); empty for daily.
	Weekday string
	// LocalStart is the wall-clock start in Zone, "HH:MM" (24-hour).
	LocalStart string
	// Duration is the length of each window: a whole number of days means calendar days (see the package doc).
	Duration time.Duration
	// Zone is the IANA zone LocalStart is read in, e.g. "Europe/Berlin".
	Zone string
	// From is the first local date an occurrence may fall on, "YYYY-MM-DD".
	From string
	// Until is the last local date an occurrence may start on, "YYYY-MM-DD"; empty for no end.
	Until string
}

// Window is one occurrence: the half-open interval [Start, End). For a recurring maintenance its times are in the
// maintenance's zone, so their clock reads as the zone's wall clock.
type Window struct {
	Start time.Time
	End   time.Time
}

// Contains reports whether t is in the window.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.Start) && t.Before(w.End) }

// Status is where a maintenance stands at an instant: its phase.
type Status string

// Statuses.
const (
	// Upcoming: a window is still to come and none is in progress.
	Upcoming Status = "upcoming"
	// InProgress: the instant is inside a window.
	InProgress Status = "in_progress"
	// Completed: every window has ended.
	Completed Status = "completed"
)

// Limits of a maintenance.
const (
	// MaxDuration bounds any one window.
	MaxDuration = 30 * 24 * time.Hour
	day         = 24 * time.Hour
	// MaxTitle and MaxBody bound the texts, in bytes.
	MaxTitle = 200
	MaxBody  = 20000
)

// Weekdays are the day names Recurrence.Weekday takes, Sunday first as in time.Weekday.
var Weekdays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

var (
	clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)
	datePattern  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// Validate checks a maintenance and normalises it: the title is trimmed, component slugs are de-duplicated in the
// order given, the instants of a one-off are made UTC and cut to the microsecond (what the database keeps). It
// returns a validation error naming each invalid field by its API name (title, components, starts_at, ends_at,
// recurrence.zone, …). Whether the components exist, and whether an input time carried an explicit offset, is for
// the caller to check: a time.Time always has a zone.
func Validate(m *Maintenance) error {
	var v domain.Validator
	m.Title = strings.TrimSpace(m.Title)
	v.Check(m.Title != "", "title", "is required")
	v.Check(len(m.Title) <= MaxTitle, "title", fmt.Sprintf("must be at most %d characters", MaxTitle))
	v.Check(len(m.Body) <= MaxBody, "body", fmt.Sprintf("must be at most %d characters", MaxBody))
	var slugs []string
	for _, s := range m.Components {
		s = strings.TrimSpace(s)
		if s == "" {
			v.Add("components", "holds an empty slug")
			continue
		}
		if !slices.Contains(slugs, s) {
			slugs = append(slugs, s)
		}
	}
	if slugs == nil {
		slugs = []string{}
	}
	m.Components = slugs

	if m.Recurrence == nil {
		validateOneOff(&v, m)
	} else {
		v.Check(m.StartsAt.IsZero(), "starts_at", "must be left out when recurrence is given")
		v.Check(m.EndsAt.IsZero(), "ends_at", "must be left out when recurrence is given")
		validateRecurrence(&v, m.Recurrence)
	}
	return v.Err()
}

func validateOneOff(v *domain.Validator, m *Maintenance) {
	v.Check(!m.StartsAt.IsZero(), "starts_at", "is required (or give recurrence)")
	v.Check(!m.EndsAt.IsZero(), "ends_at", "is required (or give recurrence)")
	if m.StartsAt.IsZero() || m.EndsAt.IsZero() {
		return
	}
	// UTC, to the microsecond: what is stored is what is answered, on every save.
	m.StartsAt, m.EndsAt = m.StartsAt.UTC().Truncate(time.Microsecond), m.EndsAt.UTC().Truncate(time.Microsecond)
	switch d := m.EndsAt.Sub(m.StartsAt); {
	case d <= 0:
		v.Add("ends_at", "must be after starts_at")
	case d > MaxDuration:
		v.Add("ends_at", "must be at most 30 days after starts_at")
	}
}

func validateRecurrence(v *domain.Validator, r *Recurrence) {
	domain.OneOf(v, "recurrence.frequency", r.Frequency, Frequencies)
	r.Weekday = strings.ToLower(strings.TrimSpace(r.Weekday))
	switch r.Frequency {
	case Weekly:
		domain.OneOf(v, "recurrence.weekday", r.Weekday, Weekdays)
	case Daily:
		v.Check(r.Weekday == "", "recurrence.weekday", "must be left out for a daily window")
	}
	if !clockPattern.MatchString(r.LocalStart) {
		v.Add("recurrence.local_start", fmt.Sprintf("%q is not a 24-hour wall-clock time HH:MM, e.g. 22:00", r.LocalStart))
	}
	period := day
	if r.Frequency == Weekly {
		period = 7 * day
	}
	switch {
	case r.Duration <= 0:
		v.Add("recurrence.duration_minutes", "must be more than 0")
	case r.Duration%time.Minute != 0:
		v.Add("recurrence.duration_minutes", "must be a whole number of minutes")
	case r.Duration > period && (r.Frequency == Daily || r.Frequency == Weekly):
		v.Add("recurrence.duration_minutes", fmt.Sprintf("must be at most %d (one %s): windows of one maintenance never overlap",
			int(period/time.Minute), map[Frequency]string{Daily: "day", Weekly: "week"}[r.Frequency]))
	}
	if _, err := loadZone(r.Zone); err != nil {
		v.Add("recurrence.zone", err.Error())
	}
	from, fromOK := parseDate(r.From)
	if !fromOK {
		v.Add("recurrence.from", fmt.Sprintf("%q is not a date YYYY-MM-DD", r.From))
	}
	if r.Until != "" {
		until, ok := parseDate(r.Until)
		switch {
		case !ok:
			v.Add("recurrence.until", fmt.Sprintf("%q is not a date YYYY-MM-DD", r.Until))
		case fromOK && until.Before(from):
			v.Add("recurrence.until", "must not be before recurrence.from")
		case fromOK && r.Frequency == Weekly && slices.Contains(Weekdays, r.Weekday) &&
			firstOnOrAfter(from, weekdayOf(r.Weekday)).After(until):
			v.Add("recurrence.until", "leaves no "+r.Weekday+" between recurrence.from and recurrence.until")
		}
	}
}

// loadZone loads an IANA zone by name. The empty name and "Local" are refused: they would mean the zone of whatever
// host reads the maintenance.
func loadZone(name string) (*time.Location, error) {
	if name == "" {
		return nil, fmt.Errorf("is required: an IANA zone name, e.g. Europe/Berlin or UTC")
	}
	if name == "Local" {
		return nil, fmt.Errorf("%q is not allowed: name the zone, e.g. Europe/Berlin or UTC", name)
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not a known IANA zone name, e.g. Europe/Berlin or UTC", name)
	}
	zones.Store(name, loc)
	return loc, nil
}

// zones caches loaded zones by name: time.LoadLocation reads the tz database on every call, and a status page build
// evaluates every maintenance several times.
var zones sync.Map

// parseDate reads a civil date "YYYY-MM-DD" as midnight UTC, which is how this package carries dates.
func parseDate(s string) (time.Time, bool) {
	if !datePattern.MatchString(s) {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, s)
	// Windows must stay within the years every timestamp format and the database can hold.
	return d, err == nil && d.Year() >= 1970 && d.Year() <= 9000
}

func weekdayOf(name string) time.Weekday { return time.Weekday(slices.Index(Weekdays, name)) }

// firstOnOrAfter is the first date on or after d that falls on wd.
func firstOnOrAfter(d time.Time, wd time.Weekday) time.Time {
	return d.AddDate(0, 0, (int(wd)-int(d.Weekday())+7)%7)
}
