package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/drill"
	"github.com/mimhq/mim/internal/incident"
)

// The drill is the whole process through the REST API: all six stages, with the public JSON checked after each step.
func TestDrillTakesAMajorIncidentThroughAllSixStages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var out bytes.Buffer
	err := drill.Run(context.Background(), drill.Options{BaseURL: e.srv.URL, Token: e.tokens["admin"], Out: &out})
	require.NoError(t, err, out.String())
	require.Contains(t, out.String(), "drill passed")

	// The timeline replays to the stored state, and nothing internal reached the public side.
	list := e.do("admin", "GET", "/api/v1/incidents", nil, 200)["incidents"].([]any)
	require.Len(t, list, 1)
	key := list[0].(map[string]any)["key"].(string)
	rec, err := e.app.Incidents.Get(context.Background(), key)
	require.NoError(t, err)
	entries, err := e.app.Incidents.Timeline(context.Background(), key)
	require.NoError(t, err)
	replayed, err := incident.Replay(entries)
	require.NoError(t, err)
	want, _ := json.Marshal(rec.State)
	got, _ := json.Marshal(replayed)
	require.JSONEq(t, string(want), string(got))
	require.Equal(t, rec.Version, entries[len(entries)-1].Version)

	for _, path := range []string{"/", "/api/v2/summary.json", "/api/v2/incidents.json", "/api/v2/components.json"} {
		body := string(e.request("", "GET", path, nil, nil).body)
		for _, secret := range []string{"meet.example.com", "ZD-48213", "policy-distribution-sre", "@example.com", "certificate rotation on the config store"} {
			require.NotContains(t, body, secret, "%s leaks %q", path, secret)
		}
	}
}

func TestBadInputGetsAProblemAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	before := e.do("admin", "GET", "/api/v1/incidents/"+key, nil, 200)
	valid := `{"title":"x","components":["api"],"severity":"low","urgency":"low","scope":{},"business_impact":[]}`
	cases := []struct {
		name, who, method, path, body string
		header                        map[string]string
		status                        int
		code                          string
	}{
		{"malformed JSON", "admin", "POST", "/api/v1/incidents", `{name:"Test", status: 1}`, nil, 400, "invalid_json"},
		{"empty body", "admin", "POST", "/api/v1/incidents", ``, nil, 400, "invalid_json"},
		{"two values", "admin", "POST", "/api/v1/incidents", valid + valid, nil, 400, "invalid_json"},
		{"array body", "admin", "POST", "/api/v1/incidents", `[]`, nil, 400, "invalid_json"},
		{"unknown field", "admin", "POST", "/api/v1/incidents", `{"title":"x","severity":"low","urgency":"low","sevrity":"x"}`, nil, 422, "validation_failed"},
		{"unknown severity", "admin", "POST", "/api/v1/incidents", `{"title":"x","severity":"sev1","urgency":"low"}`, nil, 422, "validation_failed"},
		{"unknown urgency", "admin", "POST", "/api/v1/incidents", `{"title":"x","severity":"low","urgency":"asap"}`, nil, 422, "validation_failed"},
		{"unknown component", "admin", "POST", "/api/v1/incidents", `{"title":"x","severity":"low","urgency":"low","components":["nope"]}`, nil, 422, "validation_failed"},
		{"unknown business impact", "admin", "POST", "/api/v1/incidents", `{"title":"x","severity":"low","urgency":"low","business_impact":["fun"]}`, nil, 422, "validation_failed"},
		{"wrong type", "admin", "POST", "/api/v1/incidents", `{"title":5,"severity":"low","urgency":"low"}`, nil, 422, "validation_failed"},
		{"day/month date", "admin", "POST", "/api/v1/incidents", `{"title":"x","severity":"low","urgency":"low","detected_at":"07/11/2015 12:20"}`, nil, 422, "validation_failed"},
		{"trailing data date", "admin", "POST", "/api/v1/incidents", `{"title":"x","severity":"low","urgency":"low","detected_at":"2015-11-07T12:20:00+01:00 extra"}`, nil, 422, "validation_failed"},
		{"empty date", "admin", "POST", "/api/v1/incidents", `{"title":"x","severity":"low","urgency":"low","detected_at":""}`, nil, 422, "validation_failed"},
		{"zone-less date", "admin", "POST", "/api/v1/incidents", `{"title":"x","severity":"low","urgency":"low","detected_at":"2026-03-10T20:00:00"}`, nil, 422, "validation_failed"},
		{"future detection", "admin", "POST", "/api/v1/incidents", `{"title":"x","severity":"low","urgency":"low","detected_at":"2999-01-01T00:00:00Z"}`, nil, 422, "validation_failed"},
		{"text/plain", "admin", "POST", "/api/v1/incidents", valid, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type"},
		{"too large", "admin", "POST", "/api/v1/incidents", `{"title":"` + strings.Repeat("x", 2<<20) + `"}`, nil, 413, "body_too_large"},
		{"no token", "", "POST", "/api/v1/incidents", valid, nil, 401, "unauthorized"},
		{"wrong token", "", "POST", "/api/v1/incidents", valid, map[string]string{"Authorization": "Bearer mim_wrong"}, 401, "unauthorized"},
		{"viewer", "viewer", "POST", "/api/v1/incidents", valid, nil, 403, "forbidden"},
		{"wrong method", "admin", "DELETE", "/api/v1/incidents", ``, nil, 405, "method_not_allowed"},
		{"unknown path", "admin", "GET", "/api/v1/nothing-here", ``, nil, 404, "not_found"},
		{"unknown incident", "admin", "GET", "/api/v1/incidents/INC-999999", ``, nil, 404, "not_found"},
		{"unknown stage", "admin", "POST", "/api/v1/incidents/" + key + "/stage", `{"to":"done"}`, nil, 422, "validation_failed"},
		{"unknown role", "ic", "PUT", "/api/v1/incidents/" + key + "/roles/boss", `{"user":"ic@example.com"}`, nil, 422, "validation_failed"},
		{"unknown user", "responder", "PUT", "/api/v1/incidents/" + key + "/roles/incident_commander", `{"user":"nobody@example.com"}`, nil, 422, "validation_failed"},
		{"unknown component status", "admin", "POST", "/api/v1/incidents/" + key + "/updates", `{"status":"investigating","body":"b","components":{"api":"on_fire"}}`, nil, 422, "validation_failed"},
		{"unknown update status", "admin", "POST", "/api/v1/incidents/" + key + "/updates", `{"status":"panicking","body":"b"}`, nil, 422, "validation_failed"},
		{"bad If-Match", "admin", "POST", "/api/v1/incidents/" + key + "/stage", `{"to":"mobilization"}`, map[string]string{"If-Match": "yesterday"}, 400, "invalid_if_match"},
		{"stale If-Match", "admin", "POST", "/api/v1/incidents/" + key + "/actions", `{"kind":"fix","description":"x"}`, map[string]string{"If-Match": `"0"`}, 412, "version_mismatch"},
		{"guards unmet", "admin", "POST", "/api/v1/incidents/" + key + "/stage", `{"to":"mobilization"}`, nil, 409, "guards_unmet"},
		{"skipping a stage", "admin", "POST", "/api/v1/incidents/" + key + "/stage", `{"to":"concluded"}`, nil, 403, "forbidden"},
		{"bad cursor", "admin", "GET", "/api/v1/incidents?cursor=garbage", ``, nil, 422, "validation_failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := e.request(tc.who, tc.method, tc.path, body, tc.header)
			require.Equal(t, tc.status, r.status, string(r.body))
			require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
			p := r.json(t)
			require.Equal(t, tc.code, p["code"], string(r.body))
			require.EqualValues(t, tc.status, p["status"])
			require.NotEmpty(t, p["detail"])
			if tc.status == 422 && tc.code == "validation_failed" {
				require.NotEmpty(t, p["errors"], "a validation error names its fields")
			}
		})
	}
	require.Equal(t, 1, e.incidentCount(), "no bad request created an incident")
	after := e.do("admin", "GET", "/api/v1/incidents/"+key, nil, 200)
	require.Equal(t, before["version"], after["version"], "no bad request bumped the version")

	// Errors name the allowed values.
	r := e.request("admin", "POST", "/api/v1/incidents", `{"title":"x","severity":"sev1","urgency":"low"}`, nil)
	require.Contains(t, string(r.body), "critical, high, medium, low")
	r = e.request("admin", "POST", "/api/v1/incidents", `{"title":"x","severity":"low","urgency":"low","components":["nope"]}`, nil)
	require.Contains(t, string(r.body), "control-plane-eu")
	r = e.request("admin", "POST", "/api/v1/incidents/"+key+"/stage", `{"to":"done"}`, nil)
	require.Contains(t, string(r.body), "detection_declaration, mobilization")
}

