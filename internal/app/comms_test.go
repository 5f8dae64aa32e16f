package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/incident"
)

// outboxEnqueuer stands in for the delivery engine: it INSERTs each message into a table in the caller's
// transaction, so what the tests read is exactly what committed with its change.
type outboxEnqueuer struct{}

const outboxTable = `CREATE TABLE test_outbox (seq bigserial PRIMARY KEY, message jsonb NOT NULL)`

func (outboxEnqueuer) Enqueue(ctx context.Context, tx pgx.Tx, msgs []delivery.Message) error {
	rows := make([][]any, len(msgs))
	for i, m := range msgs {
		rows[i] = []any{m}
	}
	// COPY, as a real queue inserts a fan-out in one statement; the sequence keeps the order.
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"test_outbox"}, []string{"message"}, pgx.CopyFromRows(rows))
	return err
}

// testClock is a clock the test moves by hand; with tick set, each reading also moves it on by tick, so that acts in a
// row happen in order.
type testClock struct {
	mu   sync.Mutex
	t    time.Time
	tick time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.tick)
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// commsEnv is mim with a recording delivery engine and, when clock is set, a hand-moved clock.
type commsEnv struct {
	*env
	clock     *testClock
	configure func(*config.Config) // what setupComms changed, for a second process
	seen      int64                // the outbox sequence already read by newMessages
}

func setupComms(t testing.TB, clock *testClock, configure func(*config.Config)) *commsEnv {
	t.Helper()
	e := setup(t, func(cfg *config.Config, o *app.Options) {
		o.Enqueue = outboxEnqueuer{}
		if clock != nil {
			o.Now = clock.Now
		}
		if configure != nil {
			configure(cfg)
		}
	})
	_, err := e.app.DB.Pool.Exec(t.Context(), outboxTable)
	require.NoError(t, err)
	return &commsEnv{env: e, clock: clock, configure: configure}
}

// runPeriodic runs the named periodic task of a mim the way the delivery engine's leader will: through
// Comms.Periodic().
func runPeriodic(t testing.TB, a *app.App, name string) error {
	t.Helper()
	for _, p := range a.Comms.Periodic() {
		if p.Name == name {
			require.Equal(t, time.Minute, p.Every)
			return p.Run(context.Background())
		}
	}
	require.Failf(t, "no periodic task", "%s", name)
	return nil
}

// newMessages returns the messages committed since the last call.
func (e *commsEnv) newMessages() []delivery.Message {
	e.t.Helper()
	rows, err := e.app.DB.Pool.Query(context.Background(), `SELECT seq, message FROM test_outbox WHERE seq > $1 ORDER BY seq`, e.seen)
	require.NoError(e.t, err)
	defer rows.Close()
	var out []delivery.Message
	for rows.Next() {
		var m delivery.Message
		require.NoError(e.t, rows.Scan(&e.seen, &m))
		out = append(out, m)
	}
	require.NoError(e.t, rows.Err())
	return out
}

// recipients lists the messages' recipients of a topic, in order.
func recipients(msgs []delivery.Message, topic string) []string {
	var out []string
	for _, m := range msgs {
		if m.Topic == topic {
			out = append(out, m.To)
		}
	}
	return out
}

