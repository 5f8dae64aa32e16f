package app_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// oneOffBody is BC-02's maintenance: 20:00–22:00 Stockholm time (+01:00 in March) on the API component.
func oneOffBody() map[string]any {
	return map[string]any{"title": "DB upgrade", "body": "We upgrade the **database**.", "components": []string{"api"},
		"starts_at": "2026-03-10T20:00:00+01:00", "ends_at": "2026-03-10T22:00:00+01:00"}
}

func (e *env) maintenanceCount() int {
	e.t.Helper()
	return len(e.do("admin", "GET", "/api/v1/maintenances", nil, 200)["maintenances"].([]any))
}

func componentStatusOf(t *testing.T, doc map[string]any, name string) string {
	t.Helper()
	for _, c := range doc["components"].([]any) {
		if c := c.(map[string]any); c["name"] == name {
			return c["status"].(string)
		}
	}
	require.Failf(t, "no component", "%q", name)
	return ""
}

func fieldsOf(t *testing.T, r response) []string {
	t.Helper()
	var p struct {
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(r.body, &p), string(r.body))
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

// BC-02: saving a maintenance back unchanged never moves it, however often.
func TestMaintenanceRoundTripsWithZeroDrift(t *testing.T) {
	t.Parallel()
	e := setup(t)
	created := e.request("responder", "POST", "/api/v1/maintenances", oneOffBody(), nil)
	require.Equal(t, 201, created.status, string(created.body))
	m := created.json(t)
	id := m["id"].(string)
	require.Equal(t, "/api/v1/maintenances/"+id, created.header.Get("Location"))
	require.Equal(t, `"1"`, created.header.Get("ETag"))
	require.Equal(t, "2026-03-10T19:00:00Z", m["starts_at"])
	require.Equal(t, "2026-03-10T21:00:00Z", m["ends_at"])
	require.Equal(t, []any{"api"}, m["components"])
	require.Equal(t, "completed", m["phase"], "it is in the past of the test clock")

	// GET, then PUT the exact body that came back, three times.
	body := e.request("admin", "GET", "/api/v1/maintenances/"+id, nil, nil).body
	first := body
	for i := range 3 {
		r := e.request("responder", "PUT", "/api/v1/maintenances/"+id, body, nil)
		require.Equal(t, 200, r.status, string(r.body))
		got := r.json(t)
		require.Equal(t, "2026-03-10T19:00:00Z", got["starts_at"], "save %d", i+1)
		require.Equal(t, "2026-03-10T21:00:00Z", got["ends_at"], "save %d", i+1)
		require.Equal(t, float64(i+2), got["version"])
		body = r.body
	}
	// And the first GET's body, again and again: the read-only fields in it are ignored.
	for range 3 {
		got := e.do("responder", "PUT", "/api/v1/maintenances/"+id, first, 200)
		require.Equal(t, "2026-03-10T19:00:00Z", got["starts_at"])
	}
	got := e.do("viewer", "GET", "/api/v1/maintenances/"+id, nil, 200)
	require.Equal(t, "2026-03-10T19:00:00Z", got["starts_at"])
	require.Equal(t, "2026-03-10T21:00:00Z", got["ends_at"])
	require.Equal(t, float64(7), got["version"])
	for _, k := range []string{"created_at", "updated_at", "at"} {
		require.True(t, strings.HasSuffix(got[k].(string), "Z"), "%s: %s", k, got[k])
	}

	list := e.do("viewer", "GET", "/api/v1/maintenances", nil, 200)["maintenances"].([]any)
	require.Len(t, list, 1)
	require.Equal(t, "2026-03-10T19:00:00Z", list[0].(map[string]any)["starts_at"])

	// A recurring one round-trips too, its local clock and zone unchanged.
	rec := e.do("responder", "POST", "/api/v1/maintenances", map[string]any{"title": "Patching", "components": []string{"api"},
		"recurrence": map[string]any{"frequency": "weekly", "weekday": "tuesday", "local_start": "05:00",
			"duration_minutes": 60, "zone": "UTC", "from": "2026-09-01"}}, 201)
	recBody := e.request("admin", "GET", "/api/v1/maintenances/"+rec["id"].(string), nil, nil).body
	for range 3 {
		recBody = e.request("responder", "PUT", "/api/v1/maintenances/"+rec["id"].(string), recBody, nil).body
	}
	var after map[string]any
	require.NoError(t, json.Unmarshal(recBody, &after))
	require.Equal(t, rec["recurrence"], after["recurrence"])
	require.NotContains(t, after, "starts_at")
}

// BC-02: a zone-less time is refused naming the field; nothing is stored.
func TestMaintenanceZonelessTimeIsRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := oneOffBody()
	body["starts_at"] = "2026-03-10T20:00:00"
	r := e.request("responder", "POST", "/api/v1/maintenances", body, nil)
	require.Equal(t, 422, r.status, string(r.body))
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	require.Equal(t, []string{"starts_at"}, fieldsOf(t, r))
	require.Contains(t, string(r.body), "with an offset")
	require.Zero(t, e.maintenanceCount())
}

func TestMaintenanceValidationErrorsChangeNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	m := e.do("responder", "POST", "/api/v1/maintenances", oneOffBody(), 201)
	id := m["id"].(string)
	before := e.request("admin", "GET", "/api/v1/maintenances/"+id+"?at=2026-03-10T19:30:00Z", nil, nil).body
	publicBefore := e.request("", "GET", "/api/v2/scheduled-maintenances.json", nil, nil).body

	with := func(change func(map[string]any)) map[string]any { b := oneOffBody(); change(b); return b }
	recurrence := func(change func(map[string]any)) map[string]any {
		r := map[string]any{"frequency": "daily", "local_start": "22:00", "duration_minutes": 90,
			"zone": "Europe/Berlin", "from": "2026-02-15"}
		change(r)
		return map[string]any{"title": "Nightly", "components": []string{"api"}, "recurrence": r}
	}
	tests := []struct {
		name   string
		who    string
		body   any
		status int
		fields []string
	}{
		{"unknown component", "responder", with(func(b map[string]any) { b["components"] = []string{"api", "nope"} }), 422,
			[]string{"components.nope"}},
		{"a zone-less time and an unknown component, together", "responder", with(func(b map[string]any) {
			b["starts_at"], b["components"] = "2026-03-10T20:00:00", []string{"nope"}
		}), 422, []string{"starts_at", "components.nope"}},
		{"ends before it starts", "responder", with(func(b map[string]any) { b["ends_at"] = "2026-03-10T19:00:00+01:00" }), 422,
			[]string{"ends_at"}},
		{"no ends_at", "responder", with(func(b map[string]any) { delete(b, "ends_at") }), 422, []string{"ends_at"}},
		{"an empty starts_at", "responder", with(func(b map[string]any) { b["starts_at"] = "" }), 422, []string{"starts_at"}},
		{"longer than 30 days", "responder", with(func(b map[string]any) { b["ends_at"] = "2026-04-10T22:00:00+01:00" }), 422,
			[]string{"ends_at"}},
		{"no title", "responder", with(func(b map[string]any) { b["title"] = " " }), 422, []string{"title"}},
		{"an unknown field", "responder", with(func(b map[string]any) { b["zone"] = "UTC" }), 422, []string{"zone"}},
		{"both window and recurrence", "responder", with(func(b map[string]any) {
			b["recurrence"] = recurrence(func(map[string]any) {})["recurrence"]
		}), 422, []string{"starts_at", "ends_at"}},
		{"unknown zone", "responder", recurrence(func(r map[string]any) { r["zone"] = "Europe/Atlantis" }), 422,
			[]string{"recurrence.zone"}},
		{"not HH:MM", "responder", recurrence(func(r map[string]any) { r["local_start"] = "10pm" }), 422,
			[]string{"recurrence.local_start"}},
		{"zero duration", "responder", recurrence(func(r map[string]any) { r["duration_minutes"] = 0 }), 422,
			[]string{"recurrence.duration_minutes"}},
		{"a fractional duration", "responder", recurrence(func(r map[string]any) { r["duration_minutes"] = 1.5 }), 422,
			[]string{"recurrence.duration_minutes"}},
		{"weekly without a weekday", "responder", recurrence(func(r map[string]any) { r["frequency"] = "weekly" }), 422,
			[]string{"recurrence.weekday"}},
		{"bad from date", "responder", recurrence(func(r map[string]any) { r["from"] = "15.02.2026" }), 422,
			[]string{"recurrence.from"}},
		{"a viewer", "viewer", oneOffBody(), 403, nil},
		{"no token", "", oneOffBody(), 401, nil},
		{"malformed JSON", "responder", `{"title":`, 400, nil},
	}
	for _, tt := range tests {
		for _, call := range []struct{ method, path string }{
			{"POST", "/api/v1/maintenances"}, {"PUT", "/api/v1/maintenances/" + id},
		} {
			r := e.request(tt.who, call.method, call.path, tt.body, nil)
			require.Equal(t, tt.status, r.status, "%s %s: %s", tt.name, call.method, r.body)
			require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), tt.name)
			if tt.fields != nil {
				require.Equal(t, tt.fields, fieldsOf(t, r), "%s %s", tt.name, call.method)
			}
		}
	}
	r := e.request("responder", "POST", "/api/v1/maintenances", with(func(b map[string]any) { b["components"] = []string{"nope"} }), nil)
	require.Contains(t, string(r.body), "known: control-plane-eu, swg-eu, api", "the known slugs are named")

	// Stale versions and unknown ids.
	r = e.request("responder", "PUT", "/api/v1/maintenances/"+id, oneOffBody(), map[string]string{"If-Match": `"9"`})
	require.Equal(t, 412, r.status, string(r.body))
	require.Contains(t, string(r.body), "version_mismatch")
	r = e.request("responder", "DELETE", "/api/v1/maintenances/"+id, nil, map[string]string{"If-Match": `"9"`})
	require.Equal(t, 412, r.status, string(r.body))
	e.do("viewer", "DELETE", "/api/v1/maintenances/"+id, nil, 403)
	e.do("responder", "GET", "/api/v1/maintenances/00000000-0000-0000-0000-000000000000", nil, 404)
	e.do("responder", "GET", "/api/v1/maintenances/not-a-uuid", nil, 404)
	e.do("responder", "PUT", "/api/v1/maintenances/00000000-0000-0000-0000-000000000000", oneOffBody(), 404)
	e.do("responder", "GET", "/api/v1/maintenances/"+id+"?at=2026-03-10T19:30:00", nil, 422)

	require.Equal(t, 1, e.maintenanceCount())
	require.JSONEq(t, string(before), string(e.request("admin", "GET", "/api/v1/maintenances/"+id+"?at=2026-03-10T19:30:00Z", nil, nil).body))
	require.JSONEq(t, string(publicBefore), string(e.request("", "GET", "/api/v2/scheduled-maintenances.json", nil, nil).body))

	// A matching If-Match is honoured, and DELETE removes it.
	r = e.request("responder", "PUT", "/api/v1/maintenances/"+id, oneOffBody(), map[string]string{"If-Match": `"1"`})
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, `"2"`, r.header.Get("ETag"))
	r = e.request("admin", "DELETE", "/api/v1/maintenances/"+id, nil, map[string]string{"If-Match": `"2"`})
	require.Equal(t, 204, r.status, string(r.body))
	e.do("responder", "GET", "/api/v1/maintenances/"+id, nil, 404)
	require.Zero(t, e.maintenanceCount())
}

