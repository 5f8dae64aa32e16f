package app_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/domain"
)

// testPassword is every test user's web UI password.
const testPassword = "correct horse battery"

// ui is one browser without JavaScript: a cookie jar, no automatic redirects, and the CSRF token of the last page.
type ui struct {
	t    testing.TB
	e    *env
	c    *http.Client
	csrf string
}

// page is an answer of the UI, parsed.
type page struct {
	status   int
	location string
	header   http.Header
	body     string
	doc      *goquery.Document
}

func (e *env) browserless() *ui {
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	return &ui{t: e.t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signIn gives the named test user a password and signs in as them.
func (e *env) signIn(who string) *ui {
	e.t.Helper()
	require.NoError(e.t, e.app.Accounts.SetPassword(e.t.Context(), e.emails[who], testPassword))
	u := e.browserless()
	u.get("/app/login")
	p := u.post("/app/login", url.Values{"email": {e.emails[who]}, "password": {testPassword}})
	require.Equal(e.t, http.StatusSeeOther, p.status, p.body)
	u.get("/app/incidents") // learn the session's CSRF token
	require.NotEmpty(e.t, u.csrf)
	return u
}

func (u *ui) do(req *http.Request) page {
	u.t.Helper()
	resp, err := u.c.Do(req)
	require.NoError(u.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(u.t, err)
	p := page{status: resp.StatusCode, location: resp.Header.Get("Location"), header: resp.Header, body: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		p.doc, err = goquery.NewDocumentFromReader(strings.NewReader(p.body))
		require.NoError(u.t, err)
		if tok, ok := p.doc.Find(`input[name="csrf_token"]`).First().Attr("value"); ok && tok != "" {
			u.csrf = tok
		}
	}
	return p
}

func (u *ui) get(path string) page {
	u.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u.e.srv.URL+path, nil)
	require.NoError(u.t, err)
	return u.do(req)
}

// post submits a form with the current CSRF token (unless the form sets csrf_token itself).
func (u *ui) post(path string, form url.Values) page {
	u.t.Helper()
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", u.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, u.e.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(u.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return u.do(req)
}

// follow posts and follows the 303 to the page it names.
func (u *ui) follow(path string, form url.Values) page {
	u.t.Helper()
	p := u.post(path, form)
	require.Equal(u.t, http.StatusSeeOther, p.status, p.body)
	return u.get(p.location)
}

func (p page) text(sel string) string { return strings.TrimSpace(p.doc.Find(sel).Text()) }

// version is the incident version the war room was rendered at.
func (p page) version(t testing.TB) string {
	v, ok := p.doc.Find(`[data-testid="war-room"]`).Attr("data-version")
	require.True(t, ok, "no war room on the page")
	return v
}

func accountUser(email string) account.NewUser {
	return account.NewUser{Email: email, Name: "Ic", Role: domain.OrgResponder, Password: testPassword}
}

func componentNamed(slug string) domain.Component {
	return domain.Component{Slug: slug, Name: strings.ToUpper(slug)}
}