func TestTwentyRacingTransitionsExactlyOneWins(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	e.engage(key)
	version := e.do("ic", "GET", "/api/v1/incidents/"+key, nil, 200)["version"].(float64)

	for _, withIfMatch := range []bool{false, true} {
		target := "mobilization"
		if withIfMatch {
			target = "diagnosis_action"
			e.do("ic", "PUT", "/api/v1/incidents/"+key+"/bridges/technical", map[string]any{"url": "https://meet.example.com/x"}, 200)
			e.do("ic", "PUT", "/api/v1/incidents/"+key+"/roles/communications_lead", map[string]any{"user": e.emails["comms"]}, 200)
			inc := e.do("ic", "POST", "/api/v1/incidents/"+key+"/roles/technical_lead", map[string]any{"user": e.emails["tech"]}, 200)
			version = inc["version"].(float64)
		}
		statuses := make([]int, 20)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				h := map[string]string{}
				if withIfMatch {
					h["If-Match"] = fmt.Sprintf(`"%d"`, int(version))
				}
				statuses[i] = e.request("ic", "POST", "/api/v1/incidents/"+key+"/stage", map[string]any{"to": target}, h).status
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, s := range statuses {
			if s == 200 {
				wins++
			} else if withIfMatch {
				require.Equal(t, http.StatusPreconditionFailed, s)
			} else {
				require.Equal(t, http.StatusConflict, s)
			}
		}
		require.Equal(t, 1, wins, "exactly one of 20 racing transitions to %s wins: %v", target, statuses)
	}
	tl := e.do("ic", "GET", "/api/v1/incidents/"+key+"/timeline", nil, 200)["entries"].([]any)
	moves := 0
	for _, en := range tl {
		if en.(map[string]any)["type"] == "stage_changed" {
			moves++
		}
	}
	require.Equal(t, 2, moves, "one timeline entry per winning transition")
}

func TestTimesKeepTheirInstantAndComeBackWithAZone(t *testing.T) {
	t.Parallel()
	e := setup(t)
	inc := e.do("responder", "POST", "/api/v1/incidents", map[string]any{
		"title": "Checkout slow", "severity": "low", "urgency": "low", "components": []string{"api"},
		"detected_at": "2026-03-10T20:00:00+01:00", "impact_started_at": "2026-03-10T19:30:00+01:00",
	}, 201)
	ms := inc["milestones"].(map[string]any)
	require.Equal(t, "2026-03-10T19:00:00Z", ms["detected"])
	require.Equal(t, "2026-03-10T18:30:00Z", ms["impact_started"])
	for i := 0; i < 3; i++ { // reading again never drifts
		again := e.do("admin", "GET", "/api/v1/incidents/"+inc["key"].(string), nil, 200)
		require.Equal(t, "2026-03-10T19:00:00Z", again["milestones"].(map[string]any)["detected"])
	}
	// Impact cannot start after detection, and a milestone cannot be set out of order.
	r := e.request("responder", "POST", "/api/v1/incidents", map[string]any{"title": "x", "severity": "low", "urgency": "low",
		"detected_at": "2026-03-10T20:00:00Z", "impact_started_at": "2026-03-10T21:00:00Z"}, nil)
	require.Equal(t, 422, r.status)
	require.Contains(t, string(r.body), "impact_started_at")
	r = e.request("responder", "POST", "/api/v1/incidents/"+inc["key"].(string)+"/milestones",
		map[string]any{"milestone": "impact_started", "at": "2026-03-10T19:30:00Z"}, nil)
	require.Equal(t, 422, r.status, string(r.body))
	require.Contains(t, string(r.body), "cannot be after detected")
}

