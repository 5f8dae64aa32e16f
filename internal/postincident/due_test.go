package postincident_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/postincident"
)

func TestRCADueCountsSevenBusinessDaysInTheOrganisationsZone(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	newYork, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	at := func(loc *time.Location, s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		require.NoError(t, err)
		return v
	}
	cases := []struct {
		name      string
		loc       *time.Location
		concluded time.Time
		holidays  []string
		// dueDay is on the local day the RCA is due by the end of; its time of day does not matter.
		dueDay time.Time
	}{
		{"a Monday morning: the next Tuesday", berlin, at(berlin, "2026-06-08 09:30"), nil, at(berlin, "2026-06-17 09:30")},
		{"a Friday evening: the weekend never counts", berlin, at(berlin, "2026-06-12 21:45"), nil,
			at(berlin, "2026-06-23 21:45")},
		{"a Friday evening in Berlin is already Friday night in UTC terms, but still Friday locally", berlin,
			at(berlin, "2026-06-12 23:30"), nil, at(berlin, "2026-06-23 23:30")},
		{"a Saturday: counting starts on Monday", berlin, at(berlin, "2026-06-13 10:00"), nil,
			at(berlin, "2026-06-23 10:00")},
		{"the day before a holiday: the holiday is skipped", berlin, at(berlin, "2026-04-30 16:00"),
			[]string{"2026-05-01"}, at(berlin, "2026-05-12 16:00")},
		{"two holidays within the span", berlin, at(berlin, "2026-05-12 08:00"),
			[]string{"2026-05-14", "2026-05-25"}, at(berlin, "2026-05-22 08:00")},
		{"across the autumn change (CEST → CET): same local time", berlin, at(berlin, "2026-10-22 14:00"), nil,
			at(berlin, "2026-11-02 14:00")},
		{"across the spring change (CET → CEST): same local time", berlin, at(berlin, "2026-03-26 09:00"), nil,
			at(berlin, "2026-04-06 09:00")},
		{"across the spring change in New York", newYork, at(newYork, "2026-03-05 18:00"), nil,
			at(newYork, "2026-03-16 18:00")},
		{"at the turn of the year, with its holidays", berlin, at(berlin, "2026-12-23 11:00"),
			[]string{"2026-12-24", "2026-12-25", "2026-12-31", "2027-01-01"}, at(berlin, "2027-01-07 11:00")},
		{"New Year's Eve late at night in UTC", time.UTC, at(time.UTC, "2026-12-31 23:59"),
			[]string{"2027-01-01"}, at(time.UTC, "2027-01-12 23:59")},
		{"a holiday on a weekend changes nothing", berlin, at(berlin, "2026-06-08 09:30"),
			[]string{"2026-06-13"}, at(berlin, "2026-06-17 09:30")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cal := postincident.Calendar{}
			for _, h := range c.holidays {
				cal[h] = true
			}
			got := postincident.RCADue(c.concluded, c.loc, cal)
			y, m, d := c.dueDay.Date()
			want := time.Date(y, m, d, 23, 59, 59, 999999000, c.loc)
			require.True(t, want.Equal(got), "want %s, got %s", want, got.In(c.loc))
			// Whatever the zone, the instant is the same however it was given.
			require.True(t, got.Equal(postincident.RCADue(c.concluded.UTC(), c.loc, cal)))
		})
	}
}

func TestRCADueUsesTheLocalDayNotTheUTCDay(t *testing.T) {
	t.Parallel()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	// 2026-06-12 20:00 UTC is Saturday 05:00 in Tokyo: counting starts on Monday there.
	concluded := time.Date(2026, 6, 12, 20, 0, 0, 0, time.UTC)
	got := postincident.RCADue(concluded, tokyo, nil)
	require.Equal(t, time.Date(2026, 6, 23, 23, 59, 59, 999999000, tokyo).String(), got.String())
}

func TestEndOfLocalDayOnDaylightSavingDays(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	// 29 March 2026 has 23 hours in Berlin, 25 October 25 hours: each still ends at its own local midnight.
	for _, day := range []time.Time{time.Date(2026, 3, 29, 1, 0, 0, 0, berlin), time.Date(2026, 10, 25, 1, 0, 0, 0, berlin)} {
		end := postincident.EndOfLocalDay(day, berlin)
		require.Equal(t, day.Day(), end.In(berlin).Day())
		require.Equal(t, day.Day()+1, end.Add(time.Microsecond).In(berlin).Day())
		require.Equal(t, 0, end.Add(time.Microsecond).In(berlin).Hour())
	}
}

func TestPIRDeadlinesAreOneAndTwoDaysAfterConclusion(t *testing.T) {
	t.Parallel()
	concluded := time.Date(2026, 10, 24, 18, 0, 0, 0, time.UTC)
	target, due := postincident.PIRDeadlines(concluded)
	require.Equal(t, concluded.Add(24*time.Hour), target)
	require.Equal(t, concluded.Add(48*time.Hour), due)
}
