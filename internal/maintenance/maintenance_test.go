package maintenance

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
)

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func recurring(r Recurrence) Maintenance {
	return Maintenance{ID: "m", Title: "Window", Components: []string{"api"}, Recurrence: &r}
}

// bc03Daily is BC-03's daily window: created 2026-02-15, 22:00–23:30 Europe/Berlin.
var bc03Daily = recurring(Recurrence{Frequency: Daily, LocalStart: "22:00", Duration: 90 * time.Minute,
	Zone: "Europe/Berlin", From: "2026-02-15"})

// bc03Weekly is BC-03's weekly window: Tuesdays 09:00 America/Chicago, lasting exactly 7 days, from 2024-10-01.
var bc03Weekly = recurring(Recurrence{Frequency: Weekly, Weekday: "tuesday", LocalStart: "09:00",
	Duration: 7 * 24 * time.Hour, Zone: "America/Chicago", From: "2024-10-01"})

// Go's time.Date leaves the instant of a skipped or repeated wall-clock time unspecified. This records what it does
// (checked, not assumed): it moves a skipped time by the size of the gap — forward in Berlin, backward in Chicago —
// and picks either instant of a repeated one. LocalInstant therefore does not use it for those times.
func TestTimeDateDoesNotFollowTheDocumentedRules(t *testing.T) {
	t.Parallel()
	berlin, chicago := zone(t, "Europe/Berlin"), zone(t, "America/Chicago")
	observed := []struct {
		got  time.Time
		ours time.Time
	}{
		{time.Date(2026, 3, 29, 2, 30, 0, 0, berlin), LocalInstant(2026, 3, 29, 2, 30, berlin)},
		{time.Date(2025, 3, 9, 2, 30, 0, 0, chicago), LocalInstant(2025, 3, 9, 2, 30, chicago)},
		{time.Date(2026, 10, 25, 2, 30, 0, 0, berlin), LocalInstant(2026, 10, 25, 2, 30, berlin)},
	}
	differ := 0
	for _, o := range observed {
		if !o.got.Equal(o.ours) {
			differ++
		}
	}
	require.Positive(t, differ, "time.Date now follows the documented rules; LocalInstant could use it")
}

func TestLocalInstantMovesSkippedTimesForwardAndTakesTheFirstOfRepeatedOnes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		zone      string
		date      string
		h, m      int
		want      string // UTC
		wantClock string // the wall clock it shows, with the zone's abbreviation
	}{
		{"an ordinary winter time", "Europe/Berlin", "2026-02-20", 22, 0, "2026-02-20T21:00:00Z", "22:00 CET"},
		{"an ordinary summer time", "Europe/Berlin", "2026-04-01", 22, 0, "2026-04-01T20:00:00Z", "22:00 CEST"},
		{"skipped 02:30 in Berlin moves to 03:00 CEST", "Europe/Berlin", "2026-03-29", 2, 30, "2026-03-29T01:00:00Z", "03:00 CEST"},
		{"skipped 02:00 in Berlin is 03:00 CEST", "Europe/Berlin", "2026-03-29", 2, 0, "2026-03-29T01:00:00Z", "03:00 CEST"},
		{"03:00 in Berlin on the change day", "Europe/Berlin", "2026-03-29", 3, 0, "2026-03-29T01:00:00Z", "03:00 CEST"},
		{"repeated 02:30 in Berlin is the first, CEST", "Europe/Berlin", "2026-10-25", 2, 30, "2026-10-25T00:30:00Z", "02:30 CEST"},
		{"repeated 02:00 in Berlin is the first, CEST", "Europe/Berlin", "2026-10-25", 2, 0, "2026-10-25T00:00:00Z", "02:00 CEST"},
		{"03:00 in Berlin after the repeat", "Europe/Berlin", "2026-10-25", 3, 0, "2026-10-25T02:00:00Z", "03:00 CET"},
		{"skipped 02:30 in Chicago moves to 03:00 CDT", "America/Chicago", "2025-03-09", 2, 30, "2025-03-09T08:00:00Z", "03:00 CDT"},
		{"repeated 01:30 in Chicago is the first, CDT", "America/Chicago", "2024-11-03", 1, 30, "2024-11-03T06:30:00Z", "01:30 CDT"},
		{"half-hour change: skipped 02:15 on Lord Howe", "Australia/Lord_Howe", "2026-10-04", 2, 15, "2026-10-03T15:30:00Z", "02:30 +11"},
		{"half-hour change: repeated 01:45 on Lord Howe", "Australia/Lord_Howe", "2026-04-05", 1, 45, "2026-04-04T14:45:00Z", "01:45 +11"},
		{"UTC has no changes", "UTC", "2026-03-29", 2, 30, "2026-03-29T02:30:00Z", "02:30 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := time.Parse(time.DateOnly, tt.date)
			require.NoError(t, err)
			got := LocalInstant(d.Year(), d.Month(), d.Day(), tt.h, tt.m, zone(t, tt.zone))
			require.Equal(t, at(t, tt.want).UTC(), got.UTC())
			require.Equal(t, tt.wantClock, got.Format("15:04 MST"))
		})
	}
}

