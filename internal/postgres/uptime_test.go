package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postgres"
	"github.com/mimhq/mim/internal/postgrestest"
)

// rollup is one row of component_daily_status.
type rollup struct {
	Day                                   string
	Worst                                 string
	Degraded, Partial, Major, Maintenance float64
	Keys                                  []string
}

func rollups(t *testing.T, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, slug string) []rollup {
	t.Helper()
	rows, err := q.Query(t.Context(), `
		SELECT d.day::text, d.worst_status, d.seconds_degraded, d.seconds_partial, d.seconds_major,
		       d.seconds_maintenance, d.incident_keys
		FROM component_daily_status d JOIN components c ON c.id = d.component_id
		WHERE c.slug = $1 ORDER BY d.day`, slug)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rollup, error) {
		var x rollup
		err := r.Scan(&x.Day, &x.Worst, &x.Degraded, &x.Partial, &x.Major, &x.Maintenance, &x.Keys)
		return x, err
	})
	require.NoError(t, err)
	return out
}

// openOf is a component's interval in progress: status, since (RFC 3339) and incident keys.
func openOf(t *testing.T, db *postgres.DB, slug string) (string, string, []string) {
	t.Helper()
	var st string
	var since time.Time
	var keys []string
	require.NoError(t, db.Pool.QueryRow(t.Context(), `SELECT o.status, o.since, o.incident_keys
		FROM component_uptime_open o JOIN components c ON c.id = o.component_id WHERE c.slug = $1`, slug).
		Scan(&st, &since, &keys))
	return st, since.UTC().Format(time.RFC3339), keys
}

// uptimeDB is a migrated database with components created on 1 January 2026.
func uptimeDB(t *testing.T, slugs ...string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), postgrestest.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(db.Close)
	comps := postgres.NewComponentStore(db)
	for _, s := range slugs {
		_, err := comps.Create(t.Context(), domain.Component{Slug: s, Name: s})
		require.NoError(t, err)
	}
	_, err = db.Pool.Exec(t.Context(), `UPDATE components SET created_at = '2026-01-01T00:00:00Z'`)
	require.NoError(t, err)
	return db
}

type change struct {
	status domain.ComponentStatus
	at     string
	keys   []string
}

var history = []change{
	{domain.ComponentMajorOutage, "2026-03-01T22:00:00Z", []string{"INC-1"}},
	{domain.ComponentMajorOutage, "2026-03-02T06:00:00Z", []string{"INC-1", "INC-2"}}, // another incident joins
	{domain.ComponentOperational, "2026-03-04T22:00:00Z", nil},
	{domain.ComponentDegradedPerformance, "2026-03-10T10:00:00Z", []string{"INC-3"}},
	{domain.ComponentPartialOutage, "2026-03-10T10:30:00Z", []string{"INC-3"}},
	{domain.ComponentUnderMaintenance, "2026-03-10T11:00:00Z", nil},
	{domain.ComponentOperational, "2026-03-10T11:00:00.5Z", nil},
	{domain.ComponentMajorOutage, "2026-03-20T23:00:00Z", []string{"INC-4"}}, // still going: no row until it closes
}

var wantRollups = []rollup{
	{Day: "2026-03-01", Worst: "major_outage", Major: 2 * 3600, Keys: []string{"INC-1"}},
	{Day: "2026-03-02", Worst: "major_outage", Major: 24 * 3600, Keys: []string{"INC-1", "INC-2"}},
	{Day: "2026-03-03", Worst: "major_outage", Major: 24 * 3600, Keys: []string{"INC-1", "INC-2"}},
	{Day: "2026-03-04", Worst: "major_outage", Major: 22 * 3600, Keys: []string{"INC-1", "INC-2"}},
	{Day: "2026-03-10", Worst: "partial_outage", Degraded: 1800, Partial: 1800, Maintenance: 0.5, Keys: []string{"INC-3"}},
}

func record(t *testing.T, db *postgres.DB, slug string, changes []change) {
	t.Helper()
	store := postgres.NewUptimeStore(db)
	for _, c := range changes {
		at, err := time.Parse(time.RFC3339Nano, c.at)
		require.NoError(t, err)
		require.NoError(t, store.Record(t.Context(), slug, c.status, at, c.keys))
	}
}

