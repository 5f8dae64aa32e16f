package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"
)

// wr posts one war-room form at the version the page was rendered at.
func (u *ui) wr(key, command string, form url.Values) page {
	u.t.Helper()
	room := u.get("/app/incidents/" + key)
	form.Set("version", room.version(u.t))
	return u.post("/app/incidents/"+key+"/"+command, form)
}

func TestWebWarRoomUpdatesGoDraftThenICApprovalThenPublicShowingWhoDidWhat(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key, _ := e.driveIncident("EU control plane failure")
	comms, ic := e.signIn("comms"), e.signIn("ic")

	// Without JavaScript the preview renders the body as the public page will, and saves nothing.
	prev := comms.wr(key, "draft-update", url.Values{"status": {"identified"}, "preview": {"1"},
		"body": {"Rolling back **now** <script>alert(1)</script>"}})
	require.Equal(t, http.StatusOK, prev.status)
	html, err := prev.doc.Find(`[data-testid="update-preview"]`).Html()
	require.NoError(t, err)
	require.Contains(t, html, "<strong>now</strong>")
	require.NotContains(t, html, "<script")
	require.Equal(t, "Rolling back **now** <script>alert(1)</script>", prev.text(`[data-testid="update-body"]`), "kept")
	before := len(e.do("admin", "GET", "/api/v1/incidents/"+key, nil, 200)["updates"].([]any))

	p := comms.wr(key, "draft-update", url.Values{"status": {"identified"}, "body": {"We found the cause."},
		"component.control-plane-eu": {"major_outage"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Len(t, e.do("admin", "GET", "/api/v1/incidents/"+key, nil, 200)["updates"].([]any), before+1)
	// Comms may not approve; the IC sees the control and does.
	room := comms.get("/app/incidents/" + key)
	require.Zero(t, room.doc.Find(`[data-testid="approve"]`).Length())
	room = ic.get("/app/incidents/" + key)
	var id string
	room.doc.Find(`[data-testid="update"][data-state="draft"]`).Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "We found the cause.") {
			id = s.Find(`input[name="id"]`).AttrOr("value", "")
		}
	})
	require.NotEmpty(t, id)
	refused := comms.wr(key, "approve-update", url.Values{"id": {id}, "publish": {"1"}})
	require.Equal(t, http.StatusForbidden, refused.status)
	require.Contains(t, refused.text(`[data-testid="error"]`), "Incident Commander")
	p = ic.wr(key, "approve-update", url.Values{"id": {id}, "publish": {"1"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	room = ic.get("/app/incidents/" + key)
	var who string
	room.doc.Find(`[data-testid="update"][data-state="published"]`).Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "We found the cause.") {
			who = s.Find(`.who`).Text()
		}
	})
	require.Contains(t, who, "drafted by Comms")
	require.Contains(t, who, "approved by Ic")
	require.Contains(t, who, "published by Ic")
	require.Contains(t, string(e.request("", "GET", "/", nil, nil).body), "We found the cause.")
	// The technical bridge is one click away in the war room, and never on the public page.
	join := room.doc.Find(`[data-testid="join-technical"]`)
	require.Equal(t, "https://meet.example.com/secret-bridge", join.AttrOr("href", ""))
	require.NotContains(t, string(e.request("", "GET", "/", nil, nil).body), "secret-bridge")
}

