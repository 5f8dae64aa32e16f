package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postincident"
)

// PostIncident is what the API needs of post-incident storage (postgres.PostIncidentStore). Documents answer
// not_found (404) for an incident without one, version_mismatch (412) for a stale If-Match, not_reviewed (409) when
// publishing an unreviewed document, internal_detail (422) when a customer-safe version names something internal;
// UpdateProblem answers problem_has_open_actions (409) when closing a problem with pending actions.
type PostIncident interface {
	Document(ctx context.Context, ref string, kind postincident.Kind) (postincident.Document, error)
	Documents(ctx context.Context, incidentID string) ([]postincident.Document, error)
	UpdatePIR(ctx context.Context, ref string, ifVersion *int, p postincident.PIR) (postincident.Document, error)
	UpdateRCA(ctx context.Context, ref string, ifVersion *int, r postincident.RCA) (postincident.Document, error)
	Review(ctx context.Context, ref string, kind postincident.Kind, ifVersion *int, by domain.Person) (postincident.Document, error)
	Publish(ctx context.Context, ref string, kind postincident.Kind, ifVersion *int, public bool) (postincident.Document, error)

	Holidays(ctx context.Context) ([]postincident.Holiday, error)
	PutHoliday(ctx context.Context, h postincident.Holiday) (postincident.Holiday, bool, error)
	DeleteHoliday(ctx context.Context, date string) error

	Actions(ctx context.Context, f postincident.ActionFilter) ([]postincident.CorrectiveAction, error)
	Action(ctx context.Context, id string) (postincident.CorrectiveAction, error)
	CreateAction(ctx context.Context, in postincident.ActionInput) (postincident.CorrectiveAction, error)
	UpdateAction(ctx context.Context, id string, ifVersion *int, in postincident.ActionInput) (postincident.CorrectiveAction, error)

	Problems(ctx context.Context, status postincident.ProblemStatus) ([]postincident.Problem, error)
	Problem(ctx context.Context, id string) (postincident.Problem, error)
	ProblemsOf(ctx context.Context, incidentID string) ([]postincident.Problem, error)
	CreateProblem(ctx context.Context, in postincident.ProblemInput) (postincident.Problem, error)
	UpdateProblem(ctx context.Context, id string, ifVersion *int, in postincident.ProblemInput) (postincident.Problem, error)

	Deadlines(ctx context.Context, window time.Duration) (overdue, dueSoon []postincident.Deadline, err error)
}

// postIncidentRoutes registers the post-incident routes (PIR, RCA, evidence, corrective actions, problems,
// holidays, deadlines).
func (a *API) postIncidentRoutes(r chi.Router) {

	r.Get("/corrective-actions", a.listActions)
	r.With(a.idempotent).Post("/corrective-actions", a.createAction)
	r.Get("/corrective-actions/{actionID}", a.getAction)
	r.Patch("/corrective-actions/{actionID}", a.patchAction)

	r.Get("/problems", a.listProblems)
	r.With(a.idempotent).Post("/problems", a.createProblem)
	r.Get("/problems/{problemID}", a.getProblem)
	r.Patch("/problems/{problemID}", a.patchProblem)

	r.Get("/holidays", a.listHolidays)
	r.Put("/holidays/{date}", a.putHoliday)
	r.Delete("/holidays/{date}", a.deleteHoliday)

	r.Get("/deadlines", a.deadlines)
}

// incidentReportRoutes registers an incident's PIR, RCA and evidence routes on the /incidents/{id} subrouter.
func (a *API) incidentReportRoutes(r chi.Router) {
	r.Get("/pir", a.getDocument(postincident.KindPIR))
	r.Put("/pir", a.putPIR)
	r.Post("/pir/review", a.reviewDocument(postincident.KindPIR))
	r.Post("/pir/publish", a.publishDocument(postincident.KindPIR))
	r.Get("/rca", a.getDocument(postincident.KindRCA))
	r.Put("/rca", a.putRCA)
	r.Post("/rca/review", a.reviewDocument(postincident.KindRCA))
	r.Post("/rca/publish", a.publishDocument(postincident.KindRCA))
	r.Get("/evidence", a.evidence)
}

// documentJSON is the part of a PIR's or RCA's answer common to both; the content's fields sit beside it.
type documentJSON struct {
	Incident    string              `json:"incident"`
	Kind        postincident.Kind   `json:"kind"`
	Status      postincident.Status `json:"status"`
	Overdue     bool                `json:"overdue"`
	ConcludedAt time.Time           `json:"concluded_at"`
	TargetAt    *time.Time          `json:"target_at,omitempty"`
	DueAt       time.Time           `json:"due_at"`
	// Zone is the organisation's zone, in which the RCA's business days are counted.
	Zone        string                     `json:"zone"`
	Version     int                        `json:"version"`
	ReviewedBy  *domain.Person             `json:"reviewed_by,omitempty"`
	ReviewedAt  *time.Time                 `json:"reviewed_at,omitempty"`
	PublishedAt *time.Time                 `json:"published_at,omitempty"`
	Public      *postincident.PublicReport `json:"public,omitempty"`
	CreatedAt   time.Time                  `json:"created_at"`
	UpdatedAt   time.Time                  `json:"updated_at"`
}

