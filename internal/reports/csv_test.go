package reports

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
)

func TestWriteCSVEscapesAndDefuses(t *testing.T) {
	t.Parallel()
	in := knownSet()
	in.Incidents[0].Title = "=SUM(A1:A9)"
	in.Incidents[1].Title = "Quotes \"here\", a comma,\nand a new line"
	in.Incidents[2].Title = "+1 -2 @3"
	in.Incidents[3].Title = "@import"
	in.Incidents[4].Title = "-dash"
	var buf bytes.Buffer
	require.NoError(t, WriteCSV(&buf, Compute(in)))
	records, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err, "well-formed CSV")
	require.Equal(t, CSVHeader, records[0])
	for _, r := range records {
		require.Len(t, r, len(CSVHeader))
	}
	require.Equal(t, "'=SUM(A1:A9)", records[1][2])
	require.Equal(t, "Quotes \"here\", a comma,\nand a new line", records[2][2])
	require.Equal(t, "'+1 -2 @3", records[3][2])
	require.Equal(t, "'@import", records[4][2])
	require.Equal(t, "'-dash", records[5][2])
	require.Equal(t, []string{"incident", "INC-1"}, records[1][:2])
	require.Equal(t, "api swg-eu", records[1][5])
	require.Equal(t, "600", records[1][8], "time to acknowledge of INC-1 in seconds")
	require.Equal(t, "", records[4][8], "INC-4 has no acknowledgement")
	agg := records[6:]
	require.Equal(t, []string{"count", "median", "p90", "mean", "rate"}, []string{agg[0][1], agg[1][1], agg[2][1], agg[3][1], agg[4][1]})
	require.Equal(t, []string{"3", "4", "3", "3", "8", "5", "3", "1"}, agg[0][8:])
	require.Equal(t, "750", agg[1][9], "median time to declare: 12.5 min")
	require.Equal(t, "0.625", agg[4][13])
	require.Equal(t, "1", agg[4][15])
}

func TestPeriod(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	s := &Service{Location: paris, Now: func() time.Time { return now }}
	from, to, err := s.Period("", "")
	require.NoError(t, err)
	require.Equal(t, now, to)
	require.Equal(t, now.Add(-DefaultPeriod), from)

	from, to, err = s.Period("2026-11-01", "2026-11-30")
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC), from, "midnight in Paris")
	require.Equal(t, time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC), to, "the end of the 30th in Paris")

	from, _, err = s.Period("2026-11-01T10:00:00+02:00", "")
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), from)

	for _, c := range [][2]string{{"yesterday", ""}, {"", "2026-02-30"}, {"2026-11-02", "2026-11-01"},
		{"2020-01-01", "2026-01-01"}, {"2026-11-01T10:00:00", ""}} {
		_, _, err := s.Period(c[0], c[1])
		require.Error(t, err, c)
		e := domain.AsError(err)
		require.Equal(t, domain.ErrBadRequest, e.Kind, c)
		require.Equal(t, "invalid_period", e.Code)
		require.NotEmpty(t, e.Fields)
	}
}
