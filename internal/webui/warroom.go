package webui

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/workflow"
	"github.com/mimhq/mim/web"
)

// failure is a refused form, re-rendered on the war room with what was typed.
type failure struct {
	form  string
	kept  url.Values
	err   error
	stale bool
}

func (u *UI) warRoom(w http.ResponseWriter, r *http.Request) {
	rec, err := u.Incidents.Get(r.Context(), chi.URLParam(r, "key"))
	if err != nil {
		if domain.IsKind(err, domain.ErrNotFound) {
			u.notFound(w, r, "no incident "+chi.URLParam(r, "key"))
			return
		}
		u.serverError(w, r, err)
		return
	}
	u.renderWarRoom(w, r, http.StatusOK, rec, nil)
}

func (u *UI) renderWarRoom(w http.ResponseWriter, r *http.Request, status int, rec incident.Record, f *failure) {
	v, err := u.warRoomView(r, rec, f)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	p := u.page(r, rec.State.Key+" "+rec.State.Title)
	if f != nil && f.err != nil {
		p.Error = describe(f.err)
		if f.stale {
			p.Error = rec.State.Key + " changed since you loaded it: your form was not applied. Below is its current state " +
				"(version " + strconv.Itoa(rec.Version) + "), with what you typed kept; check it and submit again."
		}
	}
	u.renderStatus(w, r, status, p, web.WarRoomView(p, v))
}