// BC-03, daily: a window created in winter keeps its local clock all summer.
func TestBC03DailyWindowFollowsTheLocalClockAcrossDST(t *testing.T) {
	t.Parallel()
	require.NoError(t, Validate(&bc03Daily))
	tests := []struct {
		at     string
		active bool
	}{
		{"2026-02-20T21:15:00Z", true},  // 22:15 CET
		{"2026-04-01T20:15:00Z", true},  // 22:15 CEST
		{"2026-04-01T21:45:00Z", false}, // 23:45 CEST: a window that ignored DST would still be open
		{"2026-04-01T19:59:59Z", false}, // 21:59:59 CEST
		{"2026-04-01T20:00:00Z", true},  // the start is inside
		{"2026-04-01T21:30:00Z", false}, // the end is not
		{"2026-02-14T21:15:00Z", false}, // before From
	}
	for _, tt := range tests {
		w, ok := ActiveAt(bc03Daily, at(t, tt.at))
		require.Equal(t, tt.active, ok, tt.at)
		if ok {
			require.Equal(t, "22:00", w.Start.Format("15:04"), tt.at)
			require.Equal(t, "23:30", w.End.Format("15:04"), tt.at)
			require.Equal(t, 90*time.Minute, w.End.Sub(w.Start))
		}
	}
}

// BC-03, weekly: "exactly 7 days" means until the same local time a week later, so occurrences tile the time line.
func TestBC03WeeklyWindowsTileAcrossBothChanges(t *testing.T) {
	t.Parallel()
	require.NoError(t, Validate(&bc03Weekly))
	chicago := zone(t, "America/Chicago")
	from := time.Date(2024, 10, 1, 0, 0, 0, 0, chicago)
	to := time.Date(2025, 4, 2, 0, 0, 0, 0, chicago)
	ws := Occurrences(bc03Weekly, from, to)
	require.Len(t, ws, 27, "every Tuesday from 2024-10-01 to 2025-04-01")
	require.Equal(t, "2024-10-01 09:00 CDT", ws[0].Start.Format("2006-01-02 15:04 MST"))
	require.Equal(t, "2025-04-01 09:00 CDT", ws[26].Start.Format("2006-01-02 15:04 MST"))
	var lengths = map[time.Duration]int{}
	for i, w := range ws {
		require.Equal(t, time.Tuesday, w.Start.Weekday(), i)
		require.Equal(t, "09:00", w.Start.In(chicago).Format("15:04"), "start %d", i)
		require.Equal(t, "09:00", w.End.In(chicago).Format("15:04"), "end %d", i)
		if i > 0 {
			require.True(t, ws[i-1].End.Equal(w.Start), "no gap and no overlap before %s", w.Start)
		}
		lengths[w.End.Sub(w.Start)]++
	}
	require.Equal(t, map[time.Duration]int{168 * time.Hour: 25, 169 * time.Hour: 1, 167 * time.Hour: 1}, lengths,
		"the week over 2024-11-03 has 169 hours, the one over 2025-03-09 has 167")

	// Active at every instant from the first start, including both changes.
	for _, s := range []string{"2024-11-03T06:30:00Z", "2024-11-03T07:30:00Z", "2025-03-09T08:00:00Z",
		"2024-10-08T14:00:00Z", "2024-10-08T13:59:59Z"} {
		_, ok := ActiveAt(bc03Weekly, at(t, s))
		require.True(t, ok, s)
	}
	_, ok := ActiveAt(bc03Weekly, at(t, "2024-10-01T13:59:59Z"))
	require.False(t, ok, "before the first start")
}

