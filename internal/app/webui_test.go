package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/api"
	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postgrestest"
	"github.com/mimhq/mim/internal/server"
	"github.com/mimhq/mim/internal/session"
	"github.com/mimhq/mim/internal/webui"
	"github.com/mimhq/mim/web"
)

func TestWebSignInSetsAHardenedSessionCookieStoredOnlyHashedAndSignOutEndsIt(t *testing.T) {
	t.Parallel()
	e := setup(t)
	require.NoError(t, e.app.Accounts.SetPassword(t.Context(), e.emails["ic"], testPassword))
	u := e.browserless()
	login := u.get("/app/login")
	require.Equal(t, http.StatusOK, login.status)
	require.Equal(t, 1, login.doc.Find(`form[data-testid="login-form"] input[name="csrf_token"]`).Length())

	p := u.post("/app/login", url.Values{"email": {"IC@example.com "}, "password": {testPassword}, "next": {"/app/incidents?kind=major"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, "/app/incidents?kind=major", p.location)
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "mim_session" {
			cookie = c
		}
	}
	require.NotNil(t, cookie)
	require.True(t, cookie.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	require.False(t, cookie.Secure, "plain http base URL")
	require.GreaterOrEqual(t, len(cookie.Value), 43, "256 random bits")
	var stored int
	require.NoError(t, e.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM web_sessions WHERE id_hash = $1`,
		session.Hash(cookie.Value)).Scan(&stored))
	require.Equal(t, 1, stored)
	require.NoError(t, e.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM web_sessions WHERE id_hash = $1`,
		[]byte(cookie.Value)).Scan(&stored))
	require.Zero(t, stored, "the id itself is never stored")

	list := u.get("/app/incidents")
	require.Equal(t, http.StatusOK, list.status)
	require.Contains(t, list.text(`[data-testid="signed-in-as"]`), "Ic")
	require.Contains(t, list.header.Get("Content-Security-Policy"), "script-src 'self'")

	out := u.post("/app/logout", url.Values{})
	require.Equal(t, http.StatusSeeOther, out.status)
	var left int
	require.NoError(t, e.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM web_sessions`).Scan(&left))
	require.Zero(t, left)
	again := u.get("/app/incidents")
	require.Equal(t, http.StatusSeeOther, again.status)
	require.True(t, strings.HasPrefix(again.location, "/app/login"))
}

func TestWebSignInRefusalsAndLockoutSayNothingAboutWhichAccountsExist(t *testing.T) {
	t.Parallel()
	e := setup(t)
	require.NoError(t, e.app.Accounts.SetPassword(t.Context(), e.emails["tech"], testPassword))
	attempt := func(email, password string) page {
		u := e.browserless()
		u.get("/app/login")
		return u.post("/app/login", url.Values{"email": {email}, "password": {password}})
	}
	known := attempt(e.emails["tech"], "wrong password!!")
	unknown := attempt("nobody@example.com", "wrong password!!")
	require.Equal(t, http.StatusUnauthorized, known.status)
	require.Equal(t, known.status, unknown.status)
	require.Equal(t, known.text(`[data-testid="login-error"]`), unknown.text(`[data-testid="login-error"]`))
	require.Equal(t, e.emails["tech"], known.doc.Find(`#email`).AttrOr("value", ""), "the address is kept")

	for range 4 {
		attempt(e.emails["tech"], "wrong password!!")
		attempt("nobody@example.com", "wrong password!!")
	}
	// Locked now: even the right password is refused, with the same words as for an address with no account.
	lockedKnown := attempt(e.emails["tech"], testPassword)
	lockedUnknown := attempt("nobody@example.com", testPassword)
	require.Equal(t, http.StatusUnauthorized, lockedKnown.status)
	require.Contains(t, lockedKnown.text(`[data-testid="login-error"]`), "too many failed sign-ins")
	require.Equal(t, lockedKnown.text(`[data-testid="login-error"]`), lockedUnknown.text(`[data-testid="login-error"]`))
	// Another account is not affected.
	require.NoError(t, e.app.Accounts.SetPassword(t.Context(), e.emails["comms"], testPassword))
	require.Equal(t, http.StatusSeeOther, attempt(e.emails["comms"], testPassword).status)
}

func TestWebSignInFormWithoutItsCSRFTokenIsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	require.NoError(t, e.app.Accounts.SetPassword(t.Context(), e.emails["ic"], testPassword))
	u := e.browserless()
	p := u.post("/app/login", url.Values{"email": {e.emails["ic"]}, "password": {testPassword}, "csrf_token": {"forged"}})
	require.Equal(t, http.StatusForbidden, p.status)
}

func TestWebRolesAreEnforcedOnTheServerForEveryKindOfHandler(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	anon := e.browserless()
	r := anon.get("/app/incidents/" + key)
	require.Equal(t, http.StatusSeeOther, r.status)
	require.Equal(t, "/app/login?next=%2Fapp%2Fincidents%2F"+key, r.location)
	require.Equal(t, http.StatusUnauthorized, anon.post("/app/incidents/"+key+"/log-action", url.Values{}).status)
	require.Equal(t, http.StatusSeeOther, anon.get("/app/incidents/"+key+"/events").status)

	viewer := e.signIn("viewer")
	require.Equal(t, http.StatusOK, viewer.get("/app/incidents").status)
	room := viewer.get("/app/incidents/" + key)
	require.Equal(t, http.StatusOK, room.status)
	require.Zero(t, room.doc.Find(`form[action$="/log-action"]`).Length(), "a viewer is offered no controls")
	for _, path := range []string{"/app/incidents/new", "/app/admin/users", "/app/admin/tokens", "/app/components"} {
		require.Equal(t, http.StatusForbidden, viewer.get(path).status, path)
	}
	refused := viewer.post("/app/incidents/"+key+"/assign-role", url.Values{"role": {"incident_commander"}, "user": {e.emails["viewer"]}})
	require.Equal(t, http.StatusForbidden, refused.status)
	require.Equal(t, http.StatusForbidden, viewer.post("/app/incidents/new", url.Values{"title": {"x"}}).status)

	responder := e.signIn("responder")
	require.Equal(t, http.StatusOK, responder.get("/app/incidents/new").status)
	for _, path := range []string{"/app/admin/users", "/app/admin/tokens", "/app/components"} {
		require.Equal(t, http.StatusForbidden, responder.get(path).status, path)
	}
	require.Equal(t, http.StatusForbidden, responder.post("/app/admin/users", url.Values{"email": {"x@example.com"},
		"name": {"X"}, "role": {"admin"}}).status)

	admin := e.signIn("admin")
	for _, path := range []string{"/app/admin/users", "/app/admin/tokens", "/app/components"} {
		require.Equal(t, http.StatusOK, admin.get(path).status, path)
	}
	rec, err := e.app.Incidents.Get(t.Context(), key)
	require.NoError(t, err)
	require.Nil(t, rec.State.Roles.IncidentCommander, "the refused assignment changed nothing")
}

func TestWebFormsWithoutTheSessionsCSRFTokenAreRefusedAndChangeNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	u := e.signIn("responder")
	room := u.get("/app/incidents/" + key)
	for _, tok := range []string{"", "not-the-token"} {
		p := u.post("/app/incidents/"+key+"/assign-role", url.Values{"csrf_token": {tok}, "role": {"incident_commander"},
			"user": {e.emails["ic"]}, "version": {room.version(t)}})
		require.Equal(t, http.StatusForbidden, p.status)
		require.Contains(t, p.text(`[data-testid="message"]`), "CSRF")
	}
	rec, err := e.app.Incidents.Get(t.Context(), key)
	require.NoError(t, err)
	require.Nil(t, rec.State.Roles.IncidentCommander)
	require.Equal(t, http.StatusForbidden, u.post("/app/logout", url.Values{"csrf_token": {"x"}}).status)
}