func (u *UI) warRoomView(r *http.Request, rec incident.Record, f *failure) (web.WarRoom, error) {
	ctx := r.Context()
	s := rec.State
	zone := u.zone()
	me := from(ctx).actor
	v := web.WarRoom{Key: s.Key, Title: s.Title, Description: s.Description, Kind: string(s.Kind),
		Version: rec.Version, Major: s.Kind == domain.KindMajor, Open: s.IsOpen(), Priority: s.Classification.Priority,
		Severity: string(s.Criteria.Severity), Status: string(s.Status), Reason: s.Classification.Reason,
		CanAct: roleRank(me.OrgRole) >= roleRank(domain.OrgResponder), Clock: u.clock(s, u.now()),
		Declared: stamp(rec.CreatedAt, zone), Verdict: verdictOf(s.Classification),
		UpdateStatuses: domain.Strings(domain.UpdateStatuses), ComponentStatuses: domain.Strings(domain.ComponentStatuses),
		ActionKinds: domain.Strings(domain.ActionKinds), RestorationKinds: domain.Strings(domain.RestorationKinds),
		Options: u.criteriaOptions(), Kept: url.Values{}}
	v.IsIC = s.Roles.IncidentCommander != nil && s.Roles.IncidentCommander.UserID == me.UserID
	v.IsComms = s.Roles.CommunicationsLead != nil && s.Roles.CommunicationsLead.UserID == me.UserID
	v.IsAdmin = me.OrgRole == domain.OrgAdmin
	if f != nil {
		v.Failed, v.Kept = f.form, f.kept
	}
	// The reclassify form starts from the current criteria, or from what was typed when it was refused.
	crit := r.PostForm
	if v.Failed != "reclassify" {
		crit = url.Values{"severity": {string(s.Criteria.Severity)}, "urgency": {string(s.Criteria.Urgency)},
			"regions": {strings.Join(s.Criteria.Scope.Regions, ", ")}, "business_impact": domain.Strings(s.Criteria.BusinessImpact),
			"customers_affected": {strconv.Itoa(s.Criteria.Scope.CustomersAffected)}}
		if s.Criteria.Scope.Global {
			crit.Set("global", "1")
		}
	}
	v.Criteria, _, _ = criteriaForm(crit)

	if v.Major {
		cur := s.Stage.Index()
		for i, st := range domain.Stages {
			step := web.StageStep{Title: st.Title(), State: "todo"}
			switch {
			case i < cur:
				step.State = "done"
			case i == cur:
				step.State = "current"
			}
			v.Stages = append(v.Stages, step)
		}
		v.StageTitle = s.Stage.Title()
		if n := workflow.Next(s.Stage); n != "" {
			v.Next, v.NextValue = n.Title(), string(n)
		}
		for _, g := range workflow.Guards(s) {
			v.Guards = append(v.Guards, web.GuardRow{Code: g.Code, Met: g.Met, Message: g.Message})
		}
		// Back to Diagnosis & Action is offered where the workflow allows it (a fix that did not hold, stages 4–5);
		// from Mobilization the same stage is the forward move.
		v.CanGoBack = s.Stage == domain.StageStatusUpdates || s.Stage == domain.StageServiceRestoration
		v.Concluded = s.Stage == domain.StageConcluded
	}
	holder := func(h workflow.RoleHolder) web.Holder {
		out := web.Holder{Name: h.Name, Email: h.Email, Group: h.Group, Assigned: stamp(h.AssignedAt, zone)}
		if h.AcknowledgedAt != nil {
			out.Acknowledged = stamp(*h.AcknowledgedAt, zone)
		}
		return out
	}
	if h := s.Roles.IncidentCommander; h != nil {
		x := holder(*h)
		v.IC = &x
	}
	if h := s.Roles.CommunicationsLead; h != nil {
		x := holder(*h)
		v.Comms = &x
	}
	for _, h := range s.Roles.TechnicalLeads {
		v.Tech = append(v.Tech, holder(h))
	}
	for _, h := range s.Roles.ExecutiveSponsors {
		v.Sponsors = append(v.Sponsors, holder(h))
	}
	users, err := u.Accounts.Users(ctx)
	if err != nil {
		return v, err
	}
	for _, us := range users {
		label := us.Name + " <" + us.Email + ">"
		v.Sponsorable = append(v.Sponsorable, web.Option{Value: us.Email, Label: label})
		if us.Role != domain.OrgViewer {
			v.Assignable = append(v.Assignable, web.Option{Value: us.Email, Label: label})
		}
	}
	for _, kind := range domain.BridgeKinds {
		b := s.Bridges[kind]
		bv := web.BridgeView{Kind: string(kind), Open: b.Open()}
		if b != nil {
			bv.URL, bv.Opened = b.URL, stamp(b.OpenedAt, zone)
			if b.ClosedAt != nil {
				bv.Closed, bv.ClosedAt = true, stamp(*b.ClosedAt, zone)
			}
		}
		v.Bridges = append(v.Bridges, bv)
	}
	for i := len(s.Actions) - 1; i >= 0; i-- {
		a := s.Actions[i]
		v.Actions = append(v.Actions, web.ActionRow{Kind: string(a.Kind), Description: a.Description, By: a.By,
			At: stamp(a.At, zone)})
	}
	for i := len(s.Updates) - 1; i >= 0; i-- {
		up := s.Updates[i]
		row := web.UpdateRow{ID: up.ID, State: string(up.State), Status: string(up.Status), BodyHTML: u.Markdown(up.Body),
			DraftedBy: up.DraftedBy.Name, Drafted: stamp(up.DraftedAt, zone), Superseded: up.Superseded}
		if up.ApprovedBy != nil {
			row.ApprovedBy, row.Approved = up.ApprovedBy.Name, stamp(*up.ApprovedAt, zone)
		}
		if up.PublishedBy != nil {
			row.PublishedBy, row.Published = up.PublishedBy.Name, stamp(*up.PublishedAt, zone)
		}
		for _, slug := range slices.Sorted(maps.Keys(up.Components)) {
			row.Components = append(row.Components, slug+": "+strings.ReplaceAll(string(up.Components[slug]), "_", " "))
		}
		v.Updates = append(v.Updates, row)
	}
	all, err := u.Components.List(ctx)
	if err != nil {
		return v, err
	}
	names := map[string]string{}
	for _, c := range all {
		names[c.Slug] = c.Name
	}
	for _, slug := range s.Components {
		st := s.ComponentStatus[slug]
		if st == "" {
			st = domain.ComponentOperational
		}
		v.Components = append(v.Components, web.ComponentRow{Slug: slug, Name: names[slug], Status: string(st)})
	}
	for _, rs := range s.Restorations {
		v.Restorations = append(v.Restorations, web.ActionRow{Kind: string(rs.Kind), Description: rs.Description,
			By: rs.By, At: stamp(rs.At, zone), Reverted: rs.Reverted})
	}
	if vf := s.Verification; vf != nil {
		v.Verification = &web.ActionRow{Kind: "verified", Description: vf.Method, By: vf.By.Name, At: stamp(vf.At, zone)}
		if len(vf.Accepted) > 0 {
			v.Verification.Description += " (accepted as they are: " + strings.Join(vf.Accepted, ", ") + ")"
		}
	}
	for _, x := range s.Escalations {
		kind := string(x.Kind)
		if x.Automatic {
			kind += ", automatic"
		}
		v.Escalations = append(v.Escalations, web.ActionRow{Kind: kind, Description: x.Target + ": " + x.Reason,
			By: x.By, At: stamp(x.At, zone)})
	}
	for _, t := range s.Tickets {
		v.Tickets = append(v.Tickets, web.TicketRow{System: t.System, Ref: t.Ref, URL: safeLink(t.URL),
			Logged: len(t.Log), Linked: stamp(t.LinkedAt, zone)})
	}
	if body := url.Values(v.Kept).Get("body"); body != "" && v.Failed == "draft-update" {
		v.Preview = u.Markdown(body)
	}
	entries, err := u.Incidents.Timeline(ctx, s.ID)
	if err != nil {
		return v, err
	}
	v.TimelineFilter = r.URL.Query().Get("timeline")
	seen := map[string]bool{}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if !seen[string(e.Type)] {
			seen[string(e.Type)] = true
			v.TimelineTypes = append(v.TimelineTypes, string(e.Type))
		}
		if v.TimelineFilter != "" && string(e.Type) != v.TimelineFilter {
			continue
		}
		who := e.Actor.Name
		if who == "" {
			who = "mim"
		}
		v.Timeline = append(v.Timeline, web.TimelineRow{What: strings.ReplaceAll(string(e.Type), "_", " "),
			Detail: summarize(e.Data), Who: who, Channel: string(e.Channel), At: stamp(e.At, zone)})
	}
	slices.Sort(v.TimelineTypes)
	return v, nil
}

