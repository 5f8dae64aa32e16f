package app_test

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The admin's directory pages — stakeholder lists, customers, resolver groups, ticket systems: admins only; a
// refused form keeps its input with the error beside the field; each entry added, listed (escaped) and deleted;
// a ticket system's secret shown once and its URL masked.
func TestWebAdminManagesTheCommunicationDirectory(t *testing.T) {
	t.Parallel()
	e := setup(t)
	viewer, responder, admin := e.signIn("viewer"), e.signIn("responder"), e.signIn("admin")
	evil := `<script>alert(1)</script>`
	cases := []struct {
		path, field string
		bad, good   url.Values
		shown       string
	}{
		{"/app/admin/stakeholders", "emails",
			url.Values{"name": {"Execs"}, "emails": {"ceo@example.com\nnot an address"}, "severities": {"critical"}},
			url.Values{"name": {"Execs " + evil}, "emails": {"ceo@example.com, cto@example.com"}, "severities": {"critical", "high"}},
			"cto@example.com"},
		{"/app/admin/customers", "csm_email",
			url.Values{"name": {"Acme"}, "components": {"api"}},
			url.Values{"name": {"Acme"}, "csm_email": {"csm@example.com"}, "components": {"api"}},
			"csm@example.com"},
		{"/app/admin/resolver-groups", "email",
			url.Values{"name": {"DBA"}, "email": {"nope"}},
			url.Values{"name": {"DBA"}, "email": {"dba@example.com"}},
			"dba@example.com"},
	}
	for _, c := range cases {
		require.Equal(t, http.StatusForbidden, viewer.get(c.path).status, c.path)
		require.Equal(t, http.StatusForbidden, responder.post(c.path, maps.Clone(c.good)).status, c.path)
		p := admin.get(c.path)
		require.Equal(t, http.StatusOK, p.status, c.path)
		require.Equal(t, 1, p.doc.Find(`[data-testid="signed-in-as"]`).Length(), "inside the layout")
		require.Equal(t, "page", p.doc.Find(`nav a[href="`+c.path+`"]`).AttrOr("aria-current", ""), c.path)
		require.Equal(t, 1, p.doc.Find(`[data-testid="directory-empty"]`).Length(), c.path)

		p = admin.post(c.path, maps.Clone(c.bad))
		require.Equal(t, http.StatusUnprocessableEntity, p.status, c.path)
		require.NotEmpty(t, p.text(`[data-testid="f-`+c.field+`-error"]`), c.path)
		require.Equal(t, c.bad.Get("name"), p.doc.Find(`#f-name`).AttrOr("value", ""), "input kept: %s", c.path)

		bad := maps.Clone(c.good)
		bad.Set("csrf_token", "")
		require.Equal(t, http.StatusForbidden, admin.post(c.path, bad).status, "no CSRF token: %s", c.path)

		p = admin.follow(c.path, maps.Clone(c.good))
		require.Contains(t, p.text(`[data-testid="flash"]`), "Added", c.path)
		rows := p.doc.Find(`[data-testid="directory-row"]`)
		require.Equal(t, 1, rows.Length(), c.path)
		require.Contains(t, rows.Text(), c.shown)
		require.NotContains(t, p.body, evil, "escaped")
		id := strings.TrimPrefix(rows.AttrOr("id", ""), "entry-")
		require.Equal(t, http.StatusForbidden, responder.post(c.path+"/"+id+"/delete", url.Values{}).status)
		p = admin.follow(c.path+"/"+id+"/delete", url.Values{})
		require.Equal(t, 0, p.doc.Find(`[data-testid="directory-row"]`).Length(), c.path)
		require.Equal(t, http.StatusNotFound, admin.post(c.path+"/"+id+"/delete", url.Values{}).status, c.path)
	}
	// A ticket system: its secret shown this once, its URL only as scheme and host.
	const ts = "/app/admin/ticket-systems"
	p := admin.post(ts, url.Values{"name": {"Zendesk"}, "url": {"ftp://x"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.NotEmpty(t, p.text(`[data-testid="f-url-error"]`))
	require.Equal(t, "ftp://x", p.doc.Find(`#f-url`).AttrOr("value", ""))
	p = admin.post(ts, url.Values{"name": {"Zendesk"}, "url": {"https://tickets.example.com/hook/tok-123"}})
	require.Equal(t, http.StatusCreated, p.status, p.body)
	require.Regexp(t, `^whsec_`, p.text(`[data-testid="new-secret"]`))
	require.Contains(t, p.text(`[data-testid="directory-row"]`), "https://tickets.example.com/…")
	require.NotContains(t, p.body, "tok-123")
	require.Empty(t, admin.get(ts).doc.Find(`[data-testid="new-secret"]`).Text(), "shown once")
}
