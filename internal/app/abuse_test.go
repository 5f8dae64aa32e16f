package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// A token never carries more than its maker may: a read-only token cannot mint a writer, a responder cannot mint for
// someone else, and a token an admin made for another user is marked as such on the timeline.
func TestTokensNeverCarryMoreThanTheirMaker(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ro, _, err := e.app.Accounts.CreateToken(context.Background(), e.emails["admin"], "ro", []string{"read"})
	require.NoError(t, err)
	e.tokens["admin-ro"] = ro
	minted := e.do("admin-ro", "POST", "/api/v1/tokens", map[string]any{"name": "escalate"}, 201)
	require.Equal(t, []any{"read"}, minted["scopes"])
	p := e.do("admin-ro", "POST", "/api/v1/tokens", map[string]any{"scopes": []string{"admin"}}, 422)
	require.Equal(t, "validation_failed", p["code"])
	e.do("responder", "POST", "/api/v1/tokens", map[string]any{"user": e.emails["ic"]}, 403)
	e.do("viewer", "POST", "/api/v1/tokens", map[string]any{"scopes": []string{"write"}}, 422)

	key := e.declareMajor()
	forIC := e.do("admin", "POST", "/api/v1/tokens", map[string]any{"user": e.emails["responder"]}, 201)
	e.tokens["made-by-admin"] = forIC["token"].(string)
	e.do("made-by-admin", "PUT", "/api/v1/incidents/"+key+"/roles/incident_commander", map[string]any{"user": e.emails["ic"]}, 200)
	tl := e.do("admin", "GET", "/api/v1/incidents/"+key+"/timeline", nil, 200)["entries"].([]any)
	actor := tl[len(tl)-1].(map[string]any)["actor"].(map[string]any)
	require.Equal(t, e.emails["responder"], actor["email"])
	require.NotEmpty(t, actor["token_id"])
	require.NotEmpty(t, actor["token_created_by"], "the audit log shows the token was made by someone else")
}

