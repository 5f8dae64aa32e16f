package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/drill"
	"github.com/mimhq/mim/internal/postincident"
)

// drilled runs the drill on a fresh mim and returns the concluded incident's key, with a token of its IC as
// "drill-ic".
func drilled(t testing.TB) (*env, string, map[string]any) {
	t.Helper()
	e := setup(t)
	var out bytes.Buffer
	require.NoError(t, drill.Run(context.Background(), drill.Options{BaseURL: e.srv.URL, Token: e.tokens["admin"],
		Out: &out, OpenReports: true}), out.String())
	inc := e.do("admin", "GET", "/api/v1/incidents", nil, 200)["incidents"].([]any)[0].(map[string]any)
	ic := inc["roles"].(map[string]any)["incident_commander"].(map[string]any)["email"].(string)
	tok, _, err := e.app.Accounts.CreateToken(context.Background(), ic, "t", nil)
	require.NoError(t, err)
	e.tokens["drill-ic"], e.emails["drill-ic"] = tok, ic
	return e, inc["key"].(string), inc
}

func parseAt(t *testing.T, v any) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, v.(string))
	require.NoError(t, err, v)
	return at
}

// The drill's conclusion opens a PIR drafted from the incident's own record and an RCA, with their due dates.
func TestDrillConclusionDraftsThePIRAndOpensTheRCA(t *testing.T) {
	t.Parallel()
	e, key, inc := drilled(t)
	concluded := parseAt(t, inc["milestones"].(map[string]any)["concluded"])

	pir := e.do("viewer", "GET", "/api/v1/incidents/"+key+"/pir", nil, 200)
	require.Equal(t, "draft", pir["status"])
	require.Equal(t, false, pir["overdue"])
	require.True(t, concluded.Equal(parseAt(t, pir["concluded_at"])))
	require.True(t, concluded.Add(24*time.Hour).Equal(parseAt(t, pir["target_at"])))
	require.True(t, concluded.Add(48*time.Hour).Equal(parseAt(t, pir["due_at"])))
	summary := pir["summary"].(string)
	require.Contains(t, summary, key)
	require.Contains(t, summary, inc["title"].(string))
	require.Contains(t, summary, "severity high")
	require.Contains(t, summary, "as customers were told")

	// Every drafted timeline item is traceable to the recorded event of that seq, at its time.
	entries := e.do("admin", "GET", "/api/v1/incidents/"+key+"/timeline", nil, 200)["entries"].([]any)
	bySeq := map[int]map[string]any{}
	for _, x := range entries {
		en := x.(map[string]any)
		bySeq[int(en["seq"].(float64))] = en
	}
	items := pir["timeline"].([]any)
	require.NotEmpty(t, items)
	kinds := map[string]bool{}
	for _, x := range items {
		it := x.(map[string]any)
		en, ok := bySeq[int(it["seq"].(float64))]
		require.True(t, ok, "timeline item %v names no recorded event", it)
		require.Equal(t, en["type"], it["event"])
		require.True(t, parseAt(t, en["at"]).Equal(parseAt(t, it["at"])))
		require.Equal(t, en["actor"].(map[string]any)["name"], it["actor"])
		require.NotEmpty(t, it["text"])
		kinds[it["event"].(string)] = true
	}
	for _, k := range []string{"declared", "ic_acknowledged", "update_published", "restoration_recorded",
		"verification_recorded", "stage_changed"} {
		require.True(t, kinds[k], "the PIR timeline has no %s", k)
	}
	steps := map[string]int{}
	for _, x := range pir["restoration_steps"].([]any) {
		s := x.(map[string]any)
		steps[s["kind"].(string)]++
		require.NotZero(t, s["seq"])
	}
	require.NotZero(t, steps["fix"], "the fix is a step taken")
	require.NotZero(t, steps["verification"], "the verification is a step taken")

	rca := e.do("viewer", "GET", "/api/v1/incidents/"+key+"/rca", nil, 200)
	require.Equal(t, "draft", rca["status"])
	require.Nil(t, rca["target_at"])
	want := postincident.RCADue(concluded, time.UTC, nil)
	require.True(t, want.Equal(parseAt(t, rca["due_at"])), "want %s, got %s", want, rca["due_at"])
	require.NotNil(t, rca["contributing_factors"])
}

