package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/metrics"
	"github.com/mimhq/mim/internal/postgres"
	"github.com/mimhq/mim/internal/workflow"
)

func scrape(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// /metrics is off on the public port by default; with a token it answers only that token, with the process, HTTP
// and domain metrics; the HTTP series are labelled by route pattern; the overdue gauge follows the cadence clock.
func TestPrometheusMetrics(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	e.engage(key)
	e.publishUpdate(key, "We are looking into it.", "metrics-1")
	e.do("viewer", "GET", "/api/v1/incidents/"+key, nil, 200)
	e.request("viewer", "GET", "/definitely/not/here", nil, nil)

	status, _ := scrape(t, e.srv.URL+"/metrics", "")
	require.Equal(t, http.StatusNotFound, status, "no MIM_METRICS_TOKEN: no metrics")

	// The same registry behind a token, and a clock 31 minutes on: the critical incident's update is overdue.
	const token = "scrape-token-0123456789abcdef"
	m := metrics.New(postgres.NewReportStore(e.app.DB), workflow.DefaultCadence(),
		func() time.Time { return time.Now().Add(31 * time.Minute) }, token, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	for _, bad := range []string{"", "wrong-token-0123456789abcdef", e.tokens["admin"]} {
		status, body := scrape(t, srv.URL+"/metrics", bad)
		require.Equal(t, http.StatusUnauthorized, status, bad)
		require.NotContains(t, body, "mim_incidents_open")
	}
	status, body := scrape(t, srv.URL+"/metrics", token)
	require.Equal(t, http.StatusOK, status, body)
	for _, want := range []string{
		`mim_database_up 1`,
		`mim_incidents_open{kind="major",severity="critical"} 1`,
		`mim_incidents_open{kind="standard",severity="low"} 0`,
		`mim_incident_updates_overdue{severity="critical"} 1`,
		`go_goroutines `, `process_resident_memory_bytes `,
	} {
		require.Contains(t, body, want)
	}

	// The app's own registry: HTTP metrics by route pattern, and not overdue at the real now.
	fams, err := e.app.Metrics.Registry.Gather()
	require.NoError(t, err)
	var routes []string
	for _, f := range fams {
		switch f.GetName() {
		case "mim_http_requests_total":
			for _, mt := range f.GetMetric() {
				for _, l := range mt.GetLabel() {
					if l.GetName() == "route" {
						routes = append(routes, l.GetValue())
					}
				}
			}
		case "mim_incident_updates_overdue":
			for _, mt := range f.GetMetric() {
				require.Zero(t, mt.GetGauge().GetValue(), "the update was just published")
			}
		}
	}
	require.Contains(t, routes, "/api/v1/incidents/{id}")
	require.Contains(t, routes, "/api/v1/incidents/{id}/updates")
	require.Contains(t, routes, "unmatched")
	for _, r := range routes {
		require.NotContains(t, r, key, "never the raw path")
		require.False(t, strings.Contains(r, "definitely"), "never the raw path")
	}

	// The private listener's handler: open to whoever reaches it when no token is set, else the token still holds.
	private := httptest.NewServer(metrics.New(postgres.NewReportStore(e.app.DB), workflow.DefaultCadence(), nil, "", nil).PrivateHandler())
	t.Cleanup(private.Close)
	status, body = scrape(t, private.URL+"/metrics", "")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `mim_incidents_open{kind="major",severity="critical"} 1`)
	guarded := httptest.NewServer(m.PrivateHandler())
	t.Cleanup(guarded.Close)
	status, _ = scrape(t, guarded.URL+"/metrics", "")
	require.Equal(t, http.StatusUnauthorized, status)

	// The database gone: the scrape still answers, saying so.
	db, err := postgres.Open(context.Background(), e.app.DB.Pool.Config().ConnString())
	require.NoError(t, err)
	db.Close()
	down := httptest.NewServer(metrics.New(postgres.NewReportStore(db), workflow.DefaultCadence(), nil, token, nil).Handler())
	t.Cleanup(down.Close)
	status, body = scrape(t, down.URL+"/metrics", token)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "mim_database_up 0")
	require.Contains(t, body, "go_goroutines ")
}
