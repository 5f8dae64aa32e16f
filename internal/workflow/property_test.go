package workflow_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// cast is everyone who may try anything on the incident.
var cast = []domain.Actor{admin, commander, comms, tech, sponsor, viewer, responder}

var slugs = []string{"api", "db", "web"}

// TestRandomCommandSequencesKeepTheWorkflowRules gives a declared major incident random commands from random people,
// good and bad, and checks after every step that what was accepted obeyed the rules, that what was refused changed
// nothing, and at the end that the timeline (in memory and as stored JSON) replays to the same state. Each subtest
// mixes in a different share of the steps a competent team would take next, so that runs also get deep into the
// workflow instead of stalling at its first guard.
func TestRandomCommandSequencesKeepTheWorkflowRules(t *testing.T) {
	t.Parallel()
	for _, guided := range []int{0, 50, 80, 95} {
		t.Run(fmt.Sprintf("%d%% guided", guided), func(t *testing.T) {
			t.Parallel()
			runs, concluded := checkRandomSequences(t, guided)
			t.Logf("%d runs, %d reached conclusion", runs, concluded)
			if guided >= 80 {
				require.Positive(t, concluded, "no run reached conclusion: the generator misses the workflow")
			}
		})
	}
}

func checkRandomSequences(t *testing.T, guided int) (runs, concludedRuns int64) {
	var nRuns, nConcluded atomic.Int64
	rapid.Check(t, func(rt *rapid.T) {
		nRuns.Add(1)
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")

		now := t0.Add(time.Duration(rapid.IntRange(0, 3600).Draw(rt, "start_s")) * time.Second)
		decl := declareCmd(randomCriteria(rt, domain.SeverityCritical, false))
		decl.Components = subset(rt, "components", slugs)
		evs, err := workflow.Handle(workflow.Incident{}, responder, decl, now)
		require.NoError(rt, err)
		s, err := workflow.ApplyAll(workflow.Incident{}, evs)
		require.NoError(rt, err)
		require.Equal(rt, domain.StageDetectionDeclaration, s.Stage)
		timeline := slices.Clone(evs)
		concluded := false

		for i := range steps {
			now = advance(rt, now)
			id := fmt.Sprintf("x-%d", i)
			var (
				a   domain.Actor
				cmd workflow.Command
			)
			if rapid.IntRange(0, 99).Draw(rt, "mode") < guided {
				a, cmd = nextUseful(s, id)
				if rapid.IntRange(0, 3).Draw(rt, "someone_else") == 0 {
					a = rapid.SampledFrom(cast).Draw(rt, "actor")
				}
			} else {
				a = rapid.SampledFrom(cast).Draw(rt, "actor")
				cmd = randomCommand(rt, s, id, now)
			}

			before := mustJSON(rt, s)
			evs, err := handle(s, a, cmd, now)
			require.Equal(rt, before, mustJSON(rt, s), "Handle changed the state it was given: %T", cmd)

			if err != nil {
				require.Nil(rt, evs)
				var de *domain.Error
				require.True(rt, errors.As(err, &de), "refusal is not a *domain.Error: %v", err)
				require.NotEqual(rt, domain.ErrInternal, de.Kind, "%T by %s: %v", cmd, a.Name, err)
				require.NotEmpty(rt, de.Code)
				continue
			}
			require.NotEmpty(rt, evs, "%T accepted without an event", cmd)
			mayChange(rt, s, a, cmd)
			prev := s
			for _, e := range evs {
				require.Equal(rt, now, e.At)
				if checkStageChange(rt, s, a, cmd, e) == domain.StageConcluded {
					concluded = true
				}
				next, err := workflow.Apply(s, e)
				require.NoError(rt, err, "%s from %T", e.Type, cmd)
				s = next
			}
			require.Equal(rt, before, mustJSON(rt, prev), "Apply changed the state it was given")
			checkInvariants(rt, s)
			timeline = append(timeline, evs...)
		}
		if concluded {
			nConcluded.Add(1)
		}
		state := mustJSON(rt, s)
		require.Equal(rt, state, mustJSON(rt, decodeState(rt, state)), "the state does not survive its stored JSON")

		replayed, err := workflow.Replay(timeline)
		require.NoError(rt, err)
		require.Equal(rt, mustJSON(rt, s), mustJSON(rt, replayed), "Replay of the timeline differs from the state")

		stored := make([]workflow.Event, len(timeline))
		for i, e := range timeline {
			raw, err := json.Marshal(e.Data)
			require.NoError(rt, err)
			stored[i], err = workflow.DecodeEvent(e.Type, e.At, raw)
			require.NoError(rt, err, "decode %s", e.Type)
		}
		replayed, err = workflow.Replay(stored)
		require.NoError(rt, err)
		require.Equal(rt, mustJSON(rt, s), mustJSON(rt, replayed), "Replay of the stored timeline differs from the state")
	})
	return nRuns.Load(), nConcluded.Load()
}

