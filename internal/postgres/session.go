package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/session"
)

// SessionStore implements session.Store: web sessions and the failed sign-ins that throttle guessing.
type SessionStore struct{ db *DB }

// NewSessionStore returns the session store on db.
func NewSessionStore(db *DB) *SessionStore { return &SessionStore{db: db} }

var _ session.Store = (*SessionStore)(nil)

// CreateSession implements session.Store; expired sessions are swept on the way, so the table stays small.
func (s *SessionStore) CreateSession(ctx context.Context, sess session.Session) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at < $1`, sess.CreatedAt); err != nil {
			return mapError(err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO web_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, user_agent)
			VALUES ($1, $2, $3, $4, $4, $5, $6)`, sess.IDHash, sess.User.ID, sess.CSRF, sess.CreatedAt, sess.ExpiresAt,
			sess.UserAgent)
		return mapError(err)
	})
}

// Session implements session.Store: the session and its (active) user, whatever its expiry; the caller decides.
func (s *SessionStore) Session(ctx context.Context, idHash []byte) (session.Session, error) {
	var sess session.Session
	var role string
	err := s.db.Pool.QueryRow(ctx, `
		SELECT s.id_hash, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.user_agent,
		       u.id::text, u.email, u.name, u.role, u.created_at
		FROM web_sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = $1 AND u.disabled_at IS NULL`, idHash).
		Scan(&sess.IDHash, &sess.CSRF, &sess.CreatedAt, &sess.LastSeenAt, &sess.ExpiresAt, &sess.UserAgent,
			&sess.User.ID, &sess.User.Email, &sess.User.Name, &role, &sess.User.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return sess, notFound("session", "")
	}
	sess.User.Role = domain.OrgRole(role)
	return sess, mapError(err)
}

// TouchSession implements session.Store.
func (s *SessionStore) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	_, err := s.db.Pool.Exec(ctx, `UPDATE web_sessions SET last_seen_at = $2 WHERE id_hash = $1`, idHash, at)
	return mapError(err)
}

// DeleteSession implements session.Store.
func (s *SessionStore) DeleteSession(ctx context.Context, idHash []byte) error {
	_, err := s.db.Pool.Exec(ctx, `DELETE FROM web_sessions WHERE id_hash = $1`, idHash)
	return mapError(err)
}

// LockedUntil implements session.Store.
func (s *SessionStore) LockedUntil(ctx context.Context, email string, now time.Time) (time.Time, error) {
	var until *time.Time
	err := s.db.Pool.QueryRow(ctx, `SELECT locked_until FROM login_failures WHERE email = $1 AND locked_until > $2`,
		email, now).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, mapError(err)
	}
	if until == nil {
		return time.Time{}, nil
	}
	return *until, nil
}

// RecordFailure implements session.Store: failures count within window; the max-th locks the address for lock. A
// count whose window has passed starts again.
func (s *SessionStore) RecordFailure(ctx context.Context, email string, now time.Time, window time.Duration, max int, lock time.Duration) error {
	_, err := s.db.Pool.Exec(ctx, `
		INSERT INTO login_failures AS f (email, failures, first_at, locked_until)
		VALUES ($1, 1, $2, CASE WHEN $4 <= 1 THEN $5::timestamptz END)
		ON CONFLICT (email) DO UPDATE SET
			failures = CASE WHEN f.first_at < $3 THEN 1 ELSE f.failures + 1 END,
			first_at = CASE WHEN f.first_at < $3 THEN $2 ELSE f.first_at END,
			locked_until = CASE WHEN (CASE WHEN f.first_at < $3 THEN 1 ELSE f.failures + 1 END) >= $4
				THEN $5::timestamptz ELSE f.locked_until END`,
		email, now, now.Add(-window), max, now.Add(lock))
	if err != nil {
		return mapError(err)
	}
	// Forget counts that no longer matter, so addresses sprayed by a guesser do not pile up.
	_, err = s.db.Pool.Exec(ctx, `DELETE FROM login_failures WHERE first_at < $1 AND coalesce(locked_until, first_at) < $2`,
		now.Add(-window), now)
	return mapError(err)
}

// ClearFailures implements session.Store.
func (s *SessionStore) ClearFailures(ctx context.Context, email string) error {
	_, err := s.db.Pool.Exec(ctx, `DELETE FROM login_failures WHERE email = $1`, email)
	return mapError(err)
}
