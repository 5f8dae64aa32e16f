package maintenance

import (
	"time"
)

// schedule is a recurrence parsed once: its zone, clock, dates and period.
type schedule struct {
	loc          *time.Location
	hour, minute int
	dur          time.Duration
	// days is the duration in whole days, or 0 when it is not a whole number of days.
	days int
	// step is the period in days: 1 for daily, 7 for weekly.
	step int
	// first is the first occurrence's date; last the last one's, zero for no end. Dates are midnight UTC.
	first, last time.Time
}

// compile parses a valid recurrence; ok is false for one Validate would refuse.
func compile(r *Recurrence) (schedule, bool) {
	var s schedule
	loc, err := loadZone(r.Zone)
	if err != nil {
		return s, false
	}
	m := clockPattern.FindStringSubmatch(r.LocalStart)
	from, ok := parseDate(r.From)
	if m == nil || !ok || r.Duration <= 0 {
		return s, false
	}
	s.loc, s.dur = loc, r.Duration
	s.hour = int(m[1][0]-'0')*10 + int(m[1][1]-'0')
	s.minute = int(m[2][0]-'0')*10 + int(m[2][1]-'0')
	if r.Duration%day == 0 {
		s.days = int(r.Duration / day)
	}
	switch r.Frequency {
	case Daily:
		s.step, s.first = 1, from
	case Weekly:
		if r.Weekday == "" {
			return s, false
		}
		s.step, s.first = 7, firstOnOrAfter(from, weekdayOf(r.Weekday))
	default:
		return s, false
	}
	if r.Until != "" {
		until, ok := parseDate(r.Until)
		if !ok {
			return s, false
		}
		if until.Before(s.first) {
			return s, false // no occurrence at all
		}
		// The last date on the step grid on or before until.
		n := int((until.Unix()-s.first.Unix())/86400) / s.step
		s.last = s.first.AddDate(0, 0, n*s.step)
	}
	return s, true
}

// window is the occurrence of date d (midnight UTC), by the rules of the package doc.
func (s schedule) window(d time.Time) Window {
	start := s.at(d)
	var end time.Time
	if s.days > 0 {
		end = s.at(d.AddDate(0, 0, s.days))
	} else {
		end = start.Add(s.dur)
	}
	if next := s.at(d.AddDate(0, 0, s.step)); end.After(next) {
		end = next
	}
	return Window{Start: start.In(s.loc), End: end.In(s.loc)}
}

// at is the schedule's wall-clock time on date d, in its zone.
func (s schedule) at(d time.Time) time.Time {
	return LocalInstant(d.Year(), d.Month(), d.Day(), s.hour, s.minute, s.loc)
}

// dateIndex is the index on the step grid of the first occurrence whose date is on or after d, never below 0.
func (s schedule) dateIndex(d time.Time) int {
	if !d.After(s.first) {
		return 0
	}
	days := int((d.Unix() - s.first.Unix()) / 86400) // not Sub: a Duration saturates at 292 years
	return (days + s.step - 1) / s.step
}

// each calls fn with the windows in order, starting with the occurrence of the first grid date on or after from
// (midnight UTC), until fn returns false or the occurrences end.
func (s schedule) each(from time.Time, fn func(Window) bool) {
	for i := s.dateIndex(from); ; i++ {
		d := s.first.AddDate(0, 0, i*s.step)
		if !s.last.IsZero() && d.After(s.last) {
			return
		}
		if !fn(s.window(d)) {
			return
		}
	}
}

// lookback is how many days before an instant's local date an occurrence that still covers it may have started: a
// window lasts at most MaxDuration, and offsets differ from UTC by less than a day.
const lookback = int(MaxDuration/day) + 2

// localDate is the date of t in loc, as midnight UTC.
func localDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Occurrences returns the windows of m that overlap [from, to), in order. A one-off maintenance has at most one.
func Occurrences(m Maintenance, from, to time.Time) []Window {
	var out []Window
	if !to.After(from) {
		return out
	}
	if m.Recurrence == nil {
		w := Window{Start: m.StartsAt, End: m.EndsAt}
		if w.End.After(w.Start) && w.Start.Before(to) && w.End.After(from) {
			out = append(out, w)
		}
		return out
	}
	s, ok := compile(m.Recurrence)
	if !ok {
		return out
	}
	s.each(localDate(from, s.loc).AddDate(0, 0, -lookback), func(w Window) bool {
		if !w.Start.Before(to) {
			return false
		}
		if w.End.After(from) {
			out = append(out, w)
		}
		return true
	})
	return out
}

// ActiveAt returns the window of m that contains t, if one does.
func ActiveAt(m Maintenance, t time.Time) (Window, bool) {
	for _, w := range Occurrences(m, t, t.Add(time.Nanosecond)) {
		if w.Contains(t) {
			return w, true
		}
	}
	return Window{}, false
}