// handle calls Handle and turns a panic into a test failure that names the command.
func handle(s workflow.Incident, a domain.Actor, cmd workflow.Command, now time.Time) (evs []workflow.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			panic(fmt.Sprintf("Handle panicked on %T %+v by %s: %v", cmd, cmd, a.Name, r))
		}
	}()
	return workflow.Handle(s, a, cmd, now)
}

// decodeState reads a state back from its stored JSON.
func decodeState(rt *rapid.T, stateJSON string) workflow.Incident {
	var s workflow.Incident
	require.NoError(rt, json.Unmarshal([]byte(stateJSON), &s))
	return s
}

// mayChange checks who got a command accepted: never a viewer, never an executive sponsor who is neither the IC nor
// an admin, and on a concluded incident nothing but what a closed incident takes.
func mayChange(rt *rapid.T, s workflow.Incident, a domain.Actor, cmd workflow.Command) {
	require.NotEqual(rt, domain.OrgViewer, a.OrgRole, "a viewer changed the incident: %T", cmd)
	isIC := s.Roles.IncidentCommander != nil && s.Roles.IncidentCommander.UserID == a.UserID
	isSponsor := slices.ContainsFunc(s.Roles.ExecutiveSponsors, func(h workflow.RoleHolder) bool { return h.UserID == a.UserID })
	require.False(rt, isSponsor && !isIC && a.OrgRole != domain.OrgAdmin, "an executive sponsor changed the incident: %T", cmd)
	if s.Kind == domain.KindMajor && s.Stage == domain.StageConcluded {
		switch c := cmd.(type) {
		case workflow.Reclassify, workflow.LinkTicket, workflow.SetMilestone, workflow.FoldAlert:
		case workflow.MoveStage:
			require.Equal(rt, domain.StageDiagnosisAction, c.To, "a concluded incident moved but not to reopen")
		default:
			require.Failf(rt, "a concluded incident took new work", "%T by %s", cmd, a.Name)
		}
	}
	if _, ok := cmd.(workflow.Declare); ok {
		require.Failf(rt, "a declared incident was declared again", "by %s", a.Name)
	}
	if s.Kind == domain.KindMajor {
		mayDoOnAMajorIncident(rt, s, a, cmd)
	}
}

