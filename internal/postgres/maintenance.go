package postgres

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/maintenance"
)

// MaintenanceStore stores scheduled maintenances. Every change tells every mim process that the public state
// changed, in the same transaction.
type MaintenanceStore struct {
	db *DB
	// now is the clock for created_at and updated_at.
	now func() time.Time
	// OnChange, when set, is called after each committed change, so this process's status page need not wait for
	// the notification to come back (read-your-writes).
	OnChange func()
}

// changed calls OnChange after a commit.
func (s *MaintenanceStore) changed(err error) error {
	if err == nil && s.OnChange != nil {
		s.OnChange()
	}
	return err
}

// NewMaintenanceStore returns the maintenance store on db.
func NewMaintenanceStore(db *DB) *MaintenanceStore { return &MaintenanceStore{db: db, now: time.Now} }

// Create validates and stores a new maintenance at version 1. An unknown component slug is a validation error.
func (s *MaintenanceStore) Create(ctx context.Context, m maintenance.Maintenance) (maintenance.Maintenance, error) {
	if err := maintenance.Validate(&m); err != nil {
		return m, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	m.ID, m.CreatedAt, m.UpdatedAt, m.Version = uuid.NewString(), now, now, 1
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		args := maintenanceArgs(m)
		if _, err := tx.Exec(ctx, `
			INSERT INTO maintenances (id, title, body, starts_at, ends_at, frequency, weekday, local_start,
			                          duration_minutes, zone, starts_on, until_on, created_at, updated_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::time, $9, $10, $11::date, $12::date, $13, $13, 1)`,
			append(args, m.CreatedAt)...); err != nil {
			return mapError(err)
		}
		if err := setMaintenanceComponents(ctx, tx, m.ID, m.Components); err != nil {
			return err
		}
		return notifyMaintenanceChange(ctx, tx)
	})
	return m, s.changed(err)
}

// Get returns a maintenance by id; not_found when there is none.
func (s *MaintenanceStore) Get(ctx context.Context, id string) (maintenance.Maintenance, error) {
	uid, err := uuid.Parse(id)
	if err != nil {
		return maintenance.Maintenance{}, notFound("maintenance", id)
	}
	ms, err := listMaintenances(ctx, s.db.Pool, "WHERE m.id = $1", uid)
	if err != nil {
		return maintenance.Maintenance{}, err
	}
	if len(ms) == 0 {
		return maintenance.Maintenance{}, notFound("maintenance", id)
	}
	return ms[0], nil
}

// List returns every maintenance, newest first.
func (s *MaintenanceStore) List(ctx context.Context) ([]maintenance.Maintenance, error) {
	return listMaintenances(ctx, s.db.Pool, "")
}

// ListAt returns, read in tx, the maintenances that may have a window at t: the one-offs whose window contains t and
// every recurring one (its windows are computed by the caller).
func (s *MaintenanceStore) ListAt(ctx context.Context, tx pgx.Tx, t time.Time) ([]maintenance.Maintenance, error) {
	return listMaintenances(ctx, tx, `WHERE m.frequency IS NOT NULL OR (m.starts_at <= $1 AND m.ends_at > $1)`, t)
}

// Update replaces the maintenance m.ID with m (PUT), as version + 1. With ifVersion set, it changes nothing and
// answers version_mismatch (412) unless the stored version is that one. not_found when there is no such maintenance.
func (s *MaintenanceStore) Update(ctx context.Context, m maintenance.Maintenance, ifVersion *int) (maintenance.Maintenance, error) {
	uid, err := uuid.Parse(m.ID)
	if err != nil {
		return m, notFound("maintenance", m.ID)
	}
	if err := maintenance.Validate(&m); err != nil {
		return m, err
	}
	err = s.db.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT version, created_at FROM maintenances WHERE id = $1 FOR UPDATE`, uid).
			Scan(&m.Version, &m.CreatedAt); errors.Is(err, pgx.ErrNoRows) {
			return notFound("maintenance", m.ID)
		} else if err != nil {
			return mapError(err)
		}
		if ifVersion != nil && *ifVersion != m.Version {
			return maintenanceVersionMismatch(m.Version)
		}
		m.Version++
		m.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
		if m.UpdatedAt.Before(m.CreatedAt) {
			m.UpdatedAt = m.CreatedAt
		}
		args := maintenanceArgs(m)
		if _, err := tx.Exec(ctx, `
			UPDATE maintenances SET title = $2, body = $3, starts_at = $4, ends_at = $5, frequency = $6, weekday = $7,
			       local_start = $8::time, duration_minutes = $9, zone = $10, starts_on = $11::date,
			       until_on = $12::date, updated_at = $13, version = $14
			WHERE id = $1`, append(args, m.UpdatedAt, m.Version)...); err != nil {
			return mapError(err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM maintenance_components WHERE maintenance_id = $1`, uid); err != nil {
			return mapError(err)
		}
		if err := setMaintenanceComponents(ctx, tx, m.ID, m.Components); err != nil {
			return err
		}
		return notifyMaintenanceChange(ctx, tx)
	})
	return m, s.changed(err)
}

