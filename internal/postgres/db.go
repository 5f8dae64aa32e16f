// Package postgres is the only package that knows SQL. It implements the stores the inner packages declare, maps
// database errors to domain errors in one place, and runs the embedded migrations.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mimhq/mim/internal/domain"
)

// PublicChannel is the LISTEN/NOTIFY channel on which a commit announces that the public state changed.
const PublicChannel = "mim_public"

// DB is a connection pool to mim's database.
type DB struct {
	Pool *pgxpool.Pool
}

// Open connects to the database at url and checks that it answers.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 20 // pgx's default (4 on 2 cores) starves a busy server
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

// inTx runs fn in a transaction, rolled back when fn fails.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return mapError(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := fn(tx); err != nil {
		return err
	}
	return mapError(tx.Commit(ctx))
}

// querier is what both a pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// constraintErrors turns unique violations into the domain errors a client can act on, by constraint name.
var constraintErrors = map[string]func() error{
	"users_email_key": func() error {
		return domain.Invalid(domain.FieldError{Field: "email", Message: "an account with this email already exists"})
	},
	"components_slug_key": func() error {
		return domain.Invalid(domain.FieldError{Field: "slug", Message: "a component with this slug already exists"})
	},
}

// mapError translates database errors once, here: no rows → not found, known constraints → field errors, the rest
// internal.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Errorf(domain.ErrNotFound, "not_found", "not found")
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if mk, ok := constraintErrors[pe.ConstraintName]; ok && pe.Code == "23505" {
			return mk()
		}
		// Data exceptions (a value the database cannot hold) are the client's; the API validates what it can first.
		if strings.HasPrefix(pe.Code, "22") {
			return &domain.Error{Kind: domain.ErrInvalid, Code: "invalid_value",
				Message: "a value in the request cannot be stored (out of range or not valid text)", Err: err}
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return domain.Internal(err)
}

// notFound makes the not_found error for a named thing.
func notFound(what, ref string) error {
	return domain.Errorf(domain.ErrNotFound, "not_found", "no %s %q", what, ref)
}

// Ready checks that the database answers and its schema is at the latest migration, clean.
func (db *DB) Ready(ctx context.Context, latest uint) error {
	var version int64
	var dirty bool
	if err := db.Pool.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&version, &dirty); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if dirty || uint(version) != latest {
		return fmt.Errorf("database schema at version %d (dirty %v), expected %d", version, dirty, latest)
	}
	return nil
}
