package app_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/domain"
)

// brandForm is a branding form: name, accent, and link rows as label, URL pairs.
func brandForm(version, name, accent string, links ...string) url.Values {
	f := url.Values{"version": {version}, "name": {name}, "accent": {accent}}
	for i := 0; i+1 < len(links); i += 2 {
		n := string(rune('0' + i/2))
		f.Set("link_label_"+n, links[i])
		f.Set("link_url_"+n, links[i+1])
	}
	return f
}

// postFile submits a form with a file in its logo field, as a browser does (multipart), with the CSRF token.
func (u *ui) postFile(path string, form url.Values, filename string, file []byte) page {
	u.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", u.csrf)
	}
	for k, vs := range form {
		for _, v := range vs {
			require.NoError(u.t, mw.WriteField(k, v))
		}
	}
	fw, err := mw.CreateFormFile("logo", filename)
	require.NoError(u.t, err)
	_, _ = fw.Write(file)
	require.NoError(u.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, u.e.srv.URL+path, &body)
	require.NoError(u.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return u.do(req)
}

// publicGet reads a public page of the server at base.
func publicGet(t *testing.T, base, path string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(base + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func storedBrand(t *testing.T, e *env) (domain.Brand, bool) {
	t.Helper()
	b, err := e.app.UI.Branding.Brand(t.Context())
	if domain.IsKind(err, domain.ErrNotFound) {
		return b, false
	}
	require.NoError(t, err)
	return b, true
}

// Only admins see and change the brand; a form without the session's CSRF token changes nothing.
func TestWebBrandingIsForAdminsAndRefusesFormsWithoutCSRF(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(c *config.Config) { c.Accent = "#112233" })
	admin := e.signIn("admin")
	p := admin.get("/app/branding")
	require.Equal(t, http.StatusOK, p.status)
	require.Equal(t, 1, p.doc.Find(`nav a[href="/app/branding"]`).Length(), "admins have the nav link")
	require.Equal(t, "Test status", p.doc.Find(`#brand-name`).AttrOr("value", ""), "the configured brand, filled in")
	require.Equal(t, "#112233", p.doc.Find(`#brand-accent`).AttrOr("value", ""))

	for _, who := range []string{"responder", "viewer"} {
		u := e.signIn(who)
		p := u.get("/app/branding")
		require.Equal(t, http.StatusForbidden, p.status, who)
		require.Zero(t, p.doc.Find(`nav a[href="/app/branding"]`).Length(), who)
		require.Equal(t, http.StatusForbidden, u.post("/app/branding", brandForm("0", "Hijacked", "")).status, who)
		require.Equal(t, http.StatusForbidden, u.post("/app/branding/reset", url.Values{"version": {"1"}}).status, who)
	}
	anonymous := e.browserless()
	require.Equal(t, http.StatusSeeOther, anonymous.get("/app/branding").status)
	require.Equal(t, http.StatusUnauthorized, anonymous.post("/app/branding", brandForm("0", "Hijacked", "")).status)

	form := brandForm("0", "Hijacked", "")
	form.Set("csrf_token", "forged")
	require.Equal(t, http.StatusForbidden, admin.post("/app/branding", form).status)
	png, err := base64.StdEncoding.DecodeString(pixelPNG)
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, admin.postFile("/app/branding", form, "l.png", png).status,
		"a multipart form is checked too")
	form = brandForm("0", "Hijacked", "")
	form.Set("csrf_token", "")
	require.Equal(t, http.StatusForbidden, admin.post("/app/branding", form).status)
	_, stored := storedBrand(t, e)
	require.False(t, stored, "nothing was stored")
	_, body := publicGet(t, e.srv.URL, "/")
	require.NotContains(t, body, "Hijacked")
}

