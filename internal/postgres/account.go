package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/domain"
)

// AccountStore implements account.Store.
type AccountStore struct{ db *DB }

// NewAccountStore returns the account store on db.
func NewAccountStore(db *DB) *AccountStore { return &AccountStore{db: db} }

var _ account.Store = (*AccountStore)(nil)

// CreateUser implements account.Store.
func (s *AccountStore) CreateUser(ctx context.Context, u domain.User, passwordHash []byte) error {
	var hash *string
	if len(passwordHash) > 0 {
		h := string(passwordHash)
		hash = &h
	}
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO users (id, email, name, role, password_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, u.ID, u.Email, u.Name, string(u.Role), hash, u.CreatedAt)
	return mapError(err)
}

const userColumns = `id::text, email, name, role, created_at`

func scanUser(row pgx.Row) (domain.User, error) {
	var u domain.User
	var role string
	err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.CreatedAt)
	u.Role = domain.OrgRole(role)
	return u, err
}

// getUser finds an active user by id or email.
func getUser(ctx context.Context, q querier, ref string) (domain.User, error) {
	where, arg := "lower(email) = lower($1)", any(ref)
	if id, err := uuid.Parse(ref); err == nil {
		where, arg = "id = $1", id
	}
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE disabled_at IS NULL AND `+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, notFound("user", ref)
	}
	return u, mapError(err)
}

// User implements account.Store.
func (s *AccountStore) User(ctx context.Context, ref string) (domain.User, error) {
	return getUser(ctx, s.db.Pool, ref)
}

// Users implements account.Store.
func (s *AccountStore) Users(ctx context.Context) ([]domain.User, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE disabled_at IS NULL ORDER BY email`)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []domain.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, mapError(err)
		}
		out = append(out, u)
	}
	return out, mapError(rows.Err())
}

// CreateToken implements account.Store.
func (s *AccountStore) CreateToken(ctx context.Context, t account.Token, hash []byte) error {
	var by *string
	if t.CreatedBy != "" {
		by = &t.CreatedBy
	}
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, scopes, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, t.ID, t.UserID, t.Name, hash, t.Prefix, t.Scopes, t.CreatedAt, by)
	return mapError(err)
}

// TokenByHash implements account.Store. last_used_at is written at most once a minute, so busy integrations do not
// turn every read into a write.
func (s *AccountStore) TokenByHash(ctx context.Context, hash []byte) (account.Token, domain.User, error) {
	var t account.Token
	var u domain.User
	var role string
	err := s.db.Pool.QueryRow(ctx, `
		SELECT t.id::text, t.user_id::text, t.name, t.prefix, t.scopes, coalesce(t.created_by::text, ''), t.created_at,
		       t.last_used_at,
		       u.id::text, u.email, u.name, u.role, u.created_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL`, hash).
		Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.Scopes, &t.CreatedBy, &t.CreatedAt, &t.LastUsedAt,
			&u.ID, &u.Email, &u.Name, &role, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, u, notFound("token", "")
	}
	if err != nil {
		return t, u, mapError(err)
	}
	u.Role = domain.OrgRole(role)
	if t.LastUsedAt == nil || time.Since(*t.LastUsedAt) > time.Minute {
		if _, err := s.db.Pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, t.ID); err != nil {
			return t, u, mapError(err)
		}
	}
	return t, u, nil
}

// RevokeToken implements account.Store.
func (s *AccountStore) RevokeToken(ctx context.Context, id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return notFound("token", id)
	}
	tag, err := s.db.Pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
	if err != nil {
		return mapError(err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("token", id)
	}
	return nil
}

// PasswordHash implements account.Store.
func (s *AccountStore) PasswordHash(ctx context.Context, email string) (domain.User, []byte, error) {
	var u domain.User
	var role string
	var hash *string
	err := s.db.Pool.QueryRow(ctx, `SELECT `+userColumns+`, password_hash FROM users
		WHERE disabled_at IS NULL AND lower(email) = lower($1)`, email).
		Scan(&u.ID, &u.Email, &u.Name, &role, &u.CreatedAt, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, nil, notFound("user", email)
	}
	if err != nil {
		return u, nil, mapError(err)
	}
	u.Role = domain.OrgRole(role)
	if hash == nil {
		return u, nil, nil
	}
	return u, []byte(*hash), nil
}

// SetPassword implements account.Store. Changing a password signs the user out everywhere.
func (s *AccountStore) SetPassword(ctx context.Context, userID string, hash []byte) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1 AND disabled_at IS NULL`, userID, string(hash))
		if err != nil {
			return mapError(err)
		}
		if tag.RowsAffected() == 0 {
			return notFound("user", userID)
		}
		_, err = tx.Exec(ctx, `DELETE FROM web_sessions WHERE user_id = $1`, userID)
		return mapError(err)
	})
}

// SetRole implements account.Store.
func (s *AccountStore) SetRole(ctx context.Context, userID string, role domain.OrgRole) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		// Lock the active admins, so concurrent demotions see each other.
		rows, err := tx.Query(ctx, `SELECT id::text FROM users WHERE role = 'admin' AND disabled_at IS NULL FOR UPDATE`)
		if err != nil {
			return mapError(err)
		}
		admins, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return mapError(err)
		}
		if role != domain.OrgAdmin && len(admins) == 1 && admins[0] == userID {
			return account.ErrLastAdmin
		}
		tag, err := tx.Exec(ctx, `UPDATE users SET role = $2 WHERE id = $1 AND disabled_at IS NULL`, userID, string(role))
		if err != nil {
			return mapError(err)
		}
		if tag.RowsAffected() == 0 {
			return notFound("user", userID)
		}
		return nil
	})
}

// Tokens implements account.Store.
func (s *AccountStore) Tokens(ctx context.Context) ([]account.Token, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id::text, user_id::text, name, prefix, scopes, coalesce(created_by::text, ''),
		created_at, last_used_at, revoked_at FROM api_tokens ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []account.Token
	for rows.Next() {
		var t account.Token
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.Scopes, &t.CreatedBy, &t.CreatedAt,
			&t.LastUsedAt, &t.RevokedAt); err != nil {
			return nil, mapError(err)
		}
		out = append(out, t)
	}
	return out, mapError(rows.Err())
}
