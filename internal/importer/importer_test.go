package importer_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/importer"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/postgres"
	"github.com/mimhq/mim/internal/postgrestest"
	"github.com/mimhq/mim/internal/workflow"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// casesDir holds real Statuspage exports; CI has ../shared beside the repository.
const casesDir = "../../../shared/cases/statuspage"

func caseFiles(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(casesDir, "*.json"))
	if len(files) == 0 {
		t.Skipf("no Statuspage cases in %s", casesDir)
	}
	return files
}

func casePath(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(casesDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("Statuspage case %s: %v", name, err)
	}
	return p
}

// env is one test's mim on its own database, with an importer over it.
type env struct {
	t   *testing.T
	app *app.App
	srv *httptest.Server
	im  *importer.Importer
}

func setup(t *testing.T) *env {
	t.Helper()
	url := postgrestest.NewDatabase(t)
	cfg := config.Config{PageName: "Test status", BaseURL: "http://status.test", TimeZone: time.UTC}
	a, err := app.New(context.Background(), cfg, url, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &env{t: t, app: a, srv: srv, im: importer.New(postgres.NewImportStore(a.DB))}
}

func parseFile(t *testing.T, path string) *importer.Document {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	doc, err := importer.Parse(data)
	require.NoError(t, err, path)
	return doc
}

func (e *env) importFile(path string) importer.Result {
	e.t.Helper()
	res, err := e.im.Import(e.t.Context(), parseFile(e.t, path))
	require.NoError(e.t, err, path)
	return res
}

func (e *env) importAll(files []string) importer.Result {
	e.t.Helper()
	var total importer.Result
	for _, f := range files {
		total.Add(e.importFile(f))
	}
	return total
}

// counts are the rows an import writes.
type counts struct{ components, incidents, timeline, refs int }

func (e *env) counts() counts {
	e.t.Helper()
	var c counts
	require.NoError(e.t, e.app.DB.Pool.QueryRow(e.t.Context(), `SELECT
		(SELECT count(*) FROM components), (SELECT count(*) FROM incidents),
		(SELECT count(*) FROM timeline_entries), (SELECT count(*) FROM external_refs)`).
		Scan(&c.components, &c.incidents, &c.timeline, &c.refs))
	return c
}

// localID is the local id an external id of a Statuspage page became.
func (e *env) localID(pageID string, kind importer.RefKind, externalID string) string {
	e.t.Helper()
	var id string
	require.NoError(e.t, e.app.DB.Pool.QueryRow(e.t.Context(), `SELECT local_id::text FROM external_refs
		WHERE source = $1 AND kind = $2 AND external_id = $3`, "statuspage:"+pageID, string(kind), externalID).Scan(&id),
		"%s %s of page %s", kind, externalID, pageID)
	return id
}

func (e *env) componentSlug(pageID, externalID string) string {
	e.t.Helper()
	var slug string
	require.NoError(e.t, e.app.DB.Pool.QueryRow(e.t.Context(), `SELECT slug FROM components WHERE id = $1`,
		e.localID(pageID, importer.RefComponent, externalID)).Scan(&slug))
	return slug
}

func (e *env) incidentIDs() []string {
	e.t.Helper()
	rows, err := e.app.DB.Pool.Query(e.t.Context(), `SELECT id::text FROM incidents ORDER BY number`)
	require.NoError(e.t, err)
	var ids []string
	for rows.Next() {
		var id string
		require.NoError(e.t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(e.t, rows.Err())
	return ids
}

func (e *env) getJSON(path string) map[string]any {
	e.t.Helper()
	resp, err := e.srv.Client().Get(e.srv.URL + path)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, resp.StatusCode, string(body))
	var m map[string]any
	require.NoError(e.t, json.Unmarshal(body, &m))
	return m
}

// source is an export read as plain JSON, independently of the importer's parsing.
type source map[string]any

func readSource(t *testing.T, path string) source {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var s source
	require.NoError(t, json.Unmarshal(data, &s))
	return s
}

func list(v any) []map[string]any {
	var out []map[string]any
	for _, x := range asSlice(v) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func instant(t *testing.T, v any) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, v.(string))
	require.NoError(t, err)
	return at
}

func (s source) pageID() string {
	if p, ok := s["page"].(map[string]any); ok {
		return p["id"].(string)
	}
	return ""
}

// Every real export imports; importing them all again creates nothing: no component, incident, update, timeline
// entry or reference, and the counts of the first import are those of the exports.
func TestImportEveryCaseTwiceCreatesNothingTheSecondTime(t *testing.T) {
	t.Parallel()
	files := caseFiles(t)
	e := setup(t)

	// What the exports hold, counted from their plain JSON: unique ids per page.
	components, incidents, updates := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, f := range files {
		s := readSource(t, f)
		page := s.pageID()
		comps := list(s["components"])
		for _, in := range list(s["incidents"]) {
			incidents[page+"/"+in["id"].(string)] = true
			for _, u := range list(in["incident_updates"]) {
				updates[page+"/"+u["id"].(string)] = true
			}
			comps = append(comps, list(in["components"])...)
		}
		for _, c := range comps {
			if c["group"] != true {
				components[page+"/"+c["id"].(string)] = true
			}
		}
	}
	require.NotEmpty(t, incidents)

	first := e.importAll(files)
	require.Equal(t, len(components), first.ComponentsCreated)
	require.Equal(t, len(incidents), first.IncidentsCreated)
	require.Equal(t, len(updates), first.UpdatesCreated)
	require.Positive(t, first.MaintenancesSkipped, "the cases hold scheduled maintenances, which are not imported")
	before := e.counts()
	require.Equal(t, len(components), before.components)
	require.Equal(t, len(incidents), before.incidents)
	require.Equal(t, len(components)+len(incidents)+len(updates), before.refs)

	second := e.importAll(files)
	require.False(t, second.Changed(), second.String())
	require.Zero(t, second.IncidentsExtended)
	require.Equal(t, len(incidents), second.IncidentsSkipped-first.IncidentsSkipped)
	require.Positive(t, second.ComponentsSkipped)
	require.Equal(t, before, e.counts(), "nothing new: components, incidents, timeline entries, references")
}

// One long history, field by field against the plain JSON of the export: every incident's name, status and each
// update's body, status, creation instant and component statuses.
func TestImportedIncidentsMatchTheirSourceFieldByField(t *testing.T) {
	t.Parallel()
	path := casePath(t, "personio-incidents-2024-01-31.json")
	e := setup(t)
	e.importFile(path)
	src := readSource(t, path)
	page := src.pageID()

	incidents := list(src["incidents"])
	require.Len(t, incidents, 50)
	publicStatus := map[string]domain.UpdateStatus{"investigating": domain.UpdateInvestigating,
		"identified": domain.UpdateIdentified, "monitoring": domain.UpdateMonitoring,
		"resolved": domain.UpdateResolved, "postmortem": domain.UpdateResolved}
	for _, in := range incidents {
		rec, err := e.app.Incidents.Get(t.Context(), e.localID(page, importer.RefIncident, in["id"].(string)))
		require.NoError(t, err)
		s := rec.State
		require.Equal(t, in["name"], s.Title)
		require.Equal(t, domain.KindStandard, s.Kind)
		require.Equal(t, publicStatus[in["status"].(string)], s.PublicStatus())
		require.Equal(t, domain.StatusResolved, s.Status, "every incident of this export is resolved")
		require.False(t, s.IsOpen())
		require.True(t, instant(t, in["created_at"]).Equal(s.Milestones[domain.MilestoneDeclared]))

		ups := list(in["incident_updates"])
		require.Len(t, s.Updates, len(ups))
		for i, u := range ups {
			got := s.Updates[len(ups)-1-i] // the export is newest first, mim's state oldest first
			require.Equal(t, workflow.StatePublished, got.State)
			require.Equal(t, u["body"], got.Body, "update %s", u["id"])
			require.Equal(t, publicStatus[u["status"].(string)], got.Status, "update %s", u["id"])
			require.True(t, instant(t, u["created_at"]).Equal(*got.PublishedAt), "update %s: %s is not %s",
				u["id"], got.PublishedAt, u["created_at"])
			require.Equal(t, e.localID(page, importer.RefUpdate, u["id"].(string)), got.ID)
			want := map[string]domain.ComponentStatus{}
			for _, a := range list(u["affected_components"]) {
				want[e.componentSlug(page, a["code"].(string))] = domain.ComponentStatus(a["new_status"].(string))
			}
			require.Equal(t, want, got.Components, "update %s", u["id"])
		}
	}
}

// The stored state of every imported incident is the fold of its timeline, which is the import's alone: entries by
// "import" from the CLI, at the export's times.
func TestImportedTimelinesReplayToTheStoredState(t *testing.T) {
	t.Parallel()
	files := caseFiles(t)
	e := setup(t)
	e.importAll(files)
	ids := e.incidentIDs()
	require.NotEmpty(t, ids)
	for _, id := range ids {
		rec, err := e.app.Incidents.Get(t.Context(), id)
		require.NoError(t, err)
		entries, err := e.app.Incidents.Timeline(t.Context(), id)
		require.NoError(t, err)
		replayed, err := incident.Replay(entries)
		require.NoError(t, err)
		require.Equal(t, rec.State, replayed, "%s replays to its stored state", rec.State.Key)
		require.Equal(t, workflow.EventDeclared, entries[0].Type)
		for i, en := range entries {
			require.Equal(t, domain.ChannelCLI, en.Channel)
			require.Equal(t, "import", en.Actor.Name)
			if i > 0 {
				require.False(t, en.At.Before(entries[i-1].At), "%s: entry %d goes back in time", rec.State.Key, en.Seq)
			}
		}
	}
}

// An unresolved incident of a summary export is on mim's public JSON as it was on Statuspage's: the same name,
// status, and updates with the same bodies, statuses and instants; the components keep their names and statuses.
func TestUnresolvedImportedIncidentIsOnThePublicJSONAsInTheExport(t *testing.T) {
	t.Parallel()
	path := casePath(t, "claude-summary-2026-03-26-unresolved-incident.json")
	e := setup(t)
	res := e.importFile(path)
	require.NoError(t, e.app.StatusPage.Refresh(t.Context()))
	src := readSource(t, path)
	want := list(src["incidents"])
	require.Len(t, want, 1)
	// The export is months old: the import says the incident is probably over.
	require.Contains(t, strings.Join(res.Warnings, "\n"), "was unresolved in the export")

	for _, doc := range []string{"/api/v2/summary.json", "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json"} {
		got := e.getJSON(doc)
		var in map[string]any
		for _, x := range list(got["incidents"]) {
			if x["name"] == want[0]["name"] {
				in = x
			}
		}
		require.NotNil(t, in, "%s lists %q", doc, want[0]["name"])
		require.Equal(t, want[0]["status"], in["status"], doc)
		require.Equal(t, want[0]["impact"], in["impact"], "%s keeps the impact Statuspage stated", doc)
		require.Nil(t, in["resolved_at"], doc)
		wu, gu := list(want[0]["incident_updates"]), list(in["incident_updates"])
		require.Len(t, gu, len(wu), doc)
		for i := range wu {
			require.Equal(t, wu[i]["body"], gu[i]["body"], doc)
			require.Equal(t, wu[i]["status"], gu[i]["status"], doc)
			require.True(t, instant(t, wu[i]["created_at"]).Equal(instant(t, gu[i]["created_at"])),
				"%s: update %d at %s, not %s", doc, i, gu[i]["created_at"], wu[i]["created_at"])
		}
	}

	summary := e.getJSON("/api/v2/summary.json")
	byName := map[string]map[string]any{}
	for _, c := range list(summary["components"]) {
		byName[c["name"].(string)] = c
	}
	for _, c := range list(src["components"]) {
		got, ok := byName[c["name"].(string)]
		require.True(t, ok, "component %q is on the page", c["name"])
		require.Equal(t, c["status"], got["status"], c["name"])
	}
	status := summary["status"].(map[string]any)
	require.Equal(t, "minor", status["indicator"], "an unresolved incident makes the page at least minor")
}

// Group components name their members' group; the names Intercom repeats in its Europe and Australia groups get
// slugs of group and name, and a slug mim already has is not taken over: a grouped component is named by its group,
// an ungrouped one gets a number.
func TestComponentGroupsBecomeGroupNamesWithDistinctSlugs(t *testing.T) {
	t.Parallel()
	path := casePath(t, "intercom-summary-2024-01-31-component-groups.json")
	e := setup(t)
	for _, name := range []string{"Email", "Intercom APIs"} {
		_, err := e.app.Components.Create(t.Context(), domain.Component{Name: name})
		require.NoError(t, err)
	}
	res := e.importFile(path)
	require.Equal(t, 20, res.ComponentsCreated, "24 components, 4 of them groups")

	comps, err := e.app.Components.List(t.Context())
	require.NoError(t, err)
	bySlug := map[string]domain.Component{}
	for _, c := range comps {
		bySlug[c.Slug] = c
	}
	for slug, group := range map[string]string{
		"intercom-web-application":                    "",
		"intercom-europe-intercom-web-application":    "Intercom Europe",
		"intercom-australia-intercom-web-application": "Intercom Australia",
		"intercom-europe-intercom-web-messenger":      "Intercom Europe",
		"web-messenger":                               "Intercom Messenger",
		"intercom-message-delivery-email":             "Intercom message delivery",
		"email":                                       "",
		"intercom-apis":                               "",
		"intercom-apis-2":                             "",
		"intercom-europe-intercom-apis":               "Intercom Europe",
	} {
		c, ok := bySlug[slug]
		require.True(t, ok, "slug %s", slug)
		require.Equal(t, group, c.Group, slug)
	}
	require.Equal(t, "Email", bySlug["intercom-message-delivery-email"].Name)
	require.Equal(t, "Intercom APIs", bySlug["intercom-apis-2"].Name)
	require.Len(t, bySlug, 22, "every slug distinct")

	// The display order is the export's: Intercom Messenger's members (group at position 1) before the ungrouped
	// Intercom Web Application (position 2).
	require.Less(t, bySlug["web-messenger"].Position, bySlug["intercom-web-application"].Position)
	require.Less(t, bySlug["email"].Position, bySlug["web-messenger"].Position, "imported after what exists")
}

// A later export of the same page adds what an incident imported before did not have: its new updates, and the
// resolution; the incident keeps its key and replays to its state.
func TestLaterExportAddsNewUpdatesToAnImportedIncident(t *testing.T) {
	t.Parallel()
	path := casePath(t, "claude-summary-2026-03-26-unresolved-incident.json")
	e := setup(t)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var full map[string]any
	require.NoError(t, json.Unmarshal(raw, &full))
	in := list(full["incidents"])[0]
	ups := asSlice(in["incident_updates"])

	// Earlier: only the first update had been posted.
	in["incident_updates"] = ups[1:]
	earlier, err := json.Marshal(full)
	require.NoError(t, err)
	// Later: resolved.
	resolved := map[string]any{"id": "zzresolved01", "status": "resolved", "body": "This incident has been resolved.",
		"incident_id": in["id"], "created_at": "2026-03-25T21:10:00.123+01:00", "affected_components": nil}
	in["incident_updates"] = append([]any{resolved}, ups...)
	in["status"] = "resolved"
	later, err := json.Marshal(full)
	require.NoError(t, err)

	imp := func(data []byte) importer.Result {
		doc, err := importer.Parse(data)
		require.NoError(t, err)
		res, err := e.im.Import(t.Context(), doc)
		require.NoError(t, err)
		return res
	}
	first := imp(earlier)
	require.Equal(t, 1, first.IncidentsCreated)
	require.Equal(t, 1, first.UpdatesCreated)

	second := imp(later)
	require.Zero(t, second.IncidentsCreated)
	require.Equal(t, 1, second.IncidentsExtended)
	require.Equal(t, 2, second.UpdatesCreated)
	require.Equal(t, 1, second.UpdatesSkipped)

	rec, err := e.app.Incidents.Get(t.Context(), e.localID(full["page"].(map[string]any)["id"].(string),
		importer.RefIncident, in["id"].(string)))
	require.NoError(t, err)
	require.Equal(t, 2, rec.Version)
	require.Equal(t, domain.StatusResolved, rec.State.Status)
	require.Equal(t, domain.UpdateResolved, rec.State.PublicStatus())
	require.Len(t, rec.State.Updates, 3)
	require.True(t, instant(t, resolved["created_at"]).Equal(*rec.State.LatestPublished().PublishedAt))
	entries, err := e.app.Incidents.Timeline(t.Context(), rec.State.ID)
	require.NoError(t, err)
	replayed, err := incident.Replay(entries)
	require.NoError(t, err)
	require.Equal(t, rec.State, replayed)

	before := e.counts()
	require.False(t, imp(later).Changed())
	require.False(t, imp(earlier).Changed())
	require.Equal(t, before, e.counts())
}

// Impact sets the severity, and classification runs under the default policy, but an import never starts the
// major-incident workflow: a critical incident is recorded as major by the policy and standard by override.
func TestImportClassifiesByImpactAndKeepsIncidentsStandard(t *testing.T) {
	t.Parallel()
	path := casePath(t, "personio-incidents-2024-01-31.json")
	e := setup(t)
	e.importFile(path)
	src := readSource(t, path)
	severity := map[string]domain.Severity{"critical": domain.SeverityCritical, "major": domain.SeverityHigh,
		"minor": domain.SeverityMedium, "none": domain.SeverityLow}
	sawCritical := false
	for _, in := range list(src["incidents"]) {
		rec, err := e.app.Incidents.Get(t.Context(), e.localID(src.pageID(), importer.RefIncident, in["id"].(string)))
		require.NoError(t, err)
		s := rec.State
		require.Equal(t, severity[in["impact"].(string)], s.Criteria.Severity)
		require.Equal(t, domain.UrgencyNormal, s.Criteria.Urgency)
		require.Equal(t, domain.KindStandard, s.Kind)
		require.Equal(t, domain.KindStandard, s.Classification.EffectiveKind())
		if s.Criteria.Severity == domain.SeverityCritical {
			sawCritical = true
			require.Equal(t, domain.KindMajor, s.Classification.Kind, "the policy's verdict is kept")
			require.NotNil(t, s.Classification.Override)
			require.NotEmpty(t, s.Classification.Override.Reason)
		}
	}
	require.True(t, sawCritical, "the export has a critical incident")
}

// Two imports of one export at once still create everything once.
func TestConcurrentImportsOfOneExportCreateEverythingOnce(t *testing.T) {
	t.Parallel()
	path := casePath(t, "personio-incidents-2024-01-31.json")
	e := setup(t)
	doc := parseFile(t, path)
	var wg sync.WaitGroup
	results := make([]importer.Result, 3)
	errs := make([]error, 3)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = e.im.Import(context.Background(), doc) })
	}
	wg.Wait()
	created := 0
	for i := range results {
		require.NoError(t, errs[i])
		created += results[i].IncidentsCreated
	}
	require.Equal(t, 50, created)
	require.Equal(t, 50, e.counts().incidents)
}

