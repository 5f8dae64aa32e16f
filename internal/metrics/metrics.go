// Package metrics exposes mim to Prometheus: the Go runtime and process collectors, the HTTP metrics the server
// records (internal/server), and the domain gauges read from the database at each scrape — the open incidents by kind
// and severity, and the major incidents whose next update is overdue. /metrics is not public: on the main port it
// answers only a bearer token equal to MIM_METRICS_TOKEN, and is not served at all (404) when that is unset; on
// MIM_METRICS_ADDR, a listener of its own on a private address, it answers anyone unless the token is set too.
package metrics

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// OpenCount is how many incidents are open of one kind and severity.
type OpenCount struct {
	Kind     domain.Kind
	Severity domain.Severity
	Count    int
}

// Source is what the domain gauges read at scrape time.
type Source interface {
	OpenIncidentCounts(ctx context.Context) ([]OpenCount, error)
	OpenMajorIncidents(ctx context.Context) ([]workflow.Incident, error)
}

// Metrics is mim's Prometheus registry.
type Metrics struct {
	Registry *prometheus.Registry
	token    [32]byte // SHA-256 of the scrape token, compared in constant time
	enabled  bool
	logger   *slog.Logger
}

// New returns the registry with the Go, process and domain collectors. token is the bearer token scrapes must send;
// empty disables /metrics. now is the clock overdue updates are judged by (nil: time.Now).
func New(src Source, cadence workflow.Cadence, now func() time.Time, token string, logger *slog.Logger) *Metrics {
	if now == nil {
		now = time.Now
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&domainCollector{src: src, cadence: cadence, now: now, logger: logger})
	m := &Metrics{Registry: reg, enabled: token != "", logger: logger}
	m.token = sha256.Sum256([]byte(token))
	return m
}

// Handler serves the registry in the Prometheus text format to a scrape with the right bearer token, for the main
// port: without a token configured it answers 404.
func (m *Metrics) Handler() http.Handler { return m.handler(false) }

// PrivateHandler is Handler for the metrics listener: without a token configured it answers every scrape.
func (m *Metrics) PrivateHandler() http.Handler { return m.handler(true) }

func (m *Metrics) handler(private bool) http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError,
		ErrorLog: slogLogger{m.logger}, Timeout: 10 * time.Second})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		if private && !m.enabled {
			h.ServeHTTP(w, r)
			return
		}
		if !m.enabled {
			http.NotFound(w, r) // nothing internal on the public port unless asked for
			return
		}
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], m.token[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mim metrics"`)
			http.Error(w, "401 unauthorized: send Authorization: Bearer $MIM_METRICS_TOKEN", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Println(v ...any) {
	if s.l != nil {
		s.l.Warn("metrics", "err", v)
	}
}

var (
	openDesc = prometheus.NewDesc("mim_incidents_open", "Open incidents, by kind and severity.",
		[]string{"kind", "severity"}, nil)
	overdueDesc = prometheus.NewDesc("mim_incident_updates_overdue",
		"Open major incidents whose next status update is overdue by the cadence, by severity.", []string{"severity"}, nil)
	upDesc = prometheus.NewDesc("mim_database_up",
		"1 when the domain gauges could be read from the database at this scrape, else 0.", nil, nil)
)

// domainCollector reads the domain gauges from the database at each scrape: they are always current, and nothing
// has to keep counters in step with commits across processes.
type domainCollector struct {
	src     Source
	cadence workflow.Cadence
	now     func() time.Time
	logger  *slog.Logger
}

func (c *domainCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- openDesc
	ch <- overdueDesc
	ch <- upDesc
}

func (c *domainCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.src.OpenIncidentCounts(ctx)
	var open []workflow.Incident
	if err == nil {
		open, err = c.src.OpenMajorIncidents(ctx)
	}
	if err != nil {
		if c.logger != nil {
			c.logger.Warn("metrics: domain gauges unavailable", "err", err)
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	// Every kind and severity is reported, zeros included, so a series does not vanish when its last incident closes.
	byKey := map[[2]string]int{}
	for _, oc := range counts {
		byKey[[2]string{string(oc.Kind), string(oc.Severity)}] += oc.Count
	}
	for _, k := range domain.Kinds {
		for _, s := range domain.Severities {
			ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(byKey[[2]string{string(k), string(s)}]),
				string(k), string(s))
		}
	}
	now := c.now()
	overdue := map[domain.Severity]int{}
	for _, inc := range open {
		if inc.UpdateClock(c.cadence).Overdue(now) {
			overdue[inc.Criteria.Severity]++
		}
	}
	for _, s := range domain.Severities {
		ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(overdue[s]), string(s))
	}
}
