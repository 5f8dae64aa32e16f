package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postgrestest"
)

func TestWebAdminCreatesUsersChangesRolesAndResetsPasswords(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("admin")
	// Refused: input kept, errors said beside the fields, nothing created.
	p := admin.post("/app/admin/users", url.Values{"email": {"not-an-address"}, "name": {"Nora"}, "role": {"responder"},
		"password": {"short"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.text(`[data-testid="new-email-error"]`), "email address")
	require.Contains(t, p.text(`[data-testid="new-password-error"]`), "12 characters")
	require.Equal(t, "not-an-address", p.doc.Find(`#new-email`).AttrOr("value", ""))
	require.Equal(t, "Nora", p.doc.Find(`#new-name`).AttrOr("value", ""))
	_, err := e.app.Accounts.User(t.Context(), "not-an-address")
	require.Error(t, err)

	p = admin.follow("/app/admin/users", url.Values{"email": {"Nora@Example.com"}, "name": {"Nora"}, "role": {"viewer"},
		"password": {"nora's long password"}})
	require.Contains(t, p.text(`[data-testid="flash"]`), "nora@example.com")
	nora, err := e.app.Accounts.User(t.Context(), "nora@example.com")
	require.NoError(t, err)

	// Nora signs in; an admin makes her a responder; resetting her password ends her session.
	u := e.browserless()
	u.get("/app/login")
	require.Equal(t, http.StatusSeeOther, u.post("/app/login", url.Values{"email": {"nora@example.com"},
		"password": {"nora's long password"}}).status)
	require.Equal(t, http.StatusForbidden, u.get("/app/incidents/new").status)
	admin.get("/app/admin/users")
	admin.follow("/app/admin/users/"+nora.ID+"/role", url.Values{"role": {"responder"}})
	require.Equal(t, http.StatusOK, u.get("/app/incidents/new").status, "the new role counts at once")
	bad := admin.post("/app/admin/users/"+nora.ID+"/role", url.Values{"role": {"superuser"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.status)
	require.Equal(t, http.StatusUnprocessableEntity, admin.post("/app/admin/users/"+nora.ID+"/password",
		url.Values{"password": {"short"}}).status)
	admin.follow("/app/admin/users/"+nora.ID+"/password", url.Values{"password": {"a brand new password"}})
	require.Equal(t, http.StatusSeeOther, u.get("/app/incidents").status, "signed out by the reset")
	require.Equal(t, http.StatusNotFound, admin.post("/app/admin/users/00000000-0000-0000-0000-000000000000/role",
		url.Values{"role": {"viewer"}}).status)
}

// The last admin cannot demote themselves (nobody would be left to manage the organisation); with a second admin
// they can.
func TestWebTheLastAdminCannotBeDemoted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("admin")
	me, err := e.app.Accounts.User(t.Context(), e.emails["admin"])
	require.NoError(t, err)
	admin.get("/app/admin/users")
	for _, role := range []string{"viewer", "responder"} {
		p := admin.post("/app/admin/users/"+me.ID+"/role", url.Values{"role": {role}})
		require.Equal(t, http.StatusConflict, p.status, p.body)
		require.Contains(t, p.text(`[data-testid="error"]`), "last admin")
	}
	me, err = e.app.Accounts.User(t.Context(), e.emails["admin"])
	require.NoError(t, err)
	require.Equal(t, domain.OrgAdmin, me.Role, "nothing changed")
	err = e.app.Accounts.SetRole(t.Context(), me.ID, domain.OrgViewer)
	require.Equal(t, "last_admin", domain.AsError(err).Code)
	require.Equal(t, domain.ErrConflict, domain.AsError(err).Kind)

	// Promoting the last admin to admin again is no change, and allowed.
	require.NoError(t, e.app.Accounts.SetRole(t.Context(), me.ID, domain.OrgAdmin))
	// With a second admin, the first may step down.
	require.NoError(t, e.app.Accounts.SetRole(t.Context(), e.emails["ic"], domain.OrgAdmin))
	admin.follow("/app/admin/users/"+me.ID+"/role", url.Values{"role": {"viewer"}})
	me, err = e.app.Accounts.User(t.Context(), e.emails["admin"])
	require.NoError(t, err)
	require.Equal(t, domain.OrgViewer, me.Role)
}

func TestWebAdminTokenIsShownOnceAndCanBeRevoked(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("admin")
	admin.get("/app/admin/tokens")
	p := admin.post("/app/admin/tokens", url.Values{"user": {e.emails["responder"]}, "name": {"pager"}, "scopes": {"read"}})
	require.Equal(t, http.StatusCreated, p.status)
	token := p.text(`[data-testid="new-token"]`)
	require.True(t, strings.HasPrefix(token, "mim_"))
	e.tokens["pager"] = token
	e.do("pager", "GET", "/api/v1/incidents", nil, 200)
	e.do("pager", "POST", "/api/v1/incidents", map[string]any{"title": "x", "severity": "low", "urgency": "low",
		"components": []string{"api"}, "scope": map[string]any{}, "business_impact": []string{}}, 403)

	again := admin.get("/app/admin/tokens")
	require.NotContains(t, again.body, token, "shown once")
	var id string
	again.doc.Find(`[data-testid="token-row"]`).Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "pager") {
			action, _ := s.Find(`form`).Attr("action")
			id = strings.TrimSuffix(strings.TrimPrefix(action, "/app/admin/tokens/"), "/revoke")
		}
	})
	require.NotEmpty(t, id)
	admin.follow("/app/admin/tokens/"+id+"/revoke", url.Values{})
	e.do("pager", "GET", "/api/v1/incidents", nil, 401)
	require.Contains(t, admin.get("/app/admin/tokens").text(`[data-testid="tokens"]`), "revoked")

	refused := admin.post("/app/admin/tokens", url.Values{"user": {e.emails["viewer"]}, "scopes": {"write"}})
	require.Equal(t, http.StatusUnprocessableEntity, refused.status)
	require.Contains(t, refused.text(`[data-testid="error"]`), "more than this token may carry")
}