// A PIR is edited (If-Match), reviewed and published; its customer-safe version reaches the public permalink with
// nothing internal, and one naming internal details is refused with nothing changed.
func TestPublishedPIRIsCustomerSafeOnThePermalink(t *testing.T) {
	t.Parallel()
	e, key, inc := drilled(t)
	path := "/api/v1/incidents/" + key + "/pir"
	pir := e.do("ic", "GET", path, nil, 200)
	ic := inc["roles"].(map[string]any)["incident_commander"].(map[string]any)

	// The internal summary names everything internal; the customer summary names nothing.
	pir["summary"] = "Internal: " + ic["name"].(string) + " ran the bridge https://meet.example.com/mim-drill-technical-bridge; ticket ZD-48213."
	pir["customer_summary"] = "Security policies stopped reaching the EU region after a certificate expired. We fixed the rotation."
	pir["timeline"] = append(pir["timeline"].([]any), map[string]any{"seq": 0, "at": "2026-01-01T00:00:00Z",
		"actor": "x", "text": "added by hand"})
	r := e.request("ic", "PUT", path, pir, map[string]string{"If-Match": `"99"`})
	require.Equal(t, 412, r.status, string(r.body))
	edited := e.do("ic", "PUT", path, pir, 200)
	require.Equal(t, "draft", edited["status"])
	require.EqualValues(t, 2, edited["version"])

	e.do("ic", "POST", path+"/publish", map[string]any{"public": true}, 409) // not reviewed
	reviewed := e.do("comms", "POST", path+"/review", nil, 200)
	require.Equal(t, "reviewed", reviewed["status"])
	require.Equal(t, "Comms", reviewed["reviewed_by"].(map[string]any)["name"])

	// A customer summary naming the IC's email is refused, and nothing changes.
	leaky := edited
	leaky["customer_summary"] = "Ask " + ic["email"].(string) + " for details."
	leakyEdit := e.request("ic", "PUT", path, leaky, nil)
	require.Equal(t, 200, leakyEdit.status) // an edit is fine; the publication is what is checked
	e.do("comms", "POST", path+"/review", nil, 200)
	bad := e.request("ic", "POST", path+"/publish", map[string]any{"public": true}, nil)
	require.Equal(t, 422, bad.status, string(bad.body))
	require.Equal(t, "application/problem+json", bad.header.Get("Content-Type"))
	require.Equal(t, "internal_detail", bad.json(t)["code"])
	still := e.do("ic", "GET", path, nil, 200)
	require.Equal(t, "reviewed", still["status"])
	require.Nil(t, still["public"])

	pir = e.do("ic", "GET", path, nil, 200)
	pir["customer_summary"] = "Security policies stopped reaching the EU region after a certificate expired. We fixed the rotation."
	e.do("ic", "PUT", path, pir, 200)
	e.do("comms", "POST", path+"/review", nil, 200)
	published := e.do("ic", "POST", path+"/publish", map[string]any{"public": true}, 200)
	require.Equal(t, "published", published["status"])
	require.NotNil(t, published["published_at"])
	require.Equal(t, pir["customer_summary"], published["public"].(map[string]any)["summary"])

	page := e.request("", "GET", "/incidents/"+key, nil, nil)
	require.Equal(t, 200, page.status)
	body := string(page.body)
	require.Contains(t, body, "Post Incident Report")
	require.Contains(t, body, "after a certificate expired")
	for _, secret := range internalFields(t, e, key) {
		require.NotContains(t, body, secret, "the permalink shows an internal field")
		require.NotContains(t, fmt.Sprint(published["public"]), secret)
	}
}

// internalFields lists what of the incident must never be public: people, emails, bridges, tickets, the internal
// PIR summary and timeline.
func internalFields(t *testing.T, e *env, key string) []string {
	t.Helper()
	inc := e.do("admin", "GET", "/api/v1/incidents/"+key, nil, 200)
	out := []string{"meet.example.com", "ZD-48213", "support.example.com", "Internal:", "added by hand"}
	roles := inc["roles"].(map[string]any)
	for _, r := range []string{"incident_commander", "communications_lead"} {
		h := roles[r].(map[string]any)
		out = append(out, h["email"].(string))
	}
	for _, r := range []string{"technical_leads", "executive_sponsors"} {
		for _, x := range roles[r].([]any) {
			if email, _ := x.(map[string]any)["email"].(string); email != "" {
				out = append(out, email)
			}
		}
	}
	return out
}

