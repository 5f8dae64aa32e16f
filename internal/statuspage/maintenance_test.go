package statuspage

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/maintenance"
)

// fakeTimers stands in for time.AfterFunc: it records each scheduled call, which the test fires by hand.
type fakeTimers struct {
	mu    sync.Mutex
	calls []*fakeTimer
}

type fakeTimer struct {
	d       time.Duration
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool { was := !t.stopped; t.stopped = true; return was }

func (ft *fakeTimers) afterFunc(d time.Duration, f func()) stopper {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	t := &fakeTimer{d: d, f: f}
	ft.calls = append(ft.calls, t)
	return t
}

// pending is the one timer not stopped, or nil; more than one is a failure.
func (ft *fakeTimers) pending(t *testing.T) *fakeTimer {
	t.Helper()
	ft.mu.Lock()
	defer ft.mu.Unlock()
	var out *fakeTimer
	for _, c := range ft.calls {
		if !c.stopped {
			require.Nil(t, out, "more than one pending wake-up")
			out = c
		}
	}
	return out
}

// fire runs the pending timer's function as the runtime would, and waits for the rebuild it starts.
func (ft *fakeTimers) fire(t *testing.T, b *bundle) {
	t.Helper()
	p := ft.pending(t)
	require.NotNil(t, p, "a wake-up is scheduled")
	p.stopped = true
	p.f()
	b.svc.mu.Lock()
	f := b.svc.flight
	b.svc.mu.Unlock()
	if f != nil {
		<-f.done
	}
}

// maintBundle is a Service over a state with maintenances, in the page's zone loc, at now, with fake timers.
func maintBundle(t *testing.T, state State, now string, loc *time.Location) (*bundle, *fakeTimers) {
	t.Helper()
	src := &testSource{state: state}
	clock := &testClock{now: at(t, now)}
	page := testPage
	page.Location = loc
	svc := New(src, page, nil)
	svc.now = clock.Now
	timers := &fakeTimers{}
	svc.afterFunc = timers.afterFunc
	return &bundle{src: src, svc: svc, clock: clock}, timers
}

func maintComponents(t *testing.T) []Component {
	created := at(t, "2026-01-10T08:00:00Z")
	return []Component{
		{ID: "c-api", Slug: "api", Name: "API", Status: domain.ComponentOperational, Position: 1, CreatedAt: created, UpdatedAt: created},
		{ID: "c-db", Slug: "db", Name: "Database", Status: domain.ComponentOperational, Position: 2, CreatedAt: created, UpdatedAt: created},
	}
}

func oneOff(t *testing.T, id, start, end string, slugs ...string) maintenance.Maintenance {
	created := at(t, "2026-05-01T09:00:00Z")
	return maintenance.Maintenance{ID: id, Title: "DB upgrade " + id, Body: "We upgrade the **database**.",
		Components: slugs, StartsAt: at(t, start), EndsAt: at(t, end), CreatedAt: created, UpdatedAt: created, Version: 1}
}

func componentStatus(t *testing.T, doc object, name string) string {
	t.Helper()
	return find(t, doc["components"], "name", name)["status"].(string)
}

func getJSON(t *testing.T, h http.HandlerFunc) object {
	t.Helper()
	rec := get(h)
	require.Equal(t, http.StatusOK, rec.Code)
	var doc object
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	return doc
}

// A window opens and closes on time by itself: the snapshot schedules its own rebuild at each boundary, and the
// component shows under_maintenance only in between, then its own status again.
func TestComponentIsUnderMaintenanceOnlyDuringItsWindow(t *testing.T) {
	t.Parallel()
	state := State{Components: maintComponents(t),
		Maintenances: []maintenance.Maintenance{oneOff(t, "m1", "2026-05-05T11:00:00Z", "2026-05-05T12:00:00Z", "api")}}
	b, timers := maintBundle(t, state, "2026-05-05T10:00:00Z", time.UTC)
	require.NoError(t, b.svc.Refresh(context.Background()))
	calls := b.src.calls.Load()

	doc := getJSON(t, b.svc.Components)
	require.Equal(t, "operational", componentStatus(t, doc, "API"))
	require.Equal(t, time.Hour, timers.pending(t).d, "a rebuild is scheduled when the window opens")
	upcoming := getJSON(t, b.svc.UpcomingMaintenances)["scheduled_maintenances"].([]any)
	require.Len(t, upcoming, 1)
	require.Equal(t, "scheduled", upcoming[0].(object)["status"])
	require.Empty(t, getJSON(t, b.svc.ActiveMaintenances)["scheduled_maintenances"])
	require.Equal(t, "none", getJSON(t, b.svc.Status)["status"].(object)["indicator"])
	require.Equal(t, calls, b.src.calls.Load(), "reading the page does not read the Source")

	b.clock.Advance(time.Hour)
	timers.fire(t, b)
	doc = getJSON(t, b.svc.Components)
	require.Equal(t, "under_maintenance", componentStatus(t, doc, "API"))
	requireStamp(t, "api.updated_at", find(t, doc["components"], "name", "API")["updated_at"],
		at(t, "2026-05-05T11:00:00Z"))
	require.Equal(t, "operational", componentStatus(t, doc, "Database"), "only covered components")
	require.Equal(t, object{"indicator": "maintenance", "description": "Service Under Maintenance"},
		getJSON(t, b.svc.Status)["status"])
	active := getJSON(t, b.svc.ActiveMaintenances)["scheduled_maintenances"].([]any)
	require.Len(t, active, 1)
	require.Equal(t, "in_progress", active[0].(object)["status"])
	require.Equal(t, time.Hour, timers.pending(t).d, "the next rebuild is when the window closes")

	b.clock.Advance(time.Hour)
	timers.fire(t, b)
	doc = getJSON(t, b.svc.Components)
	require.Equal(t, "operational", componentStatus(t, doc, "API"))
	requireStamp(t, "api.updated_at", find(t, doc["components"], "name", "API")["updated_at"],
		at(t, "2026-05-05T12:00:00Z"))
	require.Empty(t, getJSON(t, b.svc.ActiveMaintenances)["scheduled_maintenances"])
	require.Empty(t, getJSON(t, b.svc.Summary)["scheduled_maintenances"], "the summary lists no completed one")
	all := getJSON(t, b.svc.Maintenances)["scheduled_maintenances"].([]any)
	require.Len(t, all, 1)
	done := all[0].(object)
	require.Equal(t, "completed", done["status"])
	requireStamp(t, "resolved_at", done["resolved_at"], at(t, "2026-05-05T12:00:00Z"))
	require.Nil(t, timers.pending(t), "nothing more to wake up for")
}

// BC-09: maintenance ranks below every degradation: a covered component shows the worse of its own status and
// under_maintenance, and the overall status follows the precedence table over the statuses shown.
func TestMaintenanceNeverHidesADegradationOrOutage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		stored, shown domain.ComponentStatus
		indicator     Indicator
	}{
		{domain.ComponentOperational, domain.ComponentUnderMaintenance, IndicatorMaintenance},
		{domain.ComponentUnderMaintenance, domain.ComponentUnderMaintenance, IndicatorMaintenance},
		{domain.ComponentDegradedPerformance, domain.ComponentDegradedPerformance, IndicatorMinor},
		{domain.ComponentPartialOutage, domain.ComponentPartialOutage, IndicatorMajor},
		{domain.ComponentMajorOutage, domain.ComponentMajorOutage, IndicatorCritical},
	} {
		t.Run(string(tt.stored), func(t *testing.T) {
			t.Parallel()
			comps := maintComponents(t)
			comps[0].Status = tt.stored
			state := State{Components: comps, Maintenances: []maintenance.Maintenance{
				oneOff(t, "m1", "2026-05-05T09:00:00Z", "2026-05-05T11:00:00Z", "api")}}
			b, _ := maintBundle(t, state, "2026-05-05T10:00:00Z", time.UTC)
			doc := fetchJSON(t, b, b.svc.Summary)
			require.Equal(t, string(tt.shown), componentStatus(t, doc, "API"))
			require.Equal(t, string(tt.indicator), doc["status"].(object)["indicator"])
		})
	}
}

