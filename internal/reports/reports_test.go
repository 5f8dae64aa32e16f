package reports

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

var (
	nov = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dec = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	now = time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
)

func at(day, hour, minute int) time.Time {
	return time.Date(2026, 11, day, hour, minute, 0, 0, time.UTC)
}

func ptr[T any](v T) *T { return &v }

func minutes(n float64) float64 { return n * 60 }

// knownSet is a month of incidents whose figures are worked out by hand in TestComputeKnownSet.
func knownSet() Input {
	tA := at(2, 10, 0)
	tB := at(10, 8, 0)
	tC := at(20, 12, 0)
	m := time.Minute
	incidents := []Incident{
		{ // A: critical (30 min cadence); updates at +15, +40 (25 ✓), +80 (40 ✗), +105 resolved (25 ✓): 3 due, 2 on time.
			Key: "INC-1", Title: "Gateway down", Kind: domain.KindMajor, Severity: domain.SeverityCritical,
			Components:      []string{"api", "swg-eu"},
			ImpactStartedAt: tA.Add(-10 * m), DetectedAt: tA, DeclaredAt: tA.Add(5 * m), ICAcknowledgedAt: tA.Add(10 * m),
			MobilizedAt: tA.Add(20 * m), RestoredAt: tA.Add(120 * m), ConcludedAt: tA.Add(180 * m),
			Updates: []PublishedUpdate{{At: tA.Add(80 * m)}, {At: tA.Add(15 * m)}, {At: tA.Add(105 * m), Resolved: true},
				{At: tA.Add(40 * m)}},
		},
		{ // B: high (60 min); +30, +80 (50 ✓), +150 (70 ✗), +180 resolved (30 ✓); the fix fails: back to diagnosis at
			// +200 and on to Status Updates at +210, where the clock restarts; +230 resolved (20 ✓).
			Key: "INC-2", Title: "API slow", Kind: domain.KindMajor, Severity: domain.SeverityHigh,
			Components: []string{"api"},
			DetectedAt: tB, DeclaredAt: tB.Add(20 * m), ICAcknowledgedAt: tB.Add(25 * m), MobilizedAt: tB.Add(50 * m),
			RestoredAt: tB.Add(240 * m), ConcludedAt: tB.Add(300 * m),
			Updates: []PublishedUpdate{{At: tB.Add(30 * m)}, {At: tB.Add(80 * m)}, {At: tB.Add(150 * m)},
				{At: tB.Add(180 * m), Resolved: true}, {At: tB.Add(230 * m), Resolved: true}},
			StageMoves: []StageMove{{At: tB.Add(210 * m), To: domain.StageStatusUpdates},
				{At: tB.Add(200 * m), To: domain.StageDiagnosisAction, Backward: true},
				{At: tB.Add(300 * m), To: domain.StageConcluded}},
		},
		{ // C: medium, still open, one update long ago: the next one is due and late.
			Key: "INC-3", Title: "Console errors", Kind: domain.KindMajor, Severity: domain.SeverityMedium, Open: true,
			Components: []string{"control-plane-eu"},
			DetectedAt: tC, DeclaredAt: tC.Add(2 * m), ICAcknowledgedAt: tC.Add(4 * m), MobilizedAt: tC.Add(10 * m),
			Updates: []PublishedUpdate{{At: tC.Add(10 * m)}},
		},
		{ // D: no commander acknowledged, never mobilized, no updates; impact started before detection.
			Key: "INC-4", Title: "Imported outage", Kind: domain.KindMajor, Severity: domain.SeverityCritical,
			ImpactStartedAt: at(25, 7, 30), DetectedAt: at(25, 8, 0), DeclaredAt: at(25, 9, 0),
			RestoredAt: at(25, 10, 0), ConcludedAt: at(25, 11, 0),
		},
		{ // E: a standard incident: counted, no durations.
			Key: "INC-5", Title: "Slow report", Kind: domain.KindStandard, Severity: domain.SeverityLow,
			Components: []string{"api"}, DetectedAt: at(28, 9, 0), DeclaredAt: at(28, 9, 0), RestoredAt: at(28, 10, 0),
		},
		{ // F: declared before the period.
			Key: "INC-6", Kind: domain.KindMajor, Severity: domain.SeverityHigh,
			DetectedAt: time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC), DeclaredAt: time.Date(2026, 10, 30, 0, 1, 0, 0, time.UTC),
			ICAcknowledgedAt: time.Date(2026, 10, 30, 5, 0, 0, 0, time.UTC),
		},
		{ // G: declared at the end of the period, which is excluded.
			Key: "INC-7", Kind: domain.KindMajor, Severity: domain.SeverityHigh, DetectedAt: dec, DeclaredAt: dec,
		},
	}
	concA, concB, concD := tA.Add(180*m), tB.Add(300*m), at(25, 11, 0)
	deadlines := []Deadline{
		{Kind: DocumentPIR, IncidentKey: "INC-1", ConcludedAt: concA, DueAt: concA.Add(48 * time.Hour), PublishedAt: ptr(concA.Add(30 * time.Hour))},
		{Kind: DocumentPIR, IncidentKey: "INC-2", ConcludedAt: concB, DueAt: concB.Add(48 * time.Hour), PublishedAt: ptr(concB.Add(49 * time.Hour))},
		{Kind: DocumentPIR, IncidentKey: "INC-4", ConcludedAt: concD, DueAt: concD.Add(48 * time.Hour)},
		{Kind: DocumentRCA, IncidentKey: "INC-1", ConcludedAt: concA, DueAt: now.Add(24 * time.Hour)},
		{Kind: DocumentRCA, IncidentKey: "INC-2", ConcludedAt: concB, DueAt: concB.Add(9 * 24 * time.Hour), PublishedAt: ptr(concB.Add(24 * time.Hour))},
		{Kind: DocumentPIR, IncidentKey: "INC-6", DueAt: nov, PublishedAt: ptr(dec)}, // outside the period
	}
	return Input{From: nov, To: dec, Now: now, Cadence: workflow.DefaultCadence(), Incidents: incidents,
		Deadlines: deadlines}
}