// mayDoOnAMajorIncident restates the roles table of the brief for an accepted command on a major incident.
func mayDoOnAMajorIncident(rt *rapid.T, s workflow.Incident, a domain.Actor, cmd workflow.Command) {
	holds := func(hs []workflow.RoleHolder) bool {
		return slices.ContainsFunc(hs, func(h workflow.RoleHolder) bool { return h.UserID == a.UserID })
	}
	var (
		isIC    = s.Roles.IncidentCommander != nil && s.Roles.IncidentCommander.UserID == a.UserID
		isComms = s.Roles.CommunicationsLead != nil && s.Roles.CommunicationsLead.UserID == a.UserID
		isTech  = holds(s.Roles.TechnicalLeads)
		isAdmin = a.OrgRole == domain.OrgAdmin
		who     = fmt.Sprintf("%T by %s", cmd, a.Name)
	)
	switch c := cmd.(type) {
	case workflow.ApproveUpdate:
		require.True(rt, isIC, "only the IC approves: %s", who)
	case workflow.DraftUpdate:
		if c.Publish {
			require.True(rt, isIC, "only the IC publishes without approval: %s", who)
		}
		require.True(rt, isIC || isComms || isAdmin, who)
	case workflow.PublishUpdate:
		require.True(rt, isIC || isComms, who)
	case workflow.MoveStage:
		require.True(rt, isIC || isAdmin, who)
		if c.To == domain.StageConcluded {
			require.True(rt, isIC, "only the IC concludes: %s", who)
		}
	case workflow.AssignRole:
		if c.Role != domain.RoleIncidentCommander || s.Roles.IncidentCommander != nil {
			require.True(rt, isIC || isAdmin, "handover and other roles by the IC or an admin: %s", who)
		}
	case workflow.RemoveRole:
		require.True(rt, isIC || isAdmin, who)
	case workflow.AcknowledgeIC:
		require.True(rt, isIC, who)
	case workflow.LogAction, workflow.RecordRestoration, workflow.RecordVerification:
		require.True(rt, isIC || isTech || isAdmin, who)
	case workflow.Escalate:
		require.True(rt, isIC || isAdmin, who)
	case workflow.Reclassify:
		if c.Override != nil {
			require.True(rt, isAdmin, "only an admin overrides: %s", who)
		}
		if s.Roles.IncidentCommander != nil {
			require.True(rt, isIC || isAdmin, who)
		}
	}
}

// checkStageChange checks one event against the state it applies to: a stage changes only by MoveStage, forward one
// stage with every guard met (and into conclusion by the IC alone), or back to diagnosis with a reason. It returns the
// stage moved to, or "".
func checkStageChange(rt *rapid.T, prev workflow.Incident, a domain.Actor, cmd workflow.Command, e workflow.Event) domain.Stage {
	if e.Type != workflow.EventStageChanged {
		if c, ok := e.Data.(*workflow.Classified); ok && c.From != c.To {
			// A change of kind: promotion of an open standard incident, or demotion before mobilization.
			if c.To == domain.KindMajor {
				require.Equal(rt, domain.StatusOpen, prev.Status)
			} else {
				require.Equal(rt, domain.StageDetectionDeclaration, prev.Stage)
			}
		}
		return ""
	}
	move, ok := cmd.(workflow.MoveStage)
	require.True(rt, ok, "stage changed by %T", cmd)
	d := e.Data.(*workflow.StageChanged)
	require.Equal(rt, domain.KindMajor, prev.Kind)
	require.Equal(rt, prev.Stage, d.From)
	require.Equal(rt, move.To, d.To)
	if d.Backward {
		require.Equal(rt, domain.StageDiagnosisAction, d.To)
		require.Contains(rt, []domain.Stage{domain.StageStatusUpdates, domain.StageServiceRestoration, domain.StageConcluded}, d.From)
		require.NotEmpty(rt, d.Reason)
		return d.To
	}
	require.Equal(rt, workflow.Next(prev.Stage), d.To, "forward move skipped a stage")
	require.Empty(rt, workflow.Unmet(workflow.Guards(prev)), "left %s with unmet guards", prev.Stage)
	if d.To == domain.StageConcluded {
		ic := prev.Roles.IncidentCommander
		require.NotNil(rt, ic)
		require.NotEmpty(rt, a.UserID)
		require.Equal(rt, ic.UserID, a.UserID, "%s concluded without being the Incident Commander", a.Name)
	}
	return d.To
}

func checkInvariants(rt *rapid.T, s workflow.Incident) {
	switch s.Kind {
	case domain.KindMajor:
		require.True(rt, s.Stage.Valid(), "major incident in stage %q", s.Stage)
		require.Empty(rt, s.Status)
	case domain.KindStandard:
		require.Empty(rt, s.Stage)
		require.True(rt, s.Status.Valid(), "standard incident in status %q", s.Status)
	default:
		require.Failf(rt, "unknown kind", "%q", s.Kind)
	}
	if s.Stage == domain.StageConcluded {
		require.False(rt, s.Bridges[domain.BridgeTechnical].Open(), "a concluded incident keeps its technical bridge open")
		require.Contains(rt, s.Milestones, domain.MilestoneConcluded)
	}
	require.Contains(rt, s.Milestones, domain.MilestoneDeclared)
	require.Contains(rt, s.Milestones, domain.MilestoneDetected)
	if ic := s.Roles.IncidentCommander; ic != nil && ic.AcknowledgedAt != nil {
		require.Contains(rt, s.Milestones, domain.MilestoneICAcknowledged)
	}
}

