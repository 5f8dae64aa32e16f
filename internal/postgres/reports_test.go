package postgres_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postgres"
	"github.com/mimhq/mim/internal/postgrestest"
	"github.com/mimhq/mim/internal/reports"
	"github.com/mimhq/mim/internal/workflow"
)

// insertIncident stores a state as the incident store would, with only the columns reports read being meaningful.
func insertIncident(t testing.TB, db *postgres.DB, n int, s workflow.Incident, createdAt time.Time) {
	t.Helper()
	state, err := json.Marshal(s)
	require.NoError(t, err)
	_, err = db.Pool.Exec(context.Background(), `
		INSERT INTO incidents (id, number, key, title, kind, stage, status, severity, urgency, priority, is_open, state,
		                       version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, nullif($6, ''), nullif($7, ''), $8, 'high', 'P2', $9, $10, 1, $11, $11)`,
		uuid.New(), n, s.Key, s.Title, string(s.Kind), string(s.Stage), string(s.Status), string(s.Criteria.Severity),
		s.IsOpen(), state, createdAt)
	require.NoError(t, err)
}

func reportIncident(n int, declared time.Time, updates int) workflow.Incident {
	s := workflow.Incident{Key: "INC-" + strconv.Itoa(n), Title: "Incident " + strconv.Itoa(n), Kind: domain.KindMajor,
		Stage: domain.StageConcluded, Criteria: domain.Criteria{Severity: domain.SeverityHigh},
		Components: []string{"api"}, Updates: []workflow.Update{},
		Milestones: map[domain.Milestone]time.Time{domain.MilestoneDetected: declared.Add(-time.Minute),
			domain.MilestoneDeclared: declared, domain.MilestoneRestored: declared.Add(time.Hour)},
		Bridges: map[domain.BridgeKind]*workflow.Bridge{"technical": {URL: "https://bridge.internal/secret"}}}
	for u := range updates {
		at := declared.Add(time.Duration(u+1) * 20 * time.Minute)
		s.Updates = append(s.Updates, workflow.Update{ID: strconv.Itoa(u), State: workflow.StatePublished,
			Status: domain.UpdateInvestigating, Body: "a long body that reports do not need", PublishedAt: &at,
			Superseded: u == 0})
	}
	s.Updates = append(s.Updates, workflow.Update{ID: "draft", State: workflow.StateDraft, Status: domain.UpdateResolved})
	return s
}

// IncidentsDeclared reads the incidents declared in [from, to), in order, with what the numbers need and only the
// published updates.
func TestIncidentsDeclared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgrestest.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(db.Close)
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	for i, at := range []time.Time{from.Add(-time.Second), from, from.Add(48 * time.Hour), to.Add(-time.Microsecond), to} {
		insertIncident(t, db, i+1, reportIncident(i+1, at, 2), at)
	}
	for seq, e := range []struct {
		typ, data string
		at        time.Time
	}{
		{"declared", `{"id":"x","criteria":{"severity":"critical","urgency":"high"}}`, from},
		{"stage_changed", `{"from":"diagnosis_action","to":"status_updates","backward":false}`, from.Add(10 * time.Minute)},
		{"update_published", `{"id":"0"}`, from.Add(20 * time.Minute)},
		{"stage_changed", `{"from":"status_updates","to":"diagnosis_action","backward":true,"reason":"fix failed"}`, from.Add(30 * time.Minute)},
		{"classified", `{"criteria":{"severity":"high","urgency":"high"},"from":"major","to":"major"}`, from.Add(40 * time.Minute)},
	} {
		_, err := db.Pool.Exec(ctx, `
			INSERT INTO timeline_entries (incident_id, seq, version, type, at, actor_name, channel, data)
			SELECT id, $2, $2, $3, $4, 'IC', 'api', $5 FROM incidents WHERE key = $1`, "INC-2", seq+1, e.typ, e.at, e.data)
		require.NoError(t, err)
	}
	got, err := postgres.NewReportStore(db).IncidentsDeclared(ctx, from, to)
	require.NoError(t, err)
	var keys []string
	for _, s := range got {
		keys = append(keys, s.State.Key)
	}
	require.Equal(t, []string{"INC-2", "INC-3", "INC-4"}, keys, "from inclusive, to exclusive")
	require.Equal(t, []reports.StageMove{
		{At: from.Add(10 * time.Minute), To: domain.StageStatusUpdates},
		{At: from.Add(30 * time.Minute), To: domain.StageDiagnosisAction, Backward: true},
	}, utcMoves(got[0].StageMoves), "stage moves from the timeline, in order; other events left out")
	require.Equal(t, []reports.SeverityChange{{At: from, Severity: domain.SeverityCritical},
		{At: from.Add(40 * time.Minute), Severity: domain.SeverityHigh}}, utcSeverities(got[0].Severities))
	require.Empty(t, got[1].StageMoves)
	s := got[0].State
	require.Equal(t, domain.KindMajor, s.Kind)
	require.False(t, s.IsOpen())
	require.Equal(t, domain.SeverityHigh, s.Criteria.Severity)
	require.Equal(t, []string{"api"}, s.Components)
	require.Equal(t, from, s.Milestones[domain.MilestoneDeclared])
	require.Len(t, s.Updates, 2, "drafts are not sent")
	require.True(t, s.Updates[0].Superseded)
	require.Equal(t, from.Add(20*time.Minute), s.Updates[0].PublishedAt.UTC())
	require.Empty(t, s.Updates[0].Body, "bodies are not sent")
	require.Empty(t, s.Bridges, "nor bridges")
}

// BenchmarkIncidentsDeclared reads a busy quarter: 1,000 incidents with ten published updates each.
func BenchmarkIncidentsDeclared(b *testing.B) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgrestest.NewDatabase(b))
	require.NoError(b, err)
	b.Cleanup(db.Close)
	from := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		at := from.Add(time.Duration(i) * 2 * time.Hour)
		insertIncident(b, db, i+1, reportIncident(i+1, at, 10), at)
	}
	_, err = db.Pool.Exec(ctx, `ANALYZE incidents`)
	require.NoError(b, err)
	store := postgres.NewReportStore(db)
	b.ReportAllocs()
	for b.Loop() {
		got, err := store.IncidentsDeclared(ctx, from, from.AddDate(0, 3, 0))
		if err != nil || len(got) != 1000 {
			b.Fatal(err, len(got))
		}
	}
}

func utcMoves(ms []reports.StageMove) []reports.StageMove {
	for i := range ms {
		ms[i].At = ms[i].At.UTC()
	}
	return ms
}

func utcSeverities(ss []reports.SeverityChange) []reports.SeverityChange {
	for i := range ss {
		ss[i].At = ss[i].At.UTC()
	}
	return ss
}