// A refused brand says why beside each field, keeps what was typed, and changes nothing.
func TestWebBrandingValidationErrorsKeepTheInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("admin")
	admin.get("/app/branding")
	p := admin.post("/app/branding", brandForm("0", "Acme", "red; } body { display:none",
		"Support", "javascript:alert(1)", "", "https://docs.example.com", "Plain", "http://example.com"))
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.text(`[data-testid="brand-accent-error"]`), "#0b6e4f")
	require.Contains(t, p.text(`[data-testid="link-url-0-error"]`), "https://")
	require.Contains(t, p.text(`[data-testid="link-label-1-error"]`), "required")
	require.Contains(t, p.text(`[data-testid="link-url-2-error"]`), "https://")
	require.Equal(t, "Acme", p.doc.Find(`#brand-name`).AttrOr("value", ""))
	require.Equal(t, "red; } body { display:none", p.doc.Find(`#brand-accent`).AttrOr("value", ""))
	require.Equal(t, "javascript:alert(1)", p.doc.Find(`#link-url-0`).AttrOr("value", ""))
	require.Equal(t, "https://docs.example.com", p.doc.Find(`#link-url-1`).AttrOr("value", ""))

	p = admin.post("/app/branding", brandForm("0", "  ", ""))
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.text(`[data-testid="brand-name-error"]`), "required")

	six := []string{}
	for i := range 6 {
		six = append(six, "L"+string(rune('a'+i)), "https://example.com/"+string(rune('a'+i)))
	}
	p = admin.post("/app/branding", brandForm("0", "Acme", "", six...))
	require.Equal(t, http.StatusUnprocessableEntity, p.status, "a sixth link is refused, not dropped")
	require.Contains(t, p.text(`[data-testid="links-error"]`), "at most 5")

	p = admin.postFile("/app/branding", brandForm("0", "Acme", "#0b6e4f"), "logo.png", []byte("<script>alert(1)</script>"))
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.text(`[data-testid="brand-logo-error"]`), "PNG")
	require.Equal(t, "Acme", p.doc.Find(`#brand-name`).AttrOr("value", ""), "input kept on a multipart form")
	p = admin.postFile("/app/branding", brandForm("0", "Acme", ""), "logo.svg", []byte("<html><script>alert(1)</script></html>"))
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	p = admin.postFile("/app/branding", brandForm("0", "Acme", ""), "big.png", bytes.Repeat([]byte{0x89}, domain.MaxLogoBytes+1))
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.text(`[data-testid="brand-logo-error"]`), "512 KiB")

	p = admin.post("/app/branding", brandForm("x", "Acme", ""))
	require.Equal(t, http.StatusUnprocessableEntity, p.status)

	_, stored := storedBrand(t, e)
	require.False(t, stored, "nothing was stored")
}

// The stored brand dresses the public page, its other pages, the subscription pages and the static copy; what an
// admin typed is text there, never markup; a reset brings the configured brand back.
func TestWebBrandingDressesThePublicPagesEscaped(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(c *config.Config) {
		c.Accent = "#112233"
		c.Links = []config.Link{{Label: "Configured", URL: "https://configured.example.com"}}
	})
	_, page := publicGet(t, e.srv.URL, "/")
	require.Contains(t, page, "<title>Test status</title>", "the configuration's while nothing is stored")
	require.Contains(t, page, "Configured")

	admin := e.signIn("admin")
	admin.get("/app/branding")
	name := `Acme <img src=x onerror=alert(1)>`
	p := admin.follow("/app/branding", brandForm("0", name, "#0B6E4F",
		`<script>alert(2)</script>`, "https://support.example.com/?a=1&b=2", "Docs", "https://docs.example.com"))
	require.Contains(t, p.text(`[data-testid="flash"]`), "Brand saved")
	require.Equal(t, name, p.doc.Find(`#brand-name`).AttrOr("value", ""))
	require.Equal(t, "#0b6e4f", p.doc.Find(`#brand-accent`).AttrOr("value", ""), "normalised")

	_, page = publicGet(t, e.srv.URL, "/")
	require.Contains(t, page, "<title>Acme &lt;img src=x onerror=alert(1)&gt;</title>")
	require.NotContains(t, page, "<img src=x")
	require.NotContains(t, page, "<script>alert(2)")
	require.Contains(t, page, "&lt;script&gt;alert(2)&lt;/script&gt;</a>")
	require.Contains(t, page, `href="https://support.example.com/?a=1&amp;b=2"`)
	require.NotContains(t, page, "Configured", "the stored links replace the configured ones")
	_, css := publicGet(t, e.srv.URL, "/brand.css")
	require.Contains(t, css, "#0b6e4f")
	for _, path := range []string{"/history", "/incidents/NOPE-1", "/subscribe"} {
		_, body := publicGet(t, e.srv.URL, path)
		require.Contains(t, body, "Acme &lt;img", path)
		require.Contains(t, body, `href="https://docs.example.com"`, path)
		require.NotContains(t, body, "<img src=x", path)
	}
	_, badge := publicGet(t, e.srv.URL, "/badge.svg")
	require.Contains(t, badge, "Acme &lt;img")

	// The static export wears the stored brand.
	dir := t.TempDir()
	_, err := e.app.StatusPage.Export(t.Context(), dir)
	require.NoError(t, err)
	exported, err := os.ReadFile(filepath.Join(dir, "index.html"))
	require.NoError(t, err)
	require.Contains(t, string(exported), "<title>Acme &lt;img")
	exported, err = os.ReadFile(filepath.Join(dir, "brand.css"))
	require.NoError(t, err)
	require.Contains(t, string(exported), "#0b6e4f")

	// Reset: the configured brand again.
	p = admin.follow("/app/branding/reset", url.Values{"version": {p.doc.Find(`input[name="version"]`).AttrOr("value", "")}})
	require.Contains(t, p.text(`[data-testid="flash"]`), "reset")
	_, page = publicGet(t, e.srv.URL, "/")
	require.Contains(t, page, "<title>Test status</title>")
	require.Contains(t, page, "Configured")
	_, css = publicGet(t, e.srv.URL, "/brand.css")
	require.Contains(t, css, "#112233")
}