// advance moves the clock on by a random number of seconds, at the microsecond precision Postgres stores.
func advance(rt *rapid.T, now time.Time) time.Time {
	d := time.Duration(rapid.IntRange(0, 900).Draw(rt, "dt_s"))*time.Second +
		time.Duration(rapid.IntRange(0, 999_999_999).Draw(rt, "dt_ns"))
	return now.Add(d).Truncate(time.Microsecond).UTC()
}

func pick[T any](rt *rapid.T, label string, vs ...T) T { return rapid.SampledFrom(vs).Draw(rt, label) }

func subset[T any](rt *rapid.T, label string, vs []T) []T {
	if rapid.IntRange(0, 4).Draw(rt, label+"_nil") == 0 {
		return nil
	}
	var out []T
	for _, v := range vs {
		if rapid.Bool().Draw(rt, label) {
			out = append(out, v)
		}
	}
	return out
}

func actorOf(userID string) domain.Actor {
	for _, a := range cast {
		if a.UserID == userID {
			return a
		}
	}
	return admin
}

// randomCriteria draws criteria; invalid adds values that validation must refuse.
func randomCriteria(rt *rapid.T, severity domain.Severity, invalid bool) domain.Criteria {
	bad := func(vs ...string) []string {
		if invalid {
			return vs
		}
		return nil
	}
	if severity == "" {
		severity = pick(rt, "severity", append(slices.Clone(domain.Severities), conv[domain.Severity](bad("", "apocalyptic"))...)...)
	}
	return domain.Criteria{
		Severity: severity,
		Scope: domain.Scope{
			CustomersAffected: pick(rt, "customers", append([]int{0, 99, 100, 5000}, len(bad("x"))*-1)...),
			Regions:           subset(rt, "regions", []string{"eu-west", "EU-West", "us-east", ""}),
			Global:            rapid.Bool().Draw(rt, "global"),
		},
		BusinessImpact: subset(rt, "impact", append(slices.Clone(domain.BusinessImpacts), conv[domain.BusinessImpact](bad("gossip"))...)),
		Urgency:        pick(rt, "urgency", append(slices.Clone(domain.Urgencies), conv[domain.Urgency](bad("whenever"))...)...),
	}
}

func conv[T ~string](vs []string) []T {
	out := make([]T, len(vs))
	for i, v := range vs {
		out[i] = T(v)
	}
	return out
}

func randomPerson(rt *rapid.T) domain.Person {
	if rapid.IntRange(0, 7).Draw(rt, "nobody") == 0 {
		return domain.Person{}
	}
	return person(rapid.SampledFrom(cast).Draw(rt, "person"))
}

func updateID(rt *rapid.T, s workflow.Incident) string {
	ids := []string{"upd-missing"}
	for _, u := range s.Updates {
		ids = append(ids, u.ID)
	}
	return pick(rt, "update_id", ids...)
}