func TestIdempotencyKeyGivesOneIncidentAndTheSameAnswer(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := map[string]any{"title": "DNS", "severity": "low", "urgency": "low"}
	h := map[string]string{"Idempotency-Key": "create-dns-1"}
	first := e.request("responder", "POST", "/api/v1/incidents", body, h)
	require.Equal(t, 201, first.status, string(first.body))
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			again := e.request("responder", "POST", "/api/v1/incidents", body, h)
			require.Equal(t, 201, again.status)
			require.Equal(t, string(first.body), string(again.body))
			require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
		}()
	}
	wg.Wait()
	require.Equal(t, 1, e.incidentCount())
	other := e.request("responder", "POST", "/api/v1/incidents", map[string]any{"title": "Other", "severity": "low", "urgency": "low"}, h)
	require.Equal(t, 422, other.status)
	require.Equal(t, "idempotency_key_reused", other.json(t)["code"])
	require.Equal(t, 1, e.incidentCount())
}

// Repeated alerts fold into the open incident; once it is over, the same alert opens a new incident linked to it as a
// recurrence (field case BC-27), and acting on the concluded one is refused.
func TestAlertsFoldIntoOpenIncidentsOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alert := map[string]any{"title": "api-health down", "severity": "medium", "urgency": "high", "components": []string{"api"},
		"dedup_key": "api-health"}
	first := e.do("responder", "POST", "/api/v1/incidents", alert, 201)
	key := first["key"].(string)
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); e.do("responder", "POST", "/api/v1/incidents", alert, 200) }()
	}
	wg.Wait()
	inc := e.do("responder", "GET", "/api/v1/incidents/"+key, nil, 200)
	require.EqualValues(t, 6, inc["alert_count"])
	require.NotNil(t, inc["last_alert_at"])
	require.Equal(t, 1, e.incidentCount())

	e.do("responder", "POST", "/api/v1/incidents/"+key+"/status", map[string]any{"to": "resolved"}, 200)
	again := e.do("responder", "POST", "/api/v1/incidents/"+key+"/status", map[string]any{"to": "resolved"}, 409)
	require.Equal(t, "already_in_status", again["code"])
	next := e.do("responder", "POST", "/api/v1/incidents", alert, 201)
	require.NotEqual(t, key, next["key"])
	require.Equal(t, key, next["recurrence_of"])
	require.EqualValues(t, 1, next["alert_count"])

	// Racing declarations of a brand-new alert open one incident.
	fresh := map[string]any{"title": "db down", "severity": "low", "urgency": "low", "dedup_key": "db-health"}
	keys := make(chan string, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.request("responder", "POST", "/api/v1/incidents", fresh, nil)
			require.Contains(t, []int{200, 201}, r.status, string(r.body))
			keys <- r.json(t)["key"].(string)
		}()
	}
	wg.Wait()
	close(keys)
	seen := map[string]bool{}
	for k := range keys {
		seen[k] = true
	}
	require.Len(t, seen, 1)
}

func TestStandardIncidentIsPromotedByReclassification(t *testing.T) {
	t.Parallel()
	e := setup(t)
	inc := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "API latency", "severity": "high",
		"urgency": "normal", "components": []string{"api"}}, 201)
	require.Equal(t, "standard", inc["kind"])
	require.Equal(t, "open", inc["status"])
	key := inc["key"].(string)
	cl := inc["classification"].(map[string]any)
	require.Equal(t, false, cl["severity"].(map[string]any)["met"])
	require.NotEmpty(t, cl["severity"].(map[string]any)["reason"])
	require.EqualValues(t, 1, cl["policy_version"])

	e.do("responder", "PUT", "/api/v1/incidents/"+key+"/roles/incident_commander", map[string]any{"user": e.emails["ic"]}, 409)
	promoted := e.do("responder", "POST", "/api/v1/incidents/"+key+"/classification", map[string]any{
		"severity": "high", "urgency": "immediate", "scope": map[string]any{"regions": []string{"eu", "us"}},
		"reason": "now in two regions"}, 200)
	require.Equal(t, "major", promoted["kind"])
	require.Equal(t, "detection_declaration", promoted["stage"])
	require.Nil(t, promoted["status"])
	require.Equal(t, "P1", promoted["priority"])
	tl := e.do("responder", "GET", "/api/v1/incidents/"+key+"/timeline", nil, 200)["entries"].([]any)
	last := tl[len(tl)-1].(map[string]any)
	require.Equal(t, "classified", last["type"])
	require.Equal(t, "api", last["channel"])
	require.Equal(t, "Responder", last["actor"].(map[string]any)["name"])

	// Only an admin overrides the policy's verdict, with a reason.
	e.do("responder", "POST", "/api/v1/incidents/"+key+"/classification", map[string]any{"severity": "low", "urgency": "low",
		"override": map[string]any{"kind": "major", "reason": "exec request"}}, 403)
}

