package server

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// HTTPMetrics are the request metrics: counts by method, route pattern and status class, durations by method and
// route, and the requests in flight. The route is chi's pattern (/api/v1/incidents/{id}), never the raw path, so the
// number of series is bounded by the routes, whatever clients send.
type HTTPMetrics struct {
	inFlight prometheus.Gauge
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// series caches each (method, route)'s children of the vectors: one map read instead of hashing the label
	// values into each vector on every request.
	series sync.Map // seriesKey → *routeSeries
}

type seriesKey struct{ method, route string }

// routeSeries are the series of one method and route. A status class's counter is made when it is first answered,
// so no zero series are exported for classes a route never answers.
type routeSeries struct {
	method, route string
	duration      prometheus.Observer
	codes         [len(statusClasses)]atomic.Pointer[prometheus.Counter]
}

func (m *HTTPMetrics) count(s *routeSeries, class int) {
	c := s.codes[class].Load()
	if c == nil {
		made := m.requests.WithLabelValues(s.method, s.route, statusClasses[class])
		s.codes[class].CompareAndSwap(nil, &made) // a racing request made the same child: either is the one
		c = s.codes[class].Load()
	}
	(*c).Inc()
}

func (m *HTTPMetrics) seriesOf(method, route string) *routeSeries {
	k := seriesKey{method, route}
	if s, ok := m.series.Load(k); ok {
		return s.(*routeSeries)
	}
	s := &routeSeries{method: method, route: route, duration: m.duration.WithLabelValues(method, route)}
	actual, _ := m.series.LoadOrStore(k, s)
	return actual.(*routeSeries)
}

// NewHTTPMetrics registers the request metrics on reg.
func NewHTTPMetrics(reg prometheus.Registerer) *HTTPMetrics {
	m := &HTTPMetrics{
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "mim_http_requests_in_flight",
			Help: "HTTP requests being served."}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mim_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status class."}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mim_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and route pattern (live streams count their whole life).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
			[]string{"method", "route"}),
	}
	reg.MustRegister(m.inFlight, m.requests, m.duration)
	return m
}

// unmatched is the route of a request no route took (a 404, or one refused before routing).
const unmatched = "unmatched"

var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// instrument records each request. It runs inside requests, whose status recorder it reads, so it costs no
// allocation of its own: one map read and a few atomic adds. A panic skips the records (recoverer, inside, answers
// it and returns normally, so only a panic of the server itself would).
func (m *HTTPMetrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
			w = sw
		}
		next.ServeHTTP(w, r)

		route := unmatched
		if rc := chi.RouteContext(r.Context()); rc != nil {
			if p := rc.RoutePattern(); p != "" {
				route = p
			}
		} else {
			// Only the fast path (fastpath.go) serves without chi's context, and only a parameterless GET route's
			// exact path, which is its pattern.
			route = r.URL.Path
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		class := len(statusClasses) - 1 // 5xx, also for anything out of range
		if c := status/100 - 1; c >= 0 && c < len(statusClasses) {
			class = c
		}
		s := m.seriesOf(boundedMethod(r.Method), route)
		m.count(s, class)
		s.duration.Observe(time.Since(start).Seconds())
		m.inFlight.Dec()
	})
}

// boundedMethod keeps the method label to the methods HTTP defines: anything else a client invents is OTHER.
func boundedMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