// An RCA's preventative actions become corrective actions; a problem grouping the incident cannot close while one
// is open; wont_do needs a reason.
func TestRCAActionsAreTrackedAndAProblemClosesOnlyWhenTheyAreFinished(t *testing.T) {
	t.Parallel()
	e, key, _ := drilled(t)
	path := "/api/v1/incidents/" + key + "/rca"
	rca := e.do("ic", "GET", path, nil, 200)
	rca["root_cause"] = "The certificate rotation job failed silently."
	rca["contributing_factors"] = []string{"no alert on rotation failure"}
	rca["preventative_actions"] = []map[string]any{
		{"kind": "code_fix", "title": "Fail the rotation job loudly", "owner": e.emails["tech"], "due_at": "2030-01-10T12:00:00Z"},
		{"kind": "infrastructure_change", "title": "Second distributor", "owner": e.emails["sponsor"], "due_at": "2030-02-01T12:00:00Z"},
	}
	saved := e.do("ic", "PUT", path, rca, 200)
	pas := saved["preventative_actions"].([]any)
	require.Len(t, pas, 2)
	ids := []string{}
	for _, x := range pas {
		id := x.(map[string]any)["action_id"].(string)
		require.NotEmpty(t, id)
		ids = append(ids, id)
	}
	// Saving the RCA again as read creates no new actions.
	again := e.do("ic", "PUT", path, saved, 200)
	require.Len(t, again["preventative_actions"].([]any), 2)
	actions := e.do("viewer", "GET", "/api/v1/corrective-actions?incident="+key, nil, 200)["corrective_actions"].([]any)
	require.Len(t, actions, 2)
	first := actions[0].(map[string]any)
	require.Equal(t, "Fail the rotation job loudly", first["title"])
	require.Equal(t, e.emails["tech"], first["owner"].(map[string]any)["email"])
	require.Equal(t, "open", first["status"])
	require.Equal(t, key, first["incident"])

	problem := e.do("ic", "POST", "/api/v1/problems", map[string]any{"title": "Certificate rotation",
		"known_error": "rotation fails silently", "workaround": "rotate by hand", "incidents": []string{key}}, 201)
	require.Equal(t, []any{key}, problem["incidents"])
	pid := problem["id"].(string)
	for _, id := range ids {
		e.do("tech", "PATCH", "/api/v1/corrective-actions/"+id, map[string]any{"problem": pid}, 200)
	}
	refused := e.request("ic", "PATCH", "/api/v1/problems/"+pid, map[string]any{"status": "closed"}, nil)
	require.Equal(t, 409, refused.status, string(refused.body))
	require.Equal(t, "problem_has_open_actions", refused.json(t)["code"])
	require.Equal(t, "open", e.do("ic", "GET", "/api/v1/problems/"+pid, nil, 200)["status"])

	e.do("tech", "PATCH", "/api/v1/corrective-actions/"+ids[0], map[string]any{"status": "in_progress"}, 200)
	done := e.do("tech", "PATCH", "/api/v1/corrective-actions/"+ids[0], map[string]any{"status": "done"}, 200)
	require.NotNil(t, done["done_at"])
	noReason := e.request("tech", "PATCH", "/api/v1/corrective-actions/"+ids[1], map[string]any{"status": "wont_do"}, nil)
	require.Equal(t, 422, noReason.status)
	require.Equal(t, "open", e.do("tech", "GET", "/api/v1/corrective-actions/"+ids[1], nil, 200)["status"])
	e.do("tech", "PATCH", "/api/v1/corrective-actions/"+ids[1], map[string]any{"status": "wont_do",
		"reason": "a second distributor is out of budget; monitoring covers it"}, 200)
	closed := e.do("ic", "PATCH", "/api/v1/problems/"+pid, map[string]any{"status": "closed"}, 200)
	require.Equal(t, "closed", closed["status"])
	require.NotNil(t, closed["closed_at"])
	require.EqualValues(t, 0, closed["open_actions"])

	// A closed problem takes no open action, new or reopened.
	late := e.request("ic", "POST", "/api/v1/corrective-actions", map[string]any{"problem": pid, "title": "late",
		"owner": e.emails["tech"], "due_at": "2030-01-01T00:00:00Z"}, nil)
	require.Equal(t, 409, late.status, string(late.body))
	require.Equal(t, "problem_closed", late.json(t)["code"])
	reopen := e.request("tech", "PATCH", "/api/v1/corrective-actions/"+ids[0], map[string]any{"status": "open"}, nil)
	require.Equal(t, 409, reopen.status)
	require.Equal(t, "done", e.do("tech", "GET", "/api/v1/corrective-actions/"+ids[0], nil, 200)["status"])

	// Editing the RCA's preventative action changes its corrective action's what, who and when, not its status.
	rca = e.do("ic", "GET", path, nil, 200)
	pa := rca["preventative_actions"].([]any)[0].(map[string]any)
	pa["title"], pa["owner"] = "Fail the rotation job loudly, and page", e.emails["responder"]
	e.do("ic", "PUT", path, rca, 200)
	synced := e.do("tech", "GET", "/api/v1/corrective-actions/"+ids[0], nil, 200)
	require.Equal(t, "Fail the rotation job loudly, and page", synced["title"])
	require.Equal(t, e.emails["responder"], synced["owner"].(map[string]any)["email"])
	require.Equal(t, "done", synced["status"])
}