// BC-03 through the API: ?at= evaluates a maintenance at an instant; /occurrences lists its windows.
func TestRecurringMaintenanceFollowsDSTThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := setup(t)
	daily := e.do("responder", "POST", "/api/v1/maintenances", map[string]any{"title": "Nightly", "components": []string{"api"},
		"recurrence": map[string]any{"frequency": "daily", "local_start": "22:00", "duration_minutes": 90,
			"zone": "Europe/Berlin", "from": "2026-02-15"}}, 201)
	require.Equal(t, map[string]any{"frequency": "daily", "local_start": "22:00", "duration_minutes": float64(90),
		"zone": "Europe/Berlin", "from": "2026-02-15"}, daily["recurrence"])
	for _, tt := range []struct {
		at     string
		active bool
	}{
		{"2026-02-20T21:15:00Z", true},
		{"2026-04-01T20:15:00Z", true},
		{"2026-04-01T21:45:00Z", false},
	} {
		got := e.do("viewer", "GET", "/api/v1/maintenances/"+daily["id"].(string)+"?at="+url.QueryEscape(tt.at), nil, 200)
		require.Equal(t, tt.active, got["active"], tt.at)
		require.Equal(t, tt.at, got["at"])
		if tt.active {
			require.Equal(t, "in_progress", got["phase"])
			w := got["window"].(map[string]any)
			require.Contains(t, w["local_starts_at"], "T22:00:00+0", tt.at)
			require.Contains(t, w["local_ends_at"], "T23:30:00+0", tt.at)
		} else {
			require.Equal(t, "upcoming", got["phase"])
		}
	}

	weekly := e.do("responder", "POST", "/api/v1/maintenances", map[string]any{"title": "Weekly", "components": []string{"api"},
		"recurrence": map[string]any{"frequency": "weekly", "weekday": "tuesday", "local_start": "09:00",
			"duration_minutes": 7 * 24 * 60, "zone": "America/Chicago", "from": "2024-10-01"}}, 201)
	occ := e.do("viewer", "GET", "/api/v1/maintenances/"+weekly["id"].(string)+"/occurrences?from="+
		url.QueryEscape("2024-10-01T00:00:00-05:00")+"&to="+url.QueryEscape("2025-04-02T00:00:00-05:00"), nil, 200)
	require.Equal(t, "America/Chicago", occ["zone"])
	list := occ["occurrences"].([]any)
	require.Len(t, list, 27)
	var prevEnd string
	for i, o := range list {
		o := o.(map[string]any)
		require.Regexp(t, `T09:00:00-0[56]:00$`, o["local_starts_at"], i)
		require.Regexp(t, `T09:00:00-0[56]:00$`, o["local_ends_at"], i)
		require.True(t, strings.HasSuffix(o["starts_at"].(string), "Z"))
		if i > 0 {
			require.Equal(t, prevEnd, o["starts_at"], "no gap or overlap before occurrence %d", i)
		}
		prevEnd = o["ends_at"].(string)
	}

	edge := e.do("responder", "POST", "/api/v1/maintenances", map[string]any{"title": "Edge", "components": []string{"api"},
		"recurrence": map[string]any{"frequency": "daily", "local_start": "02:30", "duration_minutes": 30,
			"zone": "Europe/Berlin", "from": "2026-01-01"}}, 201)
	for _, tt := range []struct{ from, to, start string }{
		{"2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", "2026-03-29T01:00:00Z"},
		{"2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", "2026-10-25T00:30:00Z"},
	} {
		occ := e.do("viewer", "GET", "/api/v1/maintenances/"+edge["id"].(string)+"/occurrences?from="+
			url.QueryEscape(tt.from)+"&to="+url.QueryEscape(tt.to), nil, 200)
		list := occ["occurrences"].([]any)
		require.Len(t, list, 1, tt.from)
		require.Equal(t, tt.start, list[0].(map[string]any)["starts_at"])
	}
	r := e.request("viewer", "GET", "/api/v1/maintenances/"+edge["id"].(string)+"/occurrences?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z", nil, nil)
	require.Equal(t, 422, r.status)
	require.Equal(t, []string{"to"}, fieldsOf(t, r))
}