// BC-03, edge days: a daily 02:30 Berlin window has exactly one occurrence on the day 02:30 does not exist, and on
// the day it exists twice.
func TestBC03SkippedAndRepeatedStartGiveExactlyOneOccurrence(t *testing.T) {
	t.Parallel()
	berlin := zone(t, "Europe/Berlin")
	m := recurring(Recurrence{Frequency: Daily, LocalStart: "02:30", Duration: 30 * time.Minute,
		Zone: "Europe/Berlin", From: "2026-01-01"})
	require.NoError(t, Validate(&m))
	tests := []struct {
		day        time.Time
		start, end string
		clock      string
	}{
		{time.Date(2026, 3, 29, 0, 0, 0, 0, berlin), "2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z", "03:00 CEST"},
		{time.Date(2026, 10, 25, 0, 0, 0, 0, berlin), "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", "02:30 CEST"},
		{time.Date(2026, 3, 28, 0, 0, 0, 0, berlin), "2026-03-28T01:30:00Z", "2026-03-28T02:00:00Z", "02:30 CET"},
	}
	for _, tt := range tests {
		ws := Occurrences(m, tt.day, tt.day.AddDate(0, 0, 1))
		require.Len(t, ws, 1, tt.day)
		require.Equal(t, at(t, tt.start), ws[0].Start.UTC(), tt.day)
		require.Equal(t, at(t, tt.end), ws[0].End.UTC(), tt.day)
		require.Equal(t, tt.clock, ws[0].Start.Format("15:04 MST"))
	}
	// The second 02:30 of 2026-10-25 (CET) is not a window.
	_, ok := ActiveAt(m, at(t, "2026-10-25T01:40:00Z"))
	require.False(t, ok)
}

func TestDurationsThatAreNotWholeDaysAreElapsedTime(t *testing.T) {
	t.Parallel()
	// 01:30–03:30 Berlin on the spring change day: two hours elapse, so it ends at 04:30 CEST by the wall clock.
	m := recurring(Recurrence{Frequency: Daily, LocalStart: "01:30", Duration: 2 * time.Hour,
		Zone: "Europe/Berlin", From: "2026-03-29", Until: "2026-03-29"})
	require.NoError(t, Validate(&m))
	ws := Occurrences(m, at(t, "2026-03-01T00:00:00Z"), at(t, "2026-05-01T00:00:00Z"))
	require.Len(t, ws, 1)
	require.Equal(t, at(t, "2026-03-29T00:30:00Z"), ws[0].Start.UTC())
	require.Equal(t, at(t, "2026-03-29T02:30:00Z"), ws[0].End.UTC())
	require.Equal(t, "04:30 CEST", ws[0].End.Format("15:04 MST"))

	// A whole day is a calendar day: 23 hours on the spring change day.
	m.Recurrence.Duration = 24 * time.Hour
	ws = Occurrences(m, at(t, "2026-03-01T00:00:00Z"), at(t, "2026-05-01T00:00:00Z"))
	require.Len(t, ws, 1)
	require.Equal(t, 23*time.Hour, ws[0].End.Sub(ws[0].Start))
	require.Equal(t, "01:30 CET", ws[0].Start.Format("15:04 MST"))
	require.Equal(t, "01:30 CEST", ws[0].End.Format("15:04 MST"))
}

func TestOccurrencesNeverOverlapTheNext(t *testing.T) {
	t.Parallel()
	// Half an hour short of a week, elapsed: across the spring change that would end 30 minutes after the next start.
	m := recurring(Recurrence{Frequency: Weekly, Weekday: "tuesday", LocalStart: "09:00",
		Duration: 7*24*time.Hour - 30*time.Minute, Zone: "America/Chicago", From: "2025-03-04"})
	require.NoError(t, Validate(&m))
	ws := Occurrences(m, at(t, "2025-03-04T00:00:00Z"), at(t, "2025-03-19T00:00:00Z"))
	require.Len(t, ws, 3)
	require.True(t, ws[0].End.Equal(ws[1].Start), "capped at the next start: %s", ws[0].End)
	require.Equal(t, 167*time.Hour+30*time.Minute, ws[1].End.Sub(ws[1].Start))
}