func randomCommand(rt *rapid.T, s workflow.Incident, id string, now time.Time) workflow.Command {
	text := func(label string) string { return pick(rt, label, "", "   ", "restarted the api", " rolled back ") }
	switch rapid.IntRange(0, 18).Draw(rt, "command") {
	case 0:
		return declareCmd(randomCriteria(rt, "", true))
	case 1:
		cr := randomCriteria(rt, "", rapid.Bool().Draw(rt, "invalid_criteria"))
		cl := classification(cr)
		if rapid.IntRange(0, 4).Draw(rt, "other_policy") == 0 {
			cl.Kind = pick(rt, "policy_kind", domain.KindMajor, domain.KindStandard)
		}
		c := workflow.Reclassify{Criteria: cr, Classification: cl, Reason: text("reason")}
		if rapid.IntRange(0, 3).Draw(rt, "override") == 0 {
			c.Override = &domain.Override{Kind: pick(rt, "override_kind", domain.KindMajor, domain.KindStandard, ""),
				Reason: text("override_reason"), By: person(admin)}
		}
		return c
	case 2:
		return workflow.AssignRole{Role: pick(rt, "role", append(slices.Clone(domain.Roles), "scribe")...),
			Person: randomPerson(rt), Group: pick(rt, "group", "", "", "sre-db", "  ")}
	case 3:
		return workflow.RemoveRole{Role: pick(rt, "role", append(slices.Clone(domain.Roles), "scribe")...),
			UserID: randomPerson(rt).UserID, Group: pick(rt, "group", "", "sre-db")}
	case 4:
		return workflow.AcknowledgeIC{}
	case 5:
		return workflow.OpenBridge{Kind: pick(rt, "bridge", domain.BridgeTechnical, domain.BridgeCustomer, "video"),
			URL:      pick(rt, "url", "https://meet.example.com/a", "http://meet.example.com/b", "ftp://x", "not a url", "", "https://"),
			Invitees: pick(rt, "invitees", []string(nil), []string{"ana@example.com"}, []string{"nope"})}
	case 6:
		return workflow.CloseBridge{Kind: pick(rt, "bridge", domain.BridgeTechnical, domain.BridgeCustomer, "video")}
	case 7:
		return workflow.LogAction{ID: id, Kind: pick(rt, "action", append(slices.Clone(domain.ActionKinds), "prayer")...),
			Description: text("description")}
	case 8:
		comps := map[string]domain.ComponentStatus{}
		for _, slug := range subset(rt, "update_components", append(slices.Clone(slugs), "billing")) {
			comps[slug] = pick(rt, "component_status", append(slices.Clone(domain.ComponentStatuses), "on_fire")...)
		}
		return workflow.DraftUpdate{ID: id, Status: pick(rt, "status", append(slices.Clone(domain.UpdateStatuses), "fine")...),
			Body: text("body"), Components: comps, Publish: rapid.Bool().Draw(rt, "publish")}
	case 9:
		return workflow.ApproveUpdate{ID: updateID(rt, s), Publish: rapid.Bool().Draw(rt, "publish")}
	case 10:
		return workflow.PublishUpdate{ID: updateID(rt, s)}
	case 11:
		return workflow.RecordRestoration{ID: id, Kind: pick(rt, "restoration", domain.RestorationFix, domain.RestorationWorkaround, "hope"),
			Description: text("description")}
	case 12:
		return workflow.RecordVerification{Method: text("method"),
			Accepted: subset(rt, "accepted", append(slices.Clone(slugs), "billing"))}
	case 13:
		return workflow.MoveStage{To: pick(rt, "to", append(slices.Clone(domain.Stages), "triage", "")...),
			Note: text("note"), Reason: text("reason")}
	case 14:
		return workflow.SetStatus{To: pick(rt, "to", append(slices.Clone(domain.StandardStatuses), "done")...),
			Reason: text("reason")}
	case 15:
		return workflow.Escalate{Kind: pick(rt, "escalation", domain.EscalationFunctional, domain.EscalationHierarchical, "sideways"),
			Target: text("target"), Reason: text("reason"), Automatic: rapid.Bool().Draw(rt, "automatic")}
	case 16:
		return workflow.LinkTicket{ID: id, System: pick(rt, "system", "zendesk", "Zendesk", "", "jira"),
			Ref: pick(rt, "ref", "1", "2", " 1 ", ""), URL: pick(rt, "ticket_url", "", "https://t.example.com/1", "/rel", "::")}
	case 17:
		var at time.Time
		switch rapid.IntRange(0, 3).Draw(rt, "milestone_time") {
		case 0:
			at = now.Add(-time.Duration(rapid.IntRange(0, 7200).Draw(rt, "ago_s")) * time.Second)
		case 1:
			at = now.Add(time.Hour) // in the future
		case 2:
			at = t0.Add(-24 * time.Hour)
		}
		return workflow.SetMilestone{Milestone: pick(rt, "milestone", append(slices.Clone(domain.Milestones), "lunch")...), At: at}
	default:
		return workflow.FoldAlert{}
	}
}