func TestUptimeRollupsSplitEachClosedIntervalAcrossItsUTCDays(t *testing.T) {
	t.Parallel()
	db := uptimeDB(t, "api")
	record(t, db, "api", history)
	require.Equal(t, wantRollups, rollups(t, db.Pool, "api"),
		"a 3-day outage over four dates, an incident joining mid-outage, a half-second of maintenance")
	st, since, keys := openOf(t, db, "api")
	require.Equal(t, "major_outage", st)
	require.Equal(t, "2026-03-20T23:00:00Z", since)
	require.Equal(t, []string{"INC-4"}, keys)
	var status string
	require.NoError(t, db.Pool.QueryRow(t.Context(), `SELECT status FROM components WHERE slug = 'api'`).Scan(&status))
	require.Equal(t, "major_outage", status, "the latest change is the current status")
}

func TestUptimeHistoryRecordedOutOfOrderIsRebuiltToTheSameRollups(t *testing.T) {
	t.Parallel()
	db := uptimeDB(t, "api")
	// The newest first, then the older history, as an import of an older export would.
	late := history[len(history)-1]
	record(t, db, "api", []change{late})
	record(t, db, "api", history[:len(history)-1])
	got := rollups(t, db.Pool, "api")
	for i := range got {
		got[i].Keys = nil // a rebuild keeps the incidents a date already listed, but the log records none
	}
	want := append([]rollup(nil), wantRollups...)
	for i := range want {
		want[i].Keys = nil
	}
	require.Equal(t, want, got)
	st, since, _ := openOf(t, db, "api")
	require.Equal(t, "major_outage", st)
	require.Equal(t, "2026-03-20T23:00:00Z", since)
	var status string
	require.NoError(t, db.Pool.QueryRow(t.Context(), `SELECT status FROM components WHERE slug = 'api'`).Scan(&status))
	require.Equal(t, "major_outage", status, "an older change does not overwrite the current status")
}

func TestUptimeRecordRefusesAnUnknownStatusOrComponent(t *testing.T) {
	t.Parallel()
	db := uptimeDB(t, "api")
	store := postgres.NewUptimeStore(db)
	err := store.Record(t.Context(), "api", "broken", time.Now(), nil)
	require.Equal(t, domain.ErrInvalid, domain.AsError(err).Kind)
	err = store.Record(t.Context(), "nope", domain.ComponentMajorOutage, time.Now(), nil)
	require.Equal(t, domain.ErrNotFound, domain.AsError(err).Kind)
}

func TestMigrationBackfillsUptimeFromEarlierStatusChanges(t *testing.T) {
	t.Parallel()
	databaseURL := postgrestest.NewDatabase(t)
	latest, err := postgres.LatestMigration()
	require.NoError(t, err)
	require.NoError(t, postgres.MigrateDown(t.Context(), databaseURL, int(latest)-5), "back to before the uptime tables")
	require.False(t, tableExists(t, databaseURL, "component_daily_status"))

	conn, err := pgx.Connect(t.Context(), databaseURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(t.Context(), `
		INSERT INTO components (id, slug, name, status, created_at, updated_at) VALUES
		  ('00000000-0000-0000-0000-00000000000a', 'api', 'API', 'partial_outage', '2026-01-01Z', '2026-03-05T12:00:00Z'),
		  ('00000000-0000-0000-0000-00000000000b', 'web', 'Web', 'operational', '2026-01-01Z', '2026-01-01Z');
		INSERT INTO component_status_changes (component_id, status, at) VALUES
		  ('00000000-0000-0000-0000-00000000000a', 'major_outage', '2026-03-01T22:00:00Z'),
		  ('00000000-0000-0000-0000-00000000000a', 'degraded_performance', '2026-03-02T01:00:00Z'),
		  ('00000000-0000-0000-0000-00000000000a', 'operational', '2026-03-02T02:00:00Z'),
		  ('00000000-0000-0000-0000-00000000000a', 'partial_outage', '2026-03-05T12:00:00Z')`)
	require.NoError(t, err)
	require.NoError(t, postgres.MigrateUp(t.Context(), databaseURL))

	require.Equal(t, []rollup{
		{Day: "2026-03-01", Worst: "major_outage", Major: 2 * 3600, Keys: []string{}},
		{Day: "2026-03-02", Worst: "major_outage", Major: 3600, Degraded: 3600, Keys: []string{}},
	}, rollups(t, conn, "api"))
	require.Empty(t, rollups(t, conn, "web"))
	var st string
	var since time.Time
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT status, since FROM component_uptime_open
		WHERE component_id = '00000000-0000-0000-0000-00000000000a'`).Scan(&st, &since))
	require.Equal(t, "partial_outage", st)
	require.Equal(t, "2026-03-05T12:00:00Z", since.UTC().Format(time.RFC3339))
}