func TestWeeklyStartsOnTheFirstMatchingDayAndEndsOnUntil(t *testing.T) {
	t.Parallel()
	// From a Wednesday: the first Tuesday is six days later; until a Monday: the last Tuesday is the day before.
	m := recurring(Recurrence{Frequency: Weekly, Weekday: "tuesday", LocalStart: "05:00", Duration: time.Hour,
		Zone: "UTC", From: "2026-09-16", Until: "2026-10-05"})
	require.NoError(t, Validate(&m))
	ws := Occurrences(m, at(t, "2026-01-01T00:00:00Z"), at(t, "2027-01-01T00:00:00Z"))
	require.Len(t, ws, 2)
	require.Equal(t, at(t, "2026-09-22T05:00:00Z"), ws[0].Start.UTC())
	require.Equal(t, at(t, "2026-09-29T05:00:00Z"), ws[1].Start.UTC())
	require.Equal(t, at(t, "2026-09-29T06:00:00Z"), ws[1].End.UTC())
}

func TestPhaseCurrentAndBoundaries(t *testing.T) {
	t.Parallel()
	oneOff := Maintenance{Title: "DB upgrade", StartsAt: at(t, "2026-03-10T19:00:00Z"), EndsAt: at(t, "2026-03-10T21:00:00Z")}
	weekly := recurring(Recurrence{Frequency: Weekly, Weekday: "tuesday", LocalStart: "05:00", Duration: time.Hour,
		Zone: "UTC", From: "2026-09-22", Until: "2026-09-29"})
	daily := bc03Daily
	tests := []struct {
		name     string
		m        Maintenance
		now      string
		phase    Status
		current  [2]string // start, end; empty for none
		next     string    // next boundary; empty for none
		last     string    // last boundary; empty for none
		activeOK bool
	}{
		{"one-off before", oneOff, "2026-03-10T18:00:00Z", Upcoming,
			[2]string{"2026-03-10T19:00:00Z", "2026-03-10T21:00:00Z"}, "2026-03-10T19:00:00Z", "", false},
		{"one-off at its start", oneOff, "2026-03-10T19:00:00Z", InProgress,
			[2]string{"2026-03-10T19:00:00Z", "2026-03-10T21:00:00Z"}, "2026-03-10T21:00:00Z", "2026-03-10T19:00:00Z", true},
		{"one-off at its end", oneOff, "2026-03-10T21:00:00Z", Completed,
			[2]string{"2026-03-10T19:00:00Z", "2026-03-10T21:00:00Z"}, "", "2026-03-10T21:00:00Z", false},
		{"weekly before the first", weekly, "2026-09-01T00:00:00Z", Upcoming,
			[2]string{"2026-09-22T05:00:00Z", "2026-09-22T06:00:00Z"}, "2026-09-22T05:00:00Z", "", false},
		{"weekly between two", weekly, "2026-09-23T00:00:00Z", Upcoming,
			[2]string{"2026-09-29T05:00:00Z", "2026-09-29T06:00:00Z"}, "2026-09-29T05:00:00Z", "2026-09-22T06:00:00Z", false},
		{"weekly in the last", weekly, "2026-09-29T05:30:00Z", InProgress,
			[2]string{"2026-09-29T05:00:00Z", "2026-09-29T06:00:00Z"}, "2026-09-29T06:00:00Z", "2026-09-29T05:00:00Z", true},
		{"weekly after until", weekly, "2026-10-20T00:00:00Z", Completed,
			[2]string{"2026-09-29T05:00:00Z", "2026-09-29T06:00:00Z"}, "", "2026-09-29T06:00:00Z", false},
		{"daily without end, during a window", daily, "2026-04-01T20:15:00Z", InProgress,
			[2]string{"2026-04-01T20:00:00Z", "2026-04-01T21:30:00Z"}, "2026-04-01T21:30:00Z", "2026-04-01T20:00:00Z", true},
		{"daily without end, after a window", daily, "2026-04-01T21:45:00Z", Upcoming,
			[2]string{"2026-04-02T20:00:00Z", "2026-04-02T21:30:00Z"}, "2026-04-02T20:00:00Z", "2026-04-01T21:30:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := at(t, tt.now)
			require.Equal(t, tt.phase, Phase(tt.m, now))
			_, ok := ActiveAt(tt.m, now)
			require.Equal(t, tt.activeOK, ok)
			w, ok := Current(tt.m, now)
			require.True(t, ok)
			require.Equal(t, at(t, tt.current[0]), w.Start.UTC())
			require.Equal(t, at(t, tt.current[1]), w.End.UTC())
			next, ok := NextBoundary(tt.m, now)
			require.Equal(t, tt.next != "", ok)
			if ok {
				require.Equal(t, at(t, tt.next), next.UTC())
			}
			last, ok := LastBoundary(tt.m, now)
			require.Equal(t, tt.last != "", ok)
			if ok {
				require.Equal(t, at(t, tt.last), last.UTC())
			}
		})
	}
}