func ofTopic(msgs []delivery.Message, topic string) []delivery.Message {
	var out []delivery.Message
	for _, m := range msgs {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// Stakeholder lists hear each significant change of a major incident of a severity they cover, and nothing about
// edits that change nothing (BC-28); the technical bridge never appears in what they read.
func TestStakeholdersHearEachSignificantChangeOfAMajorIncident(t *testing.T) {
	t.Parallel()
	e := setupComms(t, nil, nil)
	e.do("admin", "POST", "/api/v1/stakeholder-lists", map[string]any{"name": "Leadership",
		"emails": []string{"CTO@example.com ", "vp-eng@example.com"}, "severities": []string{"critical", "high"}}, 201)
	e.do("admin", "POST", "/api/v1/stakeholder-lists", map[string]any{"name": "Low noise",
		"emails": []string{"low@example.com"}, "severities": []string{"low"}}, 201)

	key := e.declareMajor()
	msgs := e.newMessages()
	require.Equal(t, []string{"cto@example.com", "vp-eng@example.com"}, recipients(msgs, "stakeholder.update"))
	require.Contains(t, msgs[0].Subject, key)
	require.Contains(t, msgs[0].Text, "Declared a major incident")
	require.Contains(t, msgs[0].HTML, "EU control plane failure")
	require.Equal(t, "auto-generated", msgs[0].Headers["Auto-Submitted"], "no out-of-office replies")

	path := "/api/v1/incidents/" + key
	e.engage(key)
	e.do("ic", "PUT", path+"/bridges/technical", map[string]any{"url": "https://meet.example.com/secret-bridge",
		"invitees": []string{e.emails["tech"]}}, 200)
	e.do("ic", "POST", path+"/actions", map[string]any{"kind": "diagnosis", "description": "looking"}, 201)
	require.Empty(t, e.newMessages(), "roles, bridges and actions are not significant changes")

	e.do("ic", "POST", path+"/stage", map[string]any{"to": "mobilization"}, 200)
	msgs = e.newMessages()
	require.Len(t, msgs, 2)
	require.Contains(t, msgs[0].Text, "Stage: Detection & Declaration → Mobilization")

	e.do("ic", "POST", path+"/updates", map[string]any{"status": "investigating", "publish": true,
		"body": "We are investigating <b>failures</b>.", "components": map[string]string{"control-plane-eu": "major_outage"}}, 201)
	msgs = e.newMessages()
	require.Len(t, ofTopic(msgs, "stakeholder.update"), 2)
	m := msgs[0]
	require.Contains(t, m.Text, "Update published (investigating)")
	require.Contains(t, m.Text, "We are investigating <b>failures</b>.")
	require.Contains(t, m.HTML, "&lt;b&gt;failures&lt;/b&gt;", "user text is escaped in HTML mail")
	require.Contains(t, m.Text, "Incident Commander: Ic")
	require.Contains(t, m.Text, "http://status.test/incidents/"+key)
	for _, m := range msgs {
		require.NotContains(t, m.Text+m.HTML, "secret-bridge", "the technical bridge is for responders only")
	}

	e.do("tech", "POST", path+"/restoration", map[string]any{"kind": "workaround", "description": "restarted the workers"}, 403)
	e.do("ic", "POST", path+"/restoration", map[string]any{"kind": "workaround", "description": "restarted the workers"}, 200)
	msgs = e.newMessages()
	require.Len(t, msgs, 2)
	require.Contains(t, msgs[0].Text, "Restoration recorded (workaround): restarted the workers")

	// The same criteria again is an edit that changes nothing: no one hears of it.
	e.do("ic", "POST", path+"/classification", map[string]any{"severity": "critical", "urgency": "immediate",
		"scope": map[string]any{"regions": []string{"eu"}}, "business_impact": []string{"security_enforcement"}}, 200)
	require.Empty(t, e.newMessages())
	// A lower severity is a reclassification: the lists of the new severity hear of it.
	e.do("ic", "POST", path+"/classification", map[string]any{"severity": "high", "urgency": "immediate",
		"scope": map[string]any{"regions": []string{"eu", "us"}}, "reason": "contained"}, 200)
	msgs = e.newMessages()
	require.Len(t, msgs, 2)
	require.Contains(t, msgs[0].Text, "Reclassified: severity critical → high")

	// A standard incident is not the process's: its lists hear nothing.
	e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "slow", "severity": "low", "urgency": "low"}, 201)
	require.Empty(t, e.newMessages())

	// An incident found not major before mobilization is demoted: whoever heard it was major hears that it is not,
	// and nothing after.
	other := e.declareMajor()
	require.Len(t, e.newMessages(), 2)
	e.do("responder", "POST", "/api/v1/incidents/"+other+"/classification", map[string]any{"severity": "low",
		"urgency": "low", "reason": "a false alarm"}, 200)
	msgs = e.newMessages()
	require.Equal(t, []string{"cto@example.com", "vp-eng@example.com"}, recipients(msgs, "stakeholder.update"),
		"the lists of the severity it had; not the low list, which never heard of it")
	require.Contains(t, msgs[0].Text, "No longer a major incident")
	require.Contains(t, msgs[0].Text, "A standard incident, open")
	e.do("responder", "POST", "/api/v1/incidents/"+other+"/updates", map[string]any{"status": "investigating",
		"publish": true, "body": "Checking."}, 201)
	require.Empty(t, e.newMessages())
}

