package statuspage

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
)

type object = map[string]any

// fetchJSON refreshes the service and decodes one JSON endpoint.
func fetchJSON(t *testing.T, b *bundle, h http.HandlerFunc) object {
	t.Helper()
	require.NoError(t, b.svc.Refresh(context.Background()))
	rec := get(h)
	require.Equal(t, http.StatusOK, rec.Code)
	var doc object
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	return doc
}

// reference loads a real Statuspage export from testdata.
func reference(t *testing.T, name string) object {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	var doc object
	require.NoError(t, json.Unmarshal(raw, &doc))
	return doc
}

func keys(o object) []string {
	out := make([]string, 0, len(o))
	for k := range o {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// jsonKind names a decoded JSON value's type.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case object:
		return "object"
	}
	return "?"
}

// requireSameShape checks that ours has exactly the reference's keys (plus extra, allowed by name), and that each
// value has the reference's JSON type wherever the reference's is not null.
func requireSameShape(t *testing.T, what string, ref, ours object, extra ...string) {
	t.Helper()
	want := keys(ref)
	for _, k := range extra {
		if _, ok := ref[k]; !ok {
			want = append(want, k)
		}
	}
	slices.Sort(want)
	require.Equal(t, want, keys(ours), "%s: keys", what)
	for k, rv := range ref {
		if rv == nil || ours[k] == nil {
			continue
		}
		require.Equal(t, jsonKind(rv), jsonKind(ours[k]), "%s.%s: JSON type", what, k)
	}
}

func find(t *testing.T, list any, key, value string) object {
	t.Helper()
	for _, v := range list.([]any) {
		if o := v.(object); o[key] == value {
			return o
		}
	}
	require.Failf(t, "not found", "no element with %s=%q", key, value)
	return nil
}

