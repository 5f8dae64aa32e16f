package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postincident"
)

// Holidays lists the business-day calendar, in date order.
func (s *PostIncidentStore) Holidays(ctx context.Context) ([]postincident.Holiday, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), name, created_at FROM holidays ORDER BY day`)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (postincident.Holiday, error) {
		var h postincident.Holiday
		err := r.Scan(&h.Date, &h.Name, &h.CreatedAt)
		return h, err
	})
	if out == nil {
		out = []postincident.Holiday{}
	}
	return out, mapError(err)
}

// PutHoliday adds (or renames) a holiday, and moves the due time of every unpublished RCA the calendar now counts
// differently. It answers true when the holiday is new.
func (s *PostIncidentStore) PutHoliday(ctx context.Context, h postincident.Holiday) (postincident.Holiday, bool, error) {
	var v domain.Validator
	h.Name = strings.TrimSpace(h.Name)
	day, ok := postincident.ParseDate(h.Date)
	v.Check(ok, "date", "must be a date, YYYY-MM-DD, in the years 1 to 9999")
	v.Check(h.Name != "" && len(h.Name) <= 200, "name", "is required, at most 200 bytes")
	if err := v.Err(); err != nil {
		return h, false, err
	}
	var created bool
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO holidays (day, name, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (day) DO UPDATE SET name = excluded.name
			RETURNING created_at, xmax = 0`, day, h.Name, s.now()).Scan(&h.CreatedAt, &created); err != nil {
			return mapError(err)
		}
		return s.recountRCAs(ctx, tx)
	})
	return h, created, err
}

