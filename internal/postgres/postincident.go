package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/postincident"
	"github.com/mimhq/mim/internal/reports"
	"github.com/mimhq/mim/internal/statuspage"
	"github.com/mimhq/mim/internal/workflow"
)

// PostIncidentStore stores PIRs, RCAs, the holiday calendar, corrective actions and problems. Its React opens a
// concluded major incident's PIR and RCA in the concluding transaction, and marks them needs_revision when the
// incident is reopened.
type PostIncidentStore struct {
	db *DB
	// Now is the clock of every deadline decision; nil means time.Now.
	Now func() time.Time
	// Location is the organisation's zone, in which an RCA's business days are counted.
	Location *time.Location
	// Enqueuer queues the deadline reminders in the transaction that records them; nil sends none (and records
	// none, so they go out once one is connected).
	Enqueuer delivery.Enqueuer
	// OnPublished, when set, runs in the transaction that publishes a customer-safe version (to notify
	// subscribers); its error rolls the publication back.
	OnPublished func(ctx context.Context, tx pgx.Tx, r postincident.PublicReport) error
	// OnPublicChange, when set, is called after a customer-safe version was committed (the status page's
	// read-your-writes, as MaintenanceStore.OnChange).
	OnPublicChange func()
	// BaseURL prefixes the links in reminders.
	BaseURL string
}

// NewPostIncidentStore returns the post-incident store on db, counting business days in loc.
func NewPostIncidentStore(db *DB, loc *time.Location) *PostIncidentStore {
	if loc == nil {
		loc = time.UTC
	}
	return &PostIncidentStore{db: db, Location: loc}
}

func (s *PostIncidentStore) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// React is the incident reaction (register it with IncidentStore.AddReaction): a major incident's conclusion opens
// its PIR and RCA (once: concluding again after a reopening keeps them), and a reopening marks them needs_revision.
func (s *PostIncidentStore) React(ctx context.Context, tx pgx.Tx, c incident.Change) error {
	for _, e := range c.Events {
		if e.Type != workflow.EventStageChanged {
			continue
		}
		d, ok := e.Data.(*workflow.StageChanged)
		if !ok {
			continue
		}
		switch {
		case d.To == domain.StageConcluded && c.After.State.Kind == domain.KindMajor:
			if err := s.open(ctx, tx, c.After.State, e.At); err != nil {
				return err
			}
		case d.From == domain.StageConcluded:
			if _, err := tx.Exec(ctx, `UPDATE post_incident_documents SET status = 'needs_revision',
				version = version + 1, updated_at = $2 WHERE incident_id = $1 AND status <> 'needs_revision'`,
				c.After.State.ID, e.At); err != nil {
				return mapError(err)
			}
		}
	}
	return nil
}

func (s *PostIncidentStore) open(ctx context.Context, tx pgx.Tx, inc workflow.Incident, concluded time.Time) error {
	entries, err := readTimeline(ctx, tx, inc.ID)
	if err != nil {
		return err
	}
	cal, err := calendar(ctx, tx)
	if err != nil {
		return err
	}
	target, due := postincident.PIRDeadlines(concluded)
	pir, err := json.Marshal(postincident.DraftPIR(inc, entries))
	if err != nil {
		return domain.Internal(err)
	}
	rca, err := json.Marshal(postincident.DraftRCA(inc))
	if err != nil {
		return domain.Internal(err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO post_incident_documents (incident_id, kind, status, concluded_at, target_at, due_at, body,
		                                     created_at, updated_at)
		VALUES ($1, 'pir', 'draft', $2, $3, $4, $5, $2, $2), ($1, 'rca', 'draft', $2, NULL, $6, $7, $2, $2)
		ON CONFLICT (incident_id, kind) DO NOTHING`,
		inc.ID, concluded, target, due, pir, postincident.RCADue(concluded, s.Location, cal), rca)
	return mapError(err)
}

// calendar reads the holidays.
func calendar(ctx context.Context, q querier) (postincident.Calendar, error) {
	rows, err := q.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD') FROM holidays`)
	if err != nil {
		return nil, mapError(err)
	}
	days, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, mapError(err)
	}
	cal := postincident.Calendar{}
	for _, d := range days {
		cal[d] = true
	}
	return cal, nil
}