func summary(count int, median, p90, mean float64) Summary {
	return Summary{Count: count, MedianSeconds: &median, P90Seconds: &p90, MeanSeconds: &mean}
}

// TestComputeKnownSet: the metrics of a known set of incidents equal the hand-computed values.
func TestComputeKnownSet(t *testing.T) {
	t.Parallel()
	rep := Compute(knownSet())

	require.Equal(t, 5, rep.Incidents, "A–E; F before the period, G at its (excluded) end")
	require.Equal(t, 4, rep.Major)
	require.Equal(t, 1, rep.Standard)
	require.Equal(t, 1, rep.Open)

	for _, c := range []struct {
		name string
		got  Summary
		want Summary
	}{
		// 10, 25, 4 min → sorted 4, 10, 25: median 10, p90 rank ⌈2.7⌉ = 3 → 25, mean 39/3 = 13. D has no ack.
		{"time to acknowledge", rep.TimeToAcknowledge, summary(3, minutes(10), minutes(25), minutes(13))},
		// 5, 20, 2, 60 → 2, 5, 20, 60: median (5+20)/2 = 12.5, p90 rank ⌈3.6⌉ = 4 → 60, mean 87/4 = 21.75.
		{"time to declare", rep.TimeToDeclare, summary(4, minutes(12.5), minutes(60), minutes(21.75))},
		// 15, 30, 8 → 8, 15, 30: median 15, p90 30, mean 53/3 min = 1060 s. D never mobilized.
		{"time to mobilize", rep.TimeToMobilize, summary(3, minutes(15), minutes(30), 1060)},
		// A from impact start: 130; B from detection: 240; D from impact start: 150. C not restored.
		// 130, 150, 240: median 150, p90 240, mean 520/3 min = 10400 s.
		{"time to restore", rep.TimeToRestore, summary(3, minutes(150), minutes(240), 10400)},
	} {
		require.Equal(t, c.want.Count, c.got.Count, c.name)
		require.InDelta(t, *c.want.MedianSeconds, *c.got.MedianSeconds, 1e-6, c.name+" median")
		require.InDelta(t, *c.want.P90Seconds, *c.got.P90Seconds, 1e-6, c.name+" p90")
		require.InDelta(t, *c.want.MeanSeconds, *c.got.MeanSeconds, 1e-6, c.name+" mean")
	}

	// A 3 due / 2 on time, B 4 / 3, C 1 / 0 (open, last update long before now), D none.
	require.Equal(t, 8, rep.UpdateCadence.Due)
	require.Equal(t, 5, rep.UpdateCadence.OnTime)
	require.InDelta(t, 0.625, *rep.UpdateCadence.Rate, 1e-9)

	// PIR: A on time, B published late, D unpublished past due; F's is outside the period.
	require.Equal(t, OnTimeRate{OnTime: 1, Late: 2, Rate: ptr(1.0 / 3)}, rep.PIR)
	// RCA: B on time, A not yet due.
	require.Equal(t, OnTimeRate{OnTime: 1, Pending: 1, Rate: ptr(1.0)}, rep.RCA)

	require.Equal(t, []Count{
		{Key: "critical", Major: 2, Total: 2},
		{Key: "high", Major: 1, Total: 1},
		{Key: "medium", Major: 1, Total: 1},
		{Key: "low", Standard: 1, Total: 1},
	}, rep.BySeverity)
	require.Equal(t, []Count{
		{Key: "api", Major: 2, Standard: 1, Total: 3},
		{Key: "control-plane-eu", Major: 1, Total: 1},
		{Key: "swg-eu", Major: 1, Total: 1},
	}, rep.ByComponent)
	require.Equal(t, []Count{{Key: "2026-11", Major: 4, Standard: 1, Total: 5}}, rep.ByMonth)

	require.Len(t, rep.Rows, 5)
	a := rep.Rows[0]
	require.Equal(t, "INC-1", a.Key)
	require.Equal(t, minutes(10), *a.TimeToAcknowledgeSeconds)
	require.Equal(t, minutes(5), *a.TimeToDeclareSeconds)
	require.Equal(t, minutes(15), *a.TimeToMobilizeSeconds)
	require.Equal(t, minutes(130), *a.TimeToRestoreSeconds)
	require.Equal(t, []int{3, 2}, []int{a.UpdatesDue, a.UpdatesOnTime})
	require.Equal(t, StateOnTime, a.PIR)
	require.Equal(t, StatePending, a.RCA)
	d := rep.Rows[3]
	require.Equal(t, "INC-4", d.Key)
	require.Nil(t, d.TimeToAcknowledgeSeconds, "no acknowledgement: no figure, not zero")
	require.Nil(t, d.TimeToMobilizeSeconds)
	require.Equal(t, StateLate, d.PIR)
	require.Empty(t, d.RCA)
	e := rep.Rows[4]
	require.Equal(t, domain.KindStandard, e.Kind)
	require.Nil(t, e.TimeToRestoreSeconds, "standard incidents have no durations")
	require.Zero(t, e.UpdatesDue)
}

