package app_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/mimhq/mim/web"
)

// notExported are the public GET routes a static copy does not hold, and why.
var notExported = map[string]string{
	"/events":                            "a live stream: the static page is complete without it, and reloads show changes",
	"/healthz":                           "the health of this process",
	"/readyz":                            "the readiness of this process",
	"/openapi.yaml":                      "the API's description, not the status page",
	"/metrics":                           "Prometheus metrics of this process, behind MIM_METRICS_TOKEN: not public",
	"/history/{page}":                    "the history's further pages: exported as its Older links reach them; this page has one",
	"/brand.css":                         "exported when an accent colour is configured (TestBrandingDressesThePublicPages); this page has none",
	"/brand/logo":                        "exported when a logo is configured (TestBrandingDressesThePublicPages); this page has none",
	"/subscribe":                         "a form that posts to the live server: a static copy cannot take subscriptions",
	"/subscriptions/confirm/{token}":     "a subscriber's own link, answered by the live server",
	"/subscriptions/{token}":             "a subscriber's own page, answered by the live server",
	"/subscriptions/{token}/unsubscribe": "a subscriber's own link, answered by the live server",
}

// staticFile fetches path from a server, with Go's client (which asks for gzip and decompresses it).
func staticFile(t *testing.T, base, path string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(base + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// exportState publishes what a page under load shows: an active major incident with an update that changed
// component statuses, and a component whose name needs escaping. It returns the incident's key.
func exportState(t *testing.T, e *env) string {
	t.Helper()
	active := e.declareMajor()
	e.engage(active)
	e.do("ic", "POST", "/api/v1/incidents/"+active+"/updates", map[string]any{"status": "investigating",
		"body": "Policy changes in **Europe** may not apply <yet> & we are on it.", "publish": true,
		"components": map[string]string{"control-plane-eu": "major_outage", "swg-eu": "degraded_performance"}}, 201)
	e.do("admin", "POST", "/api/v1/components", map[string]any{"slug": "billing", "name": `Billing <"EU"> & Co`}, 201)
	return active
}

// `mim export static` writes what the live server answers: served from a plain file server, the page, every JSON,
// the badges, the history, its feeds, every permalink and the assets are the same bytes, and every route of the
// public surface is either in the copy or named in notExported.
func TestStaticExportServesWhatTheLiveServerDoes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := exportState(t, e)

	// The app's own status page exports, so the copy is of the snapshot the live server answers from: the page
	// shows uptime as of the moment it is built, so two snapshots built a second apart differ.
	dir := t.TempDir()
	export := func() {
		t.Helper()
		res, err := e.app.StatusPage.Export(context.Background(), dir)
		require.NoError(t, err)
		require.Contains(t, res.Files, "index.html")
		require.Contains(t, res.Files, "api/v2/summary.json")
		require.Contains(t, res.Files, "incidents/"+key+"/index.html")
		require.Contains(t, res.Files, "incidents/"+key+".html")
		require.Empty(t, res.Skipped)
	}
	export()

	files := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(files.Close)

	// Every public GET route, its parameters filled with what the state holds.
	fill := map[string][]string{
		"{slug}": {"control-plane-eu", "swg-eu", "api", "billing"},
		"{key}":  {key},
	}
	var static []string
	require.NoError(t, fs.WalkDir(web.Static, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			static = append(static, name)
		}
		return err
	}))
	var paths []string
	err := chi.Walk(e.app.Handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		// The API and the responders' UI (/app) are behind authentication: no part of the public copy.
		if method != http.MethodGet || strings.HasPrefix(route, "/api/v1/") || route == "/app" ||
			strings.HasPrefix(route, "/app/") || notExported[route] != "" {
			return nil
		}
		switch {
		case route == "/static/*":
			for _, name := range static {
				paths = append(paths, "/static/"+name)
			}
			return nil
		case strings.Contains(route, "*"):
			t.Errorf("route %s: a wildcard this test cannot fill; add it to Export and here, or to notExported", route)
			return nil
		}
		expanded := []string{route}
		for param, values := range fill {
			var next []string
			for _, p := range expanded {
				if !strings.Contains(p, param) {
					next = append(next, p)
					continue
				}
				for _, v := range values {
					next = append(next, strings.ReplaceAll(p, param, v))
				}
			}
			expanded = next
		}
		for _, p := range expanded {
			if strings.Contains(p, "{") {
				t.Errorf("route %s: a parameter this test cannot fill; add it to Export and here, or to notExported", route)
				return nil
			}
		}
		paths = append(paths, expanded...)
		return nil
	})
	require.NoError(t, err)
	for _, want := range []string{"/", "/api/v2/summary.json", "/badge.svg", "/components/billing/badge.svg",
		"/history", "/history.rss", "/history.atom", "/incidents/" + key, "/static/status.css"} {
		require.Contains(t, paths, want, "the routes this test walks")
	}

	compare := func() (differences []string) {
		for _, p := range paths {
			live := e.request("", "GET", p, nil, nil)
			require.Equal(t, 200, live.status, "live %s", p)
			status, ct, body := staticFile(t, files.URL, p)
			require.Equal(t, 200, status, "exported %s", p)
			if string(live.body) != string(body) {
				differences = append(differences, fmt.Sprintf("exported %s is not what the live server answers:\n%s",
					p, firstDifference(string(live.body), string(body))))
			}
			if strings.HasPrefix(live.header.Get("Content-Type"), "text/html") {
				require.True(t, strings.HasPrefix(ct, "text/html"), "%s is served as HTML from the copy, not %q", p, ct)
			}
		}
		return differences
	}
	// A change notification of the last writes may still arrive and rebuild the live snapshot after the export:
	// then export again, a few times at most.
	differences := compare()
	for attempt := 0; len(differences) > 0 && attempt < 3; attempt++ {
		time.Sleep(200 * time.Millisecond)
		export()
		differences = compare()
	}
	require.Empty(t, differences)

	// Every same-site link of every exported page leads to an exported file.
	for _, p := range paths {
		_, ct, body := staticFile(t, files.URL, p)
		if !strings.HasPrefix(ct, "text/html") {
			continue
		}
		for _, link := range pageLinks(t, body) {
			u, err := url.Parse(files.URL + p)
			require.NoError(t, err)
			target, err := u.Parse(link)
			require.NoError(t, err)
			if target.Host != u.Host || target.Path == u.Path {
				continue
			}
			require.Empty(t, target.RawQuery, "%s links to %s: a static host cannot serve a query", p, link)
			status, _, _ := staticFile(t, files.URL, target.Path)
			require.Equal(t, 200, status, "%s links to %s, which the copy must hold", p, link)
		}
	}

	// A badge is an SVG file on the static host too.
	_, ct, _ := staticFile(t, files.URL, "/badge.svg")
	require.Equal(t, "image/svg+xml", ct)
}

