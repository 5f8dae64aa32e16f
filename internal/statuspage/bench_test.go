package statuspage

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// discardWriter is the least a ResponseWriter can be, so a benchmark measures the handler, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(status int) {
	w.status = status
}
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// benchmarkHandler serves one resource of a built snapshot again and again, as a client that accepts gzip.
func benchmarkHandler(b *testing.B, h func(*Service) http.HandlerFunc, header ...string) {
	b.Helper()
	src := &testSource{state: bc06State(b)}
	svc := New(src, testPage, nil)
	if err := svc.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	handler := h(svc)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		handler(w, req)
		if w.status != http.StatusOK && w.status != http.StatusNotModified {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkPageHandler measures GET / from the snapshot, gzip-compressed: the serving path alone, no network.
func BenchmarkPageHandler(b *testing.B) {
	benchmarkHandler(b, func(s *Service) http.HandlerFunc { return s.Page }, "Accept-Encoding", "gzip, deflate, br")
}

// BenchmarkSummaryHandler measures GET /api/v2/summary.json from the snapshot, gzip-compressed.
func BenchmarkSummaryHandler(b *testing.B) {
	benchmarkHandler(b, func(s *Service) http.HandlerFunc { return s.Summary }, "Accept-Encoding", "gzip, deflate, br")
}

// BenchmarkSummaryHandlerNotModified measures a revalidation that is answered 304.
func BenchmarkSummaryHandlerNotModified(b *testing.B) {
	src := &testSource{state: bc06State(b)}
	svc := New(src, testPage, nil)
	if err := svc.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	snap, _ := svc.Current(context.Background())
	benchmarkHandler(b, func(s *Service) http.HandlerFunc { return s.Summary },
		"Accept-Encoding", "gzip", "If-None-Match", snap.SummaryJSON.GzipETag)
}
