package postincident_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postincident"
	"github.com/mimhq/mim/internal/workflow"
)

func internalIncident() workflow.Incident {
	return workflow.Incident{
		Key: "INC-7", Title: "EU outage",
		Roles: workflow.Roles{
			IncidentCommander:  &workflow.RoleHolder{Person: domain.Person{UserID: "u1", Name: "Ada Lovelace", Email: "ada@corp.example"}},
			CommunicationsLead: &workflow.RoleHolder{Person: domain.Person{UserID: "u2", Name: "Grace Hopper", Email: "grace@corp.example"}},
			TechnicalLeads:     []workflow.RoleHolder{{Group: "network-oncall"}},
		},
		Bridges: map[domain.BridgeKind]*workflow.Bridge{"technical": {URL: "https://meet.corp.example/war-room",
			Invitees: []string{"oncall@corp.example"}}},
		Tickets: []workflow.Ticket{{System: "jira", Ref: "OPS-4411", URL: "https://jira.corp.example/OPS-4411"}},
	}
}

// The customer-safe version holds the title and the customer summary only: no internal field of the document or
// the incident can reach it, and a summary naming one is refused.
func TestCustomerSafeVersionHoldsNothingInternal(t *testing.T) {
	t.Parallel()
	inc := internalIncident()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	doc := postincident.Document{Kind: postincident.KindPIR, IncidentKey: "INC-7", PIR: &postincident.PIR{
		Summary:         "Ada Lovelace led on https://meet.corp.example/war-room; see OPS-4411",
		CustomerSummary: "Requests in the EU failed for 40 minutes. We added capacity.",
		Timeline:        []postincident.TimelineItem{{Seq: 3, Actor: "Grace Hopper", Text: "bridge opened"}},
		RestorationSteps: []postincident.Step{{Kind: postincident.StepFix, By: "network-oncall",
			Description: "rerouted"}},
	}}
	r, err := postincident.CustomerSafe(doc, inc, now)
	require.NoError(t, err)
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	for _, secret := range []string{"Ada", "Grace", "corp.example", "war-room", "OPS-4411", "network-oncall",
		"rerouted", "bridge opened"} {
		require.NotContains(t, string(raw), secret)
	}
	require.Equal(t, "EU outage", r.Title)
	require.Equal(t, now, r.PublishedAt)

	for _, leak := range []string{"Thanks to ada lovelace.", "Mail oncall@corp.example.", "Tracked in ops-4411.",
		"Join https://meet.corp.example/war-room", "The network-oncall team fixed it.", "write to help@vendor.io"} {
		doc.PIR.CustomerSummary = leak
		_, err := postincident.CustomerSafe(doc, inc, now)
		require.Error(t, err, leak)
		require.Equal(t, "internal_detail", domain.AsError(err).Code, leak)
	}
	doc.PIR.CustomerSummary = "  "
	_, err = postincident.CustomerSafe(doc, inc, now)
	require.Equal(t, "validation_failed", domain.AsError(err).Code)
}

// Spacing, zero-width and full-width characters, a URL without its scheme or with a trailing slash, a ticket's
// number: none of them gets an internal detail past the customer-safe check.
func TestCustomerSafeCheckIsNotFooledByHowANameIsWritten(t *testing.T) {
	t.Parallel()
	inc := workflow.Incident{Key: "INC-9", Title: "Drill",
		Roles: workflow.Roles{IncidentCommander: &workflow.RoleHolder{Person: domain.Person{UserID: "u1",
			Name: "Drill Incident Commander", Email: "drill-ic@example.com"}}},
		Bridges: map[domain.BridgeKind]*workflow.Bridge{"technical": {
			URL: "https://meet.example.com/mim-drill-technical-bridge"}},
		Tickets: []workflow.Ticket{{System: "zendesk", Ref: "ZD-48213", URL: "https://support.example.com/tickets/48213"}},
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	doc := postincident.Document{Kind: postincident.KindPIR, IncidentKey: "INC-9", PIR: &postincident.PIR{}}
	for name, leak := range map[string]string{
		"double spaces":        "Thanks to Drill  Incident  Commander.",
		"newline":              "Thanks to Drill Incident\nCommander.",
		"tab and nbsp":         "Thanks to Drill\tIncident\u00a0Commander.",
		"zero-width space":     "Thanks to Dri\u200bll Incident Commander.",
		"zero-width joiner":    "Thanks to Drill Inci\u200ddent Commander.",
		"full-width letter":    "Thanks to Ｄrill Incident Commander.",
		"upper case":           "THANKS TO DRILL INCIDENT COMMANDER.",
		"bridge, no scheme":    "Join meet.example.com/mim-drill-technical-bridge now.",
		"bridge, slash":        "Join https://meet.example.com/mim-drill-technical-bridge/ now.",
		"bridge, http":         "Join http://meet.example.com/mim-drill-technical-bridge",
		"ticket number":        "Ticket 48213 is closed.",
		"ticket ref":           "Tracked in zd-48213.",
		"ticket URL no scheme": "Ticket 48213 at support.example.com/tickets/48213",
		"ticket URL slash":     "See support.example.com/tickets/48213/ for more.",
		"full-width email":     "Write to drill-ic＠example.com.",
	} {
		doc.PIR.CustomerSummary = leak
		_, err := postincident.CustomerSafe(doc, inc, now)
		require.Error(t, err, name)
		require.Equal(t, "internal_detail", domain.AsError(err).Code, name)
	}
	// Ordinary words are not mistaken for a ticket: a figure that only contains its number is not it.
	for _, ok := range []string{"Requests failed for 40 minutes; 1482130 were retried.", "Drill incident handled."} {
		doc.PIR.CustomerSummary = ok
		_, err := postincident.CustomerSafe(doc, inc, now)
		require.NoError(t, err, ok)
	}
}