// pirJSON is a PIR as the API shows it.
type pirJSON struct {
	documentJSON
	postincident.PIR
}

// rcaJSON is an RCA as the API shows it.
type rcaJSON struct {
	documentJSON
	postincident.RCA
}

func (a *API) location() *time.Location {
	if a.Location != nil {
		return a.Location
	}
	return time.UTC
}

func (a *API) presentDocument(d postincident.Document) any {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	head := documentJSON{Incident: d.IncidentKey, Kind: d.Kind, Status: d.Status, Overdue: d.Overdue(a.now()),
		ConcludedAt: d.ConcludedAt.UTC(), TargetAt: utc(d.TargetAt), DueAt: d.DueAt.UTC(), Zone: a.location().String(),
		Version:    d.Version,
		ReviewedBy: d.ReviewedBy, ReviewedAt: utc(d.ReviewedAt), PublishedAt: utc(d.PublishedAt), Public: d.Public,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
	if d.Kind == postincident.KindRCA {
		return rcaJSON{head, *d.RCA}
	}
	return pirJSON{head, *d.PIR}
}

func (a *API) writeDocument(w http.ResponseWriter, r *http.Request, d postincident.Document, err error) {
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(d.Version)))
	writeJSON(w, http.StatusOK, a.presentDocument(d))
}

func (a *API) getDocument(kind postincident.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, err := a.PostIncident.Document(r.Context(), chi.URLParam(r, "id"), kind)
		a.writeDocument(w, r, d, err)
	}
}

// readOnlyDocument are the fields of a document's answer that a PUT accepts and ignores, so a client can send back
// what it read; the version to check goes in If-Match.
type readOnlyDocument struct {
	Incident    json.RawMessage `json:"incident"`
	Kind        json.RawMessage `json:"kind"`
	Status      json.RawMessage `json:"status"`
	Overdue     json.RawMessage `json:"overdue"`
	ConcludedAt json.RawMessage `json:"concluded_at"`
	TargetAt    json.RawMessage `json:"target_at"`
	DueAt       json.RawMessage `json:"due_at"`
	Zone        json.RawMessage `json:"zone"`
	Version     json.RawMessage `json:"version"`
	ReviewedBy  json.RawMessage `json:"reviewed_by"`
	ReviewedAt  json.RawMessage `json:"reviewed_at"`
	PublishedAt json.RawMessage `json:"published_at"`
	Public      json.RawMessage `json:"public"`
	CreatedAt   json.RawMessage `json:"created_at"`
	UpdatedAt   json.RawMessage `json:"updated_at"`
}

// pirRequest is the body of PUT …/pir.
type pirRequest struct {
	readOnlyDocument
	postincident.PIR
}

// rcaRequest is the body of PUT …/rca.
type rcaRequest struct {
	readOnlyDocument
	postincident.RCA
}

// writerAndVersion checks what every change of a document, action or problem needs: a writer, and a readable
// If-Match.
func writerAndVersion(r *http.Request) (*int, error) {
	if err := requireWriter(r.Context()); err != nil {
		return nil, err
	}
	return ifMatch(r)
}

func (a *API) putPIR(w http.ResponseWriter, r *http.Request) {
	v, err := writerAndVersion(r)
	var req pirRequest
	if err == nil {
		err = decode(w, r, &req)
	}
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	d, err := a.PostIncident.UpdatePIR(r.Context(), chi.URLParam(r, "id"), v, req.PIR)
	a.writeDocument(w, r, d, err)
}

func (a *API) putRCA(w http.ResponseWriter, r *http.Request) {
	v, err := writerAndVersion(r)
	var req rcaRequest
	if err == nil {
		err = decode(w, r, &req)
	}
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	d, err := a.PostIncident.UpdateRCA(r.Context(), chi.URLParam(r, "id"), v, req.RCA)
	a.writeDocument(w, r, d, err)
}

func (a *API) reviewDocument(kind postincident.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := writerAndVersion(r)
		if err != nil {
			WriteError(w, r, a.Logger, err)
			return
		}
		act := actorFrom(r.Context())
		d, err := a.PostIncident.Review(r.Context(), chi.URLParam(r, "id"), kind, v,
			domain.Person{UserID: act.UserID, Name: act.Name, Email: act.Email})
		a.writeDocument(w, r, d, err)
	}
}

// publishRequest is the body of POST …/publish; public puts the customer-safe version on the status page.
type publishRequest struct {
	Public bool `json:"public"`
}