// Delete removes a maintenance (cancelling it, if it is upcoming or in progress): it leaves the status page at
// once. With ifVersion set, it deletes nothing and answers version_mismatch unless the stored version is that one.
func (s *MaintenanceStore) Delete(ctx context.Context, id string, ifVersion *int) error {
	uid, err := uuid.Parse(id)
	if err != nil {
		return notFound("maintenance", id)
	}
	return s.changed(s.db.inTx(ctx, func(tx pgx.Tx) error {
		var version int
		if err := tx.QueryRow(ctx, `SELECT version FROM maintenances WHERE id = $1 FOR UPDATE`, uid).
			Scan(&version); errors.Is(err, pgx.ErrNoRows) {
			return notFound("maintenance", id)
		} else if err != nil {
			return mapError(err)
		}
		if ifVersion != nil && *ifVersion != version {
			return maintenanceVersionMismatch(version)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM maintenances WHERE id = $1`, uid); err != nil {
			return mapError(err)
		}
		return notifyMaintenanceChange(ctx, tx)
	}))
}

func maintenanceVersionMismatch(current int) error {
	return &domain.Error{Kind: domain.ErrPrecondition, Code: "version_mismatch",
		Message: "the maintenance is at version " + strconv.Itoa(current) + "; reload it and retry"}
}

// notifyMaintenanceChange tells every mim process, at commit, that the public state changed.
func notifyMaintenanceChange(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, PublicChannel)
	return mapError(err)
}

// maintenanceArgs are $1…$12 of the INSERT and UPDATE: id, title, body, the one-off window and the recurrence.
func maintenanceArgs(m maintenance.Maintenance) []any {
	args := []any{m.ID, m.Title, m.Body, nil, nil, nil, nil, nil, nil, nil, nil, nil}
	if r := m.Recurrence; r != nil {
		args[5], args[7], args[8], args[9], args[10] = string(r.Frequency), r.LocalStart, int(r.Duration/time.Minute),
			r.Zone, r.From
		if r.Weekday != "" {
			args[6] = r.Weekday
		}
		if r.Until != "" {
			args[11] = r.Until
		}
	} else {
		args[3], args[4] = m.StartsAt, m.EndsAt
	}
	return args
}

// setMaintenanceComponents links the maintenance to the components of the slugs, refusing unknown slugs by name.
func setMaintenanceComponents(ctx context.Context, tx pgx.Tx, id string, slugs []string) error {
	if len(slugs) == 0 {
		return nil
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO maintenance_components (maintenance_id, component_id)
		SELECT $1, id FROM components WHERE slug = ANY($2)`, id, slugs)
	if err != nil {
		return mapError(err)
	}
	if int(tag.RowsAffected()) == len(slugs) {
		return nil
	}
	known, err := listComponents(ctx, tx, "")
	if err != nil {
		return err
	}
	names := make([]string, 0, len(known))
	for _, c := range known {
		names = append(names, c.Slug)
	}
	var v domain.Validator
	for _, s := range slugs {
		v.Check(slices.Contains(names, s), "components."+s, "unknown component; known: "+strings.Join(names, ", "), names...)
	}
	return v.Err()
}

// listMaintenances reads maintenances with their component slugs (in display order), newest first.
func listMaintenances(ctx context.Context, q querier, where string, args ...any) ([]maintenance.Maintenance, error) {
	rows, err := q.Query(ctx, `
		SELECT m.id::text, m.title, m.body, m.starts_at, m.ends_at, coalesce(m.frequency, ''), coalesce(m.weekday, ''),
		       coalesce(to_char(m.local_start, 'HH24:MI'), ''), coalesce(m.duration_minutes, 0), coalesce(m.zone, ''),
		       coalesce(to_char(m.starts_on, 'YYYY-MM-DD'), ''), coalesce(to_char(m.until_on, 'YYYY-MM-DD'), ''),
		       m.created_at, m.updated_at, m.version,
		       coalesce((SELECT array_agg(c.slug ORDER BY c.position, c.slug)
		                 FROM maintenance_components mc JOIN components c ON c.id = mc.component_id
		                 WHERE mc.maintenance_id = m.id), '{}')
		FROM maintenances m `+where+`
		ORDER BY m.created_at DESC, m.id DESC`, args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []maintenance.Maintenance
	for rows.Next() {
		var m maintenance.Maintenance
		var startsAt, endsAt *time.Time
		var r maintenance.Recurrence
		var freq string
		var minutes int
		if err := rows.Scan(&m.ID, &m.Title, &m.Body, &startsAt, &endsAt, &freq, &r.Weekday, &r.LocalStart, &minutes,
			&r.Zone, &r.From, &r.Until, &m.CreatedAt, &m.UpdatedAt, &m.Version, &m.Components); err != nil {
			return nil, mapError(err)
		}
		if freq != "" {
			r.Frequency, r.Duration = maintenance.Frequency(freq), time.Duration(minutes)*time.Minute
			m.Recurrence = &r
		} else if startsAt != nil && endsAt != nil {
			m.StartsAt, m.EndsAt = startsAt.UTC(), endsAt.UTC()
		}
		m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
		out = append(out, m)
	}
	return out, mapError(rows.Err())
}
