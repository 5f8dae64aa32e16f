package pages_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/drill"
	"github.com/mimhq/mim/internal/postgrestest"
	"github.com/mimhq/mim/internal/postincident"
	"github.com/mimhq/mim/internal/postincident/pages"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

const csrf = "form-token-of-this-session"

type fixture struct {
	app   *app.App
	pages *httptest.Server
	key   string
}

// setup runs the drill (reports left open) on a fresh mim and serves the pages under /app with a test sign-in:
// the X-Test-User header names the signed-in user, as i5's session would.
func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	a, err := app.New(ctx, config.Config{PageName: "Test", BaseURL: "http://status.test", TimeZone: time.UTC},
		postgrestest.NewDatabase(t), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	api := httptest.NewServer(a.Handler)
	t.Cleanup(func() { api.Close(); a.Close() })
	actors := map[string]domain.Actor{}
	for name, role := range map[string]domain.OrgRole{"admin": domain.OrgAdmin, "responder": domain.OrgResponder,
		"viewer": domain.OrgViewer} {
		u, err := a.Accounts.CreateUser(ctx, account.NewUser{Email: name + "@example.com", Name: strings.ToUpper(name[:1]) + name[1:], Role: role})
		require.NoError(t, err)
		actors[name] = domain.Actor{UserID: u.ID, Name: u.Name, Email: u.Email, OrgRole: role, Channel: domain.ChannelUI}
	}
	tok, _, err := a.Accounts.CreateToken(ctx, "admin@example.com", "drill", nil)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, drill.Run(ctx, drill.Options{BaseURL: api.URL, Token: tok, Out: &out, OpenReports: true}), out.String())

	h := pages.New(pages.Deps{Store: a.PostIncident, Prefix: "/app", Location: time.UTC,
		Actor: func(r *http.Request) (domain.Actor, bool) {
			act, ok := actors[r.Header.Get("X-Test-User")]
			return act, ok
		},
		CSRFToken: func(*http.Request) string { return csrf },
		CheckCSRF: func(r *http.Request) bool { return r.PostForm.Get("csrf_token") == csrf },
	})
	r := chi.NewRouter()
	r.Route("/app", h.Routes)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &fixture{app: a, pages: srv, key: "INC-1"}
}

