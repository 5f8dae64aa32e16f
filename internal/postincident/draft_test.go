package postincident_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/postincident"
	"github.com/mimhq/mim/internal/workflow"
)

func entry(t *testing.T, seq int, typ workflow.EventType, at time.Time, actor string, data any) incident.TimelineEntry {
	t.Helper()
	raw, err := json.Marshal(data)
	require.NoError(t, err)
	return incident.TimelineEntry{Seq: seq, Type: typ, At: at, Actor: domain.Actor{Name: actor}, Data: raw}
}

func TestDraftPIRTakesKeyFactsAndStepsFromTheTimeline(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	published := t0.Add(10 * time.Minute)
	inc := workflow.Incident{Key: "INC-9", Title: "Payments down", Kind: domain.KindMajor,
		Criteria:   domain.Criteria{Severity: domain.SeverityCritical, Urgency: domain.UrgencyImmediate},
		Components: []string{"payments"},
		Updates: []workflow.Update{
			{ID: "u1", State: workflow.StatePublished, Status: domain.UpdateInvestigating, Body: "We are looking into failed payments.\nMore soon.", PublishedAt: &published},
			{ID: "u2", State: workflow.StateDraft, Status: domain.UpdateIdentified, Body: "DRAFT internal wording"},
		},
		Restorations: []workflow.Restoration{{ID: "r1", Kind: domain.RestorationWorkaround, Reverted: true},
			{ID: "r2", Kind: domain.RestorationFix}},
	}
	entries := []incident.TimelineEntry{
		entry(t, 1, workflow.EventDeclared, t0, "Monitor", workflow.Declared{Title: "Payments down",
			Criteria: domain.Criteria{Severity: domain.SeverityCritical, Urgency: domain.UrgencyImmediate}}),
		entry(t, 2, workflow.EventUpdateDrafted, t0.Add(5*time.Minute), "Comms", workflow.UpdateDrafted{ID: "u1"}),
		entry(t, 3, workflow.EventUpdatePublished, published, "IC", workflow.UpdatePublished{ID: "u1"}),
		entry(t, 4, workflow.EventActionLogged, t0.Add(12*time.Minute), "Tech", workflow.ActionLogged{ID: "a1",
			Kind: domain.ActionDiagnosis, Description: "db pool exhausted"}),
		entry(t, 5, workflow.EventRestorationRecorded, t0.Add(20*time.Minute), "Tech", workflow.RestorationRecorded{
			ID: "r1", Kind: domain.RestorationWorkaround, Description: "raised the pool"}),
		entry(t, 6, workflow.EventRestorationRecorded, t0.Add(40*time.Minute), "Tech", workflow.RestorationRecorded{
			ID: "r2", Kind: domain.RestorationFix, Description: "fixed the leak"}),
		entry(t, 7, workflow.EventVerificationRecorded, t0.Add(50*time.Minute), "Tech", workflow.VerificationRecorded{
			Method: "synthetic payments pass"}),
		entry(t, 8, workflow.EventTicketLogged, t0.Add(51*time.Minute), "mim", workflow.TicketLogged{}),
	}
	p := postincident.DraftPIR(inc, entries)

	var seqs []int
	for _, it := range p.Timeline {
		seqs = append(seqs, it.Seq)
	}
	require.Equal(t, []int{1, 3, 4, 5, 6, 7}, seqs, "drafts and ticket logs are not key facts")
	require.Equal(t, "Public update (investigating): We are looking into failed payments.", p.Timeline[1].Text)
	require.Equal(t, "IC", p.Timeline[1].Actor)

	var kinds []postincident.StepKind
	for _, s := range p.RestorationSteps {
		kinds = append(kinds, s.Kind)
	}
	require.Equal(t, []postincident.StepKind{postincident.StepAction, postincident.StepWorkaround,
		postincident.StepFix, postincident.StepVerification}, kinds)
	require.Contains(t, p.RestorationSteps[1].Description, "did not hold", "a reverted workaround says so")
	require.NotContains(t, p.RestorationSteps[2].Description, "did not hold")

	require.Contains(t, p.Summary, "INC-9 — Payments down")
	require.Contains(t, p.Summary, "severity critical, urgency immediate")
	require.Contains(t, p.Summary, "We are looking into failed payments.")
	require.NotContains(t, p.Summary+p.CustomerSummary, "DRAFT", "unpublished drafts are nobody's summary")
	require.True(t, strings.HasPrefix(p.CustomerSummary, "Payments down."))
	require.NoError(t, postincident.ValidatePIR(&p), "a draft is a valid PIR")
}

func TestEvidenceMarkdownKeepsEveryEventOnItsOwnRow(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	ev := postincident.NewEvidence(workflow.Incident{Key: "INC-3", Title: "T"}, []incident.TimelineEntry{
		entry(t, 1, workflow.EventActionLogged, at, "A | B", workflow.ActionLogged{Description: "pipe | and\nnewline `tick`"}),
		entry(t, 2, workflow.EventStageChanged, at, "C", workflow.StageChanged{To: domain.StageConcluded}),
	}, nil, nil, nil, at)
	md := ev.Markdown()
	var rows []string
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| 1 |") || strings.HasPrefix(line, "| 2 |") {
			rows = append(rows, line)
		}
	}
	require.Len(t, rows, 2, md)
	require.Contains(t, rows[0], `A \| B`)
	require.Contains(t, md, "## Timeline (2 events)")
	require.Contains(t, md, "## Post Incident Report\n\nNone")
}