// Next returns the first window of m that starts after t, if there is one.
func Next(m Maintenance, t time.Time) (Window, bool) {
	if m.Recurrence == nil {
		w := Window{Start: m.StartsAt, End: m.EndsAt}
		return w, w.End.After(w.Start) && w.Start.After(t)
	}
	s, ok := compile(m.Recurrence)
	if !ok {
		return Window{}, false
	}
	var found Window
	var have bool
	s.each(localDate(t, s.loc).AddDate(0, 0, -1), func(w Window) bool {
		if w.Start.After(t) {
			found, have = w, true
			return false
		}
		return true
	})
	return found, have
}

// Last returns the last window of m that has ended at t (End ≤ t), if there is one.
func Last(m Maintenance, t time.Time) (Window, bool) {
	if m.Recurrence == nil {
		w := Window{Start: m.StartsAt, End: m.EndsAt}
		return w, w.End.After(w.Start) && !w.End.After(t)
	}
	s, ok := compile(m.Recurrence)
	if !ok {
		return Window{}, false
	}
	from := localDate(t, s.loc).AddDate(0, 0, -lookback)
	if !s.last.IsZero() && s.last.Before(from) {
		from = s.last // ended long ago: only the very last occurrence can be the answer
	}
	var found Window
	var have bool
	s.each(from, func(w Window) bool {
		if w.End.After(t) {
			return false
		}
		found, have = w, true
		return true
	})
	return found, have
}

// Current returns the window that describes m at t: the one in progress, else the next to come, else the last that
// ended. It is false only for a maintenance with no window at all.
func Current(m Maintenance, t time.Time) (Window, bool) {
	if w, ok := ActiveAt(m, t); ok {
		return w, true
	}
	if w, ok := Next(m, t); ok {
		return w, true
	}
	return Last(m, t)
}

// Phase returns where m stands at now: in progress inside a window, upcoming while a window is still to come,
// completed once every window has ended.
func Phase(m Maintenance, now time.Time) Status {
	if _, ok := ActiveAt(m, now); ok {
		return InProgress
	}
	if _, ok := Next(m, now); ok {
		return Upcoming
	}
	return Completed
}

// NextBoundary returns the first instant after t at which a window of m starts or ends: when what the status page
// shows for m changes next. It is false when nothing changes any more.
func NextBoundary(m Maintenance, t time.Time) (time.Time, bool) {
	var at time.Time
	if w, ok := ActiveAt(m, t); ok {
		at = w.End
	}
	if w, ok := Next(m, t); ok && (at.IsZero() || w.Start.Before(at)) {
		at = w.Start
	}
	return at, !at.IsZero()
}

// LastBoundary returns the latest instant at or before t at which a window of m started or ended, looking back no
// further than MaxDuration: when what the status page shows for m last changed.
func LastBoundary(m Maintenance, t time.Time) (time.Time, bool) {
	var at time.Time
	if w, ok := ActiveAt(m, t); ok {
		at = w.Start
	} else if w, ok := Last(m, t); ok {
		at = w.End
	}
	return at, !at.IsZero() && t.Sub(at) <= MaxDuration
}

// LocalInstant is the instant the wall clock in loc shows hour:minute on the date, by this package's rules: a time
// skipped by a change of offset moves forward to the instant of the change, and a repeated time is its first
// instant. (time.Date leaves both unspecified.)
func LocalInstant(year int, month time.Month, dayOfMonth, hour, minute int, loc *time.Location) time.Time {
	wall := time.Date(year, month, dayOfMonth, hour, minute, 0, 0, time.UTC)
	// The zone's periods (offset, and the instant each begins) around the wall time: offsets are within a day of
	// UTC, so two days either side hold every instant that could show it.
	type period struct {
		start  time.Time
		offset int
	}
	var periods []period
	probe := wall.Add(-48 * time.Hour)
	for range 16 {
		t := probe.In(loc)
		_, off := t.Zone()
		periods = append(periods, period{start: probe, offset: off})
		_, end := t.ZoneBounds()
		if end.IsZero() || end.After(wall.Add(48*time.Hour)) {
			break
		}
		probe = end
	}
	var best time.Time
	for _, p := range periods {
		u := wall.Add(-time.Duration(p.offset) * time.Second)
		if wallClock(u, loc).Equal(wall) && (best.IsZero() || u.Before(best)) {
			best = u
		}
	}
	if !best.IsZero() {
		return best.In(loc)
	}
	// Skipped: the first instant whose wall clock is past it is the start of the period that skipped it.
	for _, p := range periods[1:] {
		if wallClock(p.start.Add(-time.Nanosecond), loc).Before(wall) && wallClock(p.start, loc).After(wall) {
			return p.start.In(loc)
		}
	}
	return time.Date(year, month, dayOfMonth, hour, minute, 0, 0, loc) // not reached for real zones
}

// wallClock is what the wall clock in loc shows at t, as a UTC time.
func wallClock(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}