func TestWebWarRoomRefusalsSayWhyKeepTheInputAndChangeNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	u := e.signIn("responder")

	// A responder who holds no role may not move the stage; an admin may, but not with guards unmet: 409, the
	// unmet guards in words.
	require.Equal(t, http.StatusForbidden, u.wr(key, "move-stage", url.Values{"to": {"mobilization"}}).status)
	mine := u.get("/app/incidents/" + key)
	require.Zero(t, mine.doc.Find(`[data-testid="move-form"]`).Length(), "the page offers what the role allows")
	require.Contains(t, mine.text(`[data-testid="move-who"]`), "Only the Incident Commander")
	require.Contains(t, mine.text(`[data-testid="composer-who"]`), "Communications Lead")
	p := e.signIn("admin").wr(key, "move-stage", url.Values{"to": {"mobilization"}, "note": {"go"}})
	require.Equal(t, http.StatusConflict, p.status)
	require.Contains(t, p.text(`[data-testid="error"]`), "an Incident Commander is assigned")
	require.Equal(t, "go", p.doc.Find(`#move-note`).AttrOr("value", ""))
	require.Equal(t, "false", p.doc.Find(`[data-testid="guard-ic_assigned"]`).AttrOr("data-met", ""))

	// A responder who is not the IC cannot acknowledge for them.
	e.do("responder", "PUT", "/api/v1/incidents/"+key+"/roles/incident_commander", map[string]any{"user": e.emails["ic"]}, 200)
	p = u.wr(key, "acknowledge", url.Values{})
	require.Equal(t, http.StatusForbidden, p.status)
	room := u.get("/app/incidents/" + key)
	require.Contains(t, room.text(`[data-testid="guard-ic_acknowledged"]`), "waiting on Ic")

	e.do("ic", "POST", "/api/v1/incidents/"+key+"/roles/incident_commander/acknowledge", nil, 200)
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/stage", map[string]any{"to": "mobilization"}, 200)
	ic := e.signIn("ic")
	// A bridge URL that is not one: 422, the URL kept.
	p = ic.wr(key, "open-bridge", url.Values{"kind": {"technical"}, "url": {"javascript:alert(1)"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Equal(t, "javascript:alert(1)", p.doc.Find(`#guard-bridge-url`).AttrOr("value", ""))
	// An action with no description: 422, the kind kept.
	p = ic.wr(key, "log-action", url.Values{"kind": {"restart"}, "description": {" "}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.text(`[data-testid="error"]`), "description")
	require.Equal(t, "restart", p.doc.Find(`#actions-kind option[selected]`).AttrOr("value", ""))
	// A person who does not exist; a role that does not exist; a version that is not a number; no such command.
	require.Equal(t, http.StatusUnprocessableEntity, ic.wr(key, "assign-role", url.Values{"role": {"communications_lead"},
		"user": {"ghost@example.com"}}).status)
	require.Equal(t, http.StatusUnprocessableEntity, ic.wr(key, "assign-role", url.Values{"role": {"boss"}}).status)
	require.Equal(t, http.StatusUnprocessableEntity, ic.post("/app/incidents/"+key+"/log-action",
		url.Values{"version": {"abc"}, "kind": {"fix"}, "description": {"x"}}).status)
	require.Equal(t, http.StatusNotFound, ic.wr(key, "explode", url.Values{}).status)
	require.Equal(t, http.StatusNotFound, ic.get("/app/incidents/INC-999").status)
	require.Equal(t, http.StatusNotFound, ic.post("/app/incidents/INC-999/log-action", url.Values{"kind": {"fix"},
		"description": {"x"}}).status)

	rec, err := e.app.Incidents.Get(t.Context(), key)
	require.NoError(t, err)
	require.Empty(t, rec.State.Actions)
	require.Nil(t, rec.State.Roles.CommunicationsLead)
	require.Nil(t, rec.State.Bridges["technical"])
}

func TestWebWarRoomRunsEveryOtherControl(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key, _ := e.driveIncident("EU control plane failure")
	ic := e.signIn("ic")
	ok := func(command string, form url.Values) page {
		t.Helper()
		p := ic.wr(key, command, form)
		require.Equal(t, http.StatusSeeOther, p.status, "%s: %s", command, p.body)
		return ic.get(p.location)
	}
	ok("assign-role", url.Values{"role": {"executive_sponsor"}, "user": {e.emails["viewer"]}})
	p0 := ok("escalate", url.Values{"kind": {"hierarchical"}, "target": {"VP Engineering"}, "reason": {"EU customers blocked"}})
	require.Contains(t, p0.text(`[data-testid="escalations"]`), "VP Engineering: EU customers blocked")
	bad0 := ic.wr(key, "escalate", url.Values{"kind": {"sideways"}, "target": {"x"}, "reason": {"kept reason"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad0.status)
	require.Equal(t, "kept reason", bad0.doc.Find(`#escalate-reason`).AttrOr("value", ""))
	p := ok("remove-role", url.Values{"role": {"technical_lead"}, "who": {"payments-db-sre"}})
	require.NotContains(t, p.text(`[data-testid="role-tech"]`), "payments-db-sre")
	p = ok("link-ticket", url.Values{"system": {"jira"}, "ref": {"OPS-1"}, "url": {"https://jira.example.com/OPS-1"}})
	require.Contains(t, p.text(`[data-testid="tickets"]`), "jira OPS-1")
	ok("move-stage", url.Values{"to": {"status_updates"}})
	p = ok("move-stage", url.Values{"to": {"diagnosis_action"}, "reason": {"the workaround did not hold"}})
	require.Contains(t, p.text(`[data-testid="current-stage"]`), "Diagnosis & Action")
	require.Contains(t, p.text(`[data-testid="timeline"]`), "the workaround did not hold")
	// The timeline filter shows one kind of entry.
	f := ic.get("/app/incidents/" + key + "?timeline=stage_changed")
	f.doc.Find(`[data-testid="timeline-entry"]`).Each(func(_ int, s *goquery.Selection) {
		require.Contains(t, s.Text(), "stage changed")
	})
	require.GreaterOrEqual(t, f.doc.Find(`[data-testid="timeline-entry"]`).Length(), 3)
	p = ok("reclassify", url.Values{"severity": {"high"}, "urgency": {"immediate"}, "regions": {"eu, us"},
		"reason": {"it spread to the US"}})
	require.Contains(t, p.text(`[data-testid="classification"]`), "Major incident")
	p = ok("close-bridge", url.Values{"kind": {"technical"}})
	// Closed, not hidden: its URL and when it was opened and closed stay in view, and it can be opened again.
	closed := p.text(`[data-testid="closed-technical"]`)
	require.Contains(t, closed, "closed")
	require.Contains(t, closed, "https://meet.example.com/secret-bridge")
	require.Zero(t, p.doc.Find(`[data-testid="join-technical"]`).Length())
	require.Equal(t, 1, p.doc.Find(`[data-testid="bridge-technical-form"]`).Length())

	// A standard incident: its status, and a reclassification that promotes it.
	std := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "Slow API", "components": []string{"api"},
		"severity": "low", "urgency": "low", "scope": map[string]any{}, "business_impact": []string{}}, 201)["key"].(string)
	r := e.signIn("responder")
	room := r.get("/app/incidents/" + std)
	require.Equal(t, "standard", room.text(`[data-testid="kind"]`))
	require.Zero(t, room.doc.Find(`[data-testid="stage-tracker"]`).Length())
	p = r.wr(std, "set-status", url.Values{"to": {"resolved"}, "reason": {"recovered"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	p = r.wr(std, "set-status", url.Values{"to": {"open"}, "reason": {"back again"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	p = r.wr(std, "reclassify", url.Values{"severity": {"critical"}, "urgency": {"immediate"}, "reason": {"worse"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	room = r.get("/app/incidents/" + std)
	require.Equal(t, "major", room.text(`[data-testid="kind"]`))
	require.Contains(t, room.text(`[data-testid="current-stage"]`), "Detection & Declaration")
	bad := r.wr(std, "reclassify", url.Values{"severity": {"critical"}, "urgency": {"immediate"}, "customers_affected": {"-3"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.status)
	require.Equal(t, "-3", bad.doc.Find(`#customers_affected`).AttrOr("value", ""), "the refused criteria are kept")
}

func TestWebConcludedIncidentReopensWithAReason(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key, _ := e.driveIncident("EU control plane failure", map[string]any{"status": "identified", "body": "Found it",
		"components": map[string]string{"control-plane-eu": "major_outage"}})
	path := "/api/v1/incidents/" + key
	e.do("ic", "POST", path+"/stage", map[string]any{"to": "status_updates"}, 200)
	e.do("ic", "POST", path+"/stage", map[string]any{"to": "service_restoration"}, 200)
	e.do("tech", "POST", path+"/verification", map[string]any{"method": "synthetics green"}, 200)
	e.do("ic", "POST", path+"/updates", map[string]any{"status": "resolved", "body": "Fixed", "publish": true,
		"components": map[string]string{"control-plane-eu": "operational"}}, 201)
	ic := e.signIn("ic")
	p := ic.wr(key, "move-stage", url.Values{"to": {"concluded"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	room := ic.get(p.location)
	require.Contains(t, room.text(`[data-testid="next-move"]`), "Concluded")
	require.Equal(t, 1, room.doc.Find(`[data-testid="reopen-form"]`).Length())
	require.Zero(t, room.doc.Find(`form[action$="/log-action"]`).Length(), "a concluded incident takes no actions")
	refused := ic.wr(key, "move-stage", url.Values{"to": {"diagnosis_action"}})
	require.Equal(t, http.StatusUnprocessableEntity, refused.status, "a reopening needs a reason")
	p = ic.wr(key, "move-stage", url.Values{"to": {"diagnosis_action"}, "reason": {"it came back"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Contains(t, ic.get(p.location).text(`[data-testid="current-stage"]`), "Diagnosis & Action")
}