// After conclusion, edits change nothing but the audit log (field case BC-28); only a reopen with a reason acts.
func TestConcludedIncidentTakesNoSideEffects(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var out bytes.Buffer
	require.NoError(t, drill.Run(context.Background(), drill.Options{BaseURL: e.srv.URL, Token: e.tokens["admin"], Out: &out}), out.String())
	inc := e.do("admin", "GET", "/api/v1/incidents", nil, 200)["incidents"].([]any)[0].(map[string]any)
	key := inc["key"].(string)
	ic := inc["roles"].(map[string]any)["incident_commander"].(map[string]any)["email"].(string)
	icTok, _, err := e.app.Accounts.CreateToken(context.Background(), ic, "t", nil)
	require.NoError(t, err)
	e.tokens["drill-ic"] = icTok
	publicBefore := e.request("", "GET", "/api/v2/incidents.json", nil, nil)

	e.do("drill-ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating", "body": "again?", "publish": true}, 409)
	e.do("drill-ic", "POST", "/api/v1/incidents/"+key+"/actions", map[string]any{"kind": "fix", "description": "late"}, 409)
	e.do("drill-ic", "POST", "/api/v1/incidents/"+key+"/stage", map[string]any{"to": "concluded"}, 409)
	re := e.do("drill-ic", "POST", "/api/v1/incidents/"+key+"/classification", map[string]any{"severity": "medium", "urgency": "low"}, 200)
	require.Equal(t, "concluded", re["stage"])
	require.Equal(t, "major", re["kind"])
	publicAfter := e.request("", "GET", "/api/v2/incidents.json", nil, nil)
	require.Equal(t, string(publicBefore.body), string(publicAfter.body), "a post-conclusion edit changed the public side")

	e.do("drill-ic", "POST", "/api/v1/incidents/"+key+"/stage", map[string]any{"to": "diagnosis_action"}, 422)
	reopened := e.do("drill-ic", "POST", "/api/v1/incidents/"+key+"/stage", map[string]any{"to": "diagnosis_action", "reason": "errors returned"}, 200)
	require.Equal(t, "diagnosis_action", reopened["stage"])
	require.EqualValues(t, 1, reopened["reopened"])
	require.Nil(t, reopened["milestones"].(map[string]any)["concluded"])
}

func TestStaleVersionIsRefusedAndNothingIsOverwritten(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	inc := e.do("responder", "GET", "/api/v1/incidents/"+key, nil, 200)
	v := fmt.Sprintf(`"%d"`, int(inc["version"].(float64)))
	r := e.request("responder", "PUT", "/api/v1/incidents/"+key+"/roles/incident_commander", map[string]any{"user": e.emails["ic"]}, map[string]string{"If-Match": v})
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, fmt.Sprintf(`"%d"`, int(inc["version"].(float64))+1), r.header.Get("ETag"))
	// A second editor holding the same version is refused, and the first editor's change stands.
	r = e.request("admin", "PUT", "/api/v1/incidents/"+key+"/roles/incident_commander", map[string]any{"user": e.emails["ic2"]}, map[string]string{"If-Match": v})
	require.Equal(t, 412, r.status)
	require.Contains(t, r.json(t)["detail"], "changed since you loaded it")
	now := e.do("admin", "GET", "/api/v1/incidents/"+key, nil, 200)
	require.Equal(t, e.emails["ic"], now["roles"].(map[string]any)["incident_commander"].(map[string]any)["email"])
	// A handover by the current IC is recorded with who held the role before.
	e.do("ic", "PUT", "/api/v1/incidents/"+key+"/roles/incident_commander", map[string]any{"user": e.emails["ic2"]}, 200)
	tl := e.do("admin", "GET", "/api/v1/incidents/"+key+"/timeline", nil, 200)["entries"].([]any)
	last := tl[len(tl)-1].(map[string]any)["data"].(map[string]any)
	require.Equal(t, e.emails["ic"], last["previous"].(map[string]any)["email"])
	// The new IC must acknowledge before the incident moves on.
	p := e.do("ic2", "POST", "/api/v1/incidents/"+key+"/stage", map[string]any{"to": "mobilization"}, 409)
	require.Contains(t, fmt.Sprint(p["unmet_guards"]), "ic_acknowledged")
}