// firstDifference shows where two bodies part, with a little context.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(i-80, 0)
	return "live:     …" + a[from:min(i+80, len(a))] + "\nexported: …" + b[from:min(i+80, len(b))]
}

// pageLinks are the href and src values of an HTML page.
func pageLinks(t *testing.T, body []byte) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(string(body)))
	require.NoError(t, err)
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "href" || a.Key == "src" {
					out = append(out, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return slices.Compact(out)
}

// The badges through the whole server: a 404 for an unknown component, and the component's name kept as text.
func TestBadgesThroughTheServer(t *testing.T) {
	t.Parallel()
	e := setup(t)
	exportState(t, e)
	r := e.request("", "GET", "/components/billing/badge.svg", nil, nil)
	require.Equal(t, 200, r.status)
	require.Equal(t, "image/svg+xml", r.header.Get("Content-Type"))
	require.Equal(t, "default-src 'none'; style-src 'unsafe-inline'", r.header.Get("Content-Security-Policy"))
	require.Contains(t, string(r.body), "Billing &lt;&#34;EU&#34;&gt; &amp; Co: Operational")
	require.NotContains(t, string(r.body), `<"EU">`)
	r = e.request("", "GET", "/components/control-plane-eu/badge.svg", nil, nil)
	require.Contains(t, string(r.body), "Control Plane (Europe): Major outage")
	require.Equal(t, 404, e.request("", "GET", "/components/no-such-thing/badge.svg", nil, nil).status)
	r = e.request("", "GET", "/badge.svg", nil, map[string]string{"Accept-Encoding": "gzip"})
	require.Equal(t, 200, r.status)
	require.NotEmpty(t, r.header.Get("ETag"))
	require.Equal(t, 304, e.request("", "GET", "/badge.svg", nil, map[string]string{"If-None-Match": r.header.Get("ETag")}).status)
}
