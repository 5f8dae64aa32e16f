// Package pages serves the responder pages of post-incident work — the deadline dashboard and each incident's PIR
// and RCA with their edit, review and publish forms — for mounting under /app behind sign-in. It takes the
// signed-in actor and the CSRF token and check from the caller, so it works behind whatever signs people in.
package pages

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postincident"
	"github.com/mimhq/mim/web"
)

// Store is what the pages need of post-incident storage (postgres.PostIncidentStore).
type Store interface {
	Document(ctx context.Context, ref string, kind postincident.Kind) (postincident.Document, error)
	UpdatePIR(ctx context.Context, ref string, ifVersion *int, p postincident.PIR) (postincident.Document, error)
	UpdateRCA(ctx context.Context, ref string, ifVersion *int, r postincident.RCA) (postincident.Document, error)
	Review(ctx context.Context, ref string, kind postincident.Kind, ifVersion *int, by domain.Person) (postincident.Document, error)
	Publish(ctx context.Context, ref string, kind postincident.Kind, ifVersion *int, public bool) (postincident.Document, error)
	Deadlines(ctx context.Context, window time.Duration) (overdue, dueSoon []postincident.Deadline, err error)
	Holidays(ctx context.Context) ([]postincident.Holiday, error)
	PutHoliday(ctx context.Context, h postincident.Holiday) (postincident.Holiday, bool, error)
	DeleteHoliday(ctx context.Context, date string) error
	Actions(ctx context.Context, f postincident.ActionFilter) ([]postincident.CorrectiveAction, error)
	UpdateAction(ctx context.Context, id string, ifVersion *int, in postincident.ActionInput) (postincident.CorrectiveAction, error)
	Problems(ctx context.Context, status postincident.ProblemStatus) ([]postincident.Problem, error)
	CreateProblem(ctx context.Context, in postincident.ProblemInput) (postincident.Problem, error)
	UpdateProblem(ctx context.Context, id string, ifVersion *int, in postincident.ProblemInput) (postincident.Problem, error)
}

// Deps are what the pages need.
type Deps struct {
	Store Store
	// Actor returns the signed-in person of a request; false answers 401.
	Actor func(*http.Request) (domain.Actor, bool)
	// CSRFToken is the token to put in the request's forms; CheckCSRF accepts a posted form or not (403).
	CSRFToken func(*http.Request) string
	CheckCSRF func(*http.Request) bool
	// Prefix is where the pages are mounted (e.g. /app), for the links and form actions they write.
	Prefix   string
	Location *time.Location
	Now      func() time.Time
	Logger   *slog.Logger
	// Layout, when set, wraps each page in the caller's layout (the responder UI's web.AppLayout) instead of the
	// pages' own document: it returns the layout for a request and a page title.
	Layout func(r *http.Request, title string) templ.Component
}

// Handler serves the pages.
type Handler struct{ d Deps }

// New returns the pages' handler.
func New(d Deps) *Handler {
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{d: d}
}

// InLayout returns a copy of the pages that render inside layout (see Deps.Layout).
func (h *Handler) InLayout(layout func(r *http.Request, title string) templ.Component) *Handler {
	c := *h
	c.d.Layout = layout
	return &c
}

// Routes registers the pages on r (relative to the prefix they are mounted at).
func (h *Handler) Routes(r chi.Router) {
	r.Get("/post-incident", h.deadlines)
	r.Get("/corrective-actions", h.actions)
	r.Post("/corrective-actions/{id}", h.updateAction)
	r.Get("/problems", h.problems)
	r.Post("/problems", h.createProblem)
	r.Post("/problems/{id}", h.updateProblem)
	r.Get("/holidays", h.holidays)
	r.Post("/holidays", h.addHoliday)
	r.Post("/holidays/{date}/delete", h.deleteHoliday)
	for _, kind := range []postincident.Kind{postincident.KindPIR, postincident.KindRCA} {
		base := "/incidents/{key}/" + string(kind)
		r.Get(base, h.document(kind))
		r.Post(base, h.save(kind))
		r.Post(base+"/review", h.review(kind))
		r.Post(base+"/publish", h.publish(kind))
	}
}

func (h *Handler) time(t time.Time) web.StatusTime {
	t = t.In(h.d.Location)
	return web.StatusTime{Datetime: t.Format(time.RFC3339), Text: t.Format("2 Jan 2006, 15:04 MST")}
}