// nextUseful is the command a competent team gives next to drive the incident to conclusion, and who gives it.
func nextUseful(s workflow.Incident, id string) (domain.Actor, workflow.Command) {
	icHolder := s.Roles.IncidentCommander
	ic := commander
	if icHolder != nil {
		ic = actorOf(icHolder.UserID)
	}
	if icHolder != nil && ic.OrgRole == domain.OrgViewer {
		return admin, workflow.AssignRole{Role: domain.RoleIncidentCommander, Person: person(commander)}
	}
	move := workflow.MoveStage{To: workflow.Next(s.Stage)}
	if s.Kind != domain.KindMajor {
		return admin, workflow.Reclassify{Criteria: majorCriteria, Classification: classification(majorCriteria),
			Reason: "it is major after all"}
	}
	switch s.Stage {
	case domain.StageDetectionDeclaration:
		switch {
		case s.Classification.EffectiveKind() != domain.KindMajor:
			return admin, workflow.Reclassify{Criteria: majorCriteria, Classification: classification(majorCriteria)}
		case icHolder == nil:
			return responder, workflow.AssignRole{Role: domain.RoleIncidentCommander, Person: person(commander)}
		case icHolder.AcknowledgedAt == nil:
			return ic, workflow.AcknowledgeIC{}
		}
	case domain.StageMobilization:
		switch {
		case !s.Bridges[domain.BridgeTechnical].Open():
			return ic, workflow.OpenBridge{Kind: domain.BridgeTechnical, URL: "https://meet.example.com/" + id}
		case s.Roles.CommunicationsLead == nil:
			return ic, workflow.AssignRole{Role: domain.RoleCommunicationsLead, Person: person(comms)}
		case len(s.Roles.TechnicalLeads) == 0:
			return ic, workflow.AssignRole{Role: domain.RoleTechnicalLead, Person: person(tech)}
		}
	case domain.StageDiagnosisAction:
		if len(s.Actions) == 0 {
			return ic, workflow.LogAction{ID: id, Kind: domain.ActionMitigation, Description: "shed load"}
		}
	case domain.StageStatusUpdates:
		if s.LatestPublished() == nil {
			for _, u := range s.Updates {
				if u.State == workflow.StateDraft {
					return ic, workflow.ApproveUpdate{ID: u.ID, Publish: true}
				}
				if u.State == workflow.StateApproved {
					return actorOf(userIDOf(s.Roles.CommunicationsLead)), workflow.PublishUpdate{ID: u.ID}
				}
			}
			return actorOf(userIDOf(s.Roles.CommunicationsLead)), workflow.DraftUpdate{ID: id,
				Status: domain.UpdateIdentified, Body: "We found the cause."}
		}
		if !slices.ContainsFunc(s.Restorations, func(r workflow.Restoration) bool { return !r.Reverted }) {
			return ic, workflow.RecordRestoration{ID: id, Kind: domain.RestorationFix, Description: "rolled back"}
		}
	case domain.StageServiceRestoration:
		if s.Verification == nil {
			return ic, workflow.RecordVerification{Method: "synthetic probes"}
		}
		for _, g := range workflow.Unmet(workflow.Guards(s)) {
			if g.Code == workflow.GuardComponentsOperational || g.Code == workflow.GuardResolvedUpdatePublished {
				comps := map[string]domain.ComponentStatus{}
				for _, slug := range s.Components {
					comps[slug] = domain.ComponentOperational
				}
				return ic, workflow.DraftUpdate{ID: id, Status: domain.UpdateResolved, Body: "Resolved.",
					Components: comps, Publish: true}
			}
		}
	case domain.StageConcluded:
		return ic, workflow.MoveStage{To: domain.StageDiagnosisAction, Reason: "it broke again"}
	}
	return ic, move
}

func userIDOf(h *workflow.RoleHolder) string {
	if h == nil {
		return ""
	}
	return h.UserID
}
