package workflow

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
)

func TestUpdateClock(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	at := func(m int) *time.Time { v := t0.Add(time.Duration(m) * time.Minute); return &v }
	published := func(m int, st domain.UpdateStatus) Update {
		return Update{State: StatePublished, Status: st, PublishedAt: at(m)}
	}
	major := func(sev domain.Severity, stage domain.Stage, enteredMin int, updates ...Update) Incident {
		return Incident{Kind: domain.KindMajor, Stage: stage, StageEnteredAt: *at(enteredMin),
			Criteria: domain.Criteria{Severity: sev}, Updates: updates}
	}
	cases := []struct {
		name    string
		inc     Incident
		running bool
		due     int // minutes after t0
	}{
		{"standard incidents have no cadence", Incident{Kind: domain.KindStandard, Status: domain.StatusOpen}, false, 0},
		{"before Status Updates and before any update, no clock", major(domain.SeverityCritical, domain.StageDiagnosisAction, 5), false, 0},
		{"entering Status Updates with nothing published starts it", major(domain.SeverityCritical, domain.StageStatusUpdates, 20), true, 50},
		{"critical: 30 minutes after the last update", major(domain.SeverityCritical, domain.StageDiagnosisAction, 5,
			published(1, domain.UpdateInvestigating), published(12, domain.UpdateIdentified)), true, 42},
		{"other severities: 60 minutes", major(domain.SeverityHigh, domain.StageStatusUpdates, 5, published(10, domain.UpdateIdentified)), true, 70},
		{"resolved stops it", major(domain.SeverityCritical, domain.StageServiceRestoration, 30, published(40, domain.UpdateResolved)), false, 0},
		{"a failed fix restarts it from the move back", major(domain.SeverityCritical, domain.StageDiagnosisAction, 55,
			Update{State: StatePublished, Status: domain.UpdateResolved, PublishedAt: at(40), Superseded: true}), true, 85},
		{"concluded incidents have none", major(domain.SeverityCritical, domain.StageConcluded, 90, published(40, domain.UpdateMonitoring)), false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := c.inc.UpdateClock(DefaultCadence())
			require.Equal(t, c.running, clock.Running)
			if c.running {
				require.Equal(t, *at(c.due), clock.DueAt)
				require.False(t, clock.Overdue(clock.DueAt))
				require.True(t, clock.Overdue(clock.DueAt.Add(time.Second)))
			} else {
				require.False(t, clock.Overdue(t0.Add(24*time.Hour)))
			}
		})
	}
}

func TestCadenceOrDefault(t *testing.T) {
	require.Equal(t, DefaultCadence(), Cadence{}.OrDefault())
	set := Cadence{Critical: 15 * time.Minute, Other: 45 * time.Minute}
	require.Equal(t, set, set.OrDefault())
}