// During a window, each covered component shows under_maintenance on the page and in /api/v2, and its own status
// again after; the snapshot flips by itself at both boundaries.
func TestComponentIsUnderMaintenanceDuringItsWindowOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	start := time.Now().Add(2 * time.Second)
	end := start.Add(2 * time.Second)
	m := e.do("responder", "POST", "/api/v1/maintenances", map[string]any{"title": "Failover test",
		"components": []string{"api"}, "starts_at": start.Format(time.RFC3339Nano), "ends_at": end.Format(time.RFC3339Nano)}, 201)
	require.Equal(t, "upcoming", m["phase"])

	components := func() map[string]any { return e.do("", "GET", "/api/v2/components.json", nil, 200) }
	if doc := components(); time.Now().Before(start) { // a slow machine may already be past the start
		require.Equal(t, "operational", componentStatusOf(t, doc, "API"), "not before the window opens")
	}
	upcoming := e.do("", "GET", "/api/v2/scheduled-maintenances/upcoming.json", nil, 200)["scheduled_maintenances"].([]any)
	require.Len(t, upcoming, 1)
	require.Equal(t, "scheduled", upcoming[0].(map[string]any)["status"])
	require.Len(t, e.do("", "GET", "/api/v2/summary.json", nil, 200)["scheduled_maintenances"], 1)

	require.Eventually(t, func() bool { return componentStatusOf(t, components(), "API") == "under_maintenance" },
		5*time.Second, 50*time.Millisecond)
	require.False(t, time.Now().Before(start), "not before the window opens")
	summary := e.do("", "GET", "/api/v2/summary.json", nil, 200)
	require.Equal(t, "maintenance", summary["status"].(map[string]any)["indicator"])
	require.Equal(t, "operational", componentStatusOf(t, summary, "Secure Web Gateway (Europe)"))
	active := e.do("", "GET", "/api/v2/scheduled-maintenances/active.json", nil, 200)["scheduled_maintenances"].([]any)
	require.Len(t, active, 1)
	require.Equal(t, "in_progress", active[0].(map[string]any)["status"])
	page := string(e.request("", "GET", "/", nil, nil).body)
	require.Contains(t, page, `data-testid="maintenance-in-progress"`)
	require.Contains(t, page, "Failover test")

	require.Eventually(t, func() bool { return componentStatusOf(t, components(), "API") == "operational" },
		5*time.Second, 50*time.Millisecond)
	require.False(t, time.Now().Before(end), "not before the window closes")
	require.Empty(t, e.do("", "GET", "/api/v2/scheduled-maintenances/active.json", nil, 200)["scheduled_maintenances"])
	all := e.do("", "GET", "/api/v2/scheduled-maintenances.json", nil, 200)["scheduled_maintenances"].([]any)
	require.Equal(t, "completed", all[0].(map[string]any)["status"])
	require.Equal(t, "none", e.do("", "GET", "/api/v2/status.json", nil, 200)["status"].(map[string]any)["indicator"])
}

