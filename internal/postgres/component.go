package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/domain"
)

// ComponentStore stores components.
type ComponentStore struct{ db *DB }

// NewComponentStore returns the component store on db.
func NewComponentStore(db *DB) *ComponentStore { return &ComponentStore{db: db} }

// Create validates and stores a component, telling every process that the public state changed.
func (s *ComponentStore) Create(ctx context.Context, c domain.Component) (domain.Component, error) {
	if err := domain.ValidateComponent(&c); err != nil {
		return c, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	c.ID, c.CreatedAt, c.UpdatedAt = uuid.NewString(), now, now
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if c.Position == 0 {
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(position), 0) + 1 FROM components`).Scan(&c.Position); err != nil {
				return mapError(err)
			}
		}
		if err := insertComponent(ctx, tx, c); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, PublicChannel)
		return mapError(err)
	})
	return c, err
}

// insertComponent stores a validated component with its id, position and times set.
func insertComponent(ctx context.Context, q querier, c domain.Component) error {
	_, err := q.Exec(ctx, `
		INSERT INTO components (id, slug, name, group_name, description, core, control_plane, status, position,
		                        created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, c.Slug, c.Name, c.Group, c.Description, c.Core, c.ControlPlane, string(c.Status), c.Position,
		c.CreatedAt, c.UpdatedAt)
	return mapError(err)
}

// List returns every component in display order.
func (s *ComponentStore) List(ctx context.Context) ([]domain.Component, error) {
	return listComponents(ctx, s.db.Pool, "")
}

func listComponents(ctx context.Context, q querier, where string, args ...any) ([]domain.Component, error) {
	rows, err := q.Query(ctx, `SELECT id::text, slug, name, group_name, description, core, control_plane, status,
		position, created_at, updated_at FROM components `+where+` ORDER BY position, slug`, args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []domain.Component
	for rows.Next() {
		var c domain.Component
		var st string
		if err := rows.Scan(&c.ID, &c.Slug, &c.Name, &c.Group, &c.Description, &c.Core, &c.ControlPlane, &st,
			&c.Position, &c.CreatedAt, &c.UpdatedAt); err != nil {
			return nil, mapError(err)
		}
		c.Status = domain.ComponentStatus(st)
		out = append(out, c)
	}
	return out, mapError(rows.Err())
}

// Update changes a component's name, group, description, position and flags (never its slug, which integrations
// name, nor its status, which incidents and maintenance decide), telling every process the public state changed.
func (s *ComponentStore) Update(ctx context.Context, slug string, c domain.Component) (domain.Component, error) {
	c.Slug, c.Status = slug, domain.ComponentOperational // status is not written: it only passes validation
	if err := domain.ValidateComponent(&c); err != nil {
		return c, err
	}
	var out domain.Component
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE components SET name = $2, group_name = $3, description = $4, core = $5,
			control_plane = $6, position = $7, updated_at = now() WHERE slug = $1`,
			slug, c.Name, c.Group, c.Description, c.Core, c.ControlPlane, c.Position)
		if err != nil {
			return mapError(err)
		}
		if tag.RowsAffected() == 0 {
			return notFound("component", slug)
		}
		list, err := listComponents(ctx, tx, "WHERE slug = $1", slug)
		if err != nil {
			return err
		}
		out = list[0]
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, PublicChannel)
		return mapError(err)
	})
	return out, err
}