// An uploaded logo is served by mim; an SVG under a policy that runs nothing; removing it brings no logo back but
// the configured one.
func TestWebBrandingLogoUploadIsServedSafely(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("admin")
	admin.get("/app/branding")
	png, err := base64.StdEncoding.DecodeString(pixelPNG)
	require.NoError(t, err)
	p := admin.postFile("/app/branding", brandForm("0", "Acme", ""), "logo.png", png)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	_, page := publicGet(t, e.srv.URL, "/")
	require.Contains(t, page, `src="/brand/logo"`)
	resp, body := publicGet(t, e.srv.URL, "/brand/logo")
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	require.Equal(t, string(png), body)

	p = admin.get("/app/branding")
	require.Equal(t, 1, p.doc.Find(`img.logo-preview`).Length())
	svg := `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script><rect width="1" height="1"/></svg>`
	version := p.doc.Find(`input[name="version"]`).AttrOr("value", "")
	p = admin.postFile("/app/branding", brandForm(version, "Acme", ""), "logo.svg", []byte(svg))
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	resp, body = publicGet(t, e.srv.URL, "/brand/logo")
	require.Equal(t, "image/svg+xml", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'", "no script runs in the SVG")
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, svg, body)

	// Saving without a file keeps the logo; removing it leaves none.
	p = admin.get("/app/branding")
	version = p.doc.Find(`input[name="version"]`).AttrOr("value", "")
	admin.follow("/app/branding", brandForm(version, "Acme 2", ""))
	resp, _ = publicGet(t, e.srv.URL, "/brand/logo")
	require.Equal(t, http.StatusOK, resp.StatusCode, "kept")
	p = admin.get("/app/branding")
	form := brandForm(p.doc.Find(`input[name="version"]`).AttrOr("value", ""), "Acme 2", "")
	form.Set("remove_logo", "1")
	admin.follow("/app/branding", form)
	resp, _ = publicGet(t, e.srv.URL, "/brand/logo")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	_, page = publicGet(t, e.srv.URL, "/")
	require.NotContains(t, page, `src="/brand/logo"`)
}

// Two forms loaded at the same version (two tabs, or two admins): the second save is told the brand changed, and
// shown the first's.
func TestWebBrandingStaleFormIsRefusedWithTheFreshBrand(t *testing.T) {
	t.Parallel()
	e := setup(t)
	one := e.signIn("admin")
	one.get("/app/branding")
	two := one
	one.follow("/app/branding", brandForm("0", "First", ""))
	p := two.post("/app/branding", brandForm("0", "Second", ""))
	require.Equal(t, http.StatusConflict, p.status)
	require.Contains(t, p.body, "changed since you loaded it")
	require.Equal(t, "First", p.doc.Find(`#brand-name`).AttrOr("value", ""), "the fresh state")
	b, _ := storedBrand(t, e)
	require.Equal(t, "First", b.Name)
	require.Equal(t, http.StatusConflict, two.post("/app/branding/reset", url.Values{"version": {"7"}}).status)
}