// A component imported before takes the name, status and group of a newer export of its page (by the component's
// updated_at there), keeping its slug; an older export, imported after, changes nothing.
func TestNewerExportRefreshesImportedComponentsAndAnOlderOneDoesNot(t *testing.T) {
	t.Parallel()
	older := casePath(t, "githubstatus-summary-2020-05-22-active-incident.json")
	newer := casePath(t, "githubstatus-summary-2026-07-01-all-operational.json")

	component := func(e *env, slug string) domain.Component {
		t.Helper()
		comps, err := e.app.Components.List(t.Context())
		require.NoError(t, err)
		for _, c := range comps {
			if c.Slug == slug {
				return c
			}
		}
		t.Fatalf("no component %s", slug)
		return domain.Component{}
	}

	e := setup(t)
	e.importFile(older)
	require.Equal(t, domain.ComponentPartialOutage, component(e, "github-actions").Status)
	res := e.importFile(newer)
	require.Equal(t, 8, res.ComponentsUpdated+res.ComponentsSkipped, "eight of the nine components of 2020 are still there")
	require.Positive(t, res.ComponentsUpdated)
	actions := component(e, "github-actions")
	require.Equal(t, "Actions", actions.Name, "renamed since; the slug stays")
	require.Equal(t, domain.ComponentOperational, actions.Status)
	var changes int
	require.NoError(t, e.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM component_status_changes
		WHERE component_id = $1 AND status = 'operational'`, actions.ID).Scan(&changes))
	require.Equal(t, 1, changes, "the status change is kept for uptime history")
	before := e.counts()
	again := e.importFile(older)
	require.False(t, again.Changed(), again.String())
	require.Equal(t, before, e.counts())
	require.Equal(t, actions, component(e, "github-actions"), "an older export changes nothing")

	e2 := setup(t)
	e2.importFile(newer)
	res = e2.importFile(older)
	require.Zero(t, res.ComponentsUpdated)
	require.Equal(t, "Actions", component(e2, "actions").Name)
	require.Equal(t, domain.ComponentOperational, component(e2, "actions").Status)
}