func TestValidateNamesEachInvalidField(t *testing.T) {
	t.Parallel()
	start := at(t, "2026-03-10T19:00:00Z")
	valid := func() Maintenance {
		return Maintenance{Title: "DB upgrade", Components: []string{"api"}, StartsAt: start, EndsAt: start.Add(time.Hour)}
	}
	rec := func(r Recurrence) Maintenance {
		m := valid()
		m.StartsAt, m.EndsAt = time.Time{}, time.Time{}
		m.Recurrence = &r
		return m
	}
	weekly := Recurrence{Frequency: Weekly, Weekday: "tuesday", LocalStart: "05:00", Duration: time.Hour, Zone: "UTC", From: "2026-09-22"}
	with := func(f func(*Recurrence)) Maintenance { r := weekly; f(&r); return rec(r) }
	tests := []struct {
		name   string
		m      Maintenance
		fields []string
	}{
		{"valid one-off", valid(), nil},
		{"valid weekly", rec(weekly), nil},
		{"valid daily of a whole day", rec(Recurrence{Frequency: Daily, LocalStart: "00:00", Duration: 24 * time.Hour, Zone: "Asia/Shanghai", From: "2026-01-01"}), nil},
		{"no title", func() Maintenance { m := valid(); m.Title = "  "; return m }(), []string{"title"}},
		{"ends before it starts", func() Maintenance { m := valid(); m.EndsAt = start.Add(-time.Minute); return m }(), []string{"ends_at"}},
		{"ends as it starts", func() Maintenance { m := valid(); m.EndsAt = start; return m }(), []string{"ends_at"}},
		{"longer than 30 days", func() Maintenance { m := valid(); m.EndsAt = start.Add(MaxDuration + time.Minute); return m }(), []string{"ends_at"}},
		{"no window at all", Maintenance{Title: "x"}, []string{"starts_at", "ends_at"}},
		{"both a window and a recurrence", func() Maintenance { m := valid(); r := weekly; m.Recurrence = &r; return m }(), []string{"starts_at", "ends_at"}},
		{"an empty slug", func() Maintenance { m := valid(); m.Components = []string{""}; return m }(), []string{"components"}},
		{"unknown frequency", with(func(r *Recurrence) { r.Frequency = "monthly" }), []string{"recurrence.frequency"}},
		{"weekly without weekday", with(func(r *Recurrence) { r.Weekday = "" }), []string{"recurrence.weekday"}},
		{"weekly with a bad weekday", with(func(r *Recurrence) { r.Weekday = "tue" }), []string{"recurrence.weekday"}},
		{"daily with a weekday", with(func(r *Recurrence) { r.Frequency = Daily }), []string{"recurrence.weekday"}},
		{"local start not HH:MM", with(func(r *Recurrence) { r.LocalStart = "5:00" }), []string{"recurrence.local_start"}},
		{"local start 24:00", with(func(r *Recurrence) { r.LocalStart = "24:00" }), []string{"recurrence.local_start"}},
		{"local start with seconds", with(func(r *Recurrence) { r.LocalStart = "05:00:00" }), []string{"recurrence.local_start"}},
		{"zero duration", with(func(r *Recurrence) { r.Duration = 0 }), []string{"recurrence.duration_minutes"}},
		{"negative duration", with(func(r *Recurrence) { r.Duration = -time.Hour }), []string{"recurrence.duration_minutes"}},
		{"weekly longer than a week", with(func(r *Recurrence) { r.Duration = 7*24*time.Hour + time.Minute }), []string{"recurrence.duration_minutes"}},
		{"daily longer than a day", with(func(r *Recurrence) { r.Frequency, r.Weekday, r.Duration = Daily, "", 25*time.Hour }), []string{"recurrence.duration_minutes"}},
		{"no zone", with(func(r *Recurrence) { r.Zone = "" }), []string{"recurrence.zone"}},
		{"Local zone", with(func(r *Recurrence) { r.Zone = "Local" }), []string{"recurrence.zone"}},
		{"unknown zone", with(func(r *Recurrence) { r.Zone = "Europe/Atlantis" }), []string{"recurrence.zone"}},
		{"an offset is not a zone", with(func(r *Recurrence) { r.Zone = "+01:00" }), []string{"recurrence.zone"}},
		{"bad from", with(func(r *Recurrence) { r.From = "22.09.2026" }), []string{"recurrence.from"}},
		{"from that is no date", with(func(r *Recurrence) { r.From = "2026-02-30" }), []string{"recurrence.from"}},
		{"until before from", with(func(r *Recurrence) { r.Until = "2026-09-01" }), []string{"recurrence.until"}},
		{"until leaves no weekday", with(func(r *Recurrence) { r.From, r.Until = "2026-09-23", "2026-09-28" }), []string{"recurrence.until"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := tt.m
			err := Validate(&m)
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			e := domain.AsError(err)
			require.Equal(t, domain.ErrInvalid, e.Kind)
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			require.Equal(t, tt.fields, got)
		})
	}
}

