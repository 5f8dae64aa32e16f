package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/drill"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// publishAt publishes an update as the IC at the given time.
func (e *commsEnv) publishAt(key string, at time.Time, status, body string) {
	e.t.Helper()
	e.clock.Set(at)
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": status, "publish": true,
		"body": body, "components": map[string]string{"control-plane-eu": "major_outage"}}, 201)
}

// secondProcess starts another mim over the same database and configuration, as a second process or a restart
// would.
func (e *commsEnv) secondProcess() *app.App {
	e.t.Helper()
	cfg := config.Config{PageName: "Test status", BaseURL: "http://status.test", TimeZone: time.UTC}
	if e.configure != nil {
		e.configure(&cfg)
	}
	a, err := app.New(context.Background(), cfg, e.url, slog.New(slog.DiscardHandler),
		app.Options{Enqueue: outboxEnqueuer{}, Now: e.clock.Now})
	require.NoError(e.t, err)
	e.t.Cleanup(a.Close)
	return a
}

// The cadence clock with an injected clock: the API shows when the next update is due and when it is overdue; the
// IC and Communications Lead are reminded once per due time — not again on a second run, a second process or a
// restart — and a new update resets the clock. Stakeholders get a summary each cadence interval.
func TestOverdueUpdatesAreShownAndRemindedOncePerDueTime(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: t0}
	e := setupComms(t, clock, nil)
	e.do("admin", "POST", "/api/v1/stakeholder-lists", map[string]any{"name": "Leadership",
		"emails": []string{"cto@example.com"}, "severities": []string{"critical"}}, 201)
	key := e.declareMajor()
	path := "/api/v1/incidents/" + key
	e.engage(key)
	e.do("ic", "PUT", path+"/roles/communications_lead", map[string]any{"user": e.emails["comms"]}, 200)
	e.do("ic", "POST", path+"/stage", map[string]any{"to": "mobilization"}, 200)
	inc := e.do("admin", "GET", path, nil, 200)
	require.NotContains(t, inc, "update_due_at", "no update is expected before the first one or Status Updates")
	require.Equal(t, false, inc["update_overdue"])

	e.publishAt(key, t0.Add(time.Minute), "investigating", "We are investigating.")
	e.newMessages()
	due := t0.Add(31 * time.Minute)
	inc = e.do("admin", "GET", path, nil, 200)
	require.Equal(t, due.Format(time.RFC3339), inc["update_due_at"])
	require.Equal(t, false, inc["update_overdue"])
	clock.Set(due)
	require.Equal(t, false, e.do("admin", "GET", path, nil, 200)["update_overdue"], "due is not yet overdue")
	clock.Set(due.Add(time.Second))
	require.Equal(t, true, e.do("admin", "GET", path, nil, 200)["update_overdue"])
	list := e.do("admin", "GET", "/api/v1/incidents?open=true", nil, 200)["incidents"].([]any)
	require.Equal(t, true, list[0].(map[string]any)["update_overdue"], "the list shows it too")

	require.NoError(t, runPeriodic(t, e.app, "comms.cadence"))
	msgs := e.newMessages()
	require.Equal(t, []string{"ic@example.com", "comms@example.com"}, recipients(msgs, "reminder.update_overdue"))
	require.Contains(t, ofTopic(msgs, "reminder.update_overdue")[0].Subject, "Update overdue since 09:31 UTC")
	require.Equal(t, []string{"cto@example.com"}, recipients(msgs, "stakeholder.update"), "the 30-minute summary")
	require.Contains(t, ofTopic(msgs, "stakeholder.update")[0].Subject, "summary at 09:30 UTC")

	require.NoError(t, runPeriodic(t, e.app, "comms.cadence"))
	clock.Set(due.Add(5 * time.Minute))
	require.NoError(t, runPeriodic(t, e.app, "comms.cadence"))
	other := e.secondProcess()
	require.NoError(t, runPeriodic(t, other, "comms.cadence"))
	require.Empty(t, e.newMessages(), "one reminder per due time, whoever runs the check and however often")

	// A new update resets the clock.
	e.publishAt(key, t0.Add(32*time.Minute), "identified", "We found the cause.")
	e.newMessages()
	inc = e.do("admin", "GET", path, nil, 200)
	require.Equal(t, t0.Add(62*time.Minute).Format(time.RFC3339), inc["update_due_at"])
	require.Equal(t, false, inc["update_overdue"])
	clock.Set(t0.Add(61 * time.Minute))
	require.NoError(t, runPeriodic(t, e.app, "comms.cadence"))
	msgs = e.newMessages()
	require.Empty(t, recipients(msgs, "reminder.update_overdue"))
	require.Equal(t, []string{"cto@example.com"}, recipients(msgs, "stakeholder.update"), "the 60-minute summary")

	// Overdue again: two processes checking at once still remind once.
	clock.Set(t0.Add(62*time.Minute + time.Second))
	var wg sync.WaitGroup
	for _, a := range []*app.App{e.app, other} {
		wg.Add(1)
		go func() { defer wg.Done(); require.NoError(t, runPeriodic(t, a, "comms.cadence")) }()
	}
	wg.Wait()
	require.Equal(t, []string{"ic@example.com", "comms@example.com"}, recipients(e.newMessages(), "reminder.update_overdue"))
}

