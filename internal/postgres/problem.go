package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postincident"
)

const problemColumns = `p.id::text, p.title, p.root_cause, p.known_error, p.workaround, p.status, p.version,
	p.created_at, p.updated_at, p.closed_at,
	coalesce((SELECT array_agg(i.key ORDER BY i.number) FROM problem_incidents pi JOIN incidents i ON i.id = pi.incident_id
	          WHERE pi.problem_id = p.id), '{}'),
	(SELECT count(*) FROM corrective_actions a WHERE a.problem_id = p.id AND a.status IN ('open', 'in_progress'))`

func scanProblem(row pgx.Row) (postincident.Problem, error) {
	var p postincident.Problem
	var status string
	err := row.Scan(&p.ID, &p.Title, &p.RootCause, &p.KnownError, &p.Workaround, &status, &p.Version, &p.CreatedAt,
		&p.UpdatedAt, &p.ClosedAt, &p.Incidents, &p.OpenActions)
	p.Status = postincident.ProblemStatus(status)
	return p, err
}

// Problems lists the problems, newest first.
func (s *PostIncidentStore) Problems(ctx context.Context, status postincident.ProblemStatus) ([]postincident.Problem, error) {
	sql, args := `SELECT `+problemColumns+` FROM problems p`, []any{}
	if status != "" {
		sql, args = sql+` WHERE p.status = $1`, append(args, string(status))
	}
	return queryProblems(ctx, s.db.Pool, sql+` ORDER BY p.created_at DESC, p.id LIMIT 1000`, args...)
}

// queryProblems runs a SELECT of problemColumns and scans every row.
func queryProblems(ctx context.Context, q querier, sql string, args ...any) ([]postincident.Problem, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	out := []postincident.Problem{}
	for rows.Next() {
		p, err := scanProblem(rows)
		if err != nil {
			return nil, mapError(err)
		}
		out = append(out, p)
	}
	return out, mapError(rows.Err())
}

func getProblem(ctx context.Context, q querier, id string, lock bool) (postincident.Problem, error) {
	uid, err := uuid.Parse(id)
	if err != nil {
		return postincident.Problem{}, notFound("problem", id)
	}
	suffix := ""
	if lock {
		suffix = " FOR UPDATE"
	}
	p, err := scanProblem(q.QueryRow(ctx, `SELECT `+problemColumns+` FROM problems p WHERE p.id = $1`+suffix, uid))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, notFound("problem", id)
	}
	return p, mapError(err)
}

// Problem returns a problem by id.
func (s *PostIncidentStore) Problem(ctx context.Context, id string) (postincident.Problem, error) {
	return getProblem(ctx, s.db.Pool, id, false)
}

// CreateProblem stores a new open problem linked to the given incidents (validation_failed for unknown ones).
func (s *PostIncidentStore) CreateProblem(ctx context.Context, in postincident.ProblemInput) (postincident.Problem, error) {
	id := uuid.NewString()
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		p := postincident.Problem{}
		if in.Status != nil && *in.Status != postincident.ProblemOpen {
			return domain.Invalid(domain.FieldError{Field: "status", Message: "a new problem is open"})
		}
		applyProblemInput(&p, in)
		if err := postincident.ValidateProblem(&p); err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.Exec(ctx, `INSERT INTO problems (id, title, root_cause, known_error, workaround, status,
			created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $6)`, id, p.Title, p.RootCause, p.KnownError,
			p.Workaround, now); err != nil {
			return mapError(err)
		}
		return linkProblemIncidents(ctx, tx, id, in.AddIncidents)
	})
	if err != nil {
		return postincident.Problem{}, err
	}
	return s.Problem(ctx, id)
}

func applyProblemInput(p *postincident.Problem, in postincident.ProblemInput) {
	for dst, src := range map[*string]*string{&p.Title: in.Title, &p.RootCause: in.RootCause,
		&p.KnownError: in.KnownError, &p.Workaround: in.Workaround} {
		if src != nil {
			*dst = *src
		}
	}
	if in.Status != nil {
		p.Status = *in.Status
	}
}

func linkProblemIncidents(ctx context.Context, tx pgx.Tx, problemID string, refs []string) error {
	var v domain.Validator
	for i, ref := range refs {
		rec, err := getIncident(ctx, tx, ref, "")
		if domain.IsKind(err, domain.ErrNotFound) {
			v.Add("incidents["+strconv.Itoa(i)+"]", "no incident "+strconv.Quote(ref))
			continue
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO problem_incidents (problem_id, incident_id) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, problemID, rec.State.ID); err != nil {
			return mapError(err)
		}
	}
	return v.Err()
}

// UpdateProblem changes the given fields. Closing is refused (problem_has_open_actions, 409) while any of the
// problem's corrective actions is open or in progress; version_mismatch (412) when ifVersion is stale.
func (s *PostIncidentStore) UpdateProblem(ctx context.Context, id string, ifVersion *int, in postincident.ProblemInput) (postincident.Problem, error) {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		p, err := getProblem(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if ifVersion != nil && *ifVersion != p.Version {
			return versionMismatch("problem", p.Version)
		}
		was := p.Status
		applyProblemInput(&p, in)
		if err := postincident.ValidateProblem(&p); err != nil {
			return err
		}
		if err := linkProblemIncidents(ctx, tx, p.ID, in.AddIncidents); err != nil {
			return err
		}
		closedAt := p.ClosedAt
		if p.Status == postincident.ProblemClosed && was != postincident.ProblemClosed {
			// Counted in this transaction, under the problem's lock: an action added to the problem meanwhile
			// commits before or waits.
			var open int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM corrective_actions WHERE problem_id = $1
				AND status IN ('open', 'in_progress')`, p.ID).Scan(&open); err != nil {
				return mapError(err)
			}
			if open > 0 {
				return postincident.ErrProblemHasOpenActions(open)
			}
			now := s.now()
			closedAt = &now
		}
		if p.Status == postincident.ProblemOpen {
			closedAt = nil
		}
		_, err = tx.Exec(ctx, `UPDATE problems SET title = $2, root_cause = $3, known_error = $4, workaround = $5,
			status = $6, closed_at = $7, version = version + 1, updated_at = $8 WHERE id = $1`, p.ID, p.Title,
			p.RootCause, p.KnownError, p.Workaround, string(p.Status), closedAt, s.now())
		return mapError(err)
	})
	if err != nil {
		return postincident.Problem{}, err
	}
	return s.Problem(ctx, id)
}

// ProblemsOf lists the problems an incident is linked to.
func (s *PostIncidentStore) ProblemsOf(ctx context.Context, incidentID string) ([]postincident.Problem, error) {
	return queryProblems(ctx, s.db.Pool, `SELECT `+problemColumns+` FROM problems p
		WHERE EXISTS (SELECT 1 FROM problem_incidents pi WHERE pi.problem_id = p.id AND pi.incident_id = $1)
		ORDER BY p.created_at`, incidentID)
}