// stampPattern is Statuspage's timestamp: fractional seconds (milliseconds) and an explicit zone.
var stampPattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$`)

func requireStamp(t *testing.T, what string, v any, want time.Time) {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "%s: %v is not a string", what, v)
	require.Regexp(t, stampPattern, s, what)
	got, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err, what)
	require.True(t, want.Equal(got), "%s: got %s, want %s", what, got, want)
}

func TestSummaryHasStatuspagesShape(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	doc := fetchJSON(t, b, b.svc.Summary)

	github := reference(t, "githubstatus-summary-2022-11-25-major-incident.json")
	intercom := reference(t, "intercom-summary-2024-01-31-component-groups.json")
	claude := reference(t, "claude-summary-2026-03-26-unresolved-incident.json")

	require.Equal(t, keys(github), keys(doc), "top-level keys")
	requireSameShape(t, "page", github["page"].(object), doc["page"].(object))
	requireSameShape(t, "status", github["status"].(object), doc["status"].(object))

	refComponent := find(t, github["components"], "name", "Packages")
	requireSameShape(t, "component", refComponent, find(t, doc["components"], "name", "API"))
	requireSameShape(t, "grouped component", find(t, intercom["components"], "name", "Email"),
		find(t, doc["components"], "name", "Checkout"))
	requireSameShape(t, "group", find(t, intercom["components"], "name", "Intercom message delivery"),
		find(t, doc["components"], "name", "Payments"))

	refIncident := github["incidents"].([]any)[0].(object)
	incident := doc["incidents"].([]any)[0].(object)
	// reminder_intervals is in current exports (Claude, 2026), not in GitHub's of 2022.
	requireSameShape(t, "incident", refIncident, incident, "reminder_intervals")
	require.Contains(t, claude["incidents"].([]any)[0].(object), "reminder_intervals")
	requireSameShape(t, "incident.components[]", refComponent, incident["components"].([]any)[0].(object))

	refUpdate := refIncident["incident_updates"].([]any)[0].(object)
	update := incident["incident_updates"].([]any)[0].(object)
	requireSameShape(t, "incident_update", refUpdate, update)
	requireSameShape(t, "affected_component", refUpdate["affected_components"].([]any)[0].(object),
		update["affected_components"].([]any)[0].(object))

	require.Empty(t, doc["scheduled_maintenances"])
	require.NotNil(t, doc["scheduled_maintenances"], "an empty array, not null")
}

func TestSummaryValues(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	doc := fetchJSON(t, b, b.svc.Summary)

	page := doc["page"].(object)
	require.Equal(t, object{
		"id": "mimtestpage1", "name": "Acme", "url": "https://status.example.com", "time_zone": "Etc/UTC",
		"updated_at": "2026-05-05T09:30:00.000Z",
	}, page)
	require.Equal(t, object{"indicator": "minor", "description": "Minor Service Outage"}, doc["status"])

	t.Run("components in display order, each group followed by its members", func(t *testing.T) {
		var names []string
		for _, c := range doc["components"].([]any) {
			names = append(names, c.(object)["name"].(string))
		}
		require.Equal(t, []string{"API", "Payments", "Checkout", "Card processing"}, names)
	})

	t.Run("a plain component", func(t *testing.T) {
		api := find(t, doc["components"], "name", "API")
		require.Equal(t, object{
			"id": "c-api", "name": "API", "status": "operational",
			"created_at": "2026-01-10T08:00:00.123Z", "updated_at": "2026-01-10T08:00:00.123Z",
			"position": float64(1), "description": "Public REST API", "showcase": false, "start_date": "2026-01-10",
			"group_id": nil, "page_id": "mimtestpage1", "group": false, "only_show_if_degraded": false,
		}, api)
		require.Nil(t, find(t, doc["components"], "name", "Checkout")["description"], "an empty description is null")
	})

	t.Run("a synthesised group", func(t *testing.T) {
		group := find(t, doc["components"], "name", "Payments")
		id := group["id"].(string)
		require.Regexp(t, `^[0-9a-z]{12}$`, id)
		require.Equal(t, groupID("Payments"), id, "the id derives from the name, so it is stable")
		require.Equal(t, true, group["group"])
		require.Equal(t, []any{"c-checkout", "c-card"}, group["components"], "members by position")
		require.Equal(t, "degraded_performance", group["status"], "the worst member status")
		require.Equal(t, float64(2), group["position"])
		require.Nil(t, group["group_id"])
		for _, member := range []string{"Checkout", "Card processing"} {
			require.Equal(t, id, find(t, doc["components"], "name", member)["group_id"], member)
		}
	})

	t.Run("only unresolved incidents", func(t *testing.T) {
		incidents := doc["incidents"].([]any)
		require.Len(t, incidents, 1)
		in := incidents[0].(object)
		require.Equal(t, "inc-1", in["id"])
		require.Equal(t, "Payment failures", in["name"])
		require.Equal(t, "monitoring", in["status"])
		require.Equal(t, "major", in["impact"])
		require.Equal(t, "https://status.example.com/incidents/INC-1", in["shortlink"])
		require.Equal(t, "mimtestpage1", in["page_id"])
		requireStamp(t, "created_at", in["created_at"], at(t, "2026-05-04T23:10:00Z"))
		requireStamp(t, "started_at", in["started_at"], at(t, "2026-05-04T23:10:00Z"))
		requireStamp(t, "updated_at", in["updated_at"], at(t, "2026-05-05T09:30:00Z"))
		requireStamp(t, "monitoring_at", in["monitoring_at"], at(t, "2026-05-05T09:30:00Z"))
		require.Nil(t, in["resolved_at"])
		require.Nil(t, in["reminder_intervals"])

		var comps []string
		for _, c := range in["components"].([]any) {
			comps = append(comps, c.(object)["id"].(string))
		}
		require.Equal(t, []string{"c-checkout", "c-card"}, comps, "component objects, by position")
	})

	t.Run("incident updates newest first, with old and new component statuses", func(t *testing.T) {
		updates := doc["incidents"].([]any)[0].(object)["incident_updates"].([]any)
		require.Len(t, updates, 2)
		latest, first := updates[0].(object), updates[1].(object)
		require.Equal(t, "u-2", latest["id"])
		require.Equal(t, "monitoring", latest["status"])
		require.Equal(t, "Fix deployed, monitoring", latest["body"])
		require.Equal(t, "inc-1", latest["incident_id"])
		for _, k := range []string{"created_at", "updated_at", "display_at"} {
			requireStamp(t, k, latest[k], at(t, "2026-05-05T09:30:00Z"))
			requireStamp(t, k, first[k], at(t, "2026-05-04T23:10:00Z"))
		}
		require.Equal(t, true, latest["deliver_notifications"])
		require.Nil(t, latest["custom_tweet"])
		require.Nil(t, latest["tweet_id"])
		require.Equal(t, []any{
			object{"code": "c-checkout", "name": "Checkout", "old_status": "partial_outage",
				"new_status": "degraded_performance"},
			object{"code": "c-card", "name": "Card processing", "old_status": "major_outage",
				"new_status": "operational"},
		}, latest["affected_components"])
		require.Equal(t, []any{
			object{"code": "c-checkout", "name": "Checkout", "old_status": "operational",
				"new_status": "partial_outage"},
			object{"code": "c-card", "name": "Card processing", "old_status": "operational",
				"new_status": "major_outage"},
		}, first["affected_components"])
	})
}

func TestEveryTimestampHasMillisecondsAndZone(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	for name, h := range map[string]http.HandlerFunc{
		"summary": b.svc.Summary, "status": b.svc.Status, "components": b.svc.Components,
		"incidents": b.svc.Incidents, "unresolved": b.svc.Unresolved,
	} {
		doc := fetchJSON(t, b, h)
		var check func(path string, v any)
		check = func(path string, v any) {
			switch v := v.(type) {
			case object:
				for k, x := range v {
					if s, ok := x.(string); ok && strings.HasSuffix(k, "_at") {
						require.Regexp(t, stampPattern, s, "%s %s.%s", name, path, k)
						_, err := time.Parse(time.RFC3339Nano, s)
						require.NoError(t, err)
						continue
					}
					check(path+"."+k, x)
				}
			case []any:
				for _, x := range v {
					check(path+"[]", x)
				}
			}
		}
		check("", doc)
	}
}

func TestTimestampsAreInThePageZone(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	src := &testSource{state: bc06State(t)}
	page := testPage
	page.Location = ny
	svc := New(src, page, nil)
	require.NoError(t, svc.Refresh(context.Background()))

	var doc object
	require.NoError(t, json.Unmarshal(get(svc.Summary).Body.Bytes(), &doc))
	require.Equal(t, "America/New_York", doc["page"].(object)["time_zone"])
	in := doc["incidents"].([]any)[0].(object)
	require.Equal(t, "2026-05-04T19:10:00.000-04:00", in["created_at"])
	require.Equal(t, "2026-05-05T05:30:00.000-04:00", in["updated_at"])
}

func TestOtherEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))

	status := fetchJSON(t, b, b.svc.Status)
	require.Equal(t, []string{"page", "status"}, keys(status))
	require.Equal(t, "minor", status["status"].(object)["indicator"])

	comps := fetchJSON(t, b, b.svc.Components)
	require.Equal(t, []string{"components", "page"}, keys(comps))
	require.Len(t, comps["components"], 4, "three components and one group")

	all := fetchJSON(t, b, b.svc.Incidents)
	require.Equal(t, []string{"incidents", "page"}, keys(all))
	require.Len(t, all["incidents"], 2, "incidents.json lists resolved incidents too")
	require.Equal(t, "inc-1", all["incidents"].([]any)[0].(object)["id"], "newest first")
	resolved := find(t, all["incidents"], "id", "inc-0")
	require.Equal(t, "resolved", resolved["status"])
	requireStamp(t, "resolved_at", resolved["resolved_at"], at(t, "2026-05-03T11:00:00Z"))
	require.Nil(t, resolved["monitoring_at"])
	later := resolved["incident_updates"].([]any)
	require.Nil(t, later[1].(object)["affected_components"], "an update that set no component has null")

	unresolved := fetchJSON(t, b, b.svc.Unresolved)
	require.Equal(t, []string{"incidents", "page"}, keys(unresolved))
	require.Len(t, unresolved["incidents"], 1)
	require.Equal(t, "inc-1", unresolved["incidents"].([]any)[0].(object)["id"])
}

func TestEmptyStateGivesEmptyArrays(t *testing.T) {
	t.Parallel()
	b := setup(t, State{})
	doc := fetchJSON(t, b, b.svc.Summary)
	for _, k := range []string{"components", "incidents", "scheduled_maintenances"} {
		require.NotNil(t, doc[k], k)
		require.Empty(t, doc[k], k)
	}
	require.Equal(t, "none", doc["status"].(object)["indicator"])
	requireStamp(t, "page.updated_at", doc["page"].(object)["updated_at"], b.clock.Now())
}

// BC-07: an incident resolved through updates leaves no trace in the overall status or the unresolved list.
func TestResolvedIncidentNeverCountsInJSON(t *testing.T) {
	t.Parallel()
	state := State{
		Components: []Component{{ID: "c-checkout", Slug: "checkout", Name: "Checkout",
			Status: domain.ComponentOperational, Position: 1}},
		Incidents: []Incident{{
			ID: "inc-7", Key: "INC-7", Name: "Checkout slow", Status: domain.UpdateResolved,
			CreatedAt: at(t, "2026-05-05T08:00:00Z"), UpdatedAt: at(t, "2026-05-05T09:00:00Z"),
			Components: []string{"checkout"},
			Updates: []Update{
				{ID: "3", Status: domain.UpdateResolved, Body: "Fixed", PublishedAt: at(t, "2026-05-05T09:00:00Z"),
					Components: map[string]domain.ComponentStatus{"checkout": domain.ComponentOperational}},
				{ID: "2", Status: domain.UpdateIdentified, Body: "Root cause found",
					PublishedAt: at(t, "2026-05-05T08:30:00Z")},
				{ID: "1", Status: domain.UpdateInvestigating, Body: "Checkout slow",
					PublishedAt: at(t, "2026-05-05T08:00:00Z"),
					Components:  map[string]domain.ComponentStatus{"checkout": domain.ComponentDegradedPerformance}},
			},
		}},
	}
	b := setup(t, state)
	summary := fetchJSON(t, b, b.svc.Summary)
	require.Equal(t, object{"indicator": "none", "description": "All Systems Operational"}, summary["status"])
	require.Empty(t, summary["incidents"])

	all := fetchJSON(t, b, b.svc.Incidents)
	in := all["incidents"].([]any)[0].(object)
	require.Equal(t, "resolved", in["status"])
	// No ResolvedAt from the Source: the resolving update's time stands in.
	requireStamp(t, "resolved_at", in["resolved_at"], at(t, "2026-05-05T09:00:00Z"))
	latest := in["incident_updates"].([]any)[0].(object)
	require.Equal(t, []any{object{"code": "c-checkout", "name": "Checkout", "old_status": "degraded_performance",
		"new_status": "operational"}}, latest["affected_components"], "old_status from the last update that set one")
}

func TestUpdateBodyIsTheMarkdownAsWritten(t *testing.T) {
	t.Parallel()
	state := bc06State(t)
	body := "**Fix** deployed <b>now</b> & [details](https://example.com/a?b=1&c=2)\nsecond line"
	state.Incidents[0].Updates[0].Body = body
	b := setup(t, state)
	doc := fetchJSON(t, b, b.svc.Summary)
	update := doc["incidents"].([]any)[0].(object)["incident_updates"].([]any)[0].(object)
	require.Equal(t, body, update["body"])
}
