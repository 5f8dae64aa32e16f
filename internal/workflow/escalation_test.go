package workflow_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// The automatic escalation (no IC acknowledged in time) is mim's alone, and happens once per incident however often
// the timer that asks for it runs.
func TestAutomaticEscalationIsMimsAloneAndHappensOnce(t *testing.T) {
	t.Parallel()
	s := declaredMajor(t)
	auto := workflow.Escalate{Kind: domain.EscalationHierarchical, Target: "executive sponsors",
		Reason: "no Incident Commander acknowledged within 10m0s", Automatic: true}

	de := refuse(t, s, admin, auto)
	require.Equal(t, domain.ErrForbidden, de.Kind, "a person cannot claim an automatic escalation")

	s = run(t, s, domain.SystemActor, auto)
	require.Len(t, s.Escalations, 1)
	require.True(t, s.Escalations[0].Automatic)
	require.Equal(t, domain.EscalationHierarchical, s.Escalations[0].Kind)

	de = refuse(t, s, domain.SystemActor, auto)
	require.Equal(t, domain.ErrConflict, de.Kind)
	require.Equal(t, "already_escalated", de.Code)

	// People still escalate by hand after it.
	s = run(t, s, admin, workflow.Escalate{Kind: domain.EscalationFunctional, Target: "dba", Reason: "db is slow"})
	require.Len(t, s.Escalations, 2)
}

// A standard incident promoted to major enters Detection & Declaration at its promotion: what counts from the stage
// (the wait for an acknowledged IC) starts then.
func TestPromotionEntersTheFirstStageWhenItHappens(t *testing.T) {
	t.Parallel()
	s := declaredStandard(t)
	require.Equal(t, t1, s.StageEnteredAt)
	later := t1.Add(3 * time.Hour)
	s = runAt(t, s, responder, workflow.Reclassify{Criteria: majorCriteria, Classification: classification(majorCriteria),
		Reason: "spread"}, later)
	require.Equal(t, domain.KindMajor, s.Kind)
	require.Equal(t, domain.StageDetectionDeclaration, s.Stage)
	require.Equal(t, later, s.StageEnteredAt)
}
