package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/stretchr/testify/require"
)

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRequestsLogsAnswersAndKeepsTheIDInTheContext(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var seen string
	h := requests(logger)(recoverer(logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = middleware.GetReqID(r.Context())
		switch r.URL.Path {
		case "/panic":
			panic("boom")
		case "/stream":
			require.NoError(t, http.NewResponseController(w).Flush(), "the recorder is reachable through Unwrap")
			_, _ = w.Write([]byte("data"))
		default:
			_, _ = w.Write([]byte("hello"))
		}
	})))

	rec := serveWith(h, "GET", "/hi", "X-Request-Id", "client-id-1")
	require.Equal(t, "client-id-1", rec.Header().Get("X-Request-Id"))
	require.Equal(t, "client-id-1", seen)
	require.Contains(t, logs.String(), `level=DEBUG msg=request method=GET path=/hi status=200 bytes=5`)
	require.Contains(t, logs.String(), "request_id=client-id-1")

	rec = serveWith(h, "GET", "/panic")
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	id := rec.Header().Get("X-Request-Id")
	require.Regexp(t, requestIDFormat, id)
	require.Contains(t, rec.Body.String(), id, "the problem quotes the request id")
	require.Contains(t, logs.String(), "level=WARN msg=request method=GET path=/panic status=500")

	rec = serveWith(h, "GET", "/stream")
	require.True(t, rec.Flushed)
	require.Equal(t, "data", rec.Body.String())
}

// Not parallel: it counts allocations.
func TestRequestsBuildsNoRecordTheLoggerDrops(t *testing.T) {
	var logs logBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := requests(logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	serveWith(h, "GET", "/ok")
	require.Empty(t, logs.String())
	serveWith(h, "GET", "/fail")
	require.True(t, strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "status=503"), logs.String())
	req, w := httptest.NewRequest("GET", "/ok", nil), &nullWriter{h: http.Header{}}
	allocs := testing.AllocsPerRun(100, func() {
		clear(w.h)
		h.ServeHTTP(w, req)
	})
	require.LessOrEqual(t, allocs, 4.0, "the id, the request's state and its copy, the header map's group: no log record")
}