// render renders c into a buffer first, so a failed render is a clean 500 instead of half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	ctx := r.Context()
	if h.d.Layout != nil {
		ctx = web.WithLayout(ctx, func(title string) templ.Component { return h.d.Layout(r, title) })
	}
	if err := c.Render(ctx, &buf); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := domain.AsError(err)
	status := map[domain.ErrorKind]int{domain.ErrNotFound: http.StatusNotFound, domain.ErrForbidden: http.StatusForbidden,
		domain.ErrUnauthorized: http.StatusUnauthorized}[e.Kind]
	msg := e.Message
	if status == 0 {
		status, msg = http.StatusInternalServerError, "internal error"
		h.d.Logger.ErrorContext(r.Context(), "post-incident page", "err", err, "path", r.URL.Path)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

// actor returns the signed-in actor, or answers 401.
func (h *Handler) actor(w http.ResponseWriter, r *http.Request) (domain.Actor, bool) {
	a, ok := h.d.Actor(r)
	if !ok {
		h.fail(w, r, &domain.Error{Kind: domain.ErrUnauthorized, Code: "unauthorized", Message: "sign in first"})
	}
	return a, ok
}

// writer returns the signed-in actor of a valid form post by an admin or responder, or answers 401 or 403.
func (h *Handler) writer(w http.ResponseWriter, r *http.Request) (domain.Actor, bool) {
	a, ok := h.actor(w, r)
	if !ok {
		return a, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil || !h.d.CheckCSRF(r) {
		h.fail(w, r, &domain.Error{Kind: domain.ErrForbidden, Code: "csrf", Message: "the form expired; reload the page and try again"})
		return a, false
	}
	if a.OrgRole != domain.OrgAdmin && a.OrgRole != domain.OrgResponder {
		h.fail(w, r, &domain.Error{Kind: domain.ErrForbidden, Code: "forbidden", Message: "viewers cannot change anything"})
		return a, false
	}
	return a, true
}

func (h *Handler) deadlines(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.actor(w, r); !ok {
		return
	}
	const window = 72 * time.Hour
	overdue, soon, err := h.d.Store.Deadlines(r.Context(), window)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rows := func(ds []postincident.Deadline) []web.DeadlineRow {
		out := make([]web.DeadlineRow, 0, len(ds))
		for _, d := range ds {
			row := web.DeadlineRow{Kind: strings.ToUpper(d.Kind), Incident: d.IncidentKey, Title: d.Title,
				Status: d.Status, Due: h.time(d.DueAt), Overdue: d.Overdue}
			if d.Owner != nil {
				row.Owner = d.Owner.Name
			}
			if d.Kind == "action" {
				row.Kind = "Action"
			}
			if d.IncidentKey != "" {
				kind := d.Kind
				if kind == "action" {
					kind = "rca"
				}
				row.Link = h.d.Prefix + "/incidents/" + d.IncidentKey + "/" + kind
			}
			out = append(out, row)
		}
		return out
	}
	h.render(w, r, http.StatusOK, web.DeadlinesView(web.DeadlinesPage{Zone: h.d.Location.String(), Within: "72 hours",
		Overdue: rows(overdue), DueSoon: rows(soon)}))
}

func (h *Handler) page(r *http.Request, a domain.Actor, d postincident.Document) web.DocumentPage {
	p := web.DocumentPage{Kind: string(d.Kind), IncidentKey: d.IncidentKey, Status: string(d.Status),
		Overdue: d.Overdue(h.d.Now()), Due: h.time(d.DueAt), Version: d.Version,
		Base: h.d.Prefix + "/incidents/" + d.IncidentKey + "/" + string(d.Kind), CSRF: h.d.CSRFToken(r),
		CanEdit: a.OrgRole == domain.OrgAdmin || a.OrgRole == domain.OrgResponder}
	if d.TargetAt != nil {
		t := h.time(*d.TargetAt)
		p.Target = &t
	}
	if d.Public != nil {
		p.PublicSummary = d.Public.Summary
	}
	switch d.Kind {
	case postincident.KindPIR:
		p.Heading, p.Summary, p.CustomerSummary = "Post Incident Report", d.PIR.Summary, d.PIR.CustomerSummary
		for _, f := range d.PIR.Timeline {
			p.Timeline = append(p.Timeline, web.DocumentFact{Seq: f.Seq, At: h.time(f.At), Actor: f.Actor, Text: f.Text})
		}
		for _, s := range d.PIR.RestorationSteps {
			p.Steps = append(p.Steps, web.DocumentStep{Kind: string(s.Kind), At: h.time(s.At), By: s.By,
				Description: s.Description})
		}
	case postincident.KindRCA:
		p.Heading, p.RootCause, p.CustomerSummary = "Root Cause Analysis", d.RCA.RootCause, d.RCA.CustomerSummary
		p.Factors = strings.Join(d.RCA.ContributingFactors, "\n")
		for _, a := range d.RCA.PreventativeActions {
			p.Preventive = append(p.Preventive, web.PreventiveRow{Kind: string(a.Kind), Title: a.Title,
				Due: h.time(a.DueAt), ActionID: a.ActionID})
		}
	}
	return p
}

func (h *Handler) document(kind postincident.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.actor(w, r)
		if !ok {
			return
		}
		d, err := h.d.Store.Document(r.Context(), chi.URLParam(r, "key"), kind)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		p := h.page(r, a, d)
		p.Notice = map[string]string{"saved": "Saved.", "reviewed": "Marked reviewed.", "published": "Published."}[r.URL.Query().Get("done")]
		h.render(w, r, http.StatusOK, web.DocumentView(p))
	}
}

// outcome redirects to the document after a change (post/redirect/get), or shows the form again with what was
// wrong: a client's mistake is a 4xx page with the messages, never a 500.
func (h *Handler) outcome(w http.ResponseWriter, r *http.Request, a domain.Actor, kind postincident.Kind, done string, err error) {
	key := chi.URLParam(r, "key")
	if err == nil {
		http.Redirect(w, r, h.d.Prefix+"/incidents/"+key+"/"+string(kind)+"?done="+done, http.StatusSeeOther)
		return
	}
	e := domain.AsError(err)
	if e.Kind == domain.ErrInternal || e.Kind == domain.ErrNotFound {
		h.fail(w, r, err)
		return
	}
	d, lerr := h.d.Store.Document(r.Context(), key, kind)
	if lerr != nil {
		h.fail(w, r, lerr)
		return
	}
	p := h.page(r, a, d)
	p.Errors = append(p.Errors, e.Message)
	for _, f := range e.Fields {
		if !strings.HasSuffix(e.Message, f.Message) {
			p.Errors = append(p.Errors, f.Field+": "+f.Message)
		}
	}
	status := formStatus(e)
	h.render(w, r, status, web.DocumentView(p))
}

// formStatus is the status of a form shown again with a client's mistake: always a 4xx.
func formStatus(e *domain.Error) int {
	if st, ok := map[domain.ErrorKind]int{domain.ErrInvalid: http.StatusUnprocessableEntity,
		domain.ErrConflict: http.StatusConflict, domain.ErrPrecondition: http.StatusPreconditionFailed,
		domain.ErrForbidden: http.StatusForbidden}[e.Kind]; ok {
		return st
	}
	return http.StatusBadRequest
}

// formVersion is the version the form was rendered at, checked like If-Match.
func formVersion(r *http.Request) (*int, error) {
	s := strings.TrimSpace(r.PostForm.Get("version"))
	if s == "" {
		return nil, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return nil, &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_version", Message: "the form's version is not a number"}
	}
	return &v, nil
}

func (h *Handler) save(kind postincident.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.writer(w, r)
		if !ok {
			return
		}
		key := chi.URLParam(r, "key")
		v, err := formVersion(r)
		if err == nil {
			var cur postincident.Document
			if cur, err = h.d.Store.Document(r.Context(), key, kind); err == nil {
				f := r.PostForm
				if kind == postincident.KindPIR {
					p := *cur.PIR
					p.Summary, p.CustomerSummary = f.Get("summary"), f.Get("customer_summary")
					p.Timeline = append([]postincident.TimelineItem(nil), p.Timeline...)
					for i := range p.Timeline {
						if f.Has("fact_" + strconv.Itoa(i)) {
							p.Timeline[i].Text = f.Get("fact_" + strconv.Itoa(i))
						}
					}
					_, err = h.d.Store.UpdatePIR(r.Context(), key, v, p)
				} else {
					rca := *cur.RCA
					rca.RootCause, rca.CustomerSummary = f.Get("root_cause"), f.Get("customer_summary")
					rca.ContributingFactors = nil
					for _, line := range strings.Split(f.Get("contributing_factors"), "\n") {
						if line = strings.TrimSpace(line); line != "" {
							rca.ContributingFactors = append(rca.ContributingFactors, line)
						}
					}
					rca.PreventativeActions, err = h.newAction(f.Get, rca.PreventativeActions)
					if err == nil {
						_, err = h.d.Store.UpdateRCA(r.Context(), key, v, rca)
					}
				}
			}
		}
		h.outcome(w, r, a, kind, "saved", err)
	}
}

