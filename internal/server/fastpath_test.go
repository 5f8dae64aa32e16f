package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/api"
	"github.com/mimhq/mim/internal/statuspage"
)

func newBenchServer(t testing.TB) *router {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sp := statuspage.New(fixedSource{}, statuspage.Page{ID: "b", Name: "Bench", URL: "http://x", Location: time.UTC}, logger)
	require.NoError(t, sp.Refresh(context.Background()))
	t.Cleanup(sp.Close)
	h := New(Deps{API: &api.API{Logger: logger}, StatusPage: sp, Ready: func(context.Context) error { return nil },
		Logger: logger})
	rt, ok := h.(*router)
	require.True(t, ok)
	return rt
}

func serveWith(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var requestIDFormat = regexp.MustCompile(`^[A-Za-z0-9]{10}-\d{6,}$`)

// The shortcut past chi's routing answers exactly as chi does: same status, headers and body, for every
// parameterless GET route it takes, and it takes none of the others.
func TestExactRoutesAnswerAsChiDoes(t *testing.T) {
	t.Parallel()
	rt := newBenchServer(t)
	require.Contains(t, rt.exact, "/")
	require.Contains(t, rt.exact, "/api/v2/summary.json")
	require.Contains(t, rt.exact, "/badge.svg")
	for path := range rt.exact {
		require.False(t, strings.ContainsAny(path, "{*"), path)
		require.False(t, strings.HasPrefix(path, "/api/v1/"), path)
	}
	for path := range rt.exact {
		if path == "/events" { // a stream: it never ends by itself
			continue
		}
		for _, header := range [][]string{nil, {"Accept-Encoding", "gzip"}} {
			fast, slow := serveWith(rt, "GET", path, header...), serveWith(rt.Mux, "GET", path, header...)
			require.Equal(t, slow.Code, fast.Code, path)
			require.Equal(t, slow.Body.String(), fast.Body.String(), path)
			require.Regexp(t, requestIDFormat, fast.Header().Get("X-Request-Id"), path)
			require.NotEqual(t, slow.Header().Get("X-Request-Id"), fast.Header().Get("X-Request-Id"))
			fast.Header().Del("X-Request-Id")
			slow.Header().Del("X-Request-Id")
			require.Equal(t, slow.Header(), fast.Header(), path)
		}
	}
}

func TestRequestsChiMustRouteStillReachIt(t *testing.T) {
	t.Parallel()
	rt := newBenchServer(t)
	// HEAD is routed by chi (GetHead), and answered without a body.
	head := serveWith(rt, "HEAD", "/api/v2/summary.json")
	require.Equal(t, 200, head.Code)
	require.Empty(t, head.Body.String())
	// A path escaped in a way chi routes by its escaped form is chi's to answer.
	require.Equal(t, serveWith(rt.Mux, "GET", "/api/v2/summary%2Ejson").Code, serveWith(rt, "GET", "/api/v2/summary%2Ejson").Code)
	// Unknown paths and methods keep chi's answers.
	require.Equal(t, 404, serveWith(rt, "GET", "/nope").Code)
	require.Equal(t, 405, serveWith(rt, "POST", "/api/v2/summary.json").Code)
	require.Equal(t, 404, serveWith(rt, "GET", "/api/v2/summary.json/").Code)
	// The middleware still runs on the shortcut: a query with a control character is refused.
	require.Equal(t, 400, serveWith(rt, "GET", "/?x=%01").Code)
	// Routes with parameters are chi's.
	require.Equal(t, 200, serveWith(rt, "GET", "/components/api/badge.svg").Code)
	require.Equal(t, 404, serveWith(rt, "GET", "/components/nope/badge.svg").Code)
	_, isRoutes := any(rt).(chi.Routes)
	require.True(t, isRoutes)
}

func TestRequestIDIsTheClientsWhenSane(t *testing.T) {
	t.Parallel()
	rt := newBenchServer(t)
	require.Equal(t, "abc-123", serveWith(rt, "GET", "/healthz", "X-Request-Id", "abc-123").Header().Get("X-Request-Id"))
	for _, bad := range []string{"has space", strings.Repeat("x", 201), "tab\there", "é"} {
		got := serveWith(rt, "GET", "/healthz", "X-Request-Id", bad).Header().Get("X-Request-Id")
		require.Regexp(t, requestIDFormat, got, "%q is replaced", bad)
	}
	a := serveWith(rt, "GET", "/healthz").Header().Get("X-Request-Id")
	b := serveWith(rt, "GET", "/healthz").Header().Get("X-Request-Id")
	require.NotEqual(t, a, b)
}
