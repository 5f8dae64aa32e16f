package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/workflow"
)

type criteriaInput struct {
	Severity       domain.Severity         `json:"severity"`
	Scope          *domain.Scope           `json:"scope"`
	BusinessImpact []domain.BusinessImpact `json:"business_impact"`
	Urgency        domain.Urgency          `json:"urgency"`
}

func (c criteriaInput) criteria() domain.Criteria {
	out := domain.Criteria{Severity: c.Severity, Urgency: c.Urgency, BusinessImpact: c.BusinessImpact}
	if c.Scope != nil {
		out.Scope = *c.Scope
	}
	if out.Scope.Regions == nil {
		out.Scope.Regions = []string{}
	}
	if out.BusinessImpact == nil {
		out.BusinessImpact = []domain.BusinessImpact{}
	}
	return out
}

type declareRequest struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Components  []string `json:"components"`
	criteriaInput
	DetectedAt      *string `json:"detected_at"`
	ImpactStartedAt *string `json:"impact_started_at"`
	Source          string  `json:"source"`
	DedupKey        string  `json:"dedup_key"`
}

func (a *API) declare(w http.ResponseWriter, r *http.Request) {
	var req declareRequest
	if err := decode(w, r, &req); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	var v domain.Validator
	in := incident.DeclareInput{
		Title: req.Title, Description: req.Description, Components: req.Components, Criteria: req.criteria(),
		DetectedAt: parseTime(&v, "detected_at", req.DetectedAt), ImpactStartedAt: parseTime(&v, "impact_started_at", req.ImpactStartedAt),
		Source: req.Source, DedupKey: req.DedupKey,
	}
	// Check everything at once, so one answer names every bad field.
	v.Check(strings.TrimSpace(req.Title) != "", "title", "is required")
	workflow.ValidateCriteria(&v, in.Criteria)
	if err := v.Err(); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	out, err := a.Incidents.Declare(r.Context(), actorFrom(r.Context()), in)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	status := http.StatusCreated
	if out.Folded {
		status = http.StatusOK
	} else {
		w.Header().Set("Location", "/api/v1/incidents/"+out.Record.State.Key)
	}
	body := a.presentIncident(out.Record)
	body.Folded = out.Folded
	writeIncident(w, status, out.Record, body)
}

func writeIncident(w http.ResponseWriter, status int, rec incident.Record, body incidentJSON) {
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(rec.Version)))
	writeJSON(w, status, body)
}

func (a *API) getIncident(w http.ResponseWriter, r *http.Request) {
	rec, err := a.Incidents.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeIncident(w, http.StatusOK, rec, a.presentIncident(rec))
}