// newAction appends the preventative action of the form, when its title is filled in; its date is a local date of
// the organisation's zone, due at the end of that day.
func (h *Handler) newAction(get func(string) string, actions []postincident.PreventativeAction) ([]postincident.PreventativeAction, error) {
	title := strings.TrimSpace(get("action_title"))
	if title == "" {
		return actions, nil
	}
	day, err := time.ParseInLocation("2006-01-02", get("action_due"), h.d.Location)
	if err != nil {
		return actions, domain.Invalid(domain.FieldError{Field: "action_due", Message: "is required: a date"})
	}
	due := day.AddDate(0, 0, 1).Add(-time.Second)
	return append(append([]postincident.PreventativeAction(nil), actions...), postincident.PreventativeAction{
		Kind: postincident.ActionKind(get("action_kind")), Title: title, Owner: get("action_owner"), DueAt: due}), nil
}

func (h *Handler) review(kind postincident.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.writer(w, r)
		if !ok {
			return
		}
		v, err := formVersion(r)
		if err == nil {
			_, err = h.d.Store.Review(r.Context(), chi.URLParam(r, "key"), kind, v,
				domain.Person{UserID: a.UserID, Name: a.Name, Email: a.Email})
		}
		h.outcome(w, r, a, kind, "reviewed", err)
	}
}