func TestComputeEdgeCases(t *testing.T) {
	t.Parallel()
	t.Run("no incidents", func(t *testing.T) {
		rep := Compute(Input{From: time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC), To: dec, Now: now,
			Cadence: workflow.DefaultCadence()})
		require.Zero(t, rep.Incidents)
		require.Equal(t, Summary{}, rep.TimeToRestore)
		require.Nil(t, rep.UpdateCadence.Rate)
		require.Nil(t, rep.PIR.Rate)
		require.Empty(t, rep.ByComponent)
		require.NotNil(t, rep.Rows)
		// Every month of the period is listed, even empty: a chart shows the quiet months too.
		require.Equal(t, []Count{{Key: "2026-09"}, {Key: "2026-10"}, {Key: "2026-11"}}, rep.ByMonth)
		require.Len(t, rep.BySeverity, 4)
	})
	t.Run("one incident", func(t *testing.T) {
		rep := Compute(Input{From: nov, To: dec, Now: now, Cadence: workflow.DefaultCadence(), Incidents: []Incident{{
			Key: "INC-1", Kind: domain.KindMajor, Severity: domain.SeverityHigh, DetectedAt: at(3, 0, 0),
			DeclaredAt: at(3, 0, 7), RestoredAt: at(3, 1, 0),
		}}})
		require.Equal(t, summary(1, 420, 420, 420), rep.TimeToDeclare)
		require.Equal(t, summary(1, 3600, 3600, 3600), rep.TimeToRestore)
		require.Equal(t, Summary{}, rep.TimeToAcknowledge, "missing milestone")
	})
	t.Run("milestones out of order", func(t *testing.T) {
		rep := Compute(Input{From: nov, To: dec, Now: now, Incidents: []Incident{{
			Key: "INC-1", Kind: domain.KindMajor, DetectedAt: at(3, 2, 0), DeclaredAt: at(3, 2, 0),
			RestoredAt: at(3, 1, 0),
		}}})
		require.Nil(t, rep.Rows[0].TimeToRestoreSeconds)
	})
	t.Run("months in the organisation's zone", func(t *testing.T) {
		paris, err := time.LoadLocation("Europe/Paris")
		require.NoError(t, err)
		from := time.Date(2026, 11, 1, 0, 0, 0, 0, paris)
		to := time.Date(2027, 1, 1, 0, 0, 0, 0, paris)
		late := time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC) // 00:30 on 1 December in Paris
		rep := Compute(Input{From: from, To: to, Now: now, Location: paris, Incidents: []Incident{
			{Key: "INC-1", Kind: domain.KindStandard, Severity: domain.SeverityLow, DetectedAt: late, DeclaredAt: late}}})
		require.Equal(t, []Count{{Key: "2026-11"}, {Key: "2026-12", Standard: 1, Total: 1}}, rep.ByMonth)
	})
	t.Run("long durations do not overflow the mean", func(t *testing.T) {
		long := make([]time.Duration, 2000)
		for i := range long {
			long[i] = 90 * 24 * time.Hour // 2000 × 90 days is more nanoseconds than an int64 holds
		}
		require.InDelta(t, (90 * 24 * time.Hour).Seconds(), *Summarize(long).MeanSeconds, 1e-3)
	})
	t.Run("nearest-rank p90", func(t *testing.T) {
		var ds []time.Duration
		for i := 1; i <= 20; i++ {
			ds = append(ds, time.Duration(i)*time.Second)
		}
		s := Summarize(ds)
		require.Equal(t, 18.0, *s.P90Seconds, "rank ⌈0.9 × 20⌉ = 18")
		require.Equal(t, 10.5, *s.MedianSeconds)
		require.Equal(t, 10.5, *s.MeanSeconds)
	})
}

