package webui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/classify"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/workflow"
	"github.com/mimhq/mim/web"
)

const pastPageSize = 25

func (u *UI) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	v := web.IncidentList{Kind: q.Get("kind"), Stage: q.Get("stage"), Severity: q.Get("severity"),
		Component: q.Get("component"), Query: strings.TrimSpace(q.Get("q")),
		Stages: options(domain.Stages, domain.Stage.Title), Severities: domain.Strings(domain.Severities)}
	// Unknown filter values are dropped rather than refused: a hand-edited URL still shows a list.
	f := incident.ListFilter{Query: v.Query, Component: v.Component}
	if k := domain.Kind(v.Kind); k.Valid() {
		f.Kind = k
	} else {
		v.Kind = ""
	}
	if s := domain.Stage(v.Stage); s.Valid() {
		f.Stage = s
	} else {
		v.Stage = ""
	}
	if s := domain.Severity(v.Severity); s.Valid() {
		f.Severity = s
	} else {
		v.Severity = ""
	}
	comps, err := u.Components.List(ctx)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	for _, c := range comps {
		v.Components = append(v.Components, web.Option{Value: c.Slug, Label: c.Name})
	}
	now := u.now()
	// Active first: every open incident that matches, then the closed ones a page at a time.
	if q.Get("after") == "" {
		open := true
		af := f
		af.Open, af.Limit = &open, 200
		recs, _, err := u.Incidents.List(ctx, af)
		if err != nil {
			u.serverError(w, r, err)
			return
		}
		for _, rec := range recs {
			v.Active = append(v.Active, u.row(rec, now))
		}
	}
	closed := false
	pf := f
	pf.Open, pf.Limit, pf.After = &closed, pastPageSize, q.Get("after")
	recs, next, err := u.Incidents.List(ctx, pf)
	if err != nil {
		if clientError(err) { // a cursor that is not one of ours
			u.redirect(w, r, "/app/incidents", "")
			return
		}
		u.serverError(w, r, err)
		return
	}
	for _, rec := range recs {
		v.Past = append(v.Past, u.row(rec, now))
	}
	if next != "" {
		nq := url.Values{}
		for k, vs := range q {
			if k != "after" {
				nq[k] = vs
			}
		}
		nq.Set("after", next)
		v.NextPage = "/app/incidents?" + nq.Encode()
	}
	v.Paged = q.Get("after") != ""
	v.CanDeclare = roleRank(from(ctx).actor.OrgRole) >= roleRank(domain.OrgResponder)
	u.render(w, r, u.page(r, "Incidents"), web.IncidentListView(v))
}

func options[T ~string](vals []T, label func(T) string) []web.Option {
	out := make([]web.Option, len(vals))
	for i, v := range vals {
		out[i] = web.Option{Value: string(v), Label: label(v)}
	}
	return out
}

func (u *UI) row(rec incident.Record, now time.Time) web.IncidentRow {
	s := rec.State
	row := web.IncidentRow{Key: s.Key, Title: s.Title, Kind: string(s.Kind), Severity: string(s.Criteria.Severity),
		Priority: s.Classification.Priority, Components: strings.Join(s.Components, ", "),
		Declared: stamp(rec.CreatedAt, u.zone()), Open: s.IsOpen()}
	if s.Kind == domain.KindMajor {
		row.State = s.Stage.Title()
	} else {
		row.State = string(s.Status)
	}
	row.Clock = u.clock(s, now)
	return row
}

// clock says where the incident stands against its update cadence, in words.
func (u *UI) clock(s workflow.Incident, now time.Time) web.Clock {
	c := s.UpdateClock(u.Cadence)
	if !c.Running {
		switch {
		case !s.IsOpen():
			return web.Clock{Idle: "—"}
		case s.Kind != domain.KindMajor:
			return web.Clock{Idle: "no cadence (standard)"}
		case s.LatestPublished() != nil:
			return web.Clock{Idle: "resolved: no update due"}
		default:
			return web.Clock{Idle: "no update due yet"}
		}
	}
	out := web.Clock{Running: true, Due: stamp(c.DueAt, u.zone()), Overdue: c.Overdue(now)}
	if out.Overdue {
		out.Text = "update overdue by " + minutes(now.Sub(c.DueAt))
	} else {
		out.Text = "next update due in " + minutes(c.DueAt.Sub(now))
	}
	return out
}

