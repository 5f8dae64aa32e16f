package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/maintenance"
)

// Maintenances is what the API needs of maintenance storage. Create and Update validate (422 validation_failed,
// unknown component slugs included); Get, Update and Delete answer not_found (404) for an unknown id, and Update and
// Delete version_mismatch (412) when ifVersion is set and is not the stored version.
type Maintenances interface {
	Create(ctx context.Context, m maintenance.Maintenance) (maintenance.Maintenance, error)
	Get(ctx context.Context, id string) (maintenance.Maintenance, error)
	List(ctx context.Context) ([]maintenance.Maintenance, error)
	Update(ctx context.Context, m maintenance.Maintenance, ifVersion *int) (maintenance.Maintenance, error)
	Delete(ctx context.Context, id string, ifVersion *int) error
}

// maxOccurrenceSpan bounds the from–to range of an occurrences listing.
const maxOccurrenceSpan = 366 * 24 * time.Hour

// recurrenceJSON is a recurrence as the API reads and writes it.
type recurrenceJSON struct {
	Frequency       maintenance.Frequency `json:"frequency"`
	Weekday         string                `json:"weekday,omitempty"`
	LocalStart      string                `json:"local_start"`
	DurationMinutes int                   `json:"duration_minutes"`
	Zone            string                `json:"zone"`
	From            string                `json:"from"`
	Until           string                `json:"until,omitempty"`
}

// maintenanceRequest is the body of POST and PUT. The answer's read-only fields are accepted and ignored, so a
// client can PUT back exactly what it read; the version to check goes in If-Match, not in the body.
type maintenanceRequest struct {
	Title      string          `json:"title"`
	Body       string          `json:"body"`
	Components []string        `json:"components"`
	StartsAt   *string         `json:"starts_at"`
	EndsAt     *string         `json:"ends_at"`
	Recurrence *recurrenceJSON `json:"recurrence"`

	ID        json.RawMessage `json:"id"`
	Phase     json.RawMessage `json:"phase"`
	Active    json.RawMessage `json:"active"`
	At        json.RawMessage `json:"at"`
	Window    json.RawMessage `json:"window"`
	Version   json.RawMessage `json:"version"`
	CreatedAt json.RawMessage `json:"created_at"`
	UpdatedAt json.RawMessage `json:"updated_at"`
}