// Reopening keeps the PIR and RCA and marks them needs_revision; concluding again creates no second ones.
func TestReopeningMarksTheReportsForRevisionWithoutDuplicates(t *testing.T) {
	t.Parallel()
	e, key, _ := drilled(t)
	base := "/api/v1/incidents/" + key
	before := e.do("ic", "GET", base+"/pir", nil, 200)
	e.do("drill-ic", "POST", base+"/stage", map[string]any{"to": "diagnosis_action", "reason": "errors again"}, 200)
	for _, doc := range []string{"pir", "rca"} {
		d := e.do("ic", "GET", base+"/"+doc, nil, 200)
		require.Equal(t, "needs_revision", d["status"], doc)
	}
	pir := e.do("ic", "GET", base+"/pir", nil, 200)
	require.Equal(t, before["summary"], pir["summary"], "reopening keeps what was written")
	require.Equal(t, before["due_at"], pir["due_at"])

	// Back through to conclusion: a fix, a verification, a resolved update, and the IC concludes again.
	e.do("drill-ic", "POST", base+"/stage", map[string]any{"to": "status_updates"}, 200)
	e.do("drill-ic", "POST", base+"/restoration", map[string]any{"kind": "fix", "description": "second fix"}, 200)
	e.do("drill-ic", "POST", base+"/stage", map[string]any{"to": "service_restoration"}, 200)
	e.do("drill-ic", "POST", base+"/verification", map[string]any{"method": "probes pass again"}, 200)
	up := e.do("drill-ic", "POST", base+"/updates", map[string]any{"status": "resolved", "body": "Resolved again.",
		"components": map[string]string{"control-plane-eu": "operational", "swg-eu": "operational"}}, 201)
	e.do("drill-ic", "POST", base+"/updates/"+up["created"].(map[string]any)["id"].(string)+"/approve", nil, 200)
	e.do("drill-ic", "POST", base+"/stage", map[string]any{"to": "concluded"}, 200)
	for _, doc := range []string{"pir", "rca"} {
		d := e.do("ic", "GET", base+"/"+doc, nil, 200)
		require.Equal(t, "needs_revision", d["status"], "concluding again keeps the %s as the reopening left it", doc)
		require.Equal(t, before["concluded_at"], e.do("ic", "GET", base+"/pir", nil, 200)["concluded_at"])
	}
	var n int
	require.NoError(t, e.app.DB.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM post_incident_documents d JOIN incidents i ON i.id = d.incident_id WHERE i.key = $1`,
		key).Scan(&n))
	require.Equal(t, 2, n)
}

// recordingEnqueuer keeps what it is handed in committed transactions only: the reminders exist exactly when the
// transaction that recorded them commits. (The delivery engine is a colleague's; this is its contract.)
type recordingEnqueuer struct{}

func (r *recordingEnqueuer) Enqueue(ctx context.Context, tx pgx.Tx, msgs []delivery.Message) error {
	// Written to a table in the caller's transaction, read back after commit.
	raw, err := json.Marshal(msgs)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS test_outbox (body jsonb NOT NULL)`); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO test_outbox (body) VALUES ($1)`, raw)
	return err
}

func (r *recordingEnqueuer) committed(t *testing.T, e *env) []delivery.Message {
	t.Helper()
	rows, err := e.app.DB.Pool.Query(context.Background(), `SELECT body FROM test_outbox`)
	if err != nil && strings.Contains(err.Error(), "does not exist") {
		return nil
	}
	require.NoError(t, err)
	var out []delivery.Message
	for rows.Next() {
		var raw []byte
		require.NoError(t, rows.Scan(&raw))
		var msgs []delivery.Message
		require.NoError(t, json.Unmarshal(raw, &msgs))
		out = append(out, msgs...)
	}
	require.NoError(t, rows.Err())
	return out
}

// Past their due times, the PIR, the RCA and an action are overdue in the API, on the dashboard, and their owners
// and the IC are reminded once each, however often the check runs.
func TestOverdueItemsAreFlaggedAndRemindedOnce(t *testing.T) {
	t.Parallel()
	e, key, inc := drilled(t)
	concluded := parseAt(t, inc["milestones"].(map[string]any)["concluded"])
	var mu sync.Mutex
	now := concluded.Add(time.Hour)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	e.app.PostIncident.Now = clock
	e.app.API.Now = clock
	outbox := &recordingEnqueuer{}
	e.app.PostIncident.Enqueuer = outbox
	ic := e.emails["drill-ic"]

	act := e.do("ic", "POST", "/api/v1/corrective-actions", map[string]any{"incident": key, "title": "Alert on rotation",
		"kind": "monitoring", "owner": e.emails["tech"], "due_at": concluded.Add(30 * time.Hour).Format(time.RFC3339)}, 201)
	require.Equal(t, false, act["overdue"])

	n, err := e.app.PostIncident.SendReminders(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "nothing is due yet")
	board := e.do("viewer", "GET", "/api/v1/deadlines?within=72h", nil, 200)
	require.Empty(t, board["overdue"])
	require.Len(t, board["due_soon"], 2, "the action and the PIR; the RCA is due later than 72 h")

	// 31 h after: the action is late, the PIR not yet (due at 48 h).
	set(concluded.Add(31 * time.Hour))
	require.Equal(t, true, e.do("tech", "GET", "/api/v1/corrective-actions/"+act["id"].(string), nil, 200)["overdue"])
	require.Equal(t, false, e.do("ic", "GET", "/api/v1/incidents/"+key+"/pir", nil, 200)["overdue"])
	n, err = e.app.PostIncident.SendReminders(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	msgs := outbox.committed(t, e)
	require.Len(t, msgs, 2, "the owner and the IC")
	require.ElementsMatch(t, []string{e.emails["tech"], ic}, []string{msgs[0].To, msgs[1].To})
	require.Equal(t, "action.overdue", msgs[0].Topic)
	require.Equal(t, delivery.ChannelEmail, msgs[0].Channel)
	require.Contains(t, msgs[0].Subject, "Alert on rotation")

	// 49 h after: the PIR is late too; the action is not reminded again.
	set(concluded.Add(49 * time.Hour))
	require.Equal(t, true, e.do("ic", "GET", "/api/v1/incidents/"+key+"/pir", nil, 200)["overdue"])
	board = e.do("viewer", "GET", "/api/v1/deadlines", nil, 200)
	require.Len(t, board["overdue"], 2)
	for range 3 {
		_, err = e.app.PostIncident.SendReminders(context.Background())
		require.NoError(t, err)
	}
	msgs = outbox.committed(t, e)
	require.Len(t, msgs, 3)
	require.Equal(t, "pir.overdue", msgs[2].Topic)
	require.Equal(t, ic, msgs[2].To)
	require.Equal(t, key, msgs[2].IncidentKey)

	// After the RCA's due time, it is reminded once as well; a finished action is never late.
	rcaDue := parseAt(t, e.do("ic", "GET", "/api/v1/incidents/"+key+"/rca", nil, 200)["due_at"])
	set(rcaDue.Add(time.Minute))
	_, err = e.app.PostIncident.SendReminders(context.Background())
	require.NoError(t, err)
	msgs = outbox.committed(t, e)
	require.Len(t, msgs, 4)
	require.Equal(t, "rca.overdue", msgs[3].Topic)
	done := e.do("tech", "PATCH", "/api/v1/corrective-actions/"+act["id"].(string), map[string]any{"status": "done"}, 200)
	require.Equal(t, false, done["overdue"])
}

// The evidence export of the drill incident holds every timeline event, the communications and the reports, as
// JSON and as Markdown.
func TestEvidenceOfTheDrillIncidentHoldsEveryEvent(t *testing.T) {
	t.Parallel()
	e, key, _ := drilled(t)
	e.do("ic", "POST", "/api/v1/corrective-actions", map[string]any{"incident": key, "title": "Alert on rotation",
		"owner": e.emails["tech"], "due_at": "2030-01-01T00:00:00Z"}, 201)
	entries := e.do("admin", "GET", "/api/v1/incidents/"+key+"/timeline", nil, 200)["entries"].([]any)
	require.Greater(t, len(entries), 20)

	ev := e.do("viewer", "GET", "/api/v1/incidents/"+key+"/evidence?format=json", nil, 200)
	got := ev["timeline"].([]any)
	require.Len(t, got, len(entries))
	for i := range entries {
		require.Equal(t, entries[i].(map[string]any)["seq"], got[i].(map[string]any)["seq"])
		require.Equal(t, entries[i].(map[string]any)["type"], got[i].(map[string]any)["type"])
	}
	require.Equal(t, key, ev["incident"].(map[string]any)["key"])
	require.NotEmpty(t, ev["incident"].(map[string]any)["classification"])
	require.NotEmpty(t, ev["communications"])
	require.Equal(t, "pir", ev["pir"].(map[string]any)["kind"])
	require.Equal(t, "rca", ev["rca"].(map[string]any)["kind"])
	require.Len(t, ev["corrective_actions"], 1)

	md := e.request("viewer", "GET", "/api/v1/incidents/"+key+"/evidence?format=md", nil, nil)
	require.Equal(t, 200, md.status)
	require.Equal(t, "text/markdown; charset=utf-8", md.header.Get("Content-Type"))
	text := string(md.body)
	for _, heading := range []string{"## Classification", "## Timeline", "## Communications", "## Post Incident Report",
		"## Root Cause Analysis", "## Corrective actions (1)", "Alert on rotation"} {
		require.Contains(t, text, heading)
	}
	for _, x := range entries {
		en := x.(map[string]any)
		require.Contains(t, text, fmt.Sprintf("| %d | %s | %s |", int(en["seq"].(float64)),
			parseAt(t, en["at"]).UTC().Format(time.RFC3339), en["type"]), "event %v missing from the Markdown", en["seq"])
	}
}

// Holidays are managed through the API, and an RCA's due date follows the calendar.
func TestHolidaysMoveTheRCADueDate(t *testing.T) {
	t.Parallel()
	e, key, inc := drilled(t)
	concluded := parseAt(t, inc["milestones"].(map[string]any)["concluded"])
	next := concluded.AddDate(0, 0, 1)
	for next.Weekday() == time.Saturday || next.Weekday() == time.Sunday {
		next = next.AddDate(0, 0, 1)
	}
	day := next.Format("2006-01-02")
	before := parseAt(t, e.do("ic", "GET", "/api/v1/incidents/"+key+"/rca", nil, 200)["due_at"])

	e.do("responder", "PUT", "/api/v1/holidays/"+day, map[string]any{"name": "Founders' day"}, 403)
	h := e.do("admin", "PUT", "/api/v1/holidays/"+day, map[string]any{"name": "Founders' day"}, 201)
	require.Equal(t, day, h["date"])
	e.do("admin", "PUT", "/api/v1/holidays/"+day, map[string]any{"name": "Founders' Day"}, 200)
	list := e.do("viewer", "GET", "/api/v1/holidays", nil, 200)["holidays"].([]any)
	require.Len(t, list, 1)
	require.Equal(t, "Founders' Day", list[0].(map[string]any)["name"])

	after := parseAt(t, e.do("ic", "GET", "/api/v1/incidents/"+key+"/rca", nil, 200)["due_at"])
	want := postincident.RCADue(concluded, time.UTC, postincident.Calendar{day: true})
	require.True(t, want.Equal(after), "want %s, got %s", want, after)
	require.True(t, after.After(before))

	e.do("admin", "DELETE", "/api/v1/holidays/"+day, nil, 204)
	e.do("admin", "DELETE", "/api/v1/holidays/"+day, nil, 404)
	require.True(t, before.Equal(parseAt(t, e.do("ic", "GET", "/api/v1/incidents/"+key+"/rca", nil, 200)["due_at"])))
}

// Bad input to the post-incident API is a problem document with a stable code, and nothing is stored.
func TestPostIncidentBadInputIsAProblemAndStoresNothing(t *testing.T) {
	t.Parallel()
	e, key, _ := drilled(t)
	base := "/api/v1/incidents/" + key
	pirBefore := e.do("ic", "GET", base+"/pir", nil, 200)
	rcaBefore := e.do("ic", "GET", base+"/rca", nil, 200)
	cases := []struct {
		who, method, path string
		body              any
		status            int
		code              string
	}{
		{"ic", "PUT", base + "/pir", `{"summary": ""}`, 422, "validation_failed"},
		{"ic", "PUT", base + "/pir", `{"summary": "x", "bogus": 1}`, 422, "validation_failed"},
		{"ic", "PUT", base + "/pir", `{"summary": "x", "restoration_steps": [{"kind": "magic", "description": "d"}]}`, 422, "validation_failed"},
		{"ic", "PUT", base + "/pir", `not json`, 400, ""},
		{"ic", "PUT", base + "/pir", `{"summary": "x", "timeline": [{"seq": 9999, "at": "2026-01-01T00:00:00Z", "actor": "a", "text": "forged"}]}`, 422, "validation_failed"},
		{"ic", "PUT", base + "/pir", `{"summary": "x", "timeline": [{"seq": 1, "event": "stage_changed", "at": "2026-01-01T00:00:00Z", "actor": "a", "text": "relabelled"}]}`, 422, "validation_failed"},
		{"ic", "PUT", base + "/pir", `{"summary": "x", "restoration_steps": [{"kind": "fix", "seq": 9999, "description": "d"}]}`, 422, "validation_failed"},
		{"viewer", "PUT", base + "/pir", `{"summary": "x"}`, 403, "forbidden"},
		{"ic", "PUT", base + "/rca", `{"preventative_actions": [{"kind": "code_fix", "title": "t", "owner": "nobody@example.com", "due_at": "2030-01-01T00:00:00Z"}]}`, 422, "validation_failed"},
		{"ic", "PUT", base + "/rca", `{"preventative_actions": [{"kind": "code_fix", "title": "t", "owner": "tech@example.com"}]}`, 422, "validation_failed"},
		{"ic", "PUT", base + "/rca", `{"preventative_actions": [{"kind": "code_fix", "title": "t", "owner": "tech@example.com", "due_at": "tomorrow"}]}`, 400, ""},
		{"ic", "POST", base + "/rca/review", nil, 409, "rca_incomplete"},
		{"ic", "POST", base + "/pir/publish", nil, 409, "not_reviewed"},
		{"ic", "GET", "/api/v1/incidents/INC-999/pir", nil, 404, "not_found"},
		{"ic", "GET", base + "/evidence?format=pdf", nil, 422, "validation_failed"},
		{"ic", "POST", "/api/v1/corrective-actions", `{"title": "t", "owner": "tech@example.com", "due_at": "2030-01-01T00:00:00Z"}`, 422, "validation_failed"},
		{"ic", "POST", "/api/v1/corrective-actions", `{"incident": "` + key + `", "title": "t", "owner": "tech@example.com", "due_at": "2030-01-01"}`, 422, "validation_failed"},
		{"ic", "POST", "/api/v1/corrective-actions", `{"incident": "INC-404", "title": "t", "owner": "tech@example.com", "due_at": "2030-01-01T00:00:00Z"}`, 422, "validation_failed"},
		{"ic", "POST", "/api/v1/corrective-actions", `{"incident": "` + key + `", "title": "t", "owner": "tech@example.com", "due_at": "2030-01-01T00:00:00Z", "status": "finished"}`, 422, "validation_failed"},
		{"viewer", "POST", "/api/v1/corrective-actions", `{"incident": "` + key + `", "title": "t", "owner": "tech@example.com", "due_at": "2030-01-01T00:00:00Z"}`, 403, "forbidden"},
		{"ic", "GET", "/api/v1/corrective-actions/not-a-uuid", nil, 404, "not_found"},
		{"ic", "GET", "/api/v1/corrective-actions?status=finished", nil, 422, "validation_failed"},
		{"ic", "POST", "/api/v1/problems", `{"title": ""}`, 422, "validation_failed"},
		{"ic", "POST", "/api/v1/problems", `{"title": "p", "incidents": ["INC-404"]}`, 422, "validation_failed"},
		{"ic", "POST", "/api/v1/problems", `{"title": "p", "status": "closed"}`, 422, "validation_failed"},
		{"admin", "PUT", "/api/v1/holidays/2026-13-01", `{"name": "x"}`, 422, "validation_failed"},
		{"admin", "PUT", "/api/v1/holidays/2026-12-25", `{"name": ""}`, 422, "validation_failed"},
		{"ic", "GET", "/api/v1/deadlines?within=forever", nil, 422, "validation_failed"},
	}
	for _, c := range cases {
		r := e.request(c.who, c.method, c.path, c.body, nil)
		require.Equal(t, c.status, r.status, "%s %s %v: %s", c.method, c.path, c.body, r.body)
		require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), "%s %s", c.method, c.path)
		if c.code != "" {
			require.Equal(t, c.code, r.json(t)["code"], "%s %s: %s", c.method, c.path, r.body)
		}
	}
	require.Equal(t, pirBefore["version"], e.do("ic", "GET", base+"/pir", nil, 200)["version"])
	require.Equal(t, rcaBefore["version"], e.do("ic", "GET", base+"/rca", nil, 200)["version"])
	require.Empty(t, e.do("ic", "GET", "/api/v1/corrective-actions", nil, 200)["corrective_actions"])
	require.Empty(t, e.do("ic", "GET", "/api/v1/problems", nil, 200)["problems"])
	require.Empty(t, e.do("ic", "GET", "/api/v1/holidays", nil, 200)["holidays"])
}

// The whole drill (make drill) takes the reports through: the RCA's action tracked to done, both published, the
// PIR's customer-safe version on the permalink.
func TestDrillPublishesTheReportsAndTracksTheActionToDone(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var out bytes.Buffer
	require.NoError(t, drill.Run(context.Background(), drill.Options{BaseURL: e.srv.URL, Token: e.tokens["admin"],
		Out: &out}), out.String())
	require.Contains(t, out.String(), "the corrective action was tracked to done")
	key := e.do("admin", "GET", "/api/v1/incidents", nil, 200)["incidents"].([]any)[0].(map[string]any)["key"].(string)
	actions := e.do("admin", "GET", "/api/v1/corrective-actions?incident="+key, nil, 200)["corrective_actions"].([]any)
	require.Len(t, actions, 1)
	require.Equal(t, "done", actions[0].(map[string]any)["status"])
	require.Equal(t, "published", e.do("admin", "GET", "/api/v1/incidents/"+key+"/pir", nil, 200)["status"])
	require.Equal(t, "published", e.do("admin", "GET", "/api/v1/incidents/"+key+"/rca", nil, 200)["status"])
	page := e.request("", "GET", "/incidents/"+key, nil, nil)
	require.Contains(t, string(page.body), "now monitor its renewal")
	for _, secret := range internalFields(t, e, key)[:3] {
		require.NotContains(t, string(page.body), secret)
	}
	// Nothing is late right after a drill.
	board := e.do("admin", "GET", "/api/v1/deadlines", nil, 200)
	require.Empty(t, board["overdue"])
}

// Publishing a customer-safe report runs the OnPublished hook in its transaction: the hook sees the report, and its
// failure rolls the publication back.
func TestPublishingCustomerSafeRunsTheHookInItsTransaction(t *testing.T) {
	t.Parallel()
	e, key, _ := drilled(t)
	path := "/api/v1/incidents/" + key + "/rca"
	rca := e.do("ic", "GET", path, nil, 200)
	rca["root_cause"] = "An expired certificate."
	rca["customer_summary"] = "A certificate expired; renewals are now monitored."
	e.do("ic", "PUT", path, rca, 200)
	e.do("comms", "POST", path+"/review", nil, 200)

	var seen []postincident.PublicReport
	fail := true
	e.app.PostIncident.OnPublished = func(ctx context.Context, tx pgx.Tx, r postincident.PublicReport) error {
		seen = append(seen, r)
		if fail {
			return fmt.Errorf("subscriber fan-out unavailable")
		}
		return nil
	}
	r := e.request("ic", "POST", path+"/publish", map[string]any{"public": true}, nil)
	require.Equal(t, 500, r.status)
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	require.Equal(t, "reviewed", e.do("ic", "GET", path, nil, 200)["status"], "the failed hook rolled the publication back")
	require.NotContains(t, string(e.request("", "GET", "/incidents/"+key, nil, nil).body), "renewals are now monitored")

	fail = false
	e.do("ic", "POST", path+"/publish", map[string]any{"public": true}, 200)
	require.Len(t, seen, 2)
	require.Equal(t, postincident.KindRCA, seen[1].Kind)
	require.Equal(t, key, seen[1].IncidentKey)
	require.Equal(t, "A certificate expired; renewals are now monitored.", seen[1].Summary)
	page := string(e.request("", "GET", "/incidents/"+key, nil, nil).body)
	require.Contains(t, page, "Root Cause Analysis")
	require.Contains(t, page, "renewals are now monitored")

	// Publishing again without public withdraws the customer-safe version.
	rca = e.do("ic", "GET", path, nil, 200)
	e.do("ic", "PUT", path, rca, 200)
	e.do("comms", "POST", path+"/review", nil, 200)
	withdrawn := e.do("ic", "POST", path+"/publish", nil, 200)
	require.Nil(t, withdrawn["public"])
	require.NotContains(t, string(e.request("", "GET", "/incidents/"+key, nil, nil).body), "renewals are now monitored")
}

// DocumentDeadlines gives the metrics the PIRs and RCAs concluded in a period, with when they were published.
func TestDocumentDeadlinesForOnTimeRates(t *testing.T) {
	t.Parallel()
	e, key, inc := drilled(t)
	concluded := parseAt(t, inc["milestones"].(map[string]any)["concluded"])
	ctx := context.Background()
	ds, err := e.app.PostIncident.DocumentDeadlines(ctx, concluded.Add(-time.Hour), concluded.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, ds, 2)
	require.Equal(t, "pir", ds[0].Kind)
	require.Equal(t, "rca", ds[1].Kind)
	for _, d := range ds {
		require.Equal(t, key, d.IncidentKey)
		require.True(t, concluded.Equal(d.ConcludedAt))
		require.Nil(t, d.PublishedAt)
	}
	require.True(t, concluded.Add(48*time.Hour).Equal(ds[0].DueAt))
	// Published, edited and published again: the first publication is what counts.
	path := "/api/v1/incidents/" + key + "/pir"
	e.do("comms", "POST", path+"/review", nil, 200)
	first := parseAt(t, e.do("ic", "POST", path+"/publish", nil, 200)["published_at"])
	e.do("ic", "PUT", path, e.do("ic", "GET", path, nil, 200), 200)
	e.do("comms", "POST", path+"/review", nil, 200)
	again := parseAt(t, e.do("ic", "POST", path+"/publish", nil, 200)["published_at"])
	require.True(t, again.After(first))
	ds, err = e.app.PostIncident.DocumentDeadlines(ctx, concluded.Add(-time.Hour), concluded.Add(time.Hour))
	require.NoError(t, err)
	require.NotNil(t, ds[0].PublishedAt)
	require.True(t, first.Equal(*ds[0].PublishedAt), "first publication %s, got %s", first, ds[0].PublishedAt)
	require.Nil(t, ds[1].PublishedAt)

	none, err := e.app.PostIncident.DocumentDeadlines(ctx, concluded.Add(time.Hour), concluded.Add(2*time.Hour))
	require.NoError(t, err)
	require.Empty(t, none)

	// Stale versions of actions and problems are refused too.
	act := e.do("ic", "POST", "/api/v1/corrective-actions", map[string]any{"incident": key, "title": "t",
		"owner": e.emails["tech"], "due_at": "2030-01-01T00:00:00Z"}, 201)
	r := e.request("ic", "PATCH", "/api/v1/corrective-actions/"+act["id"].(string), map[string]any{"title": "u"},
		map[string]string{"If-Match": `"7"`})
	require.Equal(t, 412, r.status)
	require.Equal(t, "t", e.do("ic", "GET", "/api/v1/corrective-actions/"+act["id"].(string), nil, 200)["title"])
	p := e.do("ic", "POST", "/api/v1/problems", map[string]any{"title": "p"}, 201)
	r = e.request("ic", "PATCH", "/api/v1/problems/"+p["id"].(string), map[string]any{"title": "q"},
		map[string]string{"If-Match": `"7"`})
	require.Equal(t, 412, r.status)
}

// BC-12: a customer summary carrying markup reaches the permalink as sanitised Markdown: no event handler, no
// javascript: URL, no script or svg element.
func TestPublishedReportOnThePermalinkIsSanitised(t *testing.T) {
	t.Parallel()
	e, key, _ := drilled(t)
	path := "/api/v1/incidents/" + key + "/rca"
	rca := e.do("ic", "GET", path, nil, 200)
	rca["root_cause"] = "An expired certificate."
	rca["customer_summary"] = "Cause <img src=x onerror=alert(1)> and <a href=\"javascript:alert(2)\">here</a>, " +
		"[md link](javascript:alert(3)) <svg onload=alert(4)> <script>alert(5)</script> **renewals monitored**"
	e.do("ic", "PUT", path, rca, 200)
	e.do("comms", "POST", path+"/review", nil, 200)
	e.do("ic", "POST", path+"/publish", map[string]any{"public": true}, 200)

	doc, _ := e.page("/incidents/"+key, 200)
	var report *html.Node
	walkHTML(doc, func(n *html.Node) {
		if attrOf(n, "data-testid") == "incident-report" {
			report = n
		}
	})
	require.NotNil(t, report, "the report is on the permalink")
	walkHTML(report, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		require.NotContains(t, []string{"script", "svg", "img", "iframe"}, n.Data)
		for _, a := range n.Attr {
			require.False(t, strings.HasPrefix(strings.ToLower(a.Key), "on"), "live %s attribute", a.Key)
			require.NotContains(t, strings.ToLower(a.Val), "javascript:")
		}
	})
	require.Len(t, byTag(report, "strong"), 1, "Markdown is rendered")
}

// BC-34: of twenty edits made from the same version, exactly one wins; the others are 412 and change nothing.
func TestRacingPIREditsExactlyOneWins(t *testing.T) {
	t.Parallel()
	e, key, _ := drilled(t)
	path := "/api/v1/incidents/" + key + "/pir"
	pir := e.do("ic", "GET", path, nil, 200)
	version := fmt.Sprintf(`"%v"`, pir["version"])
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Go(func() {
			body := map[string]any{"summary": fmt.Sprintf("edit %d", i), "customer_summary": "",
				"timeline": pir["timeline"], "restoration_steps": pir["restoration_steps"]}
			statuses[i] = e.request("ic", "PUT", path, body, map[string]string{"If-Match": version}).status
		})
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		require.Contains(t, []int{200, 412}, s)
		if s == 200 {
			won++
		}
	}
	require.Equal(t, 1, won)
	after := e.do("ic", "GET", path, nil, 200)
	require.EqualValues(t, pir["version"].(float64)+1, after["version"])
}

// A holiday's date is a real date in the years 1 to 9999; anything else is refused and nothing is stored (year 0
// was once stored as 0001-01-01, a duplicate).
func TestHolidayDateOutsideTheYears1To9999IsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, day := range []string{"0000-01-01", "0000-12-31", "2026-02-30", "2026-1-01", "10000-01-01"} {
		p := e.do("admin", "PUT", "/api/v1/holidays/"+day, map[string]any{"name": "Nowhen"}, 422)
		require.Equal(t, "validation_failed", p["code"], day)
	}
	require.Empty(t, e.do("viewer", "GET", "/api/v1/holidays", nil, 200)["holidays"])
	e.do("admin", "DELETE", "/api/v1/holidays/0000-01-01", nil, 404)
	e.do("admin", "PUT", "/api/v1/holidays/0001-01-01", map[string]any{"name": "Year one"}, 201)
	e.do("admin", "DELETE", "/api/v1/holidays/0000-01-01", nil, 404)
	require.Len(t, e.do("viewer", "GET", "/api/v1/holidays", nil, 200)["holidays"], 1)
}

// Concluding closes the technical bridge on the timeline (bridge_closed before the stage change, at the same
// instant); the war room still shows the closed bridge's URL and when it was opened and closed.
func TestConcludingPutsTheBridgeClosingOnTheTimelineAndTheWarRoomShowsIt(t *testing.T) {
	t.Parallel()
	e, key, inc := drilled(t)
	tl := e.do("admin", "GET", "/api/v1/incidents/"+key+"/timeline", nil, 200)["entries"].([]any)
	var types []string
	closedAt, concludedAt := "", ""
	for _, en := range tl {
		m := en.(map[string]any)
		types = append(types, m["type"].(string))
		if m["type"] == "bridge_closed" {
			closedAt = m["at"].(string)
		}
		if m["type"] == "stage_changed" && strings.Contains(fmt.Sprint(m["data"]), "concluded") {
			concludedAt = m["at"].(string)
		}
	}
	require.Contains(t, types, "bridge_opened")
	require.Contains(t, types, "bridge_closed", "the conclusion closed the bridge: %v", types)
	require.NotEmpty(t, concludedAt)
	require.True(t, parseAt(t, closedAt).Equal(parseAt(t, concludedAt)))
	last := 0
	for i, ty := range types {
		if ty == "stage_changed" {
			last = i
		}
	}
	require.Less(t, slices.Index(types, "bridge_closed"), last, "closed before the conclusion")
	bridge := inc["bridges"].(map[string]any)["technical"].(map[string]any)
	require.NotEmpty(t, bridge["closed_at"])

	room := e.signIn("admin").get("/app/incidents/" + key)
	require.Equal(t, http.StatusOK, room.status)
	closed := room.text(`[data-testid="closed-technical"]`)
	require.Contains(t, closed, "closed")
	require.Contains(t, closed, bridge["url"].(string))
	require.Contains(t, closed, "opened")
	require.Zero(t, room.doc.Find(`[data-testid="join-technical"]`).Length(), "a closed bridge is not joined")
}
