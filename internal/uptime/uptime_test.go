package uptime

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

func date(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.DateOnly, s)
	require.NoError(t, err)
	return v
}

func TestBoundsOfADayFollowTheZonesChangesOfOffset(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, zone, date string
		start            string
		length           time.Duration
	}{
		{"an ordinary UTC day", "UTC", "2026-05-06", "2026-05-06T00:00:00Z", 24 * time.Hour},
		{"Berlin springs forward: 23 hours", "Europe/Berlin", "2026-03-29", "2026-03-29T00:00:00+01:00", 23 * time.Hour},
		{"Berlin falls back: 25 hours", "Europe/Berlin", "2026-10-25", "2026-10-25T00:00:00+02:00", 25 * time.Hour},
		{"the day after the change is 24 hours again", "Europe/Berlin", "2026-03-30", "2026-03-30T00:00:00+02:00", 24 * time.Hour},
		{"Santiago skips midnight: the day starts at the change", "America/Santiago", "2026-09-06",
			"2026-09-06T01:00:00-03:00", 23 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start, end := Bounds(date(t, tc.date), zone(t, tc.zone))
			require.True(t, at(t, tc.start).Equal(start), "start %s", start)
			require.Equal(t, tc.length, end.Sub(start))
		})
	}
}

func TestDateIsTheCivilDateInTheZone(t *testing.T) {
	t.Parallel()
	berlin := zone(t, "Europe/Berlin")
	require.Equal(t, date(t, "2026-05-07"), Date(at(t, "2026-05-06T22:30:00Z"), berlin), "00:30 in Berlin")
	require.Equal(t, date(t, "2026-05-06"), Date(at(t, "2026-05-06T22:30:00Z"), time.UTC))
	require.Equal(t, time.UTC, Date(at(t, "2026-05-06T22:30:00+02:00"), berlin).Location())
}

func TestSplitCutsAnIntervalAtEachDayBoundary(t *testing.T) {
	t.Parallel()
	type piece struct {
		date string
		d    time.Duration
	}
	for _, tc := range []struct {
		name, zone, start, end string
		want                   []piece
	}{
		{"within one day", "UTC", "2026-05-06T10:00:00Z", "2026-05-06T12:30:00Z",
			[]piece{{"2026-05-06", 150 * time.Minute}}},
		{"across midnight", "UTC", "2026-05-06T23:30:00Z", "2026-05-07T00:45:00Z",
			[]piece{{"2026-05-06", 30 * time.Minute}, {"2026-05-07", 45 * time.Minute}}},
		{"ending exactly at midnight leaves nothing on the next day", "UTC", "2026-05-06T22:00:00Z", "2026-05-07T00:00:00Z",
			[]piece{{"2026-05-06", 2 * time.Hour}}},
		{"a 3-day outage over four dates", "UTC", "2026-05-06T22:00:00Z", "2026-05-09T22:00:00Z",
			[]piece{{"2026-05-06", 2 * time.Hour}, {"2026-05-07", 24 * time.Hour}, {"2026-05-08", 24 * time.Hour},
				{"2026-05-09", 22 * time.Hour}}},
		{"across Berlin's spring change: the middle day has 23 hours", "Europe/Berlin",
			"2026-03-28T22:00:00+01:00", "2026-03-30T02:00:00+02:00",
			[]piece{{"2026-03-28", 2 * time.Hour}, {"2026-03-29", 23 * time.Hour}, {"2026-03-30", 2 * time.Hour}}},
		{"across Berlin's autumn change: the middle day has 25 hours", "Europe/Berlin",
			"2026-10-24T23:00:00+02:00", "2026-10-26T01:00:00+01:00",
			[]piece{{"2026-10-24", time.Hour}, {"2026-10-25", 25 * time.Hour}, {"2026-10-26", time.Hour}}},
		{"the same instants in UTC cut elsewhere", "UTC", "2026-10-24T23:00:00+02:00", "2026-10-26T01:00:00+01:00",
			[]piece{{"2026-10-24", 3 * time.Hour}, {"2026-10-25", 24 * time.Hour}}},
		{"an empty interval", "UTC", "2026-05-06T10:00:00Z", "2026-05-06T10:00:00Z", nil},
		{"a reversed interval", "UTC", "2026-05-06T10:00:00Z", "2026-05-06T09:00:00Z", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []piece
			var sum time.Duration
			for _, p := range Split(at(t, tc.start), at(t, tc.end), zone(t, tc.zone)) {
				require.Equal(t, time.UTC, p.Date.Location())
				got = append(got, piece{p.Date.Format(time.DateOnly), p.Duration})
				sum += p.Duration
			}
			require.Equal(t, tc.want, got)
			if len(tc.want) > 0 {
				require.Equal(t, at(t, tc.end).Sub(at(t, tc.start)), sum, "the pieces add up to the interval")
			}
		})
	}
}