// maintenanceJSON is a maintenance as the API shows it, evaluated at an instant (at: now, or the ?at= asked for).
type maintenanceJSON struct {
	ID         string          `json:"id"`
	Title      string          `json:"title"`
	Body       string          `json:"body"`
	Components []string        `json:"components"`
	StartsAt   *time.Time      `json:"starts_at,omitempty"`
	EndsAt     *time.Time      `json:"ends_at,omitempty"`
	Recurrence *recurrenceJSON `json:"recurrence,omitempty"`
	// At is the instant Phase, Active and Window describe.
	At     time.Time          `json:"at"`
	Phase  maintenance.Status `json:"phase"`
	Active bool               `json:"active"`
	// Window is the window in progress at At, else the next, else the last.
	Window    *windowJSON `json:"window"`
	Version   int         `json:"version"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// windowJSON is one occurrence: UTC instants, and for a recurring maintenance the same instants on its zone's wall
// clock, with the zone's offset.
type windowJSON struct {
	StartsAt      time.Time `json:"starts_at"`
	EndsAt        time.Time `json:"ends_at"`
	LocalStartsAt string    `json:"local_starts_at,omitempty"`
	LocalEndsAt   string    `json:"local_ends_at,omitempty"`
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func presentWindow(m maintenance.Maintenance, w maintenance.Window) *windowJSON {
	out := &windowJSON{StartsAt: w.Start.UTC(), EndsAt: w.End.UTC()}
	if m.Recurrence != nil {
		out.LocalStartsAt, out.LocalEndsAt = w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339)
	}
	return out
}

func presentMaintenance(m maintenance.Maintenance, at time.Time) maintenanceJSON {
	out := maintenanceJSON{
		ID: m.ID, Title: m.Title, Body: m.Body, Components: m.Components, At: at.UTC(),
		Phase: maintenance.Phase(m, at), Version: m.Version, CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(),
	}
	if out.Components == nil {
		out.Components = []string{}
	}
	if r := m.Recurrence; r != nil {
		out.Recurrence = &recurrenceJSON{Frequency: r.Frequency, Weekday: r.Weekday, LocalStart: r.LocalStart,
			DurationMinutes: int(r.Duration / time.Minute), Zone: r.Zone, From: r.From, Until: r.Until}
	} else {
		s, e := m.StartsAt.UTC(), m.EndsAt.UTC()
		out.StartsAt, out.EndsAt = &s, &e
	}
	_, out.Active = maintenance.ActiveAt(m, at)
	if w, ok := maintenance.Current(m, at); ok {
		out.Window = presentWindow(m, w)
	}
	return out
}

func writeMaintenance(w http.ResponseWriter, status int, m maintenance.Maintenance, at time.Time) {
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(m.Version)))
	writeJSON(w, status, presentMaintenance(m, at))
}

// maintenanceOf reads a request body into a maintenance: times must carry an offset, the rest is Validate's. All
// field errors come back together.
func maintenanceOf(req maintenanceRequest) (maintenance.Maintenance, error) {
	var v domain.Validator
	m := maintenance.Maintenance{Title: req.Title, Body: req.Body, Components: req.Components}
	if req.Recurrence != nil {
		r := req.Recurrence
		// Bounded before it becomes a Duration, which would overflow and wrap to something else.
		if r.DurationMinutes < 0 || r.DurationMinutes > 366*24*60 {
			v.Add("recurrence.duration_minutes", "must be from 1 to 527040 (366 days)")
			r.DurationMinutes = 0
		}
		m.Recurrence = &maintenance.Recurrence{Frequency: r.Frequency, Weekday: r.Weekday, LocalStart: r.LocalStart,
			Duration: time.Duration(r.DurationMinutes) * time.Minute, Zone: r.Zone, From: r.From, Until: r.Until}
	}
	if t := parseTime(&v, "starts_at", req.StartsAt); t != nil {
		m.StartsAt = *t
	}
	if t := parseTime(&v, "ends_at", req.EndsAt); t != nil {
		m.EndsAt = *t
	}
	parsed := v.Err()
	err := maintenance.Validate(&m)
	if parsed == nil {
		return m, err
	}
	// A time that did not parse is not "required" as well: keep its parse error only.
	out := domain.AsError(parsed)
	for _, f := range fieldErrors(err) {
		if (f.Field == "starts_at" && req.StartsAt != nil) || (f.Field == "ends_at" && req.EndsAt != nil) {
			continue
		}
		out.Fields = append(out.Fields, f)
	}
	return m, domain.Invalid(out.Fields...)
}

func fieldErrors(err error) []domain.FieldError {
	if err == nil {
		return nil
	}
	return domain.AsError(err).Fields
}

// checkMaintenanceComponents refuses component slugs that do not exist, naming those that do.
func (a *API) checkMaintenanceComponents(r *http.Request, slugs []string) error {
	statuses := make(map[string]domain.ComponentStatus, len(slugs))
	for _, s := range slugs {
		statuses[s] = domain.ComponentUnderMaintenance
	}
	return a.checkComponents(r, statuses)
}

// queryTime reads an optional instant from the query string, which must carry an offset like every API time.
func queryTime(v *domain.Validator, r *http.Request, name string) *time.Time {
	if !r.URL.Query().Has(name) {
		return nil
	}
	s := r.URL.Query().Get(name)
	return parseTime(v, name, &s)
}

// evaluationTime is ?at= when given, else now.
func (a *API) evaluationTime(r *http.Request) (time.Time, error) {
	var v domain.Validator
	at := queryTime(&v, r, "at")
	if err := v.Err(); err != nil {
		return time.Time{}, err
	}
	if at == nil {
		return a.now(), nil
	}
	return *at, nil
}

func (a *API) decodeMaintenance(w http.ResponseWriter, r *http.Request) (maintenance.Maintenance, error) {
	if err := requireWriter(r.Context()); err != nil {
		return maintenance.Maintenance{}, err
	}
	var req maintenanceRequest
	if err := decode(w, r, &req); err != nil {
		return maintenance.Maintenance{}, err
	}
	m, err := maintenanceOf(req)
	cerr := a.checkMaintenanceComponents(r, m.Components)
	if cerr != nil && !domain.IsKind(cerr, domain.ErrInvalid) {
		return m, cerr
	}
	if fields := append(fieldErrors(err), fieldErrors(cerr)...); len(fields) > 0 {
		return m, domain.Invalid(fields...)
	}
	return m, nil
}

func (a *API) createMaintenance(w http.ResponseWriter, r *http.Request) {
	m, err := a.decodeMaintenance(w, r)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	m, err = a.Maintenances.Create(r.Context(), m)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/maintenances/"+m.ID)
	writeMaintenance(w, http.StatusCreated, m, a.now())
}

func (a *API) listMaintenances(w http.ResponseWriter, r *http.Request) {
	at, err := a.evaluationTime(r)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	var v domain.Validator
	phase := maintenance.Status(r.URL.Query().Get("phase"))
	if phase != "" {
		domain.OneOf(&v, "phase", phase, []maintenance.Status{maintenance.Upcoming, maintenance.InProgress,
			maintenance.Completed})
	}
	if err := v.Err(); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	ms, err := a.Maintenances.List(r.Context())
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	out := struct {
		Maintenances []maintenanceJSON `json:"maintenances"`
	}{Maintenances: []maintenanceJSON{}}
	for _, m := range ms {
		p := presentMaintenance(m, at)
		if phase == "" || p.Phase == phase {
			out.Maintenances = append(out.Maintenances, p)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) getMaintenance(w http.ResponseWriter, r *http.Request) {
	at, err := a.evaluationTime(r)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	m, err := a.Maintenances.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeMaintenance(w, http.StatusOK, m, at)
}

func (a *API) putMaintenance(w http.ResponseWriter, r *http.Request) {
	match, err := ifMatch(r)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	m, err := a.decodeMaintenance(w, r)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	m.ID = chi.URLParam(r, "id")
	m, err = a.Maintenances.Update(r.Context(), m, match)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeMaintenance(w, http.StatusOK, m, a.now())
}

func (a *API) deleteMaintenance(w http.ResponseWriter, r *http.Request) {
	if err := requireWriter(r.Context()); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	match, err := ifMatch(r)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if err := a.Maintenances.Delete(r.Context(), chi.URLParam(r, "id"), match); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// maintenanceOccurrences lists the windows of a maintenance that overlap [from, to): by default the 31 days from now, at most
// 366 days.
func (a *API) maintenanceOccurrences(w http.ResponseWriter, r *http.Request) {
	var v domain.Validator
	from, to := queryTime(&v, r, "from"), queryTime(&v, r, "to")
	if err := v.Err(); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if from == nil {
		now := a.now()
		from = &now
	}
	if to == nil {
		t := from.Add(31 * 24 * time.Hour)
		to = &t
	}
	v.Check(to.After(*from), "to", "must be after from")
	v.Check(to.Sub(*from) <= maxOccurrenceSpan, "to", "must be at most 366 days after from")
	if err := v.Err(); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	m, err := a.Maintenances.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	out := struct {
		Zone        string       `json:"zone"`
		From        time.Time    `json:"from"`
		To          time.Time    `json:"to"`
		Occurrences []windowJSON `json:"occurrences"`
	}{Zone: "UTC", From: from.UTC(), To: to.UTC(), Occurrences: []windowJSON{}}
	if m.Recurrence != nil {
		out.Zone = m.Recurrence.Zone
	}
	for _, o := range maintenance.Occurrences(m, *from, *to) {
		out.Occurrences = append(out.Occurrences, *presentWindow(m, o))
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(m.Version)))
	writeJSON(w, http.StatusOK, out)
}
