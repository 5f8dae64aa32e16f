package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/api"
	"github.com/mimhq/mim/internal/domain"
)

// IdempotencyStore implements api.IdempotencyStore. A claim is a row with status 0; a claim older than a minute is
// taken to belong to a crashed request and may be taken over.
type IdempotencyStore struct{ db *DB }

// NewIdempotencyStore returns the idempotency store on db.
func NewIdempotencyStore(db *DB) *IdempotencyStore { return &IdempotencyStore{db: db} }

var _ api.IdempotencyStore = (*IdempotencyStore)(nil)

// Claim implements api.IdempotencyStore.
func (s *IdempotencyStore) Claim(ctx context.Context, userID, key, method, path string, hash []byte) (api.StoredResponse, bool, error) {
	var prev api.StoredResponse
	tag, err := s.db.Pool.Exec(ctx, `
		INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, status, headers, body)
		VALUES ($1, $2, $3, $4, $5, 0, '{}', '')
		ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash, method = excluded.method,
		       path = excluded.path, created_at = now()
		WHERE idempotency_keys.status = 0 AND idempotency_keys.created_at < now() - interval '1 minute'`,
		userID, key, method, path, hash)
	if err != nil {
		return prev, false, mapError(err)
	}
	if tag.RowsAffected() == 1 {
		return prev, false, nil
	}
	var headers []byte
	err = s.db.Pool.QueryRow(ctx, `SELECT request_hash, status, headers, body FROM idempotency_keys
		WHERE user_id = $1 AND key = $2`, userID, key).Scan(&prev.RequestHash, &prev.Status, &headers, &prev.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return prev, false, api.ErrInProgress // released between our insert and read: let the client retry
	}
	if err != nil {
		return prev, false, mapError(err)
	}
	if prev.Status == 0 {
		return prev, false, api.ErrInProgress
	}
	if err := json.Unmarshal(headers, &prev.Header); err != nil {
		return prev, false, domain.Internal(err)
	}
	return prev, true, nil
}

// Complete implements api.IdempotencyStore.
func (s *IdempotencyStore) Complete(ctx context.Context, userID, key string, resp api.StoredResponse) error {
	headers, err := json.Marshal(resp.Header)
	if err != nil {
		return domain.Internal(err)
	}
	_, err = s.db.Pool.Exec(ctx, `UPDATE idempotency_keys SET status = $3, headers = $4, body = $5
		WHERE user_id = $1 AND key = $2`, userID, key, resp.Status, headers, resp.Body)
	return mapError(err)
}

// Release implements api.IdempotencyStore.
func (s *IdempotencyStore) Release(ctx context.Context, userID, key string) error {
	_, err := s.db.Pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = 0`,
		userID, key)
	return mapError(err)
}