// safeLink keeps a URL for an href only when it is http(s): a ticket or bridge URL is typed by people.
func safeLink(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return raw
}

// summarize picks the facts of a timeline event a reader looks for, in a fixed order.
func summarize(raw json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	var parts []string
	for _, k := range []string{"role", "from", "to", "kind", "status", "state", "url", "method", "description",
		"reason", "note", "system", "ref"} {
		if x, ok := m[k].(string); ok && x != "" {
			parts = append(parts, strings.ReplaceAll(k, "_", " ")+": "+x)
		}
	}
	if p, ok := m["person"].(map[string]any); ok {
		if n, ok := p["name"].(string); ok && n != "" {
			parts = append(parts, "person: "+n)
		}
	}
	if len(parts) > 6 {
		parts = parts[:6]
	}
	return strings.Join(parts, " · ")
}

// command runs one war-room form through the incident service, with the version the form was rendered at.
func (u *UI) command(w http.ResponseWriter, r *http.Request) {
	key, name := chi.URLParam(r, "key"), chi.URLParam(r, "command")
	a, _ := ActorFrom(r.Context())
	form := r.PostForm
	var ifMatch *int
	if s := form.Get("version"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			u.commandFailed(w, r, key, name, domain.Invalid(domain.FieldError{Field: "version", Message: "must be a number"}))
			return
		}
		ifMatch = &n
	}
	ctx := r.Context()
	var err error
	var flash string
	svc := u.Incidents
	exec := func(cmd workflow.Command) { _, err = svc.Execute(ctx, a, key, ifMatch, cmd) }
	switch name {
	case "assign-role":
		role := domain.Role(form.Get("role"))
		if !role.Valid() {
			err = domain.Invalid(domain.FieldError{Field: "role", Message: "is not a role", Allowed: domain.Strings(domain.Roles)})
			break
		}
		_, err = svc.AssignRole(ctx, a, key, ifMatch, role, form.Get("user"), strings.TrimSpace(form.Get("group")))
		flash = strings.ReplaceAll(string(role), "_", " ") + " assigned"
	case "remove-role":
		_, err = svc.RemoveRole(ctx, a, key, ifMatch, domain.Role(form.Get("role")), form.Get("who"))
		flash = "role released"
	case "acknowledge":
		exec(workflow.AcknowledgeIC{})
		flash = "acknowledged: you are the Incident Commander"
	case "open-bridge":
		exec(workflow.OpenBridge{Kind: domain.BridgeKind(form.Get("kind")), URL: strings.TrimSpace(form.Get("url"))})
		flash = form.Get("kind") + " bridge open"
	case "close-bridge":
		exec(workflow.CloseBridge{Kind: domain.BridgeKind(form.Get("kind"))})
		flash = form.Get("kind") + " bridge closed"
	case "log-action":
		exec(workflow.LogAction{Kind: domain.ActionKind(form.Get("kind")), Description: form.Get("description")})
		flash = "action logged"
	case "draft-update":
		if form.Get("preview") != "" { // the no-JavaScript preview: show it, change nothing
			rec, gerr := svc.Get(ctx, key)
			if gerr != nil {
				u.commandFailed(w, r, key, name, gerr)
				return
			}
			u.renderWarRoom(w, r, http.StatusOK, rec, &failure{form: name, kept: form, err: nil})
			return
		}
		comps := map[string]domain.ComponentStatus{}
		for k, vs := range form {
			if slug, ok := strings.CutPrefix(k, "component."); ok && len(vs) > 0 && vs[0] != "" {
				comps[slug] = domain.ComponentStatus(vs[0])
			}
		}
		publish := form.Get("publish") != ""
		exec(workflow.DraftUpdate{Status: domain.UpdateStatus(form.Get("status")), Body: form.Get("body"),
			Components: comps, Publish: publish})
		flash = "update drafted for the Incident Commander's approval"
		if publish {
			flash = "update published"
		}
	case "approve-update":
		exec(workflow.ApproveUpdate{ID: form.Get("id"), Publish: form.Get("publish") != ""})
		flash = "update approved"
		if form.Get("publish") != "" {
			flash = "update approved and published"
		}
	case "publish-update":
		exec(workflow.PublishUpdate{ID: form.Get("id")})
		flash = "update published"
	case "restoration":
		exec(workflow.RecordRestoration{Kind: domain.RestorationKind(form.Get("kind")), Description: form.Get("description")})
		flash = form.Get("kind") + " recorded as implemented"
	case "verification":
		exec(workflow.RecordVerification{Method: form.Get("method"), Accepted: form["accepted"]})
		flash = "service verified operational"
	case "move-stage":
		to := domain.Stage(form.Get("to"))
		exec(workflow.MoveStage{To: to, Note: form.Get("note"), Reason: form.Get("reason")})
		flash = "moved to " + to.Title()
	case "set-status":
		exec(workflow.SetStatus{To: domain.StandardStatus(form.Get("to")), Reason: form.Get("reason")})
		flash = "status set to " + form.Get("to")
	case "escalate":
		exec(workflow.Escalate{Kind: domain.EscalationKind(form.Get("kind")), Target: form.Get("target"),
			Reason: form.Get("reason")})
		flash = "escalated (" + form.Get("kind") + ") to " + strings.TrimSpace(form.Get("target"))
	case "link-ticket":
		exec(workflow.LinkTicket{System: strings.TrimSpace(form.Get("system")), Ref: strings.TrimSpace(form.Get("ref")),
			URL: strings.TrimSpace(form.Get("url"))})
		flash = "ticket linked"
	case "reclassify":
		_, c, ferr := criteriaForm(form)
		if ferr != nil {
			err = domain.Invalid(*ferr)
			break
		}
		_, err = svc.Reclassify(ctx, a, key, ifMatch, incident.ReclassifyInput{Criteria: c, Reason: form.Get("reason")})
		flash = "reclassified"
	default:
		u.notFound(w, r, fmt.Sprintf("no war-room action %q", name))
		return
	}
	if err != nil {
		u.commandFailed(w, r, key, name, err)
		return
	}
	u.redirect(w, r, "/app/incidents/"+url.PathEscape(key), flash)
}

// commandFailed shows the war room again, fresh from the database, with the refusal said in words and the form's
// input kept: a stale version says the incident changed since the form was loaded.
func (u *UI) commandFailed(w http.ResponseWriter, r *http.Request, key, form string, err error) {
	if !clientError(err) {
		u.serverError(w, r, err)
		return
	}
	rec, gerr := u.Incidents.Get(r.Context(), key)
	if gerr != nil {
		if domain.IsKind(gerr, domain.ErrNotFound) {
			u.notFound(w, r, "no incident "+key)
			return
		}
		u.serverError(w, r, gerr)
		return
	}
	kept := url.Values{}
	for k, vs := range r.PostForm {
		if k != "csrf_token" && k != "version" {
			kept[k] = vs
		}
	}
	u.renderWarRoom(w, r, statusOf(err), rec, &failure{form: form, kept: kept, err: err,
		stale: domain.IsKind(err, domain.ErrPrecondition)})
}

// markdownPreview renders an update body exactly as the public page will show it (JSON: {"html": ...}).
func (u *UI) markdownPreview(w http.ResponseWriter, r *http.Request) {
	body := r.PostFormValue("body")
	if len(body) > 20000 {
		body = body[:20000]
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"html": u.Markdown(body)})
}