// BC-09's three scenarios, with maintenance coming from windows rather than stored statuses.
func TestBC09ScenariosWithMaintenanceWindows(t *testing.T) {
	t.Parallel()
	mk := func(covered, majors int, incidents ...Incident) State {
		var st State
		var slugs []string
		for i := range 31 {
			c := Component{ID: "c" + string(rune('a'+i)), Slug: "s" + string(rune('a'+i)), Name: "C" + string(rune('a'+i)),
				Status: domain.ComponentOperational, Position: i}
			if i < covered {
				slugs = append(slugs, c.Slug)
			} else if i < covered+majors {
				c.Status = domain.ComponentMajorOutage
			}
			st.Components = append(st.Components, c)
		}
		st.Maintenances = []maintenance.Maintenance{oneOff(t, "m", "2026-05-05T09:00:00Z", "2026-05-05T11:00:00Z", slugs...)}
		st.Incidents = incidents
		return st
	}
	monitoring := incidentThrough(domain.UpdateInvestigating, domain.UpdateMonitoring)
	for _, tt := range []struct {
		name  string
		state State
		want  Indicator
	}{
		{"A: 11 in a window, 20 operational", mk(11, 0), IndicatorMaintenance},
		{"B: 25 in a window, 5 major outage, 1 operational", mk(25, 5), IndicatorCritical},
		{"C: 1 in a window, 30 operational, an incident in monitoring", mk(1, 0, monitoring), IndicatorMinor},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, _ := maintBundle(t, tt.state, "2026-05-05T10:00:00Z", time.UTC)
			doc := fetchJSON(t, b, b.svc.Status)
			require.Equal(t, string(tt.want), doc["status"].(object)["indicator"])
		})
	}
	// B, with the outages inside the window too: still an outage.
	st := mk(30, 0)
	for i := range 5 {
		st.Components[i].Status = domain.ComponentMajorOutage
	}
	b, _ := maintBundle(t, st, "2026-05-05T10:00:00Z", time.UTC)
	require.Equal(t, "critical", fetchJSON(t, b, b.svc.Status)["status"].(object)["indicator"])
}