// A concluded incident is over: its conclusion is the last thing stakeholders hear, edits after it and the cadence
// send nothing (BC-28).
func TestConcludedIncidentSendsNothingMore(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: time.Now().UTC(), tick: time.Millisecond}
	e := setupComms(t, clock, nil)
	for _, sev := range []string{"critical", "high", "medium", "low"} {
		e.do("admin", "POST", "/api/v1/stakeholder-lists", map[string]any{"name": "All " + sev,
			"emails": []string{sev + "@example.com"}, "severities": []string{sev}}, 201)
	}
	var out bytes.Buffer
	require.NoError(t, drill.Run(context.Background(), drill.Options{BaseURL: e.srv.URL, Token: e.tokens["admin"], Out: &out}), out.String())
	msgs := e.newMessages()
	last := ofTopic(msgs, "stakeholder.update")
	require.NotEmpty(t, last)
	inc0 := e.do("admin", "GET", "/api/v1/incidents", nil, 200)["incidents"].([]any)[0].(map[string]any)
	bridge := inc0["bridges"].(map[string]any)["technical"].(map[string]any)["url"].(string)
	for _, m := range msgs {
		require.NotContains(t, m.Text+m.HTML+string(m.Body), bridge, "a whole incident's messages never carry the technical bridge")
	}
	require.Contains(t, last[len(last)-1].Text, "→ MI Conclusion")

	inc := e.do("admin", "GET", "/api/v1/incidents", nil, 200)["incidents"].([]any)[0].(map[string]any)
	key := inc["key"].(string)
	require.Equal(t, "concluded", inc["stage"])
	require.NotContains(t, inc, "update_due_at")
	e.do("admin", "POST", "/api/v1/incidents/"+key+"/classification", map[string]any{"severity": "low", "urgency": "low"}, 200)
	e.do("admin", "POST", "/api/v1/incidents/"+key+"/tickets", map[string]any{"system": "zendesk", "ref": "late"}, 201)
	clock.Set(clock.Now().Add(6 * time.Hour))
	require.NoError(t, runPeriodic(t, e.app, "comms.cadence"))
	require.NoError(t, runPeriodic(t, e.app, "comms.ack_timeout"))
	require.Empty(t, e.newMessages())
}

// A major incident no IC acknowledges within MIM_ACK_TIMEOUT (10 minutes) escalates by itself to the executive
// sponsors, once: not at 9:59, not again later; one whose IC acknowledged never does.
func TestUnacknowledgedMajorIncidentEscalatesAutomaticallyOnce(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: t0}
	e := setupComms(t, clock, func(c *config.Config) { c.ChatWebhookURL = "https://hooks.slack.test/services/T/B/X" })
	e.do("admin", "POST", "/api/v1/resolver-groups", map[string]any{"name": "Executive Sponsors", "email": "execs@example.com"}, 201)
	quiet := e.declareMajor()
	e.do("admin", "POST", "/api/v1/incidents/"+quiet+"/roles/executive_sponsor", map[string]any{"user": e.emails["sponsor"]}, 200)
	handled := e.declareMajor()
	e.engage(handled)
	e.newMessages()

	clock.Set(t0.Add(10*time.Minute - time.Second))
	require.NoError(t, runPeriodic(t, e.app, "comms.ack_timeout"))
	require.Empty(t, e.newMessages())
	require.Empty(t, e.do("admin", "GET", "/api/v1/incidents/"+quiet, nil, 200)["escalations"])

	clock.Set(t0.Add(10 * time.Minute))
	require.NoError(t, runPeriodic(t, e.app, "comms.ack_timeout"))
	esc := e.do("admin", "GET", "/api/v1/incidents/"+quiet, nil, 200)["escalations"].([]any)
	require.Len(t, esc, 1)
	require.Equal(t, true, esc[0].(map[string]any)["automatic"])
	require.Equal(t, "hierarchical", esc[0].(map[string]any)["kind"])
	msgs := e.newMessages()
	require.ElementsMatch(t, []string{"execs@example.com", "sponsor@example.com", "https://hooks.slack.test/services/T/B/X"},
		recipients(msgs, "escalation"))
	for _, m := range msgs {
		require.Equal(t, quiet, m.IncidentKey)
	}

	// A standard incident promoted at 0:20 waits for its IC from then: not escalated at 0:29:59, escalated at 0:30,
	// once even with two processes checking at the same moment.
	promoted := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "API latency", "severity": "high",
		"urgency": "normal", "components": []string{"api"}}, 201)["key"].(string)
	clock.Set(t0.Add(20 * time.Minute))
	e.do("responder", "POST", "/api/v1/incidents/"+promoted+"/classification", map[string]any{"severity": "high",
		"urgency": "immediate", "scope": map[string]any{"regions": []string{"eu", "us"}}, "reason": "two regions"}, 200)
	clock.Set(t0.Add(30*time.Minute - time.Second))
	require.NoError(t, runPeriodic(t, e.app, "comms.ack_timeout"))
	require.Empty(t, e.do("admin", "GET", "/api/v1/incidents/"+promoted, nil, 200)["escalations"])
	e.newMessages()

	clock.Set(t0.Add(30 * time.Minute))
	other := e.secondProcess()
	var wg sync.WaitGroup
	for _, a := range []*app.App{e.app, other} {
		wg.Add(1)
		go func() { defer wg.Done(); require.NoError(t, runPeriodic(t, a, "comms.ack_timeout")) }()
	}
	wg.Wait()
	require.Equal(t, []string{"execs@example.com", "https://hooks.slack.test/services/T/B/X"}, recipients(e.newMessages(), "escalation"),
		"the promoted incident escalates once; the first one not again")
	require.Len(t, e.do("admin", "GET", "/api/v1/incidents/"+promoted, nil, 200)["escalations"], 1)
	require.Len(t, e.do("admin", "GET", "/api/v1/incidents/"+quiet, nil, 200)["escalations"], 1)
	require.Empty(t, e.do("admin", "GET", "/api/v1/incidents/"+handled, nil, 200)["escalations"])
}