// Declarations and publications touching the same components at once neither deadlock nor fail.
func TestDeclaresAndPublishesOnSharedComponentsDoNotDeadlock(t *testing.T) {
	t.Parallel()
	e := setup(t)
	comps := []string{"control-plane-eu", "swg-eu", "api"}
	var keys []string
	for i := 0; i < 3; i++ {
		k := e.declareMajor()
		e.engage(k)
		keys = append(keys, k)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for g := 0; g < 6; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 6; i++ {
				r := e.request("responder", "POST", "/api/v1/incidents", map[string]any{"title": "burst", "severity": "low",
					"urgency": "low", "components": comps}, nil)
				if r.status != 201 {
					errs <- fmt.Sprintf("declare %d: %s", r.status, r.body)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 6; i++ {
				st := map[string]string{}
				for _, c := range comps {
					st[c] = []string{"major_outage", "partial_outage", "operational"}[i%3]
				}
				r := e.request("ic", "POST", "/api/v1/incidents/"+keys[i%3]+"/updates", map[string]any{"status": "investigating",
					"body": "b", "publish": true, "components": st}, nil)
				if r.status != 201 {
					errs <- fmt.Sprintf("publish %d: %s", r.status, r.body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}

func TestHostileInputIsRefusedNotStored(t *testing.T) {
	t.Parallel()
	e := setup(t)
	before := e.incidentCount()
	huge := make([]string, 100000)
	for i := range huge {
		huge[i] = fmt.Sprintf("c%d", i)
	}
	cases := []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"NUL in title", "POST", "/api/v1/incidents", `{"title":"nul\u0000byte","severity":"low","urgency":"low"}`, 422},
		{"NUL in path", "GET", "/api/v1/incidents/%00", nil, 400},
		{"invalid UTF-8 in query", "GET", "/api/v1/incidents?q=%FF", nil, 400},
		{"year zero", "POST", "/api/v1/incidents", `{"title":"x","severity":"low","urgency":"low","detected_at":"0000-01-01T00:00:00+01:00"}`, 422},
		{"position overflow", "POST", "/api/v1/components", `{"name":"Big","position":99999999999}`, 422},
		{"huge position", "POST", "/api/v1/components", `{"name":"Big","position":2000000000}`, 422},
		{"100k components", "POST", "/api/v1/incidents", map[string]any{"title": "x", "severity": "low", "urgency": "low", "components": huge}, 422},
		{"200 components", "POST", "/api/v1/incidents", map[string]any{"title": "x", "severity": "low", "urgency": "low", "components": huge[:200]}, 422},
		{"long description", "POST", "/api/v1/incidents", map[string]any{"title": "x", "severity": "low", "urgency": "low", "description": strings.Repeat("d", 20000)}, 422},
	}
	for _, tc := range cases {
		r := e.request("admin", tc.method, tc.path, tc.body, nil)
		require.Equal(t, tc.status, r.status, "%s: %s", tc.name, r.body)
		require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), tc.name)
	}
	require.Equal(t, before, e.incidentCount())

	key := e.declareMajor()
	e.engage(key)
	r := e.request("ic", "POST", "/api/v1/incidents/"+key+"/actions", map[string]any{"kind": "fix", "description": strings.Repeat("a", 20000)}, nil)
	require.Equal(t, 422, r.status)
	r = e.request("ic", "PUT", "/api/v1/incidents/"+key+"/bridges/technical", map[string]any{"url": "https://meet.example.com/x",
		"invitees": []string{"@", "a@b"}}, nil)
	require.Equal(t, 422, r.status, string(r.body))
	r = e.request("ic", "POST", "/api/v1/incidents/"+key+"/roles/technical_lead", map[string]any{"group": strings.Repeat("g", 1000)}, nil)
	require.Equal(t, 422, r.status)
}

// A reopen that would give two open incidents the same dedup key is refused with a reason, not a 500.
func TestReopenWhileARecurrenceIsOpenIsAConflict(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alert := map[string]any{"title": "disk", "severity": "low", "urgency": "low", "dedup_key": "disk-1"}
	first := e.do("responder", "POST", "/api/v1/incidents", alert, 201)["key"].(string)
	e.do("responder", "POST", "/api/v1/incidents/"+first+"/status", map[string]any{"to": "resolved"}, 200)
	e.do("responder", "POST", "/api/v1/incidents", alert, 201)
	p := e.do("responder", "POST", "/api/v1/incidents/"+first+"/status", map[string]any{"to": "open", "reason": "back"}, 409)
	require.Equal(t, "dedup_key_in_use", p["code"])
}

// A standard incident told customers something: it resolves only once they are told it is resolved; its drafts can be
// approved; a critical repeat of its alert promotes it.
func TestStandardIncidentPublicLifecycle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	inc := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "DLP slow", "severity": "high", "urgency": "low",
		"components": []string{"api"}, "dedup_key": "dlp"}, 201)
	key := inc["key"].(string)
	d := e.do("responder", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating", "body": "slow",
		"components": map[string]string{"api": "partial_outage"}}, 201)
	e.do("comms", "POST", "/api/v1/incidents/"+key+"/updates/"+d["created"].(map[string]any)["id"].(string)+"/approve", nil, 200)
	require.Len(t, e.do("", "GET", "/api/v2/incidents/unresolved.json", nil, 200)["incidents"], 1)
	p := e.do("responder", "POST", "/api/v1/incidents/"+key+"/status", map[string]any{"to": "resolved"}, 409)
	require.Equal(t, "guards_unmet", p["code"])
	e.do("responder", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "resolved", "body": "ok", "publish": true,
		"components": map[string]string{"api": "operational"}}, 201)
	e.do("responder", "POST", "/api/v1/incidents/"+key+"/status", map[string]any{"to": "resolved"}, 200)
	require.Empty(t, e.do("", "GET", "/api/v2/incidents/unresolved.json", nil, 200)["incidents"])

	other := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "disk warn", "severity": "low", "urgency": "low",
		"dedup_key": "k2"}, 201)["key"].(string)
	folded := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "TOTAL OUTAGE", "severity": "critical",
		"urgency": "immediate", "scope": map[string]any{"global": true}, "dedup_key": "k2"}, 200)
	require.Equal(t, other, folded["key"])
	require.Equal(t, "major", folded["kind"], "a critical repeat promotes the incident")
	e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "x", "severity": "low", "urgency": "low",
		"components": []string{"nope"}, "dedup_key": "k2"}, 422)
}

