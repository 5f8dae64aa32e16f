package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/drill"
)

var svgPattern = regexp.MustCompile(`(?s)<svg.*?</svg>`)

// The reports page, served by its handler as the responder UI will mount it: only to a signed-in user; the drill in
// its numbers; every chart well-formed SVG with a title, a description and its values in text; titles escaped.
func TestReportsPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var out bytes.Buffer
	require.NoError(t, drill.Run(context.Background(), drill.Options{BaseURL: e.srv.URL, Token: e.tokens["admin"], Out: &out}), out.String())
	e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "<script>alert(1)</script>",
		"severity": "low", "urgency": "low", "components": []string{"api"}}, 201)
	drillKey := e.do("viewer", "GET", "/api/v1/reports/metrics", nil, 200)["per_incident"].([]any)[0].(map[string]any)["key"].(string)

	// Who is signed in, as the responder UI's session middleware will say.
	pages := e.app.ReportsPages(func(r *http.Request) (domain.Actor, bool) {
		if r.Header.Get("X-Test-User") == "" {
			return domain.Actor{}, false
		}
		return domain.Actor{UserID: "u1", Name: "Viewer", OrgRole: domain.OrgViewer}, true
	}, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /app/reports", pages.Page)
	mux.HandleFunc("GET /app/reports.csv", pages.CSV)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	get := func(path string, signedIn bool) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		if signedIn {
			req.Header.Set("X-Test-User", "viewer")
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header, string(body)
	}

	for _, p := range []string{"/app/reports", "/app/reports.csv"} {
		status, _, body := get(p, false)
		require.Equal(t, http.StatusUnauthorized, status, p)
		require.NotContains(t, body, drillKey)
	}

	status, h, page := get("/app/reports", true)
	require.Equal(t, http.StatusOK, status, page)
	require.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
	require.Contains(t, h.Get("Content-Security-Policy"), "default-src 'none'")
	require.Contains(t, page, drillKey, "the drill is in the numbers")
	require.NotContains(t, page, "<script>alert(1)</script>")
	require.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.Contains(t, page, "Time to restore, MTTR")

	svgs := svgPattern.FindAllString(page, -1)
	require.Len(t, svgs, 3, "durations, months, severity")
	for _, svg := range svgs {
		var doc struct {
			XMLName xml.Name
			Role    string   `xml:"role,attr"`
			Title   string   `xml:"title"`
			Desc    string   `xml:"desc"`
			Texts   []string `xml:"g>text"`
			Titles  []string `xml:"g>title"`
		}
		d := xml.NewDecoder(strings.NewReader(svg))
		d.Strict = true
		require.NoError(t, d.Decode(&doc), "well-formed SVG:\n%s", svg)
		for { // the whole fragment parses, not only its start
			if _, err := d.Token(); err != nil {
				require.True(t, errors.Is(err, io.EOF), "%v in\n%s", err, svg)
				break
			}
		}
		require.Equal(t, "svg", doc.XMLName.Local)
		require.Equal(t, "img", doc.Role)
		require.NotEmpty(t, doc.Title)
		require.NotEmpty(t, doc.Desc)
		require.NotEmpty(t, doc.Texts, "values in text, not colour alone")
		require.NotEmpty(t, doc.Titles)
	}
	require.Contains(t, svgs[2], ">critical</text>")
	require.Contains(t, svgs[2], "low: 1 incident, 0 major and 1 standard")

	// A bad period is said, and the default period shown.
	status, _, page = get("/app/reports?from=not-a-date", true)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, page, `role="alert"`)
	require.Contains(t, page, drillKey)

	// The page's download link gives the CSV of the same period.
	link := regexp.MustCompile(`href="(/app/reports\.csv\?[^"]+)"`).FindStringSubmatch(page)
	require.NotNil(t, link)
	status, h, body := get(strings.ReplaceAll(link[1], "&amp;", "&"), true)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "text/csv; charset=utf-8", h.Get("Content-Type"))
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, drillKey, records[1][1])
	status, _, _ = get("/app/reports.csv?to=nope", true)
	require.Equal(t, http.StatusBadRequest, status)
}