// TestFromWorkflow takes the facts out of a replayed state: milestones, and published updates with the final one.
func TestFromWorkflow(t *testing.T) {
	t.Parallel()
	pub := at(3, 1, 0)
	s := workflow.Incident{Key: "INC-9", Kind: domain.KindMajor, Stage: domain.StageConcluded,
		Criteria:   domain.Criteria{Severity: domain.SeverityHigh},
		Components: []string{"api"},
		Milestones: map[domain.Milestone]time.Time{domain.MilestoneDetected: at(3, 0, 0),
			domain.MilestoneDeclared: at(3, 0, 5), domain.MilestoneRestored: at(3, 0, 50)},
		Updates: []workflow.Update{
			{State: workflow.StatePublished, Status: domain.UpdateResolved, PublishedAt: &pub},
			{State: workflow.StateDraft, Status: domain.UpdateMonitoring},
		}}
	moves := []StageMove{{At: at(3, 0, 30), To: domain.StageStatusUpdates}}
	sevs := []SeverityChange{{At: at(3, 0, 5), Severity: domain.SeverityCritical}}
	in := FromWorkflow(s, moves, sevs)
	require.Equal(t, sevs, in.Severities)
	require.Equal(t, moves, in.StageMoves)
	require.False(t, in.Open)
	require.Equal(t, at(3, 0, 50), in.RestoredAt)
	require.True(t, in.ICAcknowledgedAt.IsZero())
	require.Equal(t, []PublishedUpdate{{At: pub, Resolved: true}}, in.Updates, "drafts are not counted")
}