func TestWebAdminEditsComponentsOrderGroupAndFlags(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("admin")
	admin.get("/app/components")
	p := admin.post("/app/components", url.Values{"name": {""}, "group": {"Europe"}, "position": {"x"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.text(`[data-testid="new-position-error"]`), "whole number")
	require.Equal(t, "Europe", p.doc.Find(`#new-group`).AttrOr("value", ""))

	admin.follow("/app/components", url.Values{"name": {"Billing"}, "group": {"Global"}, "description": {"Invoices"},
		"position": {"1"}, "core": {"1"}})
	p = admin.follow("/app/components/billing", url.Values{"name": {"Billing & invoices"}, "group": {"Global"},
		"description": {"Invoices and payments"}, "position": {"0"}, "control_plane": {"1"}})
	require.Contains(t, p.text(`[data-testid="flash"]`), "billing")
	comps, err := e.app.Components.List(t.Context())
	require.NoError(t, err)
	require.Equal(t, "billing", comps[0].Slug, "position 0 sorts first")
	require.Equal(t, "Billing & invoices", comps[0].Name)
	require.True(t, comps[0].ControlPlane)
	require.False(t, comps[0].Core)

	bad := admin.post("/app/components/billing", url.Values{"name": {""}, "position": {"2"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.status)
	require.Contains(t, bad.text(`[data-testid="c-billing-name-error"]`), "required")
	require.Equal(t, "2", bad.doc.Find(`#c-billing-position`).AttrOr("value", ""), "the refused edit is kept")
	require.Equal(t, http.StatusNotFound, admin.post("/app/components/nope", url.Values{"name": {"x"}}).status)
	// The public page follows at once.
	require.Contains(t, string(e.request("", "GET", "/", nil, nil).body), "Billing &amp; invoices")
}

// The UI writes times in the organisation's zone with its name, and marks cookies Secure behind https.
func TestWebTimesCarryTheOrganisationsZoneAndCookiesAreSecureBehindHTTPS(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	cfg := config.Config{PageName: "Test", BaseURL: "https://status.example.com", TimeZone: paris}
	a, err := app.New(context.Background(), cfg, postgrestest.NewDatabase(t), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() { srv.Close(); a.Close() })
	e := &env{t: t, app: a, srv: srv, tokens: map[string]string{}, emails: map[string]string{"ic": "ic@example.com"}}
	_, err = a.Accounts.CreateUser(t.Context(), accountUser("ic@example.com"))
	require.NoError(t, err)

	u := e.browserless()
	u.get("/app/login")
	p := u.post("/app/login", url.Values{"email": {"ic@example.com"}, "password": {testPassword}})
	require.Equal(t, http.StatusSeeOther, p.status)
	var secure bool
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "mim_session" {
			secure = c.Secure
		}
	}
	require.True(t, secure)
	// The test client speaks plain http, so carry the Secure cookie by hand.
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "mim_session" {
			c.Secure = false
			srvURL, _ := url.Parse(srv.URL)
			u.c.Jar.SetCookies(srvURL, []*http.Cookie{c})
		}
	}
	_, err = a.Components.Create(t.Context(), componentNamed("api"))
	require.NoError(t, err)
	u.get("/app/incidents/new")
	room := u.get(u.post("/app/incidents/new", url.Values{"title": {"Zone"}, "components": {"api"}, "severity": {"low"},
		"urgency": {"low"}}).location)
	require.Equal(t, http.StatusOK, room.status)
	declared := room.doc.Find(`.facts time`).First().Text()
	require.Regexp(t, `CES?T$`, declared, "Paris time, zone named")
	require.Contains(t, room.text(`footer`), "Europe/Paris")
}