// BC-09 end to end: maintenance never hides an outage an incident published, and leaves the page as soon as it is
// deleted.
func TestMaintenanceNeverHidesAPublishedOutage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	m := e.do("responder", "POST", "/api/v1/maintenances", map[string]any{"title": "Upgrade",
		"components": []string{"control-plane-eu", "api"},
		"starts_at":  time.Now().Add(-time.Hour).Format(time.RFC3339), "ends_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, 201)
	require.Equal(t, "in_progress", m["phase"])
	require.Equal(t, true, m["active"])
	status := func() string {
		return e.do("", "GET", "/api/v2/status.json", nil, 200)["status"].(map[string]any)["indicator"].(string)
	}
	require.Equal(t, "maintenance", status())

	key := e.declareMajor()
	e.engage(key)
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating", "body": "Down",
		"publish": true, "components": map[string]string{"control-plane-eu": "major_outage"}}, 201)
	comps := e.do("", "GET", "/api/v2/components.json", nil, 200)
	require.Equal(t, "major_outage", componentStatusOf(t, comps, "Control Plane (Europe)"), "the outage shows through")
	require.Equal(t, "under_maintenance", componentStatusOf(t, comps, "API"))
	require.Equal(t, "critical", status())

	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "resolved", "body": "Fixed",
		"publish": true, "components": map[string]string{"control-plane-eu": "operational"}}, 201)
	comps = e.do("", "GET", "/api/v2/components.json", nil, 200)
	require.Equal(t, "under_maintenance", componentStatusOf(t, comps, "Control Plane (Europe)"), "back to the window's effect")
	require.Equal(t, "maintenance", status())

	e.do("responder", "DELETE", "/api/v1/maintenances/"+m["id"].(string), nil, 204)
	comps = e.do("", "GET", "/api/v2/components.json", nil, 200)
	require.Equal(t, "operational", componentStatusOf(t, comps, "API"), "a deleted maintenance leaves the page at once")
	require.Equal(t, "none", status())
}