const documentColumns = `d.incident_id::text, i.key, d.kind, d.status, d.concluded_at, d.target_at, d.due_at, d.body,
	d.version, d.reviewed_by, d.reviewed_at, d.published_at, d.public, d.created_at, d.updated_at`

func scanDocument(row pgx.Row) (postincident.Document, error) {
	var d postincident.Document
	var kind, status string
	var body, reviewedBy, public []byte
	if err := row.Scan(&d.IncidentID, &d.IncidentKey, &kind, &status, &d.ConcludedAt, &d.TargetAt, &d.DueAt, &body,
		&d.Version, &reviewedBy, &d.ReviewedAt, &d.PublishedAt, &public, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return d, err
	}
	d.Kind, d.Status = postincident.Kind(kind), postincident.Status(status)
	var err error
	switch d.Kind {
	case postincident.KindPIR:
		d.PIR = &postincident.PIR{}
		err = json.Unmarshal(body, d.PIR)
	case postincident.KindRCA:
		d.RCA = &postincident.RCA{}
		err = json.Unmarshal(body, d.RCA)
	}
	if err == nil && reviewedBy != nil {
		err = json.Unmarshal(reviewedBy, &d.ReviewedBy)
	}
	if err == nil && public != nil {
		err = json.Unmarshal(public, &d.Public)
	}
	if err != nil {
		return d, domain.Internal(fmt.Errorf("decode %s: %w", kind, err))
	}
	return d, nil
}