// The page must stay right when the database is not: a window opens on time from the last good state.
func TestWindowOpensOnTimeWhileTheSourceFails(t *testing.T) {
	t.Parallel()
	state := State{Components: maintComponents(t),
		Maintenances: []maintenance.Maintenance{oneOff(t, "m1", "2026-05-05T11:00:00Z", "2026-05-05T12:00:00Z", "api")}}
	b, timers := maintBundle(t, state, "2026-05-05T10:00:00Z", time.UTC)
	require.NoError(t, b.svc.Refresh(context.Background()))
	b.src.set(State{}, errors.New("database is down"))

	b.clock.Advance(time.Hour)
	timers.fire(t, b)
	doc := getJSON(t, b.svc.Components)
	require.Equal(t, "under_maintenance", componentStatus(t, doc, "API"))
	require.Equal(t, time.Hour, timers.pending(t).d, "and it will close on time too")

	b.clock.Advance(time.Hour)
	timers.fire(t, b)
	require.Equal(t, "operational", componentStatus(t, getJSON(t, b.svc.Components), "API"))
}

func TestCloseCancelsTheScheduledRebuild(t *testing.T) {
	t.Parallel()
	state := State{Components: maintComponents(t),
		Maintenances: []maintenance.Maintenance{oneOff(t, "m1", "2026-05-05T11:00:00Z", "2026-05-05T12:00:00Z", "api")}}
	b, timers := maintBundle(t, state, "2026-05-05T10:00:00Z", time.UTC)
	require.NoError(t, b.svc.Refresh(context.Background()))
	require.NotNil(t, timers.pending(t))
	b.svc.Close()
	require.Nil(t, timers.pending(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	require.Nil(t, timers.pending(t), "nothing is scheduled after Close")
}

// The maintenance objects have Statuspage's shape: the in-progress one of GitHub's summary, the scheduled one of
// Personio's, the completed ones of Claude's scheduled-maintenances.json.
func TestMaintenanceJSONHasStatuspagesShape(t *testing.T) {
	t.Parallel()
	state := State{Components: maintComponents(t), Maintenances: []maintenance.Maintenance{
		oneOff(t, "done", "2026-05-04T11:00:00Z", "2026-05-04T12:00:00Z", "api"),
		oneOff(t, "now", "2026-05-05T09:00:00Z", "2026-05-05T11:00:00Z", "api", "db"),
		oneOff(t, "later", "2026-05-06T11:00:00Z", "2026-05-06T12:00:00Z", "db"),
	}}
	b, _ := maintBundle(t, state, "2026-05-05T10:00:00Z", time.UTC)
	summary := fetchJSON(t, b, b.svc.Summary)
	all := getJSON(t, b.svc.Maintenances)

	github := reference(t, "githubstatus-summary-2020-12-17-maintenance-in-progress.json")
	personio := reference(t, "personio-summary-2024-01-31-scheduled-maintenance.json")
	claude := reference(t, "claude-scheduled-maintenances-2026-09-15.json")
	require.Equal(t, keys(claude), keys(all), "scheduled-maintenances.json: top-level keys")

	for _, c := range []struct {
		what string
		ref  object
		id   string
	}{
		{"in progress", github["scheduled_maintenances"].([]any)[0].(object), "now"},
		{"scheduled", personio["scheduled_maintenances"].([]any)[0].(object), "later"},
		{"completed", claude["scheduled_maintenances"].([]any)[0].(object), "done"},
	} {
		ours := find(t, all["scheduled_maintenances"], "id", c.id)
		requireSameShape(t, c.what, c.ref, ours)
		require.Equal(t, c.ref["status"], ours["status"], c.what)
		require.Equal(t, "maintenance", ours["impact"])
		refUpdate := c.ref["incident_updates"].([]any)[0].(object)
		ourUpdate := ours["incident_updates"].([]any)[0].(object)
		requireSameShape(t, c.what+" update", refUpdate, ourUpdate)
		require.Equal(t, c.ref["status"], ourUpdate["status"], "%s: the latest update has the maintenance's status", c.what)
		requireSameShape(t, c.what+" component", c.ref["components"].([]any)[0].(object),
			ours["components"].([]any)[0].(object))
		for _, k := range []string{"scheduled_for", "scheduled_until", "created_at", "updated_at", "started_at"} {
			require.Regexp(t, stampPattern, ours[k], "%s.%s", c.what, k)
		}
	}

	now := find(t, all["scheduled_maintenances"], "id", "now")
	requireStamp(t, "scheduled_for", now["scheduled_for"], at(t, "2026-05-05T09:00:00Z"))
	requireStamp(t, "scheduled_until", now["scheduled_until"], at(t, "2026-05-05T11:00:00Z"))
	require.Nil(t, now["resolved_at"])
	require.Nil(t, now["monitoring_at"])
	require.Equal(t, "https://status.example.com/#maintenance-now", now["shortlink"])
	updates := now["incident_updates"].([]any)
	require.Len(t, updates, 2)
	require.Equal(t, "in_progress", updates[0].(object)["status"])
	requireStamp(t, "in_progress update", updates[0].(object)["display_at"], at(t, "2026-05-05T09:00:00Z"))
	require.Equal(t, "scheduled", updates[1].(object)["status"])
	require.Equal(t, "We upgrade the **database**.", updates[1].(object)["body"], "the Markdown as written")
	var statuses []string
	for _, c := range now["components"].([]any) {
		statuses = append(statuses, c.(object)["status"].(string))
	}
	require.Equal(t, []string{"under_maintenance", "under_maintenance"}, statuses)

	var order []string
	for _, m := range all["scheduled_maintenances"].([]any) {
		order = append(order, m.(object)["id"].(string))
	}
	require.Equal(t, []string{"later", "now", "done"}, order, "latest window first")
	order = nil
	for _, m := range summary["scheduled_maintenances"].([]any) {
		order = append(order, m.(object)["id"].(string))
	}
	require.Equal(t, []string{"now", "later"}, order, "the summary has the active, then the upcoming ones")
	require.Equal(t, "maintenance", summary["status"].(object)["indicator"])
}

func TestRecurringMaintenanceShowsItsCurrentOrNextWindow(t *testing.T) {
	t.Parallel()
	weekly := maintenance.Maintenance{ID: "w", Title: "Weekly patching", Components: []string{"db"},
		Recurrence: &maintenance.Recurrence{Frequency: maintenance.Weekly, Weekday: "tuesday", LocalStart: "05:00",
			Duration: time.Hour, Zone: "UTC", From: "2026-09-01"},
		CreatedAt: at(t, "2026-08-01T00:00:00Z"), UpdatedAt: at(t, "2026-08-01T00:00:00Z")}
	state := State{Components: maintComponents(t), Maintenances: []maintenance.Maintenance{weekly}}

	b, timers := maintBundle(t, state, "2026-09-22T05:30:00Z", time.UTC)
	active := fetchJSON(t, b, b.svc.ActiveMaintenances)["scheduled_maintenances"].([]any)
	require.Len(t, active, 1)
	requireStamp(t, "scheduled_for", active[0].(object)["scheduled_for"], at(t, "2026-09-22T05:00:00Z"))
	require.Equal(t, 30*time.Minute, timers.pending(t).d)

	b.clock.Advance(time.Hour)
	timers.fire(t, b)
	upcoming := getJSON(t, b.svc.UpcomingMaintenances)["scheduled_maintenances"].([]any)
	require.Len(t, upcoming, 1)
	require.Equal(t, "scheduled", upcoming[0].(object)["status"])
	requireStamp(t, "scheduled_for", upcoming[0].(object)["scheduled_for"], at(t, "2026-09-29T05:00:00Z"))
	require.Equal(t, 7*24*time.Hour-90*time.Minute, timers.pending(t).d, "until next Tuesday 05:00")
}

// BC-04 and BC-02: a window is shown in the page's zone with that zone named, and a recurrence in its own zone with
// its name; never a converted clock beside the original label. The machine-readable instant is the same throughout.
func TestPageShowsMaintenanceWindowsInThePageZoneWithTheZoneNamed(t *testing.T) {
	t.Parallel()
	weekly := maintenance.Maintenance{ID: "w", Title: "Weekly patching", Components: []string{"db"},
		Recurrence: &maintenance.Recurrence{Frequency: maintenance.Weekly, Weekday: "tuesday", LocalStart: "05:00",
			Duration: time.Hour, Zone: "UTC", From: "2026-09-01"},
		CreatedAt: at(t, "2026-08-01T00:00:00Z"), UpdatedAt: at(t, "2026-08-01T00:00:00Z")}
	dbUpgrade := oneOff(t, "db", "2026-09-21T19:00:00Z", "2026-09-21T21:00:00Z", "api")
	state := State{Components: maintComponents(t), Maintenances: []maintenance.Maintenance{weekly, dbUpgrade}}
	for _, tt := range []struct {
		zone                   string
		starts, ends           string
		oneOffStarts, oneOffTo string
	}{
		{"UTC", "22 September 2026, 05:00 UTC", "22 September 2026, 06:00 UTC",
			"21 September 2026, 19:00 UTC", "21 September 2026, 21:00 UTC"},
		{"America/Chicago", "22 September 2026, 00:00 CDT", "22 September 2026, 01:00 CDT",
			"21 September 2026, 14:00 CDT", "21 September 2026, 16:00 CDT"},
		{"Asia/Shanghai", "22 September 2026, 13:00 CST", "22 September 2026, 14:00 CST",
			"22 September 2026, 03:00 CST", "22 September 2026, 05:00 CST"},
		{"Europe/Stockholm", "22 September 2026, 07:00 CEST", "22 September 2026, 08:00 CEST",
			"21 September 2026, 21:00 CEST", "21 September 2026, 23:00 CEST"},
	} {
		t.Run(tt.zone, func(t *testing.T) {
			t.Parallel()
			loc, err := time.LoadLocation(tt.zone)
			require.NoError(t, err)
			b, _ := maintBundle(t, state, "2026-09-20T00:00:00Z", loc)
			doc := renderedPage(t, b)
			section := one(t, doc, "scheduled-maintenance")
			require.Empty(t, byTestID(doc, "maintenance-in-progress"))
			ms := byTestID(section, "maintenance")
			require.Len(t, ms, 2)
			// Soonest first: the one-off on the 21st, then the weekly window on the 22nd.
			for i, want := range []struct {
				starts, ends, startInstant string
			}{
				{tt.oneOffStarts, tt.oneOffTo, "2026-09-21T19:00:00Z"},
				{tt.starts, tt.ends, "2026-09-22T05:00:00Z"},
			} {
				starts, ends := one(t, ms[i], "maintenance-starts"), one(t, ms[i], "maintenance-ends")
				require.Equal(t, want.starts, textOf(starts))
				require.Equal(t, want.ends, textOf(ends))
				dt, _ := attr(starts, "datetime")
				require.True(t, at(t, want.startInstant).Equal(at(t, dt)), "datetime %s", dt)
			}
			require.Equal(t, "Every Tuesday at 05:00 (UTC) for 1 hour", textOf(one(t, ms[1], "maintenance-recurrence")))
			require.Empty(t, byTestID(ms[0], "maintenance-recurrence"))
			require.Equal(t, "Affects: Database", textOf(one(t, ms[1], "maintenance-components")))
			require.Equal(t, "We upgrade the database.", textOf(one(t, ms[0], "maintenance-body")))
			if tt.zone != "UTC" {
				require.NotContains(t, textOf(section), ":00 UTC", "no converted clock beside the UTC label")
			}
		})
	}
}

func TestPageShowsMaintenanceInProgressAboveTheComponents(t *testing.T) {
	t.Parallel()
	state := State{Components: maintComponents(t),
		Maintenances: []maintenance.Maintenance{oneOff(t, "m1", "2026-05-05T09:00:00Z", "2026-05-05T11:00:00Z", "api")}}
	b, _ := maintBundle(t, state, "2026-05-05T10:00:00Z", time.UTC)
	doc := renderedPage(t, b)
	section := one(t, doc, "maintenance-in-progress")
	m := one(t, section, "maintenance")
	require.Equal(t, "In progress", textOf(one(t, m, "maintenance-status")))
	require.Equal(t, "From 5 May 2026, 09:00 UTC to 5 May 2026, 11:00 UTC", textOf(one(t, m, "maintenance-window")))
	id, _ := attr(m, "id")
	require.Equal(t, "maintenance-m1", id)
	require.Empty(t, byTestID(doc, "scheduled-maintenance"))
	require.Equal(t, "Service Under Maintenance", textOf(one(t, doc, "overall-status-text")))
	var badges []string
	for _, c := range byTestID(one(t, doc, "components"), "component") {
		badges = append(badges, textOf(one(t, c, "status")))
	}
	require.Equal(t, []string{"⚙︎ Under maintenance", "✓ Operational"}, badges)
	body := get(b.svc.Page).Body.String()
	require.Less(t, strings.Index(body, `data-testid="maintenance-in-progress"`), strings.Index(body, `data-testid="components"`))
}
