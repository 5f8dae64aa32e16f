package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/drill"
	"github.com/mimhq/mim/internal/reports"
)

// After the drill, its incident is in the numbers: declared, acknowledged, mobilized and restored, with its
// updates on time; the CSV has the same incident and the aggregate rows.
func TestMetricsAfterDrill(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var out bytes.Buffer
	require.NoError(t, drill.Run(context.Background(), drill.Options{BaseURL: e.srv.URL, Token: e.tokens["admin"], Out: &out}), out.String())
	// A standard incident whose title a spreadsheet would run as a formula.
	e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "=HYPERLINK(\"http://evil\")",
		"severity": "low", "urgency": "low", "components": []string{"api"}}, 201)

	// PIR and RCA deadlines come from the post-incident store (another package): here, as it would answer for the
	// drill, a PIR published on time and an RCA not yet due.
	var asked [2]time.Time
	e.app.Reports.Deadlines = reports.DeadlineFunc(func(ctx context.Context, from, to time.Time) ([]reports.Deadline, error) {
		asked = [2]time.Time{from, to}
		recs := e.do("viewer", "GET", "/api/v1/incidents?kind=major", nil, 200)["incidents"].([]any)
		key := recs[0].(map[string]any)["key"].(string)
		concluded := time.Now().Add(-time.Minute)
		published := concluded.Add(time.Hour)
		return []reports.Deadline{
			{Kind: reports.DocumentPIR, IncidentKey: key, ConcludedAt: concluded, DueAt: concluded.Add(48 * time.Hour), PublishedAt: &published},
			{Kind: reports.DocumentRCA, IncidentKey: key, ConcludedAt: concluded, DueAt: concluded.Add(9 * 24 * time.Hour)},
		}, nil
	})
	m := e.do("viewer", "GET", "/api/v1/reports/metrics", nil, 200)
	require.WithinDuration(t, time.Now(), asked[1], 5*time.Second, "deadlines asked up to now")
	require.Equal(t, 1.0, m["pir"].(map[string]any)["rate"])
	require.EqualValues(t, 1, m["rca"].(map[string]any)["pending"])
	require.Nil(t, m["rca"].(map[string]any)["rate"])
	require.Equal(t, "on_time", m["per_incident"].([]any)[0].(map[string]any)["pir"])
	require.EqualValues(t, 2, m["incidents"])
	require.EqualValues(t, 1, m["major"])
	require.EqualValues(t, 1, m["standard"])
	rows := m["per_incident"].([]any)
	require.Len(t, rows, 2)
	d := rows[0].(map[string]any)
	require.Equal(t, "major", d["kind"])
	require.False(t, d["open"].(bool), "the drill concludes its incident")
	for _, f := range []string{"time_to_acknowledge_seconds", "time_to_declare_seconds", "time_to_mobilize_seconds",
		"time_to_restore_seconds"} {
		require.NotNil(t, d[f], f)
		require.GreaterOrEqual(t, d[f].(float64), 0.0, f)
	}
	require.GreaterOrEqual(t, d["updates_due"].(float64), 1.0, "the drill publishes several updates")
	require.Equal(t, d["updates_due"], d["updates_on_time"], "the drill runs in seconds: every update is on time")
	tta := m["time_to_acknowledge"].(map[string]any)
	require.EqualValues(t, 1, tta["count"])
	require.Equal(t, d["time_to_acknowledge_seconds"], tta["median_seconds"])
	require.Equal(t, d["time_to_acknowledge_seconds"], tta["p90_seconds"])
	require.Equal(t, 1.0, m["update_cadence"].(map[string]any)["rate"])
	month := time.Now().UTC().Format("2006-01")
	byMonth := m["by_month"].([]any)
	last := byMonth[len(byMonth)-1].(map[string]any)
	require.Equal(t, month, last["key"])
	require.EqualValues(t, 2, last["total"])

	// A period before the drill holds nothing.
	old := e.do("viewer", "GET", "/api/v1/reports/metrics?from=2020-01-01&to=2020-03-31", nil, 200)
	require.EqualValues(t, 0, old["incidents"])
	require.Len(t, old["by_month"].([]any), 3)

	r := e.request("viewer", "GET", "/api/v1/reports/metrics.csv?to="+url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), nil, nil)
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "text/csv; charset=utf-8", r.header.Get("Content-Type"))
	require.Contains(t, r.header.Get("Content-Disposition"), "attachment")
	records, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 1+2+5, "header, two incidents, count/median/p90/mean/rate")
	require.Equal(t, "record", records[0][0])
	require.Equal(t, d["key"], records[1][1])
	require.Equal(t, `'=HYPERLINK("http://evil")`, records[2][2], "formula defused")
	require.Equal(t, []string{"aggregate", "rate"}, records[7][:2])
	require.Equal(t, "1", records[7][13], "cadence compliance")
}

func TestMetricsRefusesBadPeriods(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, q := range []string{"from=yesterday", "to=2026-13-01", "from=2026-05-01&to=2026-04-01",
		"from=2026-05-01T00:00:00Z&to=2026-05-01T00:00:00Z", "from=2010-01-01&to=2026-01-01", "from=0001-01-01"} {
		for _, path := range []string{"/api/v1/reports/metrics?", "/api/v1/reports/metrics.csv?"} {
			r := e.request("viewer", "GET", path+q, nil, nil)
			require.Equal(t, 400, r.status, "%s%s: %s", path, q, r.body)
			require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
			require.Equal(t, "invalid_period", r.json(t)["code"])
		}
	}
	require.Equal(t, 401, e.request("", "GET", "/api/v1/reports/metrics", nil, nil).status)
}
