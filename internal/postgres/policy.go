package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/classify"
	"github.com/mimhq/mim/internal/domain"
)

// PolicyStore keeps the versioned classification policy.
type PolicyStore struct{ db *DB }

// NewPolicyStore returns the policy store on db.
func NewPolicyStore(db *DB) *PolicyStore { return &PolicyStore{db: db} }

// Current returns the policy in force: the latest version, or the default policy when none was ever saved.
func (s *PolicyStore) Current(ctx context.Context) (classify.Policy, error) {
	return currentPolicy(ctx, s.db.Pool)
}

// Save stores p as a new version and returns it with that version.
func (s *PolicyStore) Save(ctx context.Context, p classify.Policy, by string) (classify.Policy, error) {
	if err := p.Validate(); err != nil {
		return p, err
	}
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE classification_policies IN EXCLUSIVE MODE`); err != nil {
			return mapError(err)
		}
		cur, err := currentPolicy(ctx, tx)
		if err != nil {
			return err
		}
		p.Version = cur.Version + 1
		raw, err := json.Marshal(p)
		if err != nil {
			return domain.Internal(err)
		}
		var byID *string
		if by != "" {
			byID = &by
		}
		_, err = tx.Exec(ctx, `INSERT INTO classification_policies (version, policy, created_by) VALUES ($1, $2, $3)`,
			p.Version, raw, byID)
		return mapError(err)
	})
	return p, err
}

func currentPolicy(ctx context.Context, q querier) (classify.Policy, error) {
	var raw []byte
	err := q.QueryRow(ctx, `SELECT policy FROM classification_policies ORDER BY version DESC LIMIT 1`).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return classify.DefaultPolicy(), nil
	}
	if err != nil {
		return classify.Policy{}, mapError(err)
	}
	var p classify.Policy
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, domain.Internal(err)
	}
	return p, nil
}
