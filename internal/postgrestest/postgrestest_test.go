package postgrestest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/postgres"
)

func TestMain(m *testing.M) { Main(m) }

// connect opens a connection to databaseURL, closed when the test ends.
func connect(t *testing.T, databaseURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), databaseURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func TestNewDatabaseIsMigratedAndPrivate(t *testing.T) {
	t.Parallel()
	begin := time.Now()
	first := NewDatabase(t)
	t.Logf("first NewDatabase (with server start when first in the binary): %v", time.Since(begin))
	begin = time.Now()
	second := NewDatabase(t)
	t.Logf("NewDatabase: %v", time.Since(begin))
	require.NotEqual(t, first, second)

	version, dirty, err := postgres.MigrateVersion(t.Context(), first)
	require.NoError(t, err)
	latest, err := postgres.LatestMigration()
	require.NoError(t, err)
	require.Equal(t, latest, version)
	require.False(t, dirty)

	_, err = connect(t, first).Exec(t.Context(), "CREATE TABLE only_here (v int)")
	require.NoError(t, err)
	var exists bool
	require.NoError(t, connect(t, second).QueryRow(t.Context(), "SELECT to_regclass('only_here') IS NOT NULL").Scan(&exists))
	require.False(t, exists)
}

func TestNewDatabaseIsDroppedWhenTestEnds(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("uses a database", func(t *testing.T) {
		require.NoError(t, connect(t, NewDatabase(t)).QueryRow(t.Context(), "SELECT current_database()").Scan(&name))
	})
	var count int
	require.NoError(t, shared.admin.QueryRow(t.Context(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&count))
	require.Equal(t, 0, count)
}

func TestNewEmptyDatabaseHasNoMigrations(t *testing.T) {
	t.Parallel()
	version, dirty, err := postgres.MigrateVersion(t.Context(), NewEmptyDatabase(t))
	require.NoError(t, err)
	require.Zero(t, version)
	require.False(t, dirty)
}

func TestNewPoolReachesItsDatabase(t *testing.T) {
	t.Parallel()
	pool := NewPool(t)
	var users int
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM users").Scan(&users))
	require.Zero(t, users)
}

func TestNewDatabaseInParallel(t *testing.T) {
	t.Parallel()
	begin := time.Now()
	const n = 16
	for i := range n {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			pool := NewPool(t)
			_, err := pool.Exec(t.Context(), "INSERT INTO users (id, email, name, role) VALUES (gen_random_uuid(), 'a@example.com', 'A', 'admin')")
			require.NoError(t, err)
		})
	}
	t.Cleanup(func() { t.Logf("%d databases created, used and dropped in %v", n, time.Since(begin)) })
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	require.Equal(t, "postgres://mim@/other?host=%2Ftmp%2Fx&sslmode=disable",
		withDatabase("postgres://mim@/mim?host=%2Ftmp%2Fx&sslmode=disable", "other"))
	require.Equal(t, "postgres://u:p@db:5432/other", withDatabase("postgres://u:p@db:5432/postgres", "other"))
	require.Equal(t, "host=/tmp user=u dbname=postgres dbname=other", withDatabase("host=/tmp user=u dbname=postgres", "other"))
}