func (a *API) listIncidents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var v domain.Validator
	f := incident.ListFilter{
		Kind: domain.Kind(q.Get("kind")), Stage: domain.Stage(q.Get("stage")), Severity: domain.Severity(q.Get("severity")),
		Component: q.Get("component"), Query: q.Get("q"), After: q.Get("cursor"),
	}
	if f.Kind != "" {
		domain.OneOf(&v, "kind", f.Kind, domain.Kinds)
	}
	if f.Stage != "" {
		domain.OneOf(&v, "stage", f.Stage, domain.Stages)
	}
	if f.Severity != "" {
		domain.OneOf(&v, "severity", f.Severity, domain.Severities)
	}
	if s := q.Get("open"); s != "" {
		b, err := strconv.ParseBool(s)
		v.Check(err == nil, "open", "must be true or false")
		f.Open = &b
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		v.Check(err == nil && n >= 1 && n <= 200, "limit", "must be a number from 1 to 200")
		f.Limit = n
	}
	if err := v.Err(); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	recs, next, err := a.Incidents.List(r.Context(), f)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	out := struct {
		Incidents  []incidentJSON `json:"incidents"`
		NextCursor string         `json:"next_cursor,omitempty"`
	}{Incidents: []incidentJSON{}, NextCursor: next}
	for _, rec := range recs {
		out.Incidents = append(out.Incidents, a.presentIncident(rec))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) timeline(w http.ResponseWriter, r *http.Request) {
	entries, err := a.Incidents.Timeline(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if entries == nil {
		entries = []incident.TimelineEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
}

// command decodes the body into req, builds the workflow command and executes it against the incident.
func command[T any](a *API, w http.ResponseWriter, r *http.Request, status int, build func(T) (workflow.Command, error)) {
	var req T
	if err := decode(w, r, &req); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	cmd, err := build(req)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	a.execute(w, r, status, cmd)
}

func (a *API) execute(w http.ResponseWriter, r *http.Request, status int, cmd workflow.Command) {
	match, err := ifMatch(r)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	rec, err := a.Incidents.Execute(r.Context(), actorFrom(r.Context()), chi.URLParam(r, "id"), match, cmd)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	body := a.presentIncident(rec)
	body.Created = createdBy(cmd, rec.State)
	writeIncident(w, status, rec, body)
}

// createdBy names the entity a creating command added: the last of its kind.
func createdBy(cmd workflow.Command, s workflow.Incident) *createdJSON {
	switch cmd.(type) {
	case workflow.DraftUpdate:
		if n := len(s.Updates); n > 0 {
			return &createdJSON{Type: "update", ID: s.Updates[n-1].ID}
		}
	case workflow.LogAction:
		if n := len(s.Actions); n > 0 {
			return &createdJSON{Type: "action", ID: s.Actions[n-1].ID}
		}
	case workflow.LinkTicket:
		if n := len(s.Tickets); n > 0 {
			return &createdJSON{Type: "ticket", ID: s.Tickets[n-1].ID}
		}
	}
	return nil
}

func (a *API) respond(w http.ResponseWriter, r *http.Request, status int, rec incident.Record, err error) {
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeIncident(w, status, rec, a.presentIncident(rec))
}

type reclassifyRequest struct {
	criteriaInput
	Reason   string `json:"reason"`
	Override *struct {
		Kind   domain.Kind `json:"kind"`
		Reason string      `json:"reason"`
	} `json:"override"`
}

func (a *API) reclassify(w http.ResponseWriter, r *http.Request) {
	var req reclassifyRequest
	if err := decode(w, r, &req); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	match, err := ifMatch(r)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	in := incident.ReclassifyInput{Criteria: req.criteria(), Reason: req.Reason}
	if req.Override != nil {
		in.Override = &domain.Override{Kind: req.Override.Kind, Reason: req.Override.Reason}
	}
	rec, err := a.Incidents.Reclassify(r.Context(), actorFrom(r.Context()), chi.URLParam(r, "id"), match, in)
	a.respond(w, r, http.StatusOK, rec, err)
}

type roleRequest struct {
	User  string `json:"user"`
	Group string `json:"group"`
}

func (a *API) putRole(w http.ResponseWriter, r *http.Request) { a.assignRole(w, r, true) }
func (a *API) addRole(w http.ResponseWriter, r *http.Request) { a.assignRole(w, r, false) }
func (a *API) assignRole(w http.ResponseWriter, r *http.Request, put bool) {
	role := domain.Role(chi.URLParam(r, "role"))
	if err := checkRoleMethod(role, put); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	var req roleRequest
	if err := decode(w, r, &req); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	match, err := ifMatch(r)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	rec, err := a.Incidents.AssignRole(r.Context(), actorFrom(r.Context()), chi.URLParam(r, "id"), match, role, req.User, req.Group)
	a.respond(w, r, http.StatusOK, rec, err)
}

// checkRoleMethod: the single roles are set with PUT, the many-holder roles added with POST.
func checkRoleMethod(role domain.Role, put bool) error {
	var v domain.Validator
	domain.OneOf(&v, "role", role, domain.Roles)
	if err := v.Err(); err != nil {
		return err
	}
	if put && !role.Single() {
		return &domain.Error{Kind: domain.ErrInvalid, Code: "use_post",
			Message: string(role) + " has many holders: add one with POST"}
	}
	if !put && role.Single() {
		return &domain.Error{Kind: domain.ErrInvalid, Code: "use_put",
			Message: string(role) + " has one holder at a time: set it with PUT"}
	}
	return nil
}

func (a *API) removeRole(w http.ResponseWriter, r *http.Request) {
	role := domain.Role(chi.URLParam(r, "role"))
	match, err := ifMatch(r)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	rec, err := a.Incidents.RemoveRole(r.Context(), actorFrom(r.Context()), chi.URLParam(r, "id"), match, role,
		chi.URLParam(r, "member"))
	a.respond(w, r, http.StatusOK, rec, err)
}

func (a *API) acknowledge(w http.ResponseWriter, r *http.Request) {
	a.execute(w, r, http.StatusOK, workflow.AcknowledgeIC{})
}

type bridgeRequest struct {
	URL      string   `json:"url"`
	Invitees []string `json:"invitees"`
}

func (a *API) openBridge(w http.ResponseWriter, r *http.Request) {
	command(a, w, r, http.StatusOK, func(req bridgeRequest) (workflow.Command, error) {
		return workflow.OpenBridge{Kind: domain.BridgeKind(chi.URLParam(r, "kind")), URL: req.URL, Invitees: req.Invitees}, nil
	})
}

func (a *API) closeBridge(w http.ResponseWriter, r *http.Request) {
	a.execute(w, r, http.StatusOK, workflow.CloseBridge{Kind: domain.BridgeKind(chi.URLParam(r, "kind"))})
}

type actionRequest struct {
	Kind        domain.ActionKind `json:"kind"`
	Description string            `json:"description"`
}

func (a *API) logAction(w http.ResponseWriter, r *http.Request) {
	command(a, w, r, http.StatusCreated, func(req actionRequest) (workflow.Command, error) {
		return workflow.LogAction{Kind: req.Kind, Description: req.Description}, nil
	})
}

type updateRequest struct {
	Status     domain.UpdateStatus               `json:"status"`
	Body       string                            `json:"body"`
	Components map[string]domain.ComponentStatus `json:"components"`
	Publish    bool                              `json:"publish"`
}

func (a *API) draftUpdate(w http.ResponseWriter, r *http.Request) {
	var req updateRequest
	if err := decode(w, r, &req); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if len(req.Body) > 20000 {
		WriteError(w, r, a.Logger, domain.Invalid(domain.FieldError{Field: "body", Message: "must be at most 20000 characters"}))
		return
	}
	if err := a.checkComponents(r, req.Components); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	a.execute(w, r, http.StatusCreated,
		workflow.DraftUpdate{Status: req.Status, Body: req.Body, Components: req.Components, Publish: req.Publish})
}

// checkComponents refuses component slugs that do not exist, naming those that do.
func (a *API) checkComponents(r *http.Request, statuses map[string]domain.ComponentStatus) error {
	if len(statuses) == 0 {
		return nil
	}
	all, err := a.Components.List(r.Context())
	if err != nil {
		return err
	}
	known := map[string]bool{}
	var names []string
	for _, c := range all {
		known[c.Slug] = true
		names = append(names, c.Slug)
	}
	var v domain.Validator
	for slug := range statuses {
		v.Check(known[slug], "components."+slug, "unknown component; known: "+strings.Join(names, ", "), names...)
	}
	return v.Err()
}

type approveRequest struct {
	Publish *bool `json:"publish"`
}

func (a *API) approveUpdate(w http.ResponseWriter, r *http.Request) {
	var req approveRequest
	if err := decodeOptional(w, r, &req); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	publish := req.Publish == nil || *req.Publish
	a.execute(w, r, http.StatusOK, workflow.ApproveUpdate{ID: chi.URLParam(r, "updateID"), Publish: publish})
}

func (a *API) publishUpdate(w http.ResponseWriter, r *http.Request) {
	a.execute(w, r, http.StatusOK, workflow.PublishUpdate{ID: chi.URLParam(r, "updateID")})
}

type restorationRequest struct {
	Kind        domain.RestorationKind `json:"kind"`
	Description string                 `json:"description"`
}

func (a *API) restoration(w http.ResponseWriter, r *http.Request) {
	command(a, w, r, http.StatusOK, func(req restorationRequest) (workflow.Command, error) {
		return workflow.RecordRestoration{Kind: req.Kind, Description: req.Description}, nil
	})
}

type verificationRequest struct {
	Method             string   `json:"method"`
	AcceptedComponents []string `json:"accepted_components"`
}

func (a *API) verification(w http.ResponseWriter, r *http.Request) {
	command(a, w, r, http.StatusOK, func(req verificationRequest) (workflow.Command, error) {
		return workflow.RecordVerification{Method: req.Method, Accepted: req.AcceptedComponents}, nil
	})
}

type stageRequest struct {
	To     domain.Stage `json:"to"`
	Note   string       `json:"note"`
	Reason string       `json:"reason"`
}

func (a *API) moveStage(w http.ResponseWriter, r *http.Request) {
	command(a, w, r, http.StatusOK, func(req stageRequest) (workflow.Command, error) {
		return workflow.MoveStage{To: req.To, Note: req.Note, Reason: req.Reason}, nil
	})
}

type statusRequest struct {
	To     domain.StandardStatus `json:"to"`
	Reason string                `json:"reason"`
}

func (a *API) setStatus(w http.ResponseWriter, r *http.Request) {
	command(a, w, r, http.StatusOK, func(req statusRequest) (workflow.Command, error) {
		return workflow.SetStatus{To: req.To, Reason: req.Reason}, nil
	})
}

type visibilityRequest struct {
	Private *bool  `json:"private"`
	Reason  string `json:"reason"`
}

func (a *API) setVisibility(w http.ResponseWriter, r *http.Request) {
	command(a, w, r, http.StatusOK, func(req visibilityRequest) (workflow.Command, error) {
		if req.Private == nil {
			return nil, domain.Invalid(domain.FieldError{Field: "private", Message: "is required: true or false"})
		}
		return workflow.SetVisibility{Private: *req.Private, Reason: req.Reason}, nil
	})
}

type escalationRequest struct {
	Kind   domain.EscalationKind `json:"kind"`
	Target string                `json:"target"`
	Reason string                `json:"reason"`
}

func (a *API) escalate(w http.ResponseWriter, r *http.Request) {
	command(a, w, r, http.StatusOK, func(req escalationRequest) (workflow.Command, error) {
		return workflow.Escalate{Kind: req.Kind, Target: req.Target, Reason: req.Reason}, nil
	})
}

type milestoneRequest struct {
	Milestone domain.Milestone `json:"milestone"`
	At        *string          `json:"at"`
}

func (a *API) setMilestone(w http.ResponseWriter, r *http.Request) {
	command(a, w, r, http.StatusOK, func(req milestoneRequest) (workflow.Command, error) {
		var v domain.Validator
		at := parseTime(&v, "at", req.At)
		if err := v.Err(); err != nil {
			return nil, err
		}
		c := workflow.SetMilestone{Milestone: req.Milestone}
		if at != nil {
			c.At = at.UTC().Truncate(time.Microsecond)
		}
		return c, nil
	})
}

type ticketRequest struct {
	System string `json:"system"`
	Ref    string `json:"ref"`
	URL    string `json:"url"`
}

func (a *API) linkTicket(w http.ResponseWriter, r *http.Request) {
	command(a, w, r, http.StatusCreated, func(req ticketRequest) (workflow.Command, error) {
		return workflow.LinkTicket{System: req.System, Ref: req.Ref, URL: req.URL}, nil
	})
}