func TestSplitKeepsSubSecondOutages(t *testing.T) {
	t.Parallel()
	start := at(t, "2026-05-06T10:00:00Z")
	p := Split(start, start.Add(300*time.Millisecond), time.UTC)
	require.Equal(t, []Piece{{Date: date(t, "2026-05-06"), Duration: 300 * time.Millisecond}}, p)
}

func TestRecordMergeKeepsTheWorstStatusAndEveryIncident(t *testing.T) {
	t.Parallel()
	var r Record
	d := date(t, "2026-05-06")
	r.Merge(domain.ComponentMajorOutage, Piece{Date: d, Duration: time.Millisecond}, []string{"INC-2"})
	r.Merge(domain.ComponentDegradedPerformance, Piece{Date: d, Duration: time.Hour}, []string{"INC-1", "INC-2"})
	require.Equal(t, Record{Date: d, Worst: domain.ComponentMajorOutage, Incidents: []string{"INC-1", "INC-2"},
		Totals: Totals{Major: time.Millisecond, Degraded: time.Hour}}, r,
		"a millisecond of major outage makes the day's worst status major")
}

func TestPercentCountsOnlyPartialAndMajorOutageAgainstUptime(t *testing.T) {
	t.Parallel()
	day := func(observed time.Duration, tot Totals) Day {
		return Day{Observed: observed, Totals: tot, Worst: domain.ComponentOperational}
	}
	const h = time.Hour
	for _, tc := range []struct {
		name string
		days []Day
		want float64
		ok   bool
	}{
		{"all up", []Day{day(24*h, Totals{}), day(24*h, Totals{})}, 100, true},
		{"degraded counts as up", []Day{day(24*h, Totals{Degraded: 10 * h})}, 100, true},
		{"maintenance counts as up", []Day{day(24*h, Totals{Maintenance: 4 * h})}, 100, true},
		{"partial outage counts in full", []Day{day(24*h, Totals{Partial: 6 * h})}, 75, true},
		{"major outage counts in full", []Day{day(24*h, Totals{Major: 12 * h}), day(24*h, Totals{})}, 75, true},
		{"a 3-day outage in 90 days", append(repeat(day(24*h, Totals{}), 87), repeat(day(24*h, Totals{Major: 24 * h}), 3)...),
			100 * 87.0 / 90, true},
		{"days with no data are left out", []Day{{}, {}, day(12*h, Totals{Partial: 3 * h})}, 75, true},
		{"outage beyond the observed time counts at most all of it", []Day{day(2*h, Totals{Major: 3 * h}), day(2*h, Totals{})}, 50, true},
		{"nothing observed", []Day{{}, {}}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Percent(tc.days)
			require.Equal(t, tc.ok, ok)
			require.InDelta(t, tc.want, got, 1e-9)
		})
	}
}