func (f *fixture) get(t *testing.T, who, path string) (int, *goquery.Document) {
	t.Helper()
	req, err := http.NewRequest("GET", f.pages.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("X-Test-User", who)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, doc
}

// post sends a form without following the redirect.
func (f *fixture) post(t *testing.T, who, path string, form url.Values) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("POST", f.pages.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Test-User", who)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

func TestDeadlinesPageListsTheDrillReports(t *testing.T) {
	t.Parallel()
	f := setup(t)
	status, doc := f.get(t, "viewer", "/app/post-incident")
	require.Equal(t, 200, status)
	rows := doc.Find(`[data-testid="due-soon"] [data-testid="deadline"]`)
	require.Equal(t, 1, rows.Length(), "the PIR is due within 72 h; the RCA later")
	require.Contains(t, rows.Text(), "PIR of INC-1")
	href, _ := rows.Find("a").Attr("href")
	require.Equal(t, "/app/incidents/INC-1/pir", href)
	require.Equal(t, 1, doc.Find(`[data-testid="overdue-empty"]`).Length())

	status, _ = f.get(t, "", "/app/post-incident")
	require.Equal(t, 401, status)
}

func TestPIRIsEditedReviewedAndPublishedThroughItsPage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	path := "/app/incidents/INC-1/pir"
	status, doc := f.get(t, "responder", path)
	require.Equal(t, 200, status)
	before, err := f.app.PostIncident.Document(ctx, "INC-1", postincident.KindPIR)
	require.NoError(t, err)
	require.Equal(t, len(before.PIR.Timeline), doc.Find(`[data-testid="fact"]`).Length())
	token, _ := doc.Find(`[data-testid="edit-form"] input[name="csrf_token"]`).Attr("value")
	require.Equal(t, csrf, token)
	version, _ := doc.Find(`[data-testid="edit-form"] input[name="version"]`).Attr("value")

	form := url.Values{"version": {version}, "summary": {"<script>alert(1)</script> What failed."},
		"customer_summary": {"Policies did not reach the EU for a while."}, "fact_0": {"Declared by monitoring."}}
	st, _, _ := f.post(t, "responder", path, form) // no CSRF token
	require.Equal(t, 403, st)
	after, err := f.app.PostIncident.Document(ctx, "INC-1", postincident.KindPIR)
	require.NoError(t, err)
	require.Equal(t, before.Version, after.Version, "a refused form changes nothing")

	form.Set("csrf_token", csrf)
	st, _, _ = f.post(t, "viewer", path, form)
	require.Equal(t, 403, st, "viewers cannot edit")
	st, loc, _ := f.post(t, "responder", path, form)
	require.Equal(t, 303, st)
	require.Equal(t, path+"?done=saved", loc)
	after, err = f.app.PostIncident.Document(ctx, "INC-1", postincident.KindPIR)
	require.NoError(t, err)
	require.Equal(t, "Declared by monitoring.", after.PIR.Timeline[0].Text)
	require.Equal(t, before.PIR.Timeline[0].Seq, after.PIR.Timeline[0].Seq, "an edited fact stays traceable")
	status, doc = f.get(t, "responder", path+"?done=saved")
	require.Equal(t, 200, status)
	require.Equal(t, "Saved.", doc.Find(`[data-testid="notice"]`).Text())
	html, _ := doc.Find("#summary").Html()
	require.Contains(t, html, "&lt;script&gt;", "text is escaped")

	// A stale form is refused with the reason, and publishing before review too.
	st, _, body := f.post(t, "responder", path, form)
	require.Equal(t, 412, st)
	require.Contains(t, body, "reload it and retry")
	pub := url.Values{"csrf_token": {csrf}, "public": {"true"}}
	st, _, body = f.post(t, "responder", path+"/publish", pub)
	require.Equal(t, 409, st)
	require.Contains(t, body, "published once reviewed")

	st, _, _ = f.post(t, "admin", path+"/review", url.Values{"csrf_token": {csrf}})
	require.Equal(t, 303, st)
	st, _, _ = f.post(t, "responder", path+"/publish", pub)
	require.Equal(t, 303, st)
	status, doc = f.get(t, "viewer", path)
	require.Equal(t, 200, status)
	require.Equal(t, "Status: published", doc.Find(`[data-testid="document-status"]`).Text())
	require.Contains(t, doc.Find(`[data-testid="public-summary"]`).Text(), "Policies did not reach the EU")
	require.Zero(t, doc.Find(`form`).Length(), "viewers get no forms")
}

func TestRCAPageAddsAPreventativeActionAsACorrectiveAction(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := "/app/incidents/INC-1/rca"
	form := url.Values{"csrf_token": {csrf}, "root_cause": {"Expired certificate."},
		"contributing_factors": {"no alert\n\nsingle distributor\n"}, "action_kind": {"monitoring"},
		"action_title": {"Alert on certificate expiry"}, "action_owner": {"responder@example.com"}, "action_due": {"2030-01-31"}}
	st, _, body := f.post(t, "responder", path, url.Values{"csrf_token": {csrf}, "root_cause": {"x"},
		"action_title": {"t"}, "action_owner": {"nobody@example.com"}, "action_kind": {"monitoring"}, "action_due": {"2030-01-31"}})
	require.Equal(t, 422, st)
	require.Contains(t, body, "no user")
	st, _, _ = f.post(t, "responder", path, form)
	require.Equal(t, 303, st)
	rca, err := f.app.PostIncident.Document(context.Background(), "INC-1", postincident.KindRCA)
	require.NoError(t, err)
	require.Equal(t, "Expired certificate.", rca.RCA.RootCause)
	require.Equal(t, []string{"no alert", "single distributor"}, rca.RCA.ContributingFactors)
	require.Len(t, rca.RCA.PreventativeActions, 1)
	actions, err := f.app.PostIncident.Actions(context.Background(), postincident.ActionFilter{Incident: "INC-1"})
	require.NoError(t, err)
	require.Len(t, actions, 1)
	require.Equal(t, "responder@example.com", actions[0].Owner.Email)
	require.Equal(t, time.Date(2030, 1, 31, 23, 59, 59, 0, time.UTC), actions[0].DueAt.UTC())
	_, doc := f.get(t, "responder", path)
	require.Equal(t, 1, doc.Find(`[data-testid="preventive"]`).Length())
}

func TestHolidaysPageManagesTheCalendarAndRecountsTheRCA(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	rca, err := f.app.PostIncident.Document(ctx, "INC-1", postincident.KindRCA)
	require.NoError(t, err)
	day := rca.ConcludedAt.AddDate(0, 0, 1)
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1)
	}
	date := day.Format("2006-01-02")

	_, doc := f.get(t, "responder", "/app/holidays")
	require.Zero(t, doc.Find(`[data-testid="holiday-form"]`).Length(), "only admins change the calendar")
	st, _, _ := f.post(t, "responder", "/app/holidays", url.Values{"csrf_token": {csrf}, "date": {date}, "name": {"x"}})
	require.Equal(t, 403, st)
	st, _, body := f.post(t, "admin", "/app/holidays", url.Values{"csrf_token": {csrf}, "date": {"31/12/2026"}, "name": {"x"}})
	require.Equal(t, 422, st)
	require.Contains(t, body, "YYYY-MM-DD")
	st, loc, _ := f.post(t, "admin", "/app/holidays", url.Values{"csrf_token": {csrf}, "date": {date}, "name": {"Founders' Day"}})
	require.Equal(t, 303, st)
	require.Equal(t, "/app/holidays?done=added", loc)
	_, doc = f.get(t, "admin", "/app/holidays")
	require.Equal(t, date+" Founders' Day Remove", strings.Join(strings.Fields(doc.Find(`[data-testid="holiday"]`).Text()), " "))
	moved, err := f.app.PostIncident.Document(ctx, "INC-1", postincident.KindRCA)
	require.NoError(t, err)
	require.True(t, moved.DueAt.After(rca.DueAt), "the holiday moved the RCA's due date")

	st, _, _ = f.post(t, "admin", "/app/holidays/"+date+"/delete", url.Values{})
	require.Equal(t, 403, st, "no CSRF token")
	st, _, _ = f.post(t, "admin", "/app/holidays/"+date+"/delete", url.Values{"csrf_token": {csrf}})
	require.Equal(t, 303, st)
	back, err := f.app.PostIncident.Document(ctx, "INC-1", postincident.KindRCA)
	require.NoError(t, err)
	require.True(t, back.DueAt.Equal(rca.DueAt))
}