func TestWebOversizedFormIsRefusedClearlyAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	u := e.signIn("responder")
	room := u.get("/app/incidents/" + key)
	p := u.post("/app/incidents/"+key+"/log-action", url.Values{"kind": {"fix"}, "version": {room.version(t)},
		"description": {strings.Repeat("x", 300<<10)}})
	require.Equal(t, http.StatusBadRequest, p.status)
	require.Contains(t, p.text(`h1`), "could not be read")
	rec, err := e.app.Incidents.Get(t.Context(), key)
	require.NoError(t, err)
	require.Empty(t, rec.State.Actions)
}

// A colleague's page mounted through UI.Mount lives behind the same sign-in, role check and CSRF check.
func TestWebMountedPagesGetTheSignInRoleAndCSRFChecks(t *testing.T) {
	t.Parallel()
	url0 := postgrestest.NewDatabase(t)
	a, err := app.New(t.Context(), config.Config{PageName: "T", BaseURL: "http://status.test", TimeZone: time.UTC}, url0,
		slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	a.UI.ExtraNav = []web.NavLink{{Label: "Reports", Href: "/app/reports"}}
	a.UI.Mount = append(a.UI.Mount, func(r chi.Router) {
		r.With(a.UI.RequireRole(domain.OrgResponder)).Post("/reports", func(w http.ResponseWriter, r *http.Request) {
			actor, _ := webui.ActorFrom(r.Context())
			_, _ = w.Write([]byte("made by " + actor.Email))
		})
		r.With(a.UI.RequireRole(domain.OrgViewer)).Get("/reports", func(w http.ResponseWriter, r *http.Request) {
			body := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
				return web.CSRFField(webui.CSRFToken(ctx)).Render(ctx, w)
			})
			_ = web.AppLayout(a.UI.Page(r, "Reports")).Render(templ.WithChildren(r.Context(), body), w)
		})
	})
	srv := httptest.NewServer(server.New(server.Deps{API: &api.API{}, StatusPage: a.StatusPage, UI: a.UI,
		Ready: func(context.Context) error { return nil }, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(func() { srv.Close(); a.Close() })
	e := &env{t: t, app: a, srv: srv, emails: map[string]string{"ic": "ic@example.com", "viewer": "viewer@example.com"}}
	_, err = a.Accounts.CreateUser(t.Context(), accountUser("ic@example.com"))
	require.NoError(t, err)
	_, err = a.Accounts.CreateUser(t.Context(), account.NewUser{Email: "viewer@example.com", Name: "V", Role: domain.OrgViewer})
	require.NoError(t, err)

	require.Equal(t, http.StatusSeeOther, e.browserless().get("/app/reports").status)
	ic := e.signIn("ic")
	p := ic.get("/app/reports")
	require.Equal(t, http.StatusOK, p.status)
	require.Equal(t, "page", p.doc.Find(`nav a[href="/app/reports"]`).AttrOr("aria-current", ""))
	require.Equal(t, "made by ic@example.com", ic.post("/app/reports", url.Values{}).body)
	require.Equal(t, http.StatusForbidden, ic.post("/app/reports", url.Values{"csrf_token": {"forged"}}).status)
	viewer := e.signIn("viewer")
	require.Equal(t, http.StatusOK, viewer.get("/app/reports").status)
	require.Equal(t, http.StatusForbidden, viewer.post("/app/reports", url.Values{}).status)
}

func TestWebTooManyFailedSignInsFromOneAddressAreRefusedBeforeAnyPasswordCheck(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.app.UI.LoginLimiter = webui.NewLimiter(2, time.Minute, nil)
	require.NoError(t, e.app.Accounts.SetPassword(t.Context(), e.emails["ic"], testPassword))
	attempt := func(email, password string) page {
		u := e.browserless()
		u.get("/app/login")
		return u.post("/app/login", url.Values{"email": {email}, "password": {password}})
	}
	require.Equal(t, http.StatusSeeOther, attempt(e.emails["ic"], testPassword).status, "successes do not count")
	require.Equal(t, http.StatusUnauthorized, attempt("a@example.com", "wrong password!").status)
	require.Equal(t, http.StatusUnauthorized, attempt("b@example.com", "wrong password!").status)
	p := attempt(e.emails["ic"], testPassword)
	require.Equal(t, http.StatusTooManyRequests, p.status)
	require.Contains(t, p.text(`[data-testid="login-error"]`), "too many failed sign-ins from your network address")
}

func TestWebSignInWithAnOddUserAgentOrEmailIsNeverA500(t *testing.T) {
	t.Parallel()
	e := setup(t)
	require.NoError(t, e.app.Accounts.SetPassword(t.Context(), e.emails["ic"], testPassword))
	for _, ua := range []string{"Mozilla\xff", strings.Repeat("a", 299) + "é", "Mozilla/\t5.0"} {
		u := e.browserless()
		u.get("/app/login")
		form := url.Values{"email": {e.emails["ic"]}, "password": {testPassword}, "csrf_token": {u.csrf}}
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/app/login", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", ua)
		p := u.do(req)
		require.Equal(t, http.StatusSeeOther, p.status, "user agent %q: %s", ua, p.body)
	}
	var agents []string
	rows, err := e.app.DB.Pool.Query(t.Context(), `SELECT user_agent FROM web_sessions`)
	require.NoError(t, err)
	for rows.Next() {
		var a string
		require.NoError(t, rows.Scan(&a))
		agents = append(agents, a)
	}
	require.NoError(t, rows.Err())
	require.ElementsMatch(t, []string{"Mozilla\uFFFD", strings.Repeat("a", 299), "Mozilla/5.0"}, agents)

	wrong := func(email string) page {
		u := e.browserless()
		u.get("/app/login")
		return u.post("/app/login", url.Values{"email": {email}, "password": {"wrong password!!"}})
	}
	unknown := wrong("nobody@example.com")
	require.Equal(t, http.StatusUnauthorized, unknown.status)
	for _, email := range []string{"ad\x00min@example.com", strings.Repeat("a", 319) + "é@x", "ad\xffmin@example.com"} {
		p := wrong(email)
		require.Equal(t, http.StatusUnauthorized, p.status, "email %q: %s", email, p.body)
		require.Equal(t, unknown.text(`[data-testid="login-error"]`), p.text(`[data-testid="login-error"]`))
	}
}