// An admin may keep a standard incident private: then it is on no public surface and its component statuses do not
// count publicly. Major incidents cannot be hidden.
func TestAdminKeepsAStandardIncidentPrivate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "Internal tooling slow", "severity": "medium",
		"urgency": "normal", "components": []string{"api"}}, 201)["key"].(string)
	e.do("responder", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating", "body": "slow",
		"publish": true, "components": map[string]string{"api": "partial_outage"}}, 201)
	summary := e.do("", "GET", "/api/v2/summary.json", nil, 200)
	require.Len(t, summary["incidents"], 1)

	e.do("responder", "PUT", "/api/v1/incidents/"+key+"/visibility", map[string]any{"private": true}, 403)
	e.do("admin", "PUT", "/api/v1/incidents/"+key+"/visibility", map[string]any{}, 422)
	inc := e.do("admin", "PUT", "/api/v1/incidents/"+key+"/visibility", map[string]any{"private": true, "reason": "internal only"}, 200)
	require.Equal(t, true, inc["private"])
	e.do("admin", "PUT", "/api/v1/incidents/"+key+"/visibility", map[string]any{"private": true}, 409)
	summary = e.do("", "GET", "/api/v2/summary.json", nil, 200)
	require.Empty(t, summary["incidents"])
	require.Equal(t, "none", summary["status"].(map[string]any)["indicator"])
	page := string(e.request("", "GET", "/", nil, nil).body)
	require.NotContains(t, page, "Internal tooling slow")
	require.Equal(t, 404, e.request("", "GET", "/incidents/"+key, nil, nil).status)

	major := e.declareMajor()
	e.do("admin", "PUT", "/api/v1/incidents/"+major+"/visibility", map[string]any{"private": true}, 409)
}

// An admin's "private" stands when new facts promote the incident: only an admin makes it public.
func TestPrivateIncidentStaysPrivateWhenPromoted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "Hidden thing", "severity": "low",
		"urgency": "low", "dedup_key": "hidden"}, 201)["key"].(string)
	e.do("responder", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating",
		"body": "HIDDENBODY", "publish": true}, 201)
	e.do("admin", "PUT", "/api/v1/incidents/"+key+"/visibility", map[string]any{"private": true}, 200)
	promoted := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "x", "severity": "critical",
		"urgency": "immediate", "dedup_key": "hidden"}, 200)
	require.Equal(t, "major", promoted["kind"])
	require.Equal(t, true, promoted["private"])
	require.NotContains(t, string(e.request("", "GET", "/api/v2/summary.json", nil, nil).body), "HIDDENBODY")
	require.Equal(t, 404, e.request("", "GET", "/incidents/"+key, nil, nil).status)
	e.do("admin", "PUT", "/api/v1/incidents/"+key+"/visibility", map[string]any{"private": false}, 200)
	require.Contains(t, string(e.request("", "GET", "/api/v2/summary.json", nil, nil).body), "HIDDENBODY")
}

// However many incidents were resolved lately, an active one is on the page.
func TestActiveIncidentIsNeverCutOffByRecentlyResolvedOnes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	active := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "Still broken", "severity": "low",
		"urgency": "low"}, 201)["key"].(string)
	e.do("responder", "POST", "/api/v1/incidents/"+active+"/updates", map[string]any{"status": "investigating",
		"body": "b", "publish": true}, 201)
	for i := 0; i < 205; i++ {
		k := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": fmt.Sprintf("old %d", i), "severity": "low",
			"urgency": "low"}, 201)["key"].(string)
		e.do("responder", "POST", "/api/v1/incidents/"+k+"/updates", map[string]any{"status": "resolved", "body": "done",
			"publish": true}, 201)
	}
	unresolved := e.do("", "GET", "/api/v2/incidents/unresolved.json", nil, 200)["incidents"].([]any)
	require.Len(t, unresolved, 1)
	require.Equal(t, "Still broken", unresolved[0].(map[string]any)["name"])
}

func TestPublicEdgeRequests(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.request("", "OPTIONS", "/api/v2/summary.json", nil, map[string]string{"Origin": "https://dash.example.net",
		"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "if-none-match"})
	require.Equal(t, 204, r.status)
	require.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, r.header.Get("Access-Control-Allow-Headers"), "If-None-Match")
	require.Equal(t, 404, e.request("", "GET", "/static/", nil, nil).status, "no directory listing")
	p := e.do("admin", "POST", "/api/v1/maintenances", map[string]any{"title": "far", "components": []string{"api"},
		"recurrence": map[string]any{"frequency": "weekly", "weekday": "sunday", "local_start": "02:30",
			"duration_minutes": 60, "zone": "Europe/Berlin", "from": "9999-12-31"}}, 422)
	require.Contains(t, fmt.Sprint(p["errors"]), "recurrence.from")
	p = e.do("admin", "POST", "/api/v1/maintenances", map[string]any{"title": "long", "components": []string{"api"},
		"recurrence": map[string]any{"frequency": "daily", "local_start": "02:30",
			"duration_minutes": 9007199254740993, "zone": "Europe/Berlin", "from": "2026-01-01"}}, 422)
	require.Contains(t, fmt.Sprint(p["errors"]), "duration_minutes")
	require.Equal(t, 200, e.request("admin", "GET", "/api/v1/maintenances", nil, nil).status)
}