func TestActionsPageTracksAnActionToDone(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	incident, title, owner := "INC-1", "Alert on certificate expiry", "responder@example.com"
	due := time.Now().Add(-time.Hour) // already late
	act, err := f.app.PostIncident.CreateAction(ctx, postincident.ActionInput{Incident: &incident, Title: &title,
		Owner: &owner, DueAt: &due})
	require.NoError(t, err)

	_, doc := f.get(t, "viewer", "/app/corrective-actions")
	row := doc.Find(`[data-testid="action"]`)
	require.Equal(t, 1, row.Length())
	require.Equal(t, 1, row.Find(`[data-testid="action-overdue"]`).Length())
	require.Equal(t, "open", row.Find(`[data-testid="action-status"]`).Text(), "viewers see the status, no form")

	base := "/app/corrective-actions/" + act.ID
	st, _, body := f.post(t, "responder", base, url.Values{"csrf_token": {csrf}, "status": {"wont_do"}})
	require.Equal(t, 422, st)
	require.Contains(t, body, "reason")
	st, _, _ = f.post(t, "responder", base, url.Values{"csrf_token": {csrf}, "status": {"in_progress"}, "version": {"1"}})
	require.Equal(t, 303, st)
	st, _, _ = f.post(t, "responder", base, url.Values{"csrf_token": {csrf}, "status": {"done"}, "version": {"1"}})
	require.Equal(t, 412, st, "a stale form is refused")
	st, loc, _ := f.post(t, "responder", base, url.Values{"csrf_token": {csrf}, "status": {"done"}, "version": {"2"}})
	require.Equal(t, 303, st)
	require.Equal(t, "/app/corrective-actions?done=updated", loc)
	_, doc = f.get(t, "responder", loc)
	require.Equal(t, "Action updated.", doc.Find(`[data-testid="notice"]`).Text())
	sel, _ := doc.Find(`[data-testid="action"] option[selected]`).Attr("value")
	require.Equal(t, "done", sel)
	require.Zero(t, doc.Find(`[data-testid="action-overdue"]`).Length(), "a done action is not late")
}

func TestProblemsPageRefusesClosingWithOpenActions(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	st, _, body := f.post(t, "responder", "/app/problems", url.Values{"csrf_token": {csrf}, "title": {"Cert rotation"},
		"incidents": {"INC-1, INC-404"}})
	require.Equal(t, 422, st)
	require.Contains(t, body, "INC-404")
	st, loc, _ := f.post(t, "responder", "/app/problems", url.Values{"csrf_token": {csrf}, "title": {"Cert rotation"},
		"incidents": {"INC-1"}, "known_error": {"rotation fails silently"}, "workaround": {"rotate by hand"}})
	require.Equal(t, 303, st)
	ps, err := f.app.PostIncident.Problems(ctx, "")
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, []string{"INC-1"}, ps[0].Incidents)
	title, owner, due := "Alert on rotation", "responder@example.com", time.Now().Add(240*time.Hour)
	_, err = f.app.PostIncident.CreateAction(ctx, postincident.ActionInput{Problem: &ps[0].ID, Title: &title,
		Owner: &owner, DueAt: &due})
	require.NoError(t, err)

	_, doc := f.get(t, "responder", loc)
	require.Equal(t, "Problem recorded.", doc.Find(`[data-testid="notice"]`).Text())
	require.Contains(t, doc.Find(`[data-testid="problem"]`).Text(), "Corrective actions still open: 1")
	st, _, body = f.post(t, "responder", "/app/problems/"+ps[0].ID, url.Values{"csrf_token": {csrf}, "status": {"closed"}})
	require.Equal(t, 409, st)
	require.Contains(t, body, "still open or in progress")
	_, doc = f.get(t, "viewer", "/app/problems")
	require.Equal(t, "open", doc.Find(`[data-testid="problem-status"]`).Text())
	require.Zero(t, doc.Find("form").Length())
}