// A brand saved on one replica shows on another's public page after the public-change notification, with no restart.
func TestWebBrandingChangeReachesEveryReplica(t *testing.T) {
	t.Parallel()
	e := setup(t)
	other, err := app.New(t.Context(), config.Config{PageName: "Test status", BaseURL: "http://status.test", TimeZone: time.UTC},
		e.app.DB.Pool.Config().ConnString(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	replica := httptest.NewServer(other.Handler)
	t.Cleanup(func() { replica.Close(); other.Close() })
	_, page := publicGet(t, replica.URL, "/") // the replica has a snapshot, with the configured brand
	require.Contains(t, page, "<title>Test status</title>")

	admin := e.signIn("admin")
	admin.get("/app/branding")
	admin.follow("/app/branding", brandForm("0", "Replicated brand", "#0b6e4f", "Help", "https://help.example.com"))
	require.Eventually(t, func() bool {
		_, page := publicGet(t, replica.URL, "/")
		return strings.Contains(page, "<title>Replicated brand</title>") && strings.Contains(page, "https://help.example.com")
	}, 10*time.Second, 20*time.Millisecond)
	_, css := publicGet(t, replica.URL, "/brand.css")
	require.Contains(t, css, "#0b6e4f")
	_, sub := publicGet(t, replica.URL, "/subscribe")
	require.Contains(t, sub, "Replicated brand")
}

// The stored page name signs the subscription emails: the confirmation and every notification.
func TestWebBrandingNameSignsSubscriptionEmails(t *testing.T) {
	t.Parallel()
	n := setupNotify(t, nil)
	admin := n.signIn("admin")
	admin.get("/app/branding")
	admin.follow("/app/branding", brandForm("0", "Acme Cloud", ""))
	code, page := n.subscribeForm(url.Values{"channel": {"email"}, "address": {"erin@example.com"}, "components": {"api"}})
	require.Equal(t, 200, code, page)
	require.Contains(t, page, "Acme Cloud", "the subscription page wears the stored brand")
	mails := n.mail.WaitFor(t, "erin@example.com", 1)
	require.Equal(t, "Confirm your subscription to Acme Cloud", mails[0].Subject)
	link := confirmLink.FindString(mails[0].Text)
	require.Equal(t, 200, n.request("", "GET", n.local(link), nil, nil).status)
	n.standardIncident("API latency", map[string]string{"api": "degraded_performance"}, "Slow.")
	mails = n.mail.WaitFor(t, "erin@example.com", 2)
	require.True(t, strings.HasPrefix(mails[1].Subject, "[Acme Cloud] API latency"), mails[1].Subject)
	require.True(t, strings.HasPrefix(strings.ReplaceAll(mails[1].Text, "\r\n", "\n"), "Acme Cloud\n"), mails[1].Text)
}

// A reset does not let versions start again: a form loaded before it is refused after a new save, not applied over
// it. A version no stored brand can have, and a NUL in any UI form, are refused without a 500.
func TestWebBrandingVersionsNeverRepeatAndOddFormsAreRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("admin")
	admin.get("/app/branding")
	admin.follow("/app/branding", brandForm("0", "X", ""))
	b, _ := storedBrand(t, e)
	stale := strconv.Itoa(b.Version)
	admin.follow("/app/branding/reset", url.Values{"version": {stale}})
	admin.follow("/app/branding", brandForm("0", "Y", ""))
	p := admin.post("/app/branding", brandForm(stale, "Stale", ""))
	require.Equal(t, http.StatusConflict, p.status, p.body)
	b, _ = storedBrand(t, e)
	require.Equal(t, "Y", b.Name)

	for _, v := range []string{"2147483648", "99999999999"} {
		require.Less(t, admin.post("/app/branding", brandForm(v, "Big", "")).status, 500)
		require.Less(t, admin.post("/app/branding/reset", url.Values{"version": {v}}).status, 500)
	}
	r := admin.post("/app/admin/resolver-groups", url.Values{"name": {"a\x00b"}, "email": {"g@example.com"}})
	require.Equal(t, http.StatusBadRequest, r.status, r.body)
	require.Contains(t, r.body, "NUL")
}

// Link rows past the allowed five are refused, whatever their numbers, never dropped without a word.
func TestWebBrandingRefusesLinksPastTheLimitWhateverTheirNumbers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("admin")
	admin.get("/app/branding")
	f := brandForm("0", "Many links", "", "A", "https://a.example.com", "B", "https://b.example.com",
		"C", "https://c.example.com", "D", "https://d.example.com", "E", "https://e.example.com")
	f.Set("link_label_9", "Nine")
	f.Set("link_url_9", "https://nine.example.com")
	p := admin.post("/app/branding", f)
	require.Equal(t, http.StatusUnprocessableEntity, p.status, p.body)
	_, stored := storedBrand(t, e)
	require.False(t, stored)
}