// TestCadence replays the update clock of internal/workflow over updates and stage moves.
func TestCadence(t *testing.T) {
	t.Parallel()
	t0 := at(10, 12, 0)
	mins := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	up := func(n int) PublishedUpdate { return PublishedUpdate{At: mins(n)} }
	resolved := func(n int) PublishedUpdate { return PublishedUpdate{At: mins(n), Resolved: true} }
	move := func(n int, to domain.Stage) StageMove { return StageMove{At: mins(n), To: to} }
	back := func(n int, to domain.Stage) StageMove { return StageMove{At: mins(n), To: to, Backward: true} }
	for _, c := range []struct {
		name          string
		severity      domain.Severity
		open          bool
		updates       []PublishedUpdate
		moves         []StageMove
		severities    []SeverityChange
		due, onTime   int
		concludedMins int
	}{
		{name: "clock from entering Status Updates: first update late, then on time", severity: domain.SeverityCritical,
			updates: []PublishedUpdate{up(40), up(60), resolved(80)}, moves: []StageMove{move(0, domain.StageStatusUpdates)},
			due: 3, onTime: 2, concludedMins: 90},
		{name: "nothing ever published after entering Status Updates", severity: domain.SeverityHigh,
			moves: []StageMove{move(0, domain.StageStatusUpdates), move(100, domain.StageConcluded)}, due: 1, concludedMins: 100},
		{name: "back to diagnosis before anything was due stops the clock", severity: domain.SeverityHigh,
			moves: []StageMove{move(0, domain.StageStatusUpdates), back(20, domain.StageDiagnosisAction),
				move(200, domain.StageConcluded)}, concludedMins: 200},
		{name: "a failed fix restarts the clock from the move back", severity: domain.SeverityHigh,
			updates: []PublishedUpdate{up(0), resolved(30)},
			moves:   []StageMove{back(100, domain.StageDiagnosisAction), move(200, domain.StageConcluded)},
			due:     2, onTime: 1, concludedMins: 200},
		{name: "a superseded update's clock runs from the latest stage change", severity: domain.SeverityHigh,
			updates: []PublishedUpdate{up(0), resolved(150)},
			moves:   []StageMove{back(50, domain.StageDiagnosisAction), move(100, domain.StageStatusUpdates)},
			due:     1, onTime: 1, concludedMins: 160},
		{name: "reopened after conclusion", severity: domain.SeverityHigh,
			updates: []PublishedUpdate{up(0), resolved(50), resolved(320)},
			moves:   []StageMove{move(100, domain.StageConcluded), back(300, domain.StageDiagnosisAction), move(330, domain.StageConcluded)},
			due:     2, onTime: 2, concludedMins: 330},
		{name: "open, last update long ago", severity: domain.SeverityMedium, open: true,
			updates: []PublishedUpdate{up(0), up(45)}, due: 2, onTime: 1},
		{name: "open, next update not yet due", severity: domain.SeverityMedium, open: true,
			updates: []PublishedUpdate{{At: now.Add(-10 * time.Minute)}}},
		{name: "no updates, never in Status Updates", severity: domain.SeverityLow, concludedMins: 500},
		// Declared critical (30 min), reclassified high (60) at +50: the gap 0 → 45 was late under critical, 45 → 100
		// on time under high. Then critical again at +120: 100 → 140 is late.
		{name: "the cadence of the severity in force", severity: domain.SeverityCritical,
			updates: []PublishedUpdate{up(0), up(45), up(100), resolved(140)},
			severities: []SeverityChange{{At: mins(-5), Severity: domain.SeverityCritical},
				{At: mins(50), Severity: domain.SeverityHigh}, {At: mins(120), Severity: domain.SeverityCritical}},
			due: 3, onTime: 1, concludedMins: 150},
		{name: "as declared, whatever it is now", severity: domain.SeverityLow,
			updates:    []PublishedUpdate{up(0), resolved(45)},
			severities: []SeverityChange{{At: mins(-5), Severity: domain.SeverityCritical}},
			due:        1, concludedMins: 50},
	} {
		t.Run(c.name, func(t *testing.T) {
			i := Incident{Kind: domain.KindMajor, Severity: c.severity, Open: c.open, Updates: c.updates,
				StageMoves: c.moves, Severities: c.severities}
			if !c.open {
				i.ConcludedAt = mins(c.concludedMins)
			}
			due, onTime := cadence(i, workflow.DefaultCadence(), now)
			require.Equal(t, []int{c.due, c.onTime}, []int{due, onTime})
		})
	}
}