// DeleteHoliday removes a holiday (not_found when there is none) and recounts the unpublished RCAs.
func (s *PostIncidentStore) DeleteHoliday(ctx context.Context, date string) error {
	day, ok := postincident.ParseDate(date)
	if !ok {
		return notFound("holiday", date)
	}
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM holidays WHERE day = $1`, day)
		if err != nil {
			return mapError(err)
		}
		if tag.RowsAffected() == 0 {
			return notFound("holiday", date)
		}
		return s.recountRCAs(ctx, tx)
	})
}

// recountRCAs recomputes the due time of every RCA not yet published from the calendar as it is now.
func (s *PostIncidentStore) recountRCAs(ctx context.Context, tx pgx.Tx) error {
	cal, err := calendar(ctx, tx)
	if err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT incident_id::text, concluded_at, due_at FROM post_incident_documents
		WHERE kind = 'rca' AND status <> 'published' FOR UPDATE`)
	if err != nil {
		return mapError(err)
	}
	type rca struct {
		id      string
		at, due time.Time
	}
	var all []rca
	for rows.Next() {
		var r rca
		if err := rows.Scan(&r.id, &r.at, &r.due); err != nil {
			rows.Close()
			return mapError(err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapError(err)
	}
	for _, r := range all {
		if due := postincident.RCADue(r.at, s.Location, cal); !due.Equal(r.due) {
			if _, err := tx.Exec(ctx, `UPDATE post_incident_documents SET due_at = $2 WHERE incident_id = $1 AND kind = 'rca'`,
				r.id, due); err != nil {
				return mapError(err)
			}
		}
	}
	return nil
}

const actionColumns = `a.id::text, coalesce(i.key, ''), coalesce(a.problem_id::text, ''), a.kind, a.title, u.id::text,
	u.name, u.email, a.due_at, a.status, a.reason, a.version, a.created_at, a.updated_at, a.done_at`

const actionFrom = ` FROM corrective_actions a JOIN users u ON u.id = a.owner_id LEFT JOIN incidents i ON i.id = a.incident_id`

func (s *PostIncidentStore) scanAction(row pgx.Row, now time.Time) (postincident.CorrectiveAction, error) {
	var a postincident.CorrectiveAction
	var kind, status string
	err := row.Scan(&a.ID, &a.IncidentKey, &a.ProblemID, &kind, &a.Title, &a.Owner.UserID, &a.Owner.Name,
		&a.Owner.Email, &a.DueAt, &status, &a.Reason, &a.Version, &a.CreatedAt, &a.UpdatedAt, &a.DoneAt)
	a.Kind, a.Status = postincident.ActionKind(kind), postincident.ActionStatus(status)
	a.Overdue = postincident.ActionOverdue(a.Status, a.DueAt, now)
	return a, err
}

// Actions lists corrective actions, soonest due first.
func (s *PostIncidentStore) Actions(ctx context.Context, f postincident.ActionFilter) ([]postincident.CorrectiveAction, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	now := s.now()
	if f.Incident != "" {
		w, v := refWhere(f.Incident)
		where = append(where, "i."+strings.Replace(w, "$1", arg(v), 1))
	}
	if f.Problem != "" {
		id, err := uuid.Parse(f.Problem)
		if err != nil {
			return []postincident.CorrectiveAction{}, nil
		}
		where = append(where, "a.problem_id = "+arg(id))
	}
	if f.Status != "" {
		where = append(where, "a.status = "+arg(string(f.Status)))
	}
	if f.Overdue {
		where = append(where, "a.status IN ('open', 'in_progress') AND a.due_at < "+arg(now))
	}
	sql := `SELECT ` + actionColumns + actionFrom
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.Pool.Query(ctx, sql+" ORDER BY a.due_at, a.id LIMIT 1000", args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	out := []postincident.CorrectiveAction{}
	for rows.Next() {
		a, err := s.scanAction(rows, now)
		if err != nil {
			return nil, mapError(err)
		}
		out = append(out, a)
	}
	return out, mapError(rows.Err())
}

func (s *PostIncidentStore) getAction(ctx context.Context, q querier, id string, lock bool) (postincident.CorrectiveAction, error) {
	uid, err := uuid.Parse(id)
	if err != nil {
		return postincident.CorrectiveAction{}, notFound("corrective action", id)
	}
	suffix := ""
	if lock {
		suffix = " FOR UPDATE OF a"
	}
	a, err := s.scanAction(q.QueryRow(ctx, `SELECT `+actionColumns+actionFrom+` WHERE a.id = $1`+suffix, uid), s.now())
	if errors.Is(err, pgx.ErrNoRows) {
		return a, notFound("corrective action", id)
	}
	return a, mapError(err)
}

// Action returns a corrective action by id.
func (s *PostIncidentStore) Action(ctx context.Context, id string) (postincident.CorrectiveAction, error) {
	return s.getAction(ctx, s.db.Pool, id, false)
}

// CreateAction stores a new corrective action; the incident, problem and owner must exist (validation_failed).
func (s *PostIncidentStore) CreateAction(ctx context.Context, in postincident.ActionInput) (postincident.CorrectiveAction, error) {
	var id string
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		a := postincident.CorrectiveAction{}
		incidentID, problemID, ownerID, err := s.applyActionInput(ctx, tx, &a, in)
		if err != nil {
			return err
		}
		now := s.now()
		id = uuid.NewString()
		_, err = tx.Exec(ctx, `INSERT INTO corrective_actions (id, incident_id, problem_id, kind, title, owner_id, due_at,
			status, reason, created_at, updated_at, done_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)`, id, incidentID, problemID, string(a.Kind),
			a.Title, ownerID, a.DueAt, string(a.Status), a.Reason, now, doneAt(a.Status, now))
		return mapError(err)
	})
	if err != nil {
		return postincident.CorrectiveAction{}, err
	}
	return s.Action(ctx, id)
}

func doneAt(st postincident.ActionStatus, now time.Time) *time.Time {
	if st.Pending() {
		return nil
	}
	return &now
}