func minutes(d time.Duration) string {
	m := int(d.Round(time.Minute).Minutes())
	if m < 1 {
		return "under a minute"
	}
	if m >= 120 {
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
	return fmt.Sprintf("%d min", m)
}

func stamp(t time.Time, zone *time.Location) web.Stamp {
	return web.Stamp{Datetime: t.UTC().Format(time.RFC3339), Text: t.In(zone).Format("2 Jan 2006 15:04 MST")}
}

// criteriaForm reads the four criteria from a form (the declare and reclassify forms share the fields).
func criteriaForm(form url.Values) (web.CriteriaForm, domain.Criteria, *domain.FieldError) {
	cf := web.CriteriaForm{Severity: form.Get("severity"), Urgency: form.Get("urgency"),
		CustomersAffected: strings.TrimSpace(form.Get("customers_affected")), Regions: strings.TrimSpace(form.Get("regions")),
		Global: form.Get("global") != "", BusinessImpact: form["business_impact"]}
	c := domain.Criteria{Severity: domain.Severity(cf.Severity), Urgency: domain.Urgency(cf.Urgency),
		Scope: domain.Scope{Global: cf.Global, Regions: []string{}}, BusinessImpact: []domain.BusinessImpact{}}
	for _, reg := range strings.Split(cf.Regions, ",") {
		if reg = strings.TrimSpace(reg); reg != "" {
			c.Scope.Regions = append(c.Scope.Regions, reg)
		}
	}
	for _, b := range cf.BusinessImpact {
		c.BusinessImpact = append(c.BusinessImpact, domain.BusinessImpact(b))
	}
	if cf.CustomersAffected != "" {
		n, err := strconv.Atoi(cf.CustomersAffected)
		if err != nil || n < 0 {
			return cf, c, &domain.FieldError{Field: "scope.customers_affected", Message: "must be a whole number, 0 or more"}
		}
		c.Scope.CustomersAffected = n
	}
	return cf, c, nil
}

func (u *UI) criteriaOptions() web.CriteriaOptions {
	return web.CriteriaOptions{Severities: domain.Strings(domain.Severities), Urgencies: domain.Strings(domain.Urgencies),
		Impacts: domain.Strings(domain.BusinessImpacts)}
}

// verdict evaluates criteria under the current policy, as declaring would.
func (u *UI) verdict(r *http.Request, c domain.Criteria, slugs []string) (*web.Verdict, error) {
	var v domain.Validator
	workflow.ValidateCriteria(&v, c)
	if v.Err() != nil {
		return nil, nil // nothing to say until the criteria are complete
	}
	policy, err := u.Policies.Current(r.Context())
	if err != nil {
		return nil, err
	}
	all, err := u.Components.List(r.Context())
	if err != nil {
		return nil, err
	}
	var comps []domain.Component
	for _, cm := range all {
		for _, s := range slugs {
			if cm.Slug == s {
				comps = append(comps, cm)
			}
		}
	}
	cl := classify.Evaluate(policy, classify.FactsOf(c, comps))
	return verdictOf(cl), nil
}

func verdictOf(cl domain.Classification) *web.Verdict {
	return &web.Verdict{Kind: string(cl.EffectiveKind()), Reason: cl.Reason, Priority: cl.Priority, Impact: cl.Impact,
		Criteria: []web.CriterionRow{
			{Name: "Severity", Met: cl.Severity.Met, Reason: cl.Severity.Reason},
			{Name: "Scope", Met: cl.Scope.Met, Reason: cl.Scope.Reason},
			{Name: "Business impact", Met: cl.BusinessImpact.Met, Reason: cl.BusinessImpact.Reason},
			{Name: "Urgency", Met: cl.Urgency.Met, Reason: cl.Urgency.Reason},
		}}
}

// classifyPreview is the declare form's live verdict: the same criteria fields, as a query, answered in JSON.
func (u *UI) classifyPreview(w http.ResponseWriter, r *http.Request) {
	_, c, ferr := criteriaForm(r.URL.Query())
	w.Header().Set("Content-Type", "application/json")
	if ferr != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": ferr.Field + " " + ferr.Message})
		return
	}
	v, err := u.verdict(r, c, r.URL.Query()["components"])
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	if v == nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "choose a severity and an urgency to see the verdict"})
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}