func (h *Handler) publish(kind postincident.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.writer(w, r)
		if !ok {
			return
		}
		v, err := formVersion(r)
		if err == nil {
			_, err = h.d.Store.Publish(r.Context(), chi.URLParam(r, "key"), kind, v, r.PostForm.Get("public") == "true")
		}
		h.outcome(w, r, a, kind, "published", err)
	}
}

func (h *Handler) holidaysPage(w http.ResponseWriter, r *http.Request, a domain.Actor, status int, notice string, problem error) {
	hs, err := h.d.Store.Holidays(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := web.HolidaysPage{CanEdit: a.OrgRole == domain.OrgAdmin, CSRF: h.d.CSRFToken(r), Base: h.d.Prefix + "/holidays",
		Notice: notice}
	for _, hd := range hs {
		p.Holidays = append(p.Holidays, web.HolidayRow{Date: hd.Date, Name: hd.Name})
	}
	if problem != nil {
		e := domain.AsError(problem)
		p.Errors = append(p.Errors, e.Message)
	}
	h.render(w, r, status, web.HolidaysView(p))
}

func (h *Handler) holidays(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	notice := map[string]string{"added": "Holiday saved; unpublished RCAs were recounted.",
		"removed": "Holiday removed; unpublished RCAs were recounted."}[r.URL.Query().Get("done")]
	h.holidaysPage(w, r, a, http.StatusOK, notice, nil)
}

// admin is writer for the calendar, which only admins change.
func (h *Handler) admin(w http.ResponseWriter, r *http.Request) (domain.Actor, bool) {
	a, ok := h.writer(w, r)
	if ok && a.OrgRole != domain.OrgAdmin {
		h.fail(w, r, &domain.Error{Kind: domain.ErrForbidden, Code: "forbidden", Message: "the holiday calendar is an admin's"})
		return a, false
	}
	return a, ok
}

func (h *Handler) addHoliday(w http.ResponseWriter, r *http.Request) {
	a, ok := h.admin(w, r)
	if !ok {
		return
	}
	_, _, err := h.d.Store.PutHoliday(r.Context(), postincident.Holiday{Date: r.PostForm.Get("date"), Name: r.PostForm.Get("name")})
	if err != nil {
		if domain.AsError(err).Kind == domain.ErrInternal {
			h.fail(w, r, err)
			return
		}
		h.holidaysPage(w, r, a, http.StatusUnprocessableEntity, "", err)
		return
	}
	http.Redirect(w, r, h.d.Prefix+"/holidays?done=added", http.StatusSeeOther)
}

func (h *Handler) deleteHoliday(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.admin(w, r); !ok {
		return
	}
	if err := h.d.Store.DeleteHoliday(r.Context(), chi.URLParam(r, "date")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, h.d.Prefix+"/holidays?done=removed", http.StatusSeeOther)
}

func (h *Handler) actionsPage(w http.ResponseWriter, r *http.Request, a domain.Actor, status int, notice string, problem error) {
	acts, err := h.d.Store.Actions(r.Context(), postincident.ActionFilter{Incident: r.URL.Query().Get("incident")})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := web.ActionsPage{CanEdit: a.OrgRole == domain.OrgAdmin || a.OrgRole == domain.OrgResponder,
		CSRF: h.d.CSRFToken(r), Base: h.d.Prefix + "/corrective-actions", Notice: notice}
	for _, c := range acts {
		p.Actions = append(p.Actions, web.CorrectiveActionRow{ID: c.ID, Incident: c.IncidentKey, Kind: string(c.Kind),
			Title: c.Title, Owner: c.Owner.Name, Due: h.time(c.DueAt), Status: string(c.Status), Reason: c.Reason,
			Overdue: c.Overdue, Version: c.Version})
	}
	if problem != nil {
		e := domain.AsError(problem)
		p.Errors = append(p.Errors, e.Message)
	}
	h.render(w, r, status, web.ActionsView(p))
}

func (h *Handler) actions(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	h.actionsPage(w, r, a, http.StatusOK, map[string]string{"updated": "Action updated."}[r.URL.Query().Get("done")], nil)
}

func (h *Handler) updateAction(w http.ResponseWriter, r *http.Request) {
	a, ok := h.writer(w, r)
	if !ok {
		return
	}
	v, err := formVersion(r)
	if err == nil {
		status, reason := postincident.ActionStatus(r.PostForm.Get("status")), r.PostForm.Get("reason")
		_, err = h.d.Store.UpdateAction(r.Context(), chi.URLParam(r, "id"), v,
			postincident.ActionInput{Status: &status, Reason: &reason})
	}
	if err == nil {
		http.Redirect(w, r, h.d.Prefix+"/corrective-actions?done=updated", http.StatusSeeOther)
		return
	}
	e := domain.AsError(err)
	if e.Kind == domain.ErrInternal || e.Kind == domain.ErrNotFound {
		h.fail(w, r, err)
		return
	}
	status := formStatus(e)
	h.actionsPage(w, r, a, status, "", err)
}

func (h *Handler) problemsPage(w http.ResponseWriter, r *http.Request, a domain.Actor, status int, notice string, problem error) {
	ps, err := h.d.Store.Problems(r.Context(), "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := web.ProblemsPage{CanEdit: a.OrgRole == domain.OrgAdmin || a.OrgRole == domain.OrgResponder,
		CSRF: h.d.CSRFToken(r), Base: h.d.Prefix + "/problems", Notice: notice}
	for _, pr := range ps {
		p.Problems = append(p.Problems, web.ProblemRow{ID: pr.ID, Title: pr.Title, KnownError: pr.KnownError,
			Workaround: pr.Workaround, Status: string(pr.Status), Incidents: strings.Join(pr.Incidents, ", "),
			OpenActions: pr.OpenActions, Version: pr.Version})
	}
	if problem != nil {
		e := domain.AsError(problem)
		p.Errors = append(p.Errors, e.Message)
		for _, f := range e.Fields {
			if !strings.HasSuffix(e.Message, f.Message) {
				p.Errors = append(p.Errors, f.Field+": "+f.Message)
			}
		}
	}
	h.render(w, r, status, web.ProblemsView(p))
}

func (h *Handler) problems(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	notice := map[string]string{"created": "Problem recorded.", "updated": "Problem updated."}[r.URL.Query().Get("done")]
	h.problemsPage(w, r, a, http.StatusOK, notice, nil)
}

// problemOutcome redirects after a change, or shows the page again with what was wrong.
func (h *Handler) problemOutcome(w http.ResponseWriter, r *http.Request, a domain.Actor, done string, err error) {
	if err == nil {
		http.Redirect(w, r, h.d.Prefix+"/problems?done="+done, http.StatusSeeOther)
		return
	}
	e := domain.AsError(err)
	if e.Kind == domain.ErrInternal || e.Kind == domain.ErrNotFound {
		h.fail(w, r, err)
		return
	}
	status := formStatus(e)
	h.problemsPage(w, r, a, status, "", err)
}

func (h *Handler) createProblem(w http.ResponseWriter, r *http.Request) {
	a, ok := h.writer(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	title, known, workaround := f.Get("title"), f.Get("known_error"), f.Get("workaround")
	incidents := strings.FieldsFunc(f.Get("incidents"), func(c rune) bool { return c == ',' || c == ' ' || c == '\n' })
	_, err := h.d.Store.CreateProblem(r.Context(), postincident.ProblemInput{Title: &title, KnownError: &known,
		Workaround: &workaround, AddIncidents: incidents})
	h.problemOutcome(w, r, a, "created", err)
}

func (h *Handler) updateProblem(w http.ResponseWriter, r *http.Request) {
	a, ok := h.writer(w, r)
	if !ok {
		return
	}
	v, err := formVersion(r)
	if err == nil {
		status := postincident.ProblemStatus(r.PostForm.Get("status"))
		_, err = h.d.Store.UpdateProblem(r.Context(), chi.URLParam(r, "id"), v, postincident.ProblemInput{Status: &status})
	}
	h.problemOutcome(w, r, a, "updated", err)
}