func repeat(d Day, n int) []Day {
	out := make([]Day, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestFloor2NeverRoundsAnOutageUpTo100(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want float64 }{
		{100, 100}, {99.999999, 99.99}, {99.996, 99.99}, {95, 95}, {100 * 87.0 / 90, 96.66}, {0, 0}, {12.345, 12.34},
	} {
		require.Equal(t, tc.want, Floor2(tc.in), "%v", tc.in)
	}
}

func TestHistoryShowsNinetyDaysWithNoDataBeforeCreationAndTheOpenIntervalUpToNow(t *testing.T) {
	t.Parallel()
	now := at(t, "2026-05-06T12:00:00Z")
	created := at(t, "2026-03-01T18:00:00Z")
	records := []Record{
		{Date: date(t, "2026-04-10"), Worst: domain.ComponentMajorOutage, Incidents: []string{"INC-3"},
			Totals: Totals{Major: 2 * time.Hour}},
		{Date: date(t, "2025-01-01"), Worst: domain.ComponentMajorOutage, Totals: Totals{Major: time.Hour}}, // outside
	}
	open := Open{Status: domain.ComponentPartialOutage, Since: at(t, "2026-05-05T20:00:00Z"), Incidents: []string{"INC-9"}}
	days := History(Days, now, time.UTC, created, records, open)
	require.Len(t, days, Days)
	require.Equal(t, date(t, "2026-02-06"), days[0].Date, "89 days before today")
	require.Equal(t, date(t, "2026-05-06"), days[Days-1].Date, "today last")

	first := 0
	for days[first].NoData() {
		require.Empty(t, days[first].Worst)
		first++
	}
	require.Equal(t, date(t, "2026-03-01"), days[first].Date, "data from the day of creation")
	require.Equal(t, 6*time.Hour, days[first].Observed, "from the creation to the end of that day")
	require.Equal(t, domain.ComponentOperational, days[first].Worst)

	byDate := map[string]Day{}
	for _, d := range days {
		byDate[d.Date.Format(time.DateOnly)] = d
	}
	require.Equal(t, domain.ComponentMajorOutage, byDate["2026-04-10"].Worst)
	require.Equal(t, []Incident{{Key: "INC-3"}}, byDate["2026-04-10"].Incidents)
	require.Equal(t, 4*time.Hour, byDate["2026-05-05"].Totals.Partial, "the open interval from 20:00 to midnight")
	require.Equal(t, domain.ComponentPartialOutage, byDate["2026-05-05"].Worst)
	today := byDate["2026-05-06"]
	require.Equal(t, 12*time.Hour, today.Observed, "today is observed up to now")
	require.Equal(t, 12*time.Hour, today.Totals.Partial, "and the open interval counts up to now")
	require.Equal(t, []Incident{{Key: "INC-9"}}, today.Incidents)
	require.Equal(t, &Ongoing{Status: domain.ComponentPartialOutage, Since: open.Since, Duration: 12 * time.Hour},
		today.Ongoing, "today's part of the interval in progress is still growing")
	require.Nil(t, byDate["2026-05-05"].Ongoing, "yesterday's part is final")

	pct, ok := Percent(days)
	require.True(t, ok)
	observed := now.Sub(created)
	require.InDelta(t, 100*float64(observed-18*time.Hour)/float64(observed), pct, 1e-9)
}

func TestHistoryInAZoneWithAChangeOfOffsetObservesThe23HourDay(t *testing.T) {
	t.Parallel()
	berlin := zone(t, "Europe/Berlin")
	now := at(t, "2026-03-30T12:00:00+02:00")
	open := Open{Status: domain.ComponentMajorOutage, Since: at(t, "2026-03-28T00:00:00+01:00")}
	days := History(3, now, berlin, at(t, "2026-01-01T00:00:00Z"), nil, open)
	require.Equal(t, []time.Duration{24 * time.Hour, 23 * time.Hour, 12 * time.Hour},
		[]time.Duration{days[0].Totals.Major, days[1].Totals.Major, days[2].Totals.Major})
	require.Equal(t, days[1].Observed, days[1].Totals.Major)
}