func (u *UI) declarePage(w http.ResponseWriter, r *http.Request) {
	u.renderDeclare(w, r, http.StatusOK, web.DeclareForm{}, "")
}

func (u *UI) renderDeclare(w http.ResponseWriter, r *http.Request, status int, f web.DeclareForm, errMsg string) {
	if f.Zone == "" {
		f.Zone = u.zone().String()
	}
	comps, err := u.Components.List(r.Context())
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	for _, c := range comps {
		f.AllComponents = append(f.AllComponents, web.Option{Value: c.Slug, Label: c.Name})
	}
	f.Options = u.criteriaOptions()
	p := u.page(r, "Declare an incident")
	p.Error = errMsg
	u.renderStatus(w, r, status, p, web.DeclareView(p, f))
}

func (u *UI) declare(w http.ResponseWriter, r *http.Request) {
	cf, c, ferr := criteriaForm(r.PostForm)
	f := web.DeclareForm{Title: r.PostFormValue("title"), Description: r.PostFormValue("description"),
		Components: r.PostForm["components"], Criteria: cf, Errors: map[string]string{},
		DetectedAt: strings.TrimSpace(r.PostFormValue("detected_at")), ImpactStartedAt: strings.TrimSpace(r.PostFormValue("impact_started_at")),
		Zone: u.zone().String()}
	detected, derr := localTime(f.DetectedAt, u.zone(), u.now())
	if derr != nil {
		f.Errors["detected_at"] = derr.Error()
	}
	impact, ierr := localTime(f.ImpactStartedAt, u.zone(), u.now())
	if ierr != nil {
		f.Errors["impact_started_at"] = ierr.Error()
	}
	verdict, err := u.verdict(r, c, f.Components)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	f.Verdict = verdict
	if ferr != nil {
		f.Errors[ferr.Field] = ferr.Message
		u.renderDeclare(w, r, http.StatusUnprocessableEntity, f, "scope customers affected "+ferr.Message)
		return
	}
	if derr != nil || ierr != nil {
		u.renderDeclare(w, r, http.StatusUnprocessableEntity, f, "a time cannot be used: see beside the field")
		return
	}
	if r.PostFormValue("preview") != "" { // the no-JavaScript "check the classification" button
		u.renderDeclare(w, r, http.StatusOK, f, "")
		return
	}
	a, _ := ActorFrom(r.Context())
	d, err := u.Incidents.Declare(r.Context(), a, incident.DeclareInput{Title: f.Title, Description: f.Description,
		Components: f.Components, Criteria: c, Source: "ui", DetectedAt: detected, ImpactStartedAt: impact})
	if err != nil {
		if !clientError(err) {
			u.serverError(w, r, err)
			return
		}
		f.Errors = fieldErrors(err)
		u.renderDeclare(w, r, statusOf(err), f, describe(err))
		return
	}
	u.redirect(w, r, "/app/incidents/"+d.Record.State.Key, "Declared "+d.Record.State.Key+" ("+string(d.Record.State.Kind)+")")
}

// localTime reads a datetime-local field in the organisation's zone; empty is none. A local time that a
// daylight-saving change skips is refused (it never happened); one it repeats is read as its first occurrence.
func localTime(v string, loc *time.Location, now time.Time) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		t, err := time.ParseInLocation(layout, v, loc)
		if err != nil {
			continue
		}
		if t.In(loc).Format(layout) != v {
			return nil, fmt.Errorf("does not exist in %s: a daylight-saving change skips it", loc)
		}
		if earlier := t.Add(-time.Hour); earlier.In(loc).Format(layout) == v {
			t = earlier
		}
		if u := t.UTC(); u.Year() < 1970 || u.Year() > 9999 {
			return nil, fmt.Errorf("must be between the years 1970 and 9999")
		}
		if t.After(now.Add(time.Minute)) {
			return nil, fmt.Errorf("must not be in the future")
		}
		return &t, nil
	}
	return nil, fmt.Errorf("is not a date and time such as 2026-12-03T14:05")
}
