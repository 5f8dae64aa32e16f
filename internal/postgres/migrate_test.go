package postgres_test

import (
	"context"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/postgres"
	"github.com/mimhq/mim/internal/postgrestest"
	"github.com/mimhq/mim/migrations"
)

// requireVersion checks the version the database is migrated to, and that it is clean.
func requireVersion(t *testing.T, databaseURL string, want uint) {
	t.Helper()
	version, dirty, err := postgres.MigrateVersion(t.Context(), databaseURL)
	require.NoError(t, err)
	require.Equal(t, want, version)
	require.False(t, dirty)
}

// tableExists reports whether the database has a table of that name on its search path.
func tableExists(t *testing.T, databaseURL, table string) bool {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), databaseURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var exists bool
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists))
	return exists
}

func TestLatestMigrationIsHighestFileVersion(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(migrations.FS, "*.up.sql")
	require.NoError(t, err)
	var want uint64
	for _, name := range names {
		v, err := strconv.ParseUint(strings.SplitN(name, "_", 2)[0], 10, 64)
		require.NoError(t, err)
		want = max(want, v)
	}
	latest, err := postgres.LatestMigration()
	require.NoError(t, err)
	require.NotZero(t, latest)
	require.Equal(t, uint(want), latest)
}

func TestMigrateVersionOfNeverMigratedDatabaseIsZero(t *testing.T) {
	t.Parallel()
	databaseURL := postgrestest.NewEmptyDatabase(t)
	requireVersion(t, databaseURL, 0)
	require.False(t, tableExists(t, databaseURL, "schema_migrations"), "reading the version must not create the table")
}

func TestMigrateUpFromFourProcessesAtOnce(t *testing.T) {
	t.Parallel()
	databaseURL := postgrestest.NewEmptyDatabase(t)
	require.Contains(t, databaseURL, "host=", "the harness reaches its server over a Unix socket unless told otherwise")

	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = postgres.MigrateUp(t.Context(), databaseURL) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	latest, err := postgres.LatestMigration()
	require.NoError(t, err)
	requireVersion(t, databaseURL, latest)
	require.True(t, tableExists(t, databaseURL, "incidents"))
}

func TestMigrateUpOnCurrentDatabaseChangesNothing(t *testing.T) {
	t.Parallel()
	databaseURL := postgrestest.NewDatabase(t)
	require.NoError(t, postgres.MigrateUp(t.Context(), databaseURL))
	latest, err := postgres.LatestMigration()
	require.NoError(t, err)
	requireVersion(t, databaseURL, latest)
}

func TestMigrateDownAllThenUpAgain(t *testing.T) {
	t.Parallel()
	databaseURL := postgrestest.NewDatabase(t)

	require.NoError(t, postgres.MigrateDown(t.Context(), databaseURL, 0))
	requireVersion(t, databaseURL, 0)
	require.False(t, tableExists(t, databaseURL, "incidents"))
	require.NoError(t, postgres.MigrateDown(t.Context(), databaseURL, 0), "nothing left to undo is not an error")
	require.NoError(t, postgres.MigrateDown(t.Context(), databaseURL, 1), "nothing left to undo is not an error")

	require.NoError(t, postgres.MigrateUp(t.Context(), databaseURL))
	latest, err := postgres.LatestMigration()
	require.NoError(t, err)
	requireVersion(t, databaseURL, latest)
	require.True(t, tableExists(t, databaseURL, "incidents"))
}

func TestMigrateDownStepsUndoesThatMany(t *testing.T) {
	t.Parallel()
	databaseURL := postgrestest.NewDatabase(t)
	latest, err := postgres.LatestMigration()
	require.NoError(t, err)
	names, err := fs.Glob(migrations.FS, "*.up.sql")
	require.NoError(t, err)

	require.NoError(t, postgres.MigrateDown(t.Context(), databaseURL, 1))
	version, dirty, err := postgres.MigrateVersion(t.Context(), databaseURL)
	require.NoError(t, err)
	require.False(t, dirty)
	require.Less(t, version, latest)

	require.NoError(t, postgres.MigrateDown(t.Context(), databaseURL, len(names)+5), "more steps than applied undoes them all")
	requireVersion(t, databaseURL, 0)
}

func TestMigrateUpReportsCancelledContext(t *testing.T) {
	t.Parallel()
	databaseURL := postgrestest.NewEmptyDatabase(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, postgres.MigrateUp(ctx, databaseURL), context.Canceled)
}

func TestMigrateUpRejectsBadURL(t *testing.T) {
	t.Parallel()
	require.Error(t, postgres.MigrateUp(t.Context(), "postgres://%zz"))
}
