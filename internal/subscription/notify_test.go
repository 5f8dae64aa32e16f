package subscription

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/maintenance"
)

func TestTeamsEscapeNeutralisesTheTextBlockMarkdown(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain text, 支付失败 — ok":         "plain text, 支付失败 — ok",
		"[click](https://evil.example)": `\[click\]\(https://evil.example\)`,
		"**bold** _it_ ~s~ `c`":         "\\*\\*bold\\*\\* \\_it\\_ \\~s\\~ \\`c\\`",
		"# h\n> q":                      "\\# h\n\\> q",
		"<b>x</b> <https://e.example>":  `\<b\>x\</b\> \<https://e.example\>`,
		`a\b \[`:                        `a\\b \\\[`,
		"- a\n  + b\n12. c\n3.5 d":      "\\- a\n  \\+ b\n12\\. c\n3.5 d",
	} {
		require.Equal(t, want, TeamsEscape(in), in)
	}
}

func TestIncidentNoticeLeavesComponentsUnderMaintenanceOut(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	ms := []maintenance.Maintenance{{ID: "m", Components: []string{"mail"}, StartsAt: start,
		EndsAt: start.Add(30 * time.Minute)}}
	require.Empty(t, coveredAt(ms, start.Add(-time.Nanosecond)))
	require.Equal(t, map[string]bool{"mail": true}, coveredAt(ms, start))
	require.Empty(t, coveredAt(ms, start.Add(30*time.Minute)), "the window is half-open")

	n := Notice{Impact: "critical", Components: []ComponentNotice{
		{Slug: "mail", From: domain.ComponentMajorOutage, To: domain.ComponentOperational},
		{Slug: "api", From: domain.ComponentOperational, To: domain.ComponentDegradedPerformance}}}
	got := withoutCovered(n, coveredAt(ms, start.Add(10*time.Minute)))
	require.Equal(t, []ComponentNotice{n.Components[1]}, got.Components)
	require.Equal(t, "minor", got.Impact)
	require.Equal(t, []string{"mail", "api"}, got.audience, "mail's subscribers still hear the update")
	require.Len(t, n.Components, 2, "the notice given is not changed")
}