func TestValidateNormalises(t *testing.T) {
	t.Parallel()
	berlin := zone(t, "Europe/Berlin")
	m := Maintenance{Title: "  DB upgrade ", Components: []string{"api", "db", "api"},
		StartsAt: time.Date(2026, 3, 10, 20, 0, 0, 0, berlin), EndsAt: time.Date(2026, 3, 10, 22, 0, 0, 0, berlin)}
	require.NoError(t, Validate(&m))
	require.Equal(t, "DB upgrade", m.Title)
	require.Equal(t, []string{"api", "db"}, m.Components)
	require.Equal(t, time.UTC, m.StartsAt.Location())
	require.Equal(t, at(t, "2026-03-10T19:00:00Z"), m.StartsAt)
	m.StartsAt = m.StartsAt.Add(999 * time.Nanosecond)
	require.NoError(t, Validate(&m))
	require.Equal(t, at(t, "2026-03-10T19:00:00Z"), m.StartsAt, "cut to the microsecond the database keeps")

	r := Maintenance{Title: "x", Recurrence: &Recurrence{Frequency: Weekly, Weekday: " Tuesday", LocalStart: "05:00",
		Duration: time.Hour, Zone: "UTC", From: "2026-09-22"}}
	require.NoError(t, Validate(&r))
	require.Equal(t, "tuesday", r.Recurrence.Weekday)
	require.Equal(t, []string{}, r.Components)
}

func TestOccurrencesOfAnInvalidOrEmptyRangeAreNone(t *testing.T) {
	t.Parallel()
	require.Empty(t, Occurrences(bc03Daily, at(t, "2026-04-01T00:00:00Z"), at(t, "2026-04-01T00:00:00Z")))
	bad := recurring(Recurrence{Frequency: Daily, LocalStart: "25:00", Duration: time.Hour, Zone: "UTC", From: "2026-01-01"})
	require.Empty(t, Occurrences(bad, at(t, "2026-01-01T00:00:00Z"), at(t, "2026-02-01T00:00:00Z")))
	require.Equal(t, Completed, Phase(bad, at(t, "2026-01-01T00:00:00Z")))
	// A range far from the start does not walk every day in between.
	ws := Occurrences(bc03Daily, at(t, "2400-01-01T00:00:00Z"), at(t, "2400-01-03T00:00:00Z"))
	require.Len(t, ws, 2)
}