// The messages of a change commit with it: when the command fails after the reaction, none remain.
func TestInternalMessagesCommitWithTheChangeOrNotAtAll(t *testing.T) {
	t.Parallel()
	e := setupComms(t, nil, nil)
	e.do("admin", "POST", "/api/v1/stakeholder-lists", map[string]any{"name": "Leadership",
		"emails": []string{"cto@example.com"}, "severities": []string{"critical"}}, 201)
	key := e.declareMajor()
	require.Len(t, e.newMessages(), 1)
	e.engage(key)
	var fail sync.Map
	e.app.IncidentStore.AddReaction(func(ctx context.Context, tx pgx.Tx, c incident.Change) error {
		if _, ok := fail.Load("on"); ok {
			return errors.New("a later reaction failed")
		}
		return nil
	})
	fail.Store("on", true)
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/stage", map[string]any{"to": "mobilization"}, 500)
	require.Empty(t, e.newMessages(), "the stage change rolled back, and its message with it")
	fail.Delete("on")
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/stage", map[string]any{"to": "mobilization"}, 200)
	require.Len(t, e.newMessages(), 1)
}

// A publish retried with its Idempotency-Key is one publication: its internal messages go out once (BC-20).
func TestRetriedPublishSendsItsInternalMessagesOnce(t *testing.T) {
	t.Parallel()
	e := setupComms(t, nil, nil)
	e.do("admin", "POST", "/api/v1/stakeholder-lists", map[string]any{"name": "Leadership",
		"emails": []string{"cto@example.com"}, "severities": []string{"critical"}}, 201)
	e.do("admin", "POST", "/api/v1/ticket-systems", map[string]any{"name": "zendesk", "url": "https://hooks.example.com/zd"}, 201)
	key := e.declareMajor()
	e.engage(key)
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/tickets", map[string]any{"system": "zendesk", "ref": "ZD-1"}, 201)
	e.newMessages()
	e.publishUpdate(key, "We are investigating.", "publish-1")
	e.publishUpdate(key, "We are investigating.", "publish-1")
	msgs := e.newMessages()
	require.Equal(t, []string{"cto@example.com"}, recipients(msgs, "stakeholder.update"))
	require.Len(t, ofTopic(msgs, "ticket.update"), 1)
	body, err := json.Marshal(e.do("admin", "GET", "/api/v1/incidents/"+key+"/tickets", nil, 200))
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(body), `"status":"pending"`))
}

// The delivery engine may be given after the service is made (it is built with the service's periodic tasks): from
// then on, changes are told.
func TestEnqueuerGivenAfterwardsIsUsed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, err := e.app.DB.Pool.Exec(t.Context(), outboxTable)
	require.NoError(t, err)
	c := &commsEnv{env: e}
	e.do("admin", "POST", "/api/v1/stakeholder-lists", map[string]any{"name": "Leadership",
		"emails": []string{"cto@example.com"}, "severities": []string{"critical"}}, 201)
	e.declareMajor()
	require.Empty(t, c.newMessages(), "without an enqueuer nothing is sent")
	e.app.Comms.SetEnqueuer(outboxEnqueuer{})
	e.declareMajor()
	require.Equal(t, []string{"cto@example.com"}, recipients(c.newMessages(), "stakeholder.update"))
}