func (a *API) publishDocument(kind postincident.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := writerAndVersion(r)
		var req publishRequest
		if err == nil {
			err = decodeOptional(w, r, &req)
		}
		if err != nil {
			WriteError(w, r, a.Logger, err)
			return
		}
		d, err := a.PostIncident.Publish(r.Context(), chi.URLParam(r, "id"), kind, v, req.Public)
		a.writeDocument(w, r, d, err)
	}
}

// evidence exports one incident for an auditor, as JSON (the default) or Markdown (?format=md).
func (a *API) evidence(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "md" {
		WriteError(w, r, a.Logger, domain.Invalid(domain.FieldError{Field: "format", Message: "is json or md",
			Allowed: []string{"json", "md"}}))
		return
	}
	ev, err := a.Evidence(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+ev.Incident.Key+`-evidence.`+
		map[bool]string{true: "md", false: "json"}[format == "md"]+`"`)
	if format == "md" {
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(ev.Markdown()))
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

// Evidence assembles the evidence of one incident (`mim export evidence` uses it too).
func (a *API) Evidence(ctx context.Context, ref string) (postincident.Evidence, error) {
	rec, err := a.Incidents.Get(ctx, ref)
	if err != nil {
		return postincident.Evidence{}, err
	}
	id := rec.State.ID
	timeline, err := a.Incidents.Timeline(ctx, id)
	if err != nil {
		return postincident.Evidence{}, err
	}
	docs, err := a.PostIncident.Documents(ctx, id)
	if err != nil {
		return postincident.Evidence{}, err
	}
	actions, err := a.PostIncident.Actions(ctx, postincident.ActionFilter{Incident: id})
	if err != nil {
		return postincident.Evidence{}, err
	}
	problems, err := a.PostIncident.ProblemsOf(ctx, id)
	if err != nil {
		return postincident.Evidence{}, err
	}
	return postincident.NewEvidence(rec.State, timeline, docs, actions, problems, a.now()), nil
}

// correctiveActionRequest is the body of POST and PATCH /corrective-actions; PATCH changes only the fields present.
type correctiveActionRequest struct {
	Incident *string                    `json:"incident"`
	Problem  *string                    `json:"problem"`
	Kind     *postincident.ActionKind   `json:"kind"`
	Title    *string                    `json:"title"`
	Owner    *string                    `json:"owner"`
	DueAt    *string                    `json:"due_at"`
	Status   *postincident.ActionStatus `json:"status"`
	Reason   *string                    `json:"reason"`
}

func (req correctiveActionRequest) input() (postincident.ActionInput, error) {
	var v domain.Validator
	in := postincident.ActionInput{Incident: req.Incident, Problem: req.Problem, Kind: req.Kind, Title: req.Title,
		Owner: req.Owner, Status: req.Status, Reason: req.Reason, DueAt: parseTime(&v, "due_at", req.DueAt)}
	return in, v.Err()
}

func (a *API) listActions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := postincident.ActionFilter{Incident: q.Get("incident"), Problem: q.Get("problem"),
		Status: postincident.ActionStatus(q.Get("status")), Overdue: q.Get("overdue") == "true"}
	var v domain.Validator
	if f.Status != "" {
		domain.OneOf(&v, "status", f.Status, postincident.ActionStatuses)
	}
	if o := q.Get("overdue"); o != "" && o != "true" && o != "false" {
		v.Add("overdue", "is true or false")
	}
	if err := v.Err(); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	actions, err := a.PostIncident.Actions(r.Context(), f)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"corrective_actions": actions})
}

func (a *API) writeAction(w http.ResponseWriter, r *http.Request, status int, act postincident.CorrectiveAction, err error) {
	a.writeVersioned(w, r, status, act.Version, act, err)
}

// writeVersioned answers a versioned record with its version as the ETag (to send back in If-Match), or the error.
func (a *API) writeVersioned(w http.ResponseWriter, r *http.Request, status, version int, body any, err error) {
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(version)))
	writeJSON(w, status, body)
}

func (a *API) createAction(w http.ResponseWriter, r *http.Request) {
	var req correctiveActionRequest
	err := requireWriter(r.Context())
	if err == nil {
		err = decode(w, r, &req)
	}
	var in postincident.ActionInput
	if err == nil {
		in, err = req.input()
	}
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	act, err := a.PostIncident.CreateAction(r.Context(), in)
	a.writeAction(w, r, http.StatusCreated, act, err)
}

func (a *API) getAction(w http.ResponseWriter, r *http.Request) {
	act, err := a.PostIncident.Action(r.Context(), chi.URLParam(r, "actionID"))
	a.writeAction(w, r, http.StatusOK, act, err)
}

