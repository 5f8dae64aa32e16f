package statuspage

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPageSendsSecurityHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	rec := get(b.svc.Page)
	require.Equal(t, http.StatusOK, rec.Code)
	h := rec.Header()
	require.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
	require.Equal(t, "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "+
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		h.Get("Content-Security-Policy"))
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	require.Equal(t, "strict-origin-when-cross-origin", h.Get("Referrer-Policy"))
	require.Equal(t, "DENY", h.Get("X-Frame-Options"))
	require.Equal(t, "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400", h.Get("Cache-Control"))
	require.Equal(t, "Accept-Encoding", h.Get("Vary"))
	require.Empty(t, h.Get("Access-Control-Allow-Origin"))
}

func TestJSONEndpointsSendJSONHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	for name, h := range map[string]http.HandlerFunc{
		"summary": b.svc.Summary, "status": b.svc.Status, "components": b.svc.Components,
		"incidents": b.svc.Incidents, "unresolved": b.svc.Unresolved,
	} {
		rec := get(h)
		require.Equal(t, http.StatusOK, rec.Code, name)
		require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"), name)
		require.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"), name)
		require.Equal(t, "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400",
			rec.Header().Get("Cache-Control"), name)
		require.Equal(t, "Accept-Encoding", rec.Header().Get("Vary"), name)
		require.NotEmpty(t, rec.Header().Get("ETag"), name)
		require.Empty(t, rec.Header().Get("Content-Security-Policy"), name)
	}
}

func TestConditionalRequestGetsNotModified(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	for name, h := range map[string]http.HandlerFunc{"page": b.svc.Page, "summary": b.svc.Summary} {
		first := get(h)
		etag := first.Header().Get("ETag")
		require.Regexp(t, `^"[^"]+"$`, etag, name)

		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			rec := get(h, "If-None-Match", inm)
			require.Equal(t, http.StatusNotModified, rec.Code, "%s If-None-Match: %s", name, inm)
			require.Empty(t, rec.Body.Bytes(), name)
			require.Equal(t, etag, rec.Header().Get("ETag"), name)
			require.NotEmpty(t, rec.Header().Get("Cache-Control"), name)
		}
		rec := get(h, "If-None-Match", `"other"`)
		require.Equal(t, http.StatusOK, rec.Code, name)
		require.Equal(t, first.Body.Bytes(), rec.Body.Bytes(), name)
	}
}

func TestETagSurvivesARebuildThatChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	before := get(b.svc.Summary).Header().Get("ETag")
	b.clock.Advance(time.Minute)
	require.NoError(t, b.svc.Refresh(context.Background()))
	require.Equal(t, before, get(b.svc.Summary).Header().Get("ETag"))

	state := bc06State(t)
	state.Incidents[0].Name = "Payment failures in Europe"
	b.src.set(state, nil)
	require.NoError(t, b.svc.Refresh(context.Background()))
	require.NotEqual(t, before, get(b.svc.Summary).Header().Get("ETag"))
}

func TestGzipIsServedWhenAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	for name, h := range map[string]http.HandlerFunc{"page": b.svc.Page, "summary": b.svc.Summary} {
		plain := get(h)
		require.Empty(t, plain.Header().Get("Content-Encoding"), name)

		rec := get(h, "Accept-Encoding", "br, gzip;q=0.8, deflate")
		require.Equal(t, http.StatusOK, rec.Code, name)
		require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"), name)
		require.Equal(t, "Accept-Encoding", rec.Header().Get("Vary"), name)
		require.NotEqual(t, plain.Header().Get("ETag"), rec.Header().Get("ETag"), "each encoding has its own tag")
		zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
		require.NoError(t, err, name)
		decoded, err := io.ReadAll(zr)
		require.NoError(t, err, name)
		require.Equal(t, plain.Body.Bytes(), decoded, name)

		// The gzip variant revalidates too.
		nm := get(h, "Accept-Encoding", "gzip", "If-None-Match", rec.Header().Get("ETag"))
		require.Equal(t, http.StatusNotModified, nm.Code, name)
	}
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]bool{
		"":                   false,
		"gzip":               true,
		"GZIP":               true,
		"gzip, deflate, br":  true,
		"br;q=1.0, gzip;q=0": false,
		"gzip; q=0.5":        true,
		"*":                  true,
		"*;q=0":              false,
		"gzip;q=0, *":        false,
		"identity":           false,
		"x-gzip":             true,
	} {
		require.Equal(t, want, acceptsGzip([]string{header}), "Accept-Encoding: %q", header)
	}
}

func TestHeadAndOtherMethods(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))

	rec := httptest.NewRecorder()
	b.svc.Summary(rec, httptest.NewRequest(http.MethodHead, "/api/v2/summary.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Body.Bytes())
	require.NotEmpty(t, rec.Header().Get("Content-Length"))

	rec = httptest.NewRecorder()
	b.svc.Page(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
}

func TestNoSnapshotAndFailingSourceGives503WithoutDetails(t *testing.T) {
	t.Parallel()
	b := setup(t, State{})
	b.src.set(State{}, errors.New("connect to 10.0.0.5:5432: connection refused"))
	rec := get(b.svc.Page)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	require.NotContains(t, rec.Body.String(), "10.0.0.5")
}

// The headers made with a resource are stored by canonical key, so Get finds them and a later Set replaces them.
func TestPrecomputedHeadersAreCanonical(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{contentTypeHTML, contentTypeJSON, contentTypeSVG} {
		res := newResource(ct, []byte("body"))
		for _, answer := range []answerHeaders{res.plain, res.gzipped} {
			for _, f := range answer.all {
				require.Equal(t, http.CanonicalHeaderKey(f.key), f.key)
				require.Equal(t, len(f.value), cap(f.value), "%s: a shared value slice is full", f.key)
			}
		}
	}
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	first := get(b.svc.Summary)
	first.Header().Add("Vary", "Origin") // a middleware adding to a shared header changes no other answer
	require.Equal(t, []string{"Accept-Encoding"}, get(b.svc.Summary).Header().Values("Vary"))
}