func TestTimelineIsAppendOnlyInTheDatabase(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.declareMajor()
	ctx := context.Background()
	_, err := e.app.DB.Pool.Exec(ctx, `UPDATE timeline_entries SET actor_name = 'someone else'`)
	require.ErrorContains(t, err, "append-only")
	_, err = e.app.DB.Pool.Exec(ctx, `DELETE FROM timeline_entries`)
	require.ErrorContains(t, err, "append-only")
}

func TestStatusPageFollowsPublishedUpdates(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	e.engage(key)
	summary := func() map[string]any { return e.do("", "GET", "/api/v2/summary.json", nil, 200) }
	require.Empty(t, summary()["incidents"], "nothing is public before an update is published")

	// A draft is not public; publishing it is.
	d := e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating",
		"body": "Looking into it", "components": map[string]string{"control-plane-eu": "major_outage"}}, 201)
	require.Empty(t, summary()["incidents"])
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates/"+d["created"].(map[string]any)["id"].(string)+"/approve", nil, 200)
	s := summary()
	require.Len(t, s["incidents"], 1)
	require.Equal(t, "critical", s["status"].(map[string]any)["indicator"])
	page := string(e.request("", "GET", "/", nil, nil).body)
	require.Contains(t, page, "EU control plane failure")
	require.Contains(t, page, "Looking into it")
	require.Contains(t, page, "UTC")
	require.Contains(t, page, "Affects: Control Plane (Europe)")

	// BC-07: several updates then resolved → operational, whatever came between.
	for _, st := range []string{"identified", "monitoring"} {
		e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": st, "body": st, "publish": true}, 201)
	}
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "resolved", "body": "Fixed", "publish": true,
		"components": map[string]string{"control-plane-eu": "operational"}}, 201)
	s = summary()
	require.Empty(t, s["incidents"])
	require.Equal(t, "none", s["status"].(map[string]any)["indicator"])
	inc := e.do("ic", "GET", "/api/v1/incidents/"+key, nil, 200)
	require.Equal(t, "resolved", inc["public_status"])
}

func TestOperationalAndPublicEndpointsAnswer(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.request("", "GET", "/healthz", nil, nil)
	require.Equal(t, 200, r.status)
	r = e.request("", "GET", "/readyz", nil, nil)
	require.Equal(t, 200, r.status)
	require.Equal(t, "ready\n", string(r.body))
	r = e.request("", "HEAD", "/", nil, nil)
	require.Equal(t, 200, r.status)
	require.Contains(t, r.header.Get("Content-Security-Policy"), "script-src 'self'")
	r = e.request("", "GET", "/static/status.css", nil, nil)
	require.Equal(t, 200, r.status)
	require.Contains(t, r.header.Get("Content-Type"), "text/css")
	r = e.request("", "GET", "/openapi.yaml", nil, nil)
	require.Equal(t, 200, r.status)
	require.Contains(t, string(r.body), "openapi: 3.1")
	r = e.request("", "GET", "/api/v2/summary.json", nil, nil)
	require.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))
	require.NotEmpty(t, r.header.Get("X-Request-Id"))

	// Not ready while the schema is behind, and the answer says nothing of why.
	_, err := e.app.DB.Pool.Exec(context.Background(), `UPDATE schema_migrations SET dirty = true`)
	require.NoError(t, err)
	r = e.request("", "GET", "/readyz", nil, nil)
	require.Equal(t, 503, r.status)
	require.Equal(t, "not ready\n", string(r.body))
}