func getDocument(ctx context.Context, q querier, ref string, kind postincident.Kind, lock bool) (postincident.Document, error) {
	where, arg := refWhere(ref)
	suffix := ""
	if lock {
		suffix = " FOR UPDATE OF d"
	}
	d, err := scanDocument(q.QueryRow(ctx, `SELECT `+documentColumns+`
		FROM post_incident_documents d JOIN incidents i ON i.id = d.incident_id
		WHERE i.`+where+` AND d.kind = $2`+suffix, arg, string(kind)))
	if errors.Is(err, pgx.ErrNoRows) {
		// Tell "no such incident" from "not concluded yet".
		var exists bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM incidents WHERE `+where+`)`, arg).Scan(&exists); err != nil {
			return d, mapError(err)
		}
		if !exists {
			return d, notFound("incident", ref)
		}
		return d, domain.Errorf(domain.ErrNotFound, "not_found",
			"incident %s has no %s: one is opened when a major incident is concluded", ref, strings.ToUpper(string(kind)))
	}
	return d, mapError(err)
}

// Document returns an incident's PIR or RCA (not_found when the incident has none yet).
func (s *PostIncidentStore) Document(ctx context.Context, ref string, kind postincident.Kind) (postincident.Document, error) {
	return getDocument(ctx, s.db.Pool, ref, kind, false)
}

// Documents returns an incident's PIR and RCA, those it has.
func (s *PostIncidentStore) Documents(ctx context.Context, incidentID string) ([]postincident.Document, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+documentColumns+`
		FROM post_incident_documents d JOIN incidents i ON i.id = d.incident_id
		WHERE d.incident_id = $1 ORDER BY d.kind`, incidentID)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []postincident.Document
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, mapError(err)
		}
		out = append(out, d)
	}
	return out, mapError(rows.Err())
}

func documentVersionMismatch(d postincident.Document) error {
	return versionMismatch(strings.ToUpper(string(d.Kind))+" of "+d.IncidentKey, d.Version)
}

// versionMismatch refuses a change made against a stale If-Match (412): what is at version current.
func versionMismatch(what string, current int) error {
	return &domain.Error{Kind: domain.ErrPrecondition, Code: "version_mismatch",
		Message: fmt.Sprintf("the %s is at version %d; reload it and retry", what, current)}
}

// changeDocument locks the document, checks ifVersion (version_mismatch, 412), lets change decide, and saves the
// result with its version bumped.
func (s *PostIncidentStore) changeDocument(ctx context.Context, ref string, kind postincident.Kind, ifVersion *int,
	change func(tx pgx.Tx, d *postincident.Document) error) (postincident.Document, error) {
	var out postincident.Document
	var public bool
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		d, err := getDocument(ctx, tx, ref, kind, true)
		if err != nil {
			return err
		}
		if ifVersion != nil && *ifVersion != d.Version {
			return documentVersionMismatch(d)
		}
		hadPublic := d.Public != nil
		if err := change(tx, &d); err != nil {
			return err
		}
		var body any = d.PIR
		if kind == postincident.KindRCA {
			body = d.RCA
		}
		raw, err := json.Marshal(body)
		if err != nil {
			return domain.Internal(err)
		}
		d.Version++
		d.UpdatedAt = s.now()
		if _, err := tx.Exec(ctx, `UPDATE post_incident_documents SET status = $3, body = $4, version = $5,
			reviewed_by = $6, reviewed_at = $7, published_at = $8, public = $9, updated_at = $10,
			first_published_at = coalesce(first_published_at, $8)
			WHERE incident_id = $1 AND kind = $2`, d.IncidentID, string(kind), string(d.Status), raw, d.Version,
			jsonOrNil(d.ReviewedBy), d.ReviewedAt, d.PublishedAt, jsonOrNil(d.Public), d.UpdatedAt); err != nil {
			return mapError(err)
		}
		if public = hadPublic || d.Public != nil; public {
			if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, PublicChannel); err != nil {
				return mapError(err)
			}
		}
		out = d
		return nil
	})
	if err == nil && public && s.OnPublicChange != nil {
		s.OnPublicChange()
	}
	return out, err
}

// jsonOrNil encodes v, or is NULL for a nil pointer.
func jsonOrNil[T any](v *T) []byte {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}

// editedStatus: any edit makes the document a draft again, to be reviewed (and published) anew.
func editedStatus(d *postincident.Document) {
	d.Status, d.ReviewedBy, d.ReviewedAt = postincident.StatusDraft, nil, nil
}

// UpdatePIR replaces a PIR's content. Any edit makes it a draft again, to be reviewed (a published PIR stays on the
// status page as it was published until published again).
func (s *PostIncidentStore) UpdatePIR(ctx context.Context, ref string, ifVersion *int, p postincident.PIR) (postincident.Document, error) {
	if err := postincident.ValidatePIR(&p); err != nil {
		return postincident.Document{}, err
	}
	return s.changeDocument(ctx, ref, postincident.KindPIR, ifVersion, func(tx pgx.Tx, d *postincident.Document) error {
		if err := traceable(ctx, tx, d.IncidentID, &p); err != nil {
			return err
		}
		d.PIR = &p
		editedStatus(d)
		return nil
	})
}

// traceable checks that every timeline fact and restoration step naming a seq names an entry of the incident's
// timeline (and its event type, filled in when left out): an edit may change a fact's words, not what it traces to.
func traceable(ctx context.Context, tx pgx.Tx, incidentID string, p *postincident.PIR) error {
	rows, err := tx.Query(ctx, `SELECT seq, type FROM timeline_entries WHERE incident_id = $1`, incidentID)
	if err != nil {
		return mapError(err)
	}
	types := map[int]string{}
	for rows.Next() {
		var seq int
		var typ string
		if err := rows.Scan(&seq, &typ); err != nil {
			rows.Close()
			return mapError(err)
		}
		types[seq] = typ
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapError(err)
	}
	var v domain.Validator
	for i := range p.Timeline {
		it := &p.Timeline[i]
		if it.Seq == 0 {
			continue
		}
		typ, ok := types[it.Seq]
		f := "timeline[" + strconv.Itoa(i) + "]"
		switch {
		case !ok:
			v.Add(f+".seq", fmt.Sprintf("the incident's timeline has no entry %d; use 0 for a fact added by hand", it.Seq))
		case it.Event == "":
			it.Event = typ
		case it.Event != typ:
			v.Add(f+".event", fmt.Sprintf("entry %d is %s, not %s", it.Seq, typ, it.Event))
		}
	}
	for i, st := range p.RestorationSteps {
		if _, ok := types[st.Seq]; st.Seq != 0 && !ok {
			v.Add("restoration_steps["+strconv.Itoa(i)+"].seq",
				fmt.Sprintf("the incident's timeline has no entry %d; use 0 for a step added by hand", st.Seq))
		}
	}
	return v.Err()
}

// UpdateRCA replaces an RCA's content. Each preventative action without an action_id becomes a corrective action
// of the incident, owned by the named user (validation_failed when no such user); for those with one, the action's
// kind, title, owner and due date follow the RCA (its status is tracked on the action). An action left out of the RCA
// stays, as a corrective action of the incident.
func (s *PostIncidentStore) UpdateRCA(ctx context.Context, ref string, ifVersion *int, r postincident.RCA) (postincident.Document, error) {
	if err := postincident.ValidateRCA(&r); err != nil {
		return postincident.Document{}, err
	}
	return s.changeDocument(ctx, ref, postincident.KindRCA, ifVersion, func(tx pgx.Tx, d *postincident.Document) error {
		var v domain.Validator
		known := map[string]bool{}
		for _, a := range d.RCA.PreventativeActions {
			if a.ActionID != "" {
				known[a.ActionID] = true
			}
		}
		now := s.now()
		for i := range r.PreventativeActions {
			a := &r.PreventativeActions[i]
			f := "preventative_actions[" + strconv.Itoa(i) + "]"
			if a.ActionID != "" && !known[a.ActionID] {
				v.Add(f+".action_id", "is not an action this RCA created; leave it out to create one")
				continue
			}
			owner, err := getUser(ctx, tx, a.Owner)
			if domain.IsKind(err, domain.ErrNotFound) {
				v.Add(f+".owner", "no user "+strconv.Quote(a.Owner))
				continue
			}
			if err != nil {
				return err
			}
			a.Owner = owner.ID
			if a.ActionID != "" {
				// The RCA and its actions say the same: what, who and when follow the RCA's edit; the status is the
				// action's own.
				if _, err := tx.Exec(ctx, `UPDATE corrective_actions SET kind = $2, title = $3, owner_id = $4, due_at = $5,
					version = version + 1, updated_at = $6
					WHERE id = $1 AND (kind, title, owner_id, due_at) IS DISTINCT FROM ($2, $3, $4::uuid, $5::timestamptz)`,
					a.ActionID, string(a.Kind), a.Title, owner.ID, a.DueAt, now); err != nil {
					return mapError(err)
				}
				continue
			}
			a.ActionID = uuid.NewString()
			if _, err := tx.Exec(ctx, `INSERT INTO corrective_actions (id, incident_id, kind, title, owner_id, due_at,
				status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $7)`,
				a.ActionID, d.IncidentID, string(a.Kind), a.Title, owner.ID, a.DueAt, now); err != nil {
				return mapError(err)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		d.RCA = &r
		editedStatus(d)
		return nil
	})
}

// Review records that a person reviewed the document: a draft (or one needing revision) becomes reviewed.
func (s *PostIncidentStore) Review(ctx context.Context, ref string, kind postincident.Kind, ifVersion *int, by domain.Person) (postincident.Document, error) {
	return s.changeDocument(ctx, ref, kind, ifVersion, func(_ pgx.Tx, d *postincident.Document) error {
		if d.Status == postincident.StatusReviewed || d.Status == postincident.StatusPublished {
			return domain.Errorf(domain.ErrConflict, "already_reviewed", "the %s of %s is %s; edit it to review it again",
				strings.ToUpper(string(kind)), d.IncidentKey, d.Status)
		}
		if kind == postincident.KindRCA && d.RCA.RootCause == "" {
			return &domain.Error{Kind: domain.ErrConflict, Code: "rca_incomplete",
				Message: "the RCA has no root cause yet: write it before the review"}
		}
		now := s.now()
		d.Status, d.ReviewedBy, d.ReviewedAt = postincident.StatusReviewed, &by, &now
		return nil
	})
}

// Publish publishes a reviewed document (not_reviewed, 409, otherwise). With public it also puts its customer-safe
// version on the incident's permalink (internal_detail, 422, when the customer summary names something internal)
// and runs OnPublished; without, a customer-safe version published before is withdrawn.
func (s *PostIncidentStore) Publish(ctx context.Context, ref string, kind postincident.Kind, ifVersion *int, public bool) (postincident.Document, error) {
	return s.changeDocument(ctx, ref, kind, ifVersion, func(tx pgx.Tx, d *postincident.Document) error {
		if d.Status != postincident.StatusReviewed {
			return &domain.Error{Kind: domain.ErrConflict, Code: "not_reviewed",
				Message: fmt.Sprintf("the %s of %s is %s: it is published once reviewed", strings.ToUpper(string(kind)),
					d.IncidentKey, d.Status), Allowed: []string{"review"}}
		}
		now := s.now()
		d.Status, d.PublishedAt, d.Public = postincident.StatusPublished, &now, nil
		if !public {
			return nil
		}
		rec, err := getIncident(ctx, tx, d.IncidentID, "")
		if err != nil {
			return err
		}
		if rec.State.Private || rec.State.PublicStatus() == "" {
			return domain.Errorf(domain.ErrConflict, "incident_not_public",
				"%s is not on the status page, so neither can its report be", d.IncidentKey)
		}
		report, err := postincident.CustomerSafe(*d, rec.State, now)
		if err != nil {
			return err
		}
		d.Public = &report
		if s.OnPublished != nil {
			return s.OnPublished(ctx, tx, report)
		}
		return nil
	})
}

// PublicReports returns the customer-safe reports published for an incident, PIR first.
func (s *PostIncidentStore) PublicReports(ctx context.Context, key string) ([]postincident.PublicReport, error) {
	return publicReports(ctx, s.db.Pool, key)
}

func publicReports(ctx context.Context, q querier, key string) ([]postincident.PublicReport, error) {
	rows, err := q.Query(ctx, `SELECT d.public FROM post_incident_documents d JOIN incidents i ON i.id = d.incident_id
		WHERE i.key = $1 AND d.public IS NOT NULL AND i.public_started_at IS NOT NULL
		  AND NOT coalesce((i.state->>'private')::boolean, false) ORDER BY d.kind`, key)
	if err != nil {
		return nil, mapError(err)
	}
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, mapError(err)
	}
	out := make([]postincident.PublicReport, 0, len(raws))
	for _, raw := range raws {
		var r postincident.PublicReport
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, domain.Internal(err)
		}
		out = append(out, r)
	}
	return out, nil
}

// PublicReports implements statuspage.ReportSource: the customer-safe reports published for the incident with that
// key, while the incident itself is public.
func (s *PublicSource) PublicReports(ctx context.Context, key string) ([]statuspage.Report, error) {
	reports, err := publicReports(ctx, s.db.Pool, key)
	if err != nil {
		return nil, err
	}
	out := make([]statuspage.Report, 0, len(reports))
	for _, r := range reports {
		out = append(out, statuspage.Report{Kind: string(r.Kind), Summary: r.Summary, PublishedAt: r.PublishedAt})
	}
	return out, nil
}

// DocumentDeadlines lists the PIRs and RCAs of the incidents concluded in [from, to), for on-time rates; PublishedAt
// is the first publication (nil while unpublished). It is the reports' source of PIR and RCA deadlines.
func (s *PostIncidentStore) DocumentDeadlines(ctx context.Context, from, to time.Time) ([]reports.Deadline, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT d.kind, i.key, d.concluded_at, d.due_at, d.first_published_at
		FROM post_incident_documents d JOIN incidents i ON i.id = d.incident_id
		WHERE d.concluded_at >= $1 AND d.concluded_at < $2 ORDER BY d.concluded_at, i.key, d.kind`, from, to)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []reports.Deadline
	for rows.Next() {
		var d reports.Deadline
		if err := rows.Scan(&d.Kind, &d.IncidentKey, &d.ConcludedAt, &d.DueAt, &d.PublishedAt); err != nil {
			return nil, mapError(err)
		}
		out = append(out, d)
	}
	return out, mapError(rows.Err())
}
