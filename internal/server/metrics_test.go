package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/api"
	"github.com/mimhq/mim/internal/statuspage"
)

func newMetricsServer(t testing.TB) (http.Handler, *prometheus.Registry) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sp := statuspage.New(fixedSource{}, statuspage.Page{ID: "b", Name: "Bench", URL: "http://x", Location: time.UTC}, logger)
	require.NoError(t, sp.Refresh(context.Background()))
	t.Cleanup(sp.Close)
	reg := prometheus.NewRegistry()
	h := New(Deps{API: &api.API{Logger: logger}, StatusPage: sp, Ready: func(context.Context) error { return nil },
		Logger: logger, HTTPMetrics: NewHTTPMetrics(reg)})
	return h, reg
}

// The request metrics are labelled by route pattern, never by the raw path: a crawler asking for a thousand paths
// adds no series; the fast path and chi's routing label alike; an invented method is OTHER.
func TestHTTPMetricsLabelByRoutePattern(t *testing.T) {
	t.Parallel()
	h, reg := newMetricsServer(t)
	for i := range 50 {
		serveWith(h, http.MethodGet, "/incidents/INC-"+strings.Repeat("9", i+1))
		serveWith(h, http.MethodGet, "/no/such/path/"+strings.Repeat("x", i+1))
	}
	serveWith(h, http.MethodGet, "/")
	serveWith(h, http.MethodGet, "/")
	serveWith(h, http.MethodHead, "/")
	serveWith(h, "BREW", "/")
	serveWith(h, http.MethodGet, "/api/v1/incidents/INC-7") // refused before routing: no token

	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "mim_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var key []string
			for _, l := range m.GetLabel() {
				key = append(key, l.GetValue())
			}
			got[strings.Join(key, " ")] = m.GetCounter().GetValue()
		}
	}
	// Labels in name order: code, method, route.
	require.Equal(t, map[string]float64{
		"4xx GET /incidents/{key}": 50,
		"4xx GET unmatched":        50,
		"2xx GET /":                2,
		"2xx HEAD /":               1,
		"4xx OTHER unmatched":      1,
		"4xx GET /api/v1/*":        1,
	}, got)
	require.Equal(t, 6, testutil.CollectAndCount(reg, "mim_http_request_duration_seconds"),
		"durations by method and route only")
	require.Equal(t, 0.0, gaugeValue(t, reg, "mim_http_requests_in_flight"), "none left in flight")
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
