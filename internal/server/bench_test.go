package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/statuspage"
)

// fixedSource is a Source that always answers the same small public state, and has no history.
type fixedSource struct{ statuspage.NoHistory }

func (fixedSource) PublicState(context.Context) (statuspage.State, error) {
	now := time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC)
	return statuspage.State{Components: []statuspage.Component{
		{ID: "c1", Slug: "api", Name: "API", Status: domain.ComponentOperational, CreatedAt: now, UpdatedAt: now},
		{ID: "c2", Slug: "web", Name: "Web", Status: domain.ComponentMajorOutage, CreatedAt: now, UpdatedAt: now},
	}}, nil
}

// nullWriter is the least a ResponseWriter can be, so the benchmark measures the router and its middleware.
type nullWriter struct {
	h      http.Header
	status int
}

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) WriteHeader(status int)      { w.status = status }
func (w *nullWriter) Write(p []byte) (int, error) { return len(p), nil }

// benchmarkPublic measures one public GET through the whole handler: router, request id, recovery, request log at
// info level (so the per-request debug line is not written), request checks, then the snapshot.
func benchmarkPublic(b *testing.B, path string) { benchmarkHandler(b, newBenchServer(b), path) }

func benchmarkHandler(b *testing.B, h http.Handler, path string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	w := &nullWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkPublicPage measures GET / through server.New.
func BenchmarkPublicPage(b *testing.B) { benchmarkPublic(b, "/") }

// BenchmarkPublicSummary measures GET /api/v2/summary.json through server.New.
func BenchmarkPublicSummary(b *testing.B) { benchmarkPublic(b, "/api/v2/summary.json") }

// BenchmarkPublicPageWithMetrics is BenchmarkPublicPage with the Prometheus request metrics on, as mim serves.
func BenchmarkPublicPageWithMetrics(b *testing.B) {
	h, _ := newMetricsServer(b)
	benchmarkHandler(b, h, "/")
}