func (a *API) patchAction(w http.ResponseWriter, r *http.Request) {
	v, err := writerAndVersion(r)
	var req correctiveActionRequest
	if err == nil {
		err = decode(w, r, &req)
	}
	var in postincident.ActionInput
	if err == nil {
		in, err = req.input()
	}
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	act, err := a.PostIncident.UpdateAction(r.Context(), chi.URLParam(r, "actionID"), v, in)
	a.writeAction(w, r, http.StatusOK, act, err)
}

// problemRequest is the body of POST and PATCH /problems; PATCH changes only the fields present, and links the
// incidents listed to the problem (it never unlinks one).
type problemRequest struct {
	Title      *string                     `json:"title"`
	RootCause  *string                     `json:"root_cause"`
	KnownError *string                     `json:"known_error"`
	Workaround *string                     `json:"workaround"`
	Status     *postincident.ProblemStatus `json:"status"`
	Incidents  []string                    `json:"incidents"`
}

func (req problemRequest) input() postincident.ProblemInput {
	return postincident.ProblemInput{Title: req.Title, RootCause: req.RootCause, KnownError: req.KnownError,
		Workaround: req.Workaround, Status: req.Status, AddIncidents: req.Incidents}
}

func (a *API) listProblems(w http.ResponseWriter, r *http.Request) {
	status := postincident.ProblemStatus(r.URL.Query().Get("status"))
	if status != "" {
		var v domain.Validator
		domain.OneOf(&v, "status", status, postincident.ProblemStatuses)
		if err := v.Err(); err != nil {
			WriteError(w, r, a.Logger, err)
			return
		}
	}
	ps, err := a.PostIncident.Problems(r.Context(), status)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"problems": ps})
}

func (a *API) writeProblem(w http.ResponseWriter, r *http.Request, status int, p postincident.Problem, err error) {
	a.writeVersioned(w, r, status, p.Version, p, err)
}

func (a *API) createProblem(w http.ResponseWriter, r *http.Request) {
	var req problemRequest
	err := requireWriter(r.Context())
	if err == nil {
		err = decode(w, r, &req)
	}
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	p, err := a.PostIncident.CreateProblem(r.Context(), req.input())
	a.writeProblem(w, r, http.StatusCreated, p, err)
}

func (a *API) getProblem(w http.ResponseWriter, r *http.Request) {
	p, err := a.PostIncident.Problem(r.Context(), chi.URLParam(r, "problemID"))
	a.writeProblem(w, r, http.StatusOK, p, err)
}

func (a *API) patchProblem(w http.ResponseWriter, r *http.Request) {
	v, err := writerAndVersion(r)
	var req problemRequest
	if err == nil {
		err = decode(w, r, &req)
	}
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	p, err := a.PostIncident.UpdateProblem(r.Context(), chi.URLParam(r, "problemID"), v, req.input())
	a.writeProblem(w, r, http.StatusOK, p, err)
}

func (a *API) listHolidays(w http.ResponseWriter, r *http.Request) {
	hs, err := a.PostIncident.Holidays(r.Context())
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"holidays": hs})
}

// holidayRequest is the body of PUT /holidays/{date}.
type holidayRequest struct {
	Name string `json:"name"`
	// Date and CreatedAt are accepted and ignored (the date is the path's), so a listed holiday can be sent back.
	Date      json.RawMessage `json:"date"`
	CreatedAt json.RawMessage `json:"created_at"`
}

func (a *API) putHoliday(w http.ResponseWriter, r *http.Request) {
	var req holidayRequest
	err := requireAdmin(r.Context())
	if err == nil {
		err = decode(w, r, &req)
	}
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	h, created, err := a.PostIncident.PutHoliday(r.Context(), postincident.Holiday{Date: chi.URLParam(r, "date"),
		Name: req.Name})
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeJSON(w, map[bool]int{true: http.StatusCreated, false: http.StatusOK}[created], h)
}

func (a *API) deleteHoliday(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r.Context()); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if err := a.PostIncident.DeleteHoliday(r.Context(), chi.URLParam(r, "date")); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxDeadlineWindow bounds ?within= of the deadline dashboard.
const maxDeadlineWindow = 90 * 24 * time.Hour

// deadlines lists what is late and what falls due within ?within= (a Go duration such as 72h; default 72h).
func (a *API) deadlines(w http.ResponseWriter, r *http.Request) {
	window := 72 * time.Hour
	if s := strings.TrimSpace(r.URL.Query().Get("within")); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > maxDeadlineWindow {
			WriteError(w, r, a.Logger, domain.Invalid(domain.FieldError{Field: "within",
				Message: "is a duration from 0s to 2160h, e.g. 72h"}))
			return
		}
		window = d
	}
	overdue, soon, err := a.PostIncident.Deadlines(r.Context(), window)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"at": a.now().UTC(), "within": window.String(), "overdue": overdue,
		"due_soon": soon})
}
