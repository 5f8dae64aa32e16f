package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The reports page and the post-incident pages live behind the UI's sign-in, inside its layout: not signed in is
// sent to sign in; a viewer reads but may not write; a post without the session's CSRF token is refused by
// LoadSession before the pages see it; POST /app/incidents/{key}/pir reaches the PIR page, not the war room's
// command route.
func TestWebMountsReportsAndPostIncidentPagesBehindTheSignIn(t *testing.T) {
	t.Parallel()
	e, key, _ := drilled(t)

	anon := e.browserless()
	for _, path := range []string{"/app/reports", "/app/reports.csv", "/app/post-incident", "/app/incidents/" + key + "/pir",
		"/app/incidents/" + key + "/rca", "/app/corrective-actions", "/app/problems", "/app/holidays"} {
		p := anon.get(path)
		require.Equal(t, http.StatusSeeOther, p.status, path)
		require.True(t, strings.HasPrefix(p.location, "/app/login?next="), path)
	}
	require.Equal(t, http.StatusUnauthorized, anon.post("/app/incidents/"+key+"/pir", url.Values{}).status)

	viewer := e.signIn("viewer")
	p := viewer.get("/app/reports")
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Equal(t, 1, p.doc.Find(`[data-testid="signed-in-as"]`).Length(), "inside the layout")
	require.Equal(t, 1, p.doc.Find(`[data-testid="reports"]`).Length())
	require.Contains(t, p.body, key, "the drill is in the numbers")
	require.Contains(t, p.header.Get("Content-Security-Policy"), "script-src 'self'", "the app's policy, which lets its script run")
	require.Equal(t, "page", p.doc.Find(`nav a[href="/app/reports"]`).AttrOr("aria-current", ""))
	require.Equal(t, 1, p.doc.Find(`nav a[href="/app/post-incident"]`).Length())
	csv := viewer.get("/app/reports.csv")
	require.Equal(t, http.StatusOK, csv.status)
	require.Contains(t, csv.header.Get("Content-Type"), "text/csv")

	p = viewer.get("/app/incidents/" + key + "/pir")
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Equal(t, 1, p.doc.Find(`[data-testid="signed-in-as"]`).Length(), "inside the layout")
	require.Contains(t, p.text(`[data-testid="document-heading"]`), key)
	require.Equal(t, 0, p.doc.Find(`[data-testid="edit-form"]`).Length(), "no edit form for a viewer")
	require.Equal(t, http.StatusForbidden, viewer.post("/app/incidents/"+key+"/pir", url.Values{"summary": {"viewer's"}}).status)
	require.Equal(t, http.StatusForbidden, viewer.post("/app/problems", url.Values{"title": {"viewer's"}}).status)
	require.Equal(t, http.StatusForbidden, viewer.post("/app/holidays", url.Values{"date": {"2027-01-01"}, "name": {"x"}}).status)
	for _, path := range []string{"/app/post-incident", "/app/incidents/" + key + "/rca", "/app/corrective-actions",
		"/app/problems", "/app/holidays"} {
		p := viewer.get(path)
		require.Equal(t, http.StatusOK, p.status, path)
		require.Equal(t, 1, p.doc.Find(`[data-testid="signed-in-as"]`).Length(), path)
	}

	ic := e.signIn("drill-ic")
	war := ic.get("/app/incidents/" + key)
	require.Equal(t, "/app/incidents/"+key+"/pir", war.doc.Find(`[data-testid="pir-link"]`).AttrOr("href", ""))
	require.Equal(t, "/app/incidents/"+key+"/rca", war.doc.Find(`[data-testid="rca-link"]`).AttrOr("href", ""))
	p = ic.get("/app/incidents/" + key + "/pir")
	form := url.Values{"version": {p.doc.Find(`[data-testid="edit-form"] input[name="version"]`).AttrOr("value", "")},
		"summary": {"Edited in the UI"}, "customer_summary": {""}}
	refused := ic.post("/app/incidents/"+key+"/pir", url.Values{"csrf_token": {"forged"}, "summary": {"forged"}})
	require.Equal(t, http.StatusForbidden, refused.status)
	require.Contains(t, refused.body, "CSRF")
	require.Equal(t, http.StatusForbidden, ic.post("/app/incidents/"+key+"/pir", url.Values{"csrf_token": {""},
		"summary": {"forged"}}).status, "no token at all")
	saved := ic.post("/app/incidents/"+key+"/pir", form)
	require.Equal(t, http.StatusSeeOther, saved.status, saved.body)
	p = ic.get(saved.location)
	require.Contains(t, p.doc.Find(`#summary`).Text(), "Edited in the UI")
	require.NotContains(t, p.doc.Find(`#summary`).Text(), "forged")
}