// UpdateAction changes the given fields of an action (version_mismatch, 412, when ifVersion is stale).
func (s *PostIncidentStore) UpdateAction(ctx context.Context, id string, ifVersion *int, in postincident.ActionInput) (postincident.CorrectiveAction, error) {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		a, err := s.getAction(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if ifVersion != nil && *ifVersion != a.Version {
			return versionMismatch("action", a.Version)
		}
		was := a.Status
		incidentID, problemID, ownerID, err := s.applyActionInput(ctx, tx, &a, in)
		if err != nil {
			return err
		}
		if a.Status.Pending() {
			a.Reason = ""
		}
		now := s.now()
		done := a.DoneAt
		if was.Pending() != a.Status.Pending() {
			done = doneAt(a.Status, now)
		}
		_, err = tx.Exec(ctx, `UPDATE corrective_actions SET incident_id = $2, problem_id = $3, kind = $4, title = $5,
			owner_id = $6, due_at = $7, status = $8, reason = $9, version = version + 1, updated_at = $10, done_at = $11
			WHERE id = $1`, a.ID, incidentID, problemID, string(a.Kind), a.Title, ownerID, a.DueAt, string(a.Status),
			a.Reason, now, done)
		return mapError(err)
	})
	if err != nil {
		return postincident.CorrectiveAction{}, err
	}
	return s.Action(ctx, id)
}

// applyActionInput sets in's fields on a, resolves the references and validates, all field errors together.
func (s *PostIncidentStore) applyActionInput(ctx context.Context, tx pgx.Tx, a *postincident.CorrectiveAction,
	in postincident.ActionInput) (incidentID, problemID, ownerID *string, err error) {
	var v domain.Validator
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&a.Title, in.Title)
	set(&a.Reason, in.Reason)
	if in.Kind != nil {
		a.Kind = *in.Kind
	}
	if in.Status != nil {
		a.Status = *in.Status
	}
	if in.DueAt != nil {
		a.DueAt = *in.DueAt
	}
	// The incident and problem by reference; the action keeps the ids.
	if in.Incident != nil {
		a.IncidentKey = strings.TrimSpace(*in.Incident)
	}
	if a.IncidentKey != "" {
		rec, err := getIncident(ctx, tx, a.IncidentKey, "")
		switch {
		case domain.IsKind(err, domain.ErrNotFound):
			v.Add("incident", "no incident "+strconv.Quote(a.IncidentKey))
		case err != nil:
			return nil, nil, nil, err
		default:
			a.IncidentKey, incidentID = rec.State.Key, &rec.State.ID
		}
	}
	if in.Problem != nil {
		a.ProblemID = strings.TrimSpace(*in.Problem)
	}
	var problemClosed bool
	if a.ProblemID != "" {
		// The problem's row lock serialises this with closing it, which counts the pending actions under that lock.
		var status string
		err := pgx.ErrNoRows
		if uid, perr := uuid.Parse(a.ProblemID); perr == nil {
			err = tx.QueryRow(ctx, `SELECT status FROM problems WHERE id = $1 FOR UPDATE`, uid).Scan(&status)
		}
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			v.Add("problem", "no problem "+strconv.Quote(a.ProblemID))
		case err != nil:
			return nil, nil, nil, mapError(err)
		default:
			problemID, problemClosed = &a.ProblemID, status == string(postincident.ProblemClosed)
		}
	}
	owner := a.Owner.UserID
	if in.Owner != nil {
		owner = strings.TrimSpace(*in.Owner)
	}
	if owner == "" {
		v.Add("owner", "is required: a user's id or email")
	} else if u, err := getUser(ctx, tx, owner); domain.IsKind(err, domain.ErrNotFound) {
		v.Add("owner", "no user "+strconv.Quote(owner))
	} else if err != nil {
		return nil, nil, nil, err
	} else {
		a.Owner, ownerID = domain.PersonOf(u), &u.ID
	}
	fields := append(fieldErrorsOf(v.Err()), fieldErrorsOf(postincident.ValidateAction(a))...)
	if len(fields) > 0 {
		return nil, nil, nil, domain.Invalid(fields...)
	}
	if problemClosed && a.Status.Pending() {
		return nil, nil, nil, domain.Errorf(domain.ErrConflict, "problem_closed",
			"the problem is closed: reopen it before giving it an open action")
	}
	return incidentID, problemID, ownerID, nil
}

func fieldErrorsOf(err error) []domain.FieldError {
	if err == nil {
		return nil
	}
	return domain.AsError(err).Fields
}
