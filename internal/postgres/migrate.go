package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/golang-migrate/migrate/v4"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/mimhq/mim/migrations"
)

// migrateLockTimeout is how long a migration waits for another process's migration to finish.
// golang-migrate's default of 15 s is shorter than a slow migration can take; callers bound the
// wait with their context instead.
const migrateLockTimeout = time.Hour

// MigrateUp applies every migration in migrations.FS that the database at databaseURL lacks.
// A database already current is not an error.
//
// Several processes may call it at once on one database: golang-migrate holds a session-level
// pg_advisory_lock, keyed by database, schema and migrations table, while it reads the version and
// applies migrations, so one process migrates and the others then find nothing to do.
//
// If ctx ends first, MigrateUp returns at once; a migration already running finishes in the
// background, as interrupting it would leave the database marked dirty, and no further one starts.
func MigrateUp(ctx context.Context, databaseURL string) error {
	err := runMigrate(ctx, databaseURL, func(m *migrate.Migrate) error { return m.Up() })
	if err != nil {
		return fmt.Errorf("postgres: migrate up: %w", err)
	}
	return nil
}

// MigrateDown undoes the last steps migrations, or all of them when steps <= 0. Asking for more
// steps than were applied undoes them all; a database with none applied is not an error.
func MigrateDown(ctx context.Context, databaseURL string, steps int) error {
	err := runMigrate(ctx, databaseURL, func(m *migrate.Migrate) error {
		if steps <= 0 {
			return m.Down()
		}
		if _, _, err := m.Version(); errors.Is(err, migrate.ErrNilVersion) {
			return migrate.ErrNoChange
		}
		err := m.Steps(-steps)
		var short migrate.ErrShortLimit
		if errors.As(err, &short) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate down: %w", err)
	}
	return nil
}

// MigrateVersion returns the version the database at databaseURL is migrated to, and whether a
// migration to it failed part way (dirty). A database never migrated is at version 0.
//
// It reads golang-migrate's table directly rather than through golang-migrate, which would create
// the table and wait for the migration lock: readiness checks call it while migrations may run.
func MigrateVersion(ctx context.Context, databaseURL string) (version uint, dirty bool, err error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return 0, false, fmt.Errorf("postgres: migrate version: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	// golang-migrate keeps its table in the current schema, the first of the search path that exists.
	var schema *string
	var exists bool
	err = conn.QueryRow(ctx, `SELECT current_schema(),
		to_regclass(quote_ident(current_schema()) || '.' || quote_ident($1)) IS NOT NULL`,
		pgxmigrate.DefaultMigrationsTable).Scan(&schema, &exists)
	if err != nil {
		return 0, false, fmt.Errorf("postgres: migrate version: %w", err)
	}
	if schema == nil || !exists {
		return 0, false, nil
	}
	var v int64
	err = conn.QueryRow(ctx, "SELECT version, dirty FROM "+pgx.Identifier{*schema, pgxmigrate.DefaultMigrationsTable}.Sanitize()+" LIMIT 1").
		Scan(&v, &dirty)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("postgres: migrate version: %w", err)
	}
	if v < 0 {
		return 0, false, fmt.Errorf("postgres: migrate version: negative version %d", v)
	}
	return uint(v), dirty, nil
}

// LatestMigration returns the highest migration version in migrations.FS: a database at this
// version and not dirty has the schema this binary expects.
func LatestMigration() (uint, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return 0, fmt.Errorf("postgres: read migrations: %w", err)
	}
	defer src.Close()
	version, err := src.First()
	if err != nil {
		return 0, fmt.Errorf("postgres: first migration: %w", err)
	}
	for {
		next, err := src.Next(version)
		if errors.Is(err, fs.ErrNotExist) {
			return version, nil
		}
		if err != nil {
			return 0, fmt.Errorf("postgres: migration after %d: %w", version, err)
		}
		version = next
	}
}

// runMigrate runs op on a golang-migrate instance over the database at databaseURL, treating
// ErrNoChange as success, and returns when op does or ctx ends.
func runMigrate(ctx context.Context, databaseURL string, op func(*migrate.Migrate) error) error {
	// pgx parses the URL itself, so whatever pgx accepts works, Unix sockets (host=/dir) included;
	// golang-migrate's own URL handling is not involved.
	config, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("parse database URL: %w", err)
	}
	result := make(chan error, 1)
	go func() { result <- migrateWith(ctx, config, op) }()
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		select {
		case err := <-result:
			return err
		default:
			return ctx.Err()
		}
	}
}

// migrateWith opens the database, runs op and closes everything; a migration still running when
// ctx ends completes, and none starts after it.
func migrateWith(ctx context.Context, config *pgx.ConnConfig, op func(*migrate.Migrate) error) error {
	db := stdlib.OpenDB(*config)
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	m, err := newMigrate(db)
	if err != nil {
		return err
	}
	defer m.Close()
	m.LockTimeout = migrateLockTimeout
	stop := context.AfterFunc(ctx, func() {
		select {
		case m.GracefulStop <- true:
		default:
		}
	})
	defer stop()

	err = op(m)
	if errors.Is(err, migrate.ErrNoChange) {
		return nil
	}
	var dirty migrate.ErrDirty
	if errors.As(err, &dirty) {
		return fmt.Errorf("database is marked dirty at version %d: that migration failed part way; "+
			"repair the schema by hand, then set dirty = false in %s: %w", dirty.Version, pgxmigrate.DefaultMigrationsTable, err)
	}
	return err
}

// newMigrate builds a golang-migrate instance over db with the embedded migrations as its source.
func newMigrate(db *sql.DB) (*migrate.Migrate, error) {
	// WithInstance names the advisory lock after current_database(), so every mim process agrees on it.
	driver, err := pgxmigrate.WithInstance(db, &pgxmigrate.Config{})
	if err != nil {
		return nil, fmt.Errorf("migration driver: %w", err)
	}
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		_ = driver.Close()
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", driver)
	if err != nil {
		_ = driver.Close()
		_ = src.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return m, nil
}
