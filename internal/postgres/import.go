package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/importer"
)

// ImportStore implements importer.Store: an import's transaction is an incident transaction that also keeps
// external references and creates components.
type ImportStore struct{ db *DB }

// NewImportStore returns the import store on db.
func NewImportStore(db *DB) *ImportStore { return &ImportStore{db: db} }

var _ importer.Store = (*ImportStore)(nil)
var _ importer.Tx = (*importTx)(nil)

// InTx implements importer.Store.
func (s *ImportStore) InTx(ctx context.Context, fn func(tx importer.Tx) error) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error { return fn(&importTx{incidentTx: &incidentTx{tx: tx}}) })
}

type importTx struct{ *incidentTx }

func (t *importTx) LockSource(ctx context.Context, source string) error {
	_, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('mim import ' || $1, 0))`, source)
	return mapError(err)
}

func (t *importTx) Refs(ctx context.Context, source string, kind importer.RefKind) (map[string]string, error) {
	rows, err := t.tx.Query(ctx, `SELECT external_id, local_id::text FROM external_refs WHERE source = $1 AND kind = $2`,
		source, string(kind))
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var ext, local string
		if err := rows.Scan(&ext, &local); err != nil {
			return nil, mapError(err)
		}
		out[ext] = local
	}
	return out, mapError(rows.Err())
}

func (t *importTx) AddRef(ctx context.Context, r importer.Ref) error {
	data := []byte(r.Data)
	if len(data) == 0 {
		data = []byte(`{}`)
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO external_refs (source, kind, external_id, local_id, data)
		VALUES ($1, $2, $3, $4, $5)`, r.Source, string(r.Kind), r.ExternalID, r.LocalID, data)
	return mapError(err)
}

func (t *importTx) AllComponents(ctx context.Context) ([]domain.Component, error) {
	return listComponents(ctx, t.tx, "")
}

func (t *importTx) CreateComponent(ctx context.Context, c domain.Component) error {
	if err := insertComponent(ctx, t.tx, c); err != nil {
		return err
	}
	if c.Status == domain.ComponentOperational {
		return nil
	}
	// The export says what the status is, not since when: it is taken to hold since the component last changed.
	if _, err := t.tx.Exec(ctx, `INSERT INTO component_status_changes (component_id, status, at) VALUES ($1, $2, $3)`,
		c.ID, string(c.Status), c.UpdatedAt); err != nil {
		return mapError(err)
	}
	return track(ctx, t.tx, c.ID, c.Status, nil, c.UpdatedAt, true)
}

func (t *importTx) UpdateComponent(ctx context.Context, c domain.Component) error {
	var old string
	if err := t.tx.QueryRow(ctx, `SELECT status FROM components WHERE id = $1 FOR UPDATE`, c.ID).Scan(&old); err != nil {
		return mapError(err)
	}
	if _, err := t.tx.Exec(ctx, `UPDATE components SET name = $2, group_name = $3, description = $4, status = $5,
		updated_at = $6 WHERE id = $1`, c.ID, c.Name, c.Group, c.Description, string(c.Status), c.UpdatedAt); err != nil {
		return mapError(err)
	}
	if old == string(c.Status) {
		return nil
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO component_status_changes (component_id, status, at) VALUES ($1, $2, $3)`,
		c.ID, string(c.Status), c.UpdatedAt); err != nil {
		return mapError(err)
	}
	return track(ctx, t.tx, c.ID, c.Status, nil, c.UpdatedAt, true)
}
