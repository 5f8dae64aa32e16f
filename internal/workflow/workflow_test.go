package workflow_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/classify"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// t0 is when impact is detected; t1, an hour later, is when the tests act unless they say otherwise.
var (
	t0 = time.Date(2025, time.March, 3, 9, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
)

func actor(id, name string, role domain.OrgRole) domain.Actor {
	return domain.Actor{UserID: id, Name: name, Email: id + "@example.com", OrgRole: role, Channel: domain.ChannelAPI}
}

// The cast. Each is a plain account until the incident gives them a role.
var (
	admin     = actor("u-admin", "Ada Admin", domain.OrgAdmin)
	commander = actor("u-ic", "Ines Commander", domain.OrgResponder)
	comms     = actor("u-comms", "Carl Comms", domain.OrgResponder)
	tech      = actor("u-tech", "Tara Tech", domain.OrgResponder)
	sponsor   = actor("u-sponsor", "Sam Sponsor", domain.OrgResponder)
	viewer    = actor("u-viewer", "Vic Viewer", domain.OrgViewer)
	responder = actor("u-resp", "Rita Responder", domain.OrgResponder)
)

func person(a domain.Actor) domain.Person {
	return domain.Person{UserID: a.UserID, Name: a.Name, Email: a.Email}
}

var (
	majorCriteria = domain.Criteria{
		Severity:       domain.SeverityCritical,
		Scope:          domain.Scope{CustomersAffected: 400, Regions: []string{"eu-west", "us-east"}},
		BusinessImpact: []domain.BusinessImpact{domain.ImpactFinancial},
		Urgency:        domain.UrgencyImmediate,
	}
	standardCriteria = domain.Criteria{Severity: domain.SeverityMedium, Urgency: domain.UrgencyNormal}
)

func classification(c domain.Criteria) domain.Classification {
	return classify.Evaluate(classify.DefaultPolicy(), classify.Facts{Criteria: c})
}

func declareCmd(c domain.Criteria) workflow.Declare {
	detected := t0
	return workflow.Declare{
		ID: "inc-1", Key: "INC-1", Title: "Checkout is down", Source: "api",
		Components: []string{"api", "db"}, Criteria: c, Classification: classification(c), DetectedAt: &detected,
	}
}

// run gives a command that must be accepted, at t1, and returns the state with its events applied.
func run(t *testing.T, s workflow.Incident, a domain.Actor, cmd workflow.Command) workflow.Incident {
	t.Helper()
	return runAt(t, s, a, cmd, t1)
}

func runAt(t *testing.T, s workflow.Incident, a domain.Actor, cmd workflow.Command, now time.Time) workflow.Incident {
	t.Helper()
	evs, err := workflow.Handle(s, a, cmd, now)
	require.NoError(t, err, "%T by %s", cmd, a.Name)
	require.NotEmpty(t, evs)
	n, err := workflow.ApplyAll(s, evs)
	require.NoError(t, err)
	return n
}

// refuse gives a command that must be refused and returns the refusal.
func refuse(t *testing.T, s workflow.Incident, a domain.Actor, cmd workflow.Command) *domain.Error {
	t.Helper()
	evs, err := workflow.Handle(s, a, cmd, t1)
	require.Error(t, err, "%T by %s", cmd, a.Name)
	require.Nil(t, evs)
	var de *domain.Error
	require.ErrorAs(t, err, &de)
	return de
}

func declaredMajor(t *testing.T) workflow.Incident {
	t.Helper()
	return run(t, workflow.Incident{}, responder, declareCmd(majorCriteria))
}

func declaredStandard(t *testing.T) workflow.Incident {
	t.Helper()
	return run(t, workflow.Incident{}, responder, declareCmd(standardCriteria))
}

type step struct {
	name  string
	actor domain.Actor
	cmd   workflow.Command
}

// work lists, per stage, the acts that meet the guards to leave it, in the order a team does them.
var work = map[domain.Stage][]step{
	domain.StageDetectionDeclaration: {
		{"assign_ic", responder, workflow.AssignRole{Role: domain.RoleIncidentCommander, Person: person(commander)}},
		{"acknowledge", commander, workflow.AcknowledgeIC{}},
	},
	domain.StageMobilization: {
		{"open_bridge", commander, workflow.OpenBridge{Kind: domain.BridgeTechnical, URL: "https://meet.example.com/inc-1"}},
		{"assign_comms", commander, workflow.AssignRole{Role: domain.RoleCommunicationsLead, Person: person(comms)}},
		{"assign_tech", commander, workflow.AssignRole{Role: domain.RoleTechnicalLead, Person: person(tech)}},
		{"assign_sponsor", commander, workflow.AssignRole{Role: domain.RoleExecutiveSponsor, Person: person(sponsor)}},
	},
	domain.StageDiagnosisAction: {
		{"log_action", tech, workflow.LogAction{ID: "act-1", Kind: domain.ActionRestart, Description: "restarted the api pods"}},
	},
	domain.StageStatusUpdates: {
		{"draft", comms, workflow.DraftUpdate{ID: "upd-1", Status: domain.UpdateIdentified, Body: "We found the cause.",
			Components: map[string]domain.ComponentStatus{"api": domain.ComponentMajorOutage, "db": domain.ComponentDegradedPerformance}}},
		{"approve", commander, workflow.ApproveUpdate{ID: "upd-1", Publish: true}},
		{"restore", tech, workflow.RecordRestoration{ID: "res-1", Kind: domain.RestorationFix, Description: "rolled back release 42"}},
	},
	domain.StageServiceRestoration: {
		{"verify", tech, workflow.RecordVerification{Method: "synthetic checkout probes are green"}},
		{"resolve", commander, workflow.DraftUpdate{ID: "upd-2", Status: domain.UpdateResolved, Body: "Checkout works again.",
			Components: map[string]domain.ComponentStatus{"api": domain.ComponentOperational, "db": domain.ComponentOperational},
			Publish:    true}},
	},
}

// enter builds a major incident that has just entered stage, every earlier stage's work done.
func enter(t *testing.T, stage domain.Stage) workflow.Incident {
	t.Helper()
	s := declaredMajor(t)
	for s.Stage != stage {
		s = prepareFrom(t, s)
		s = run(t, s, commander, workflow.MoveStage{To: workflow.Next(s.Stage)})
	}
	return s
}

// prepared builds a major incident in stage with the work to leave it done, except the steps named in omit.
func prepared(t *testing.T, stage domain.Stage, omit ...string) workflow.Incident {
	t.Helper()
	return prepareFrom(t, enter(t, stage), omit...)
}

func prepareFrom(t *testing.T, s workflow.Incident, omit ...string) workflow.Incident {
	t.Helper()
	for _, st := range work[s.Stage] {
		if !contains(omit, st.name) {
			s = run(t, s, st.actor, st.cmd)
		}
	}
	return s
}

func concluded(t *testing.T) workflow.Incident {
	t.Helper()
	return run(t, prepared(t, domain.StageServiceRestoration), commander, workflow.MoveStage{To: domain.StageConcluded})
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// mustJSON is a state as it is stored (JSONB), for comparisons that must hold after a round trip.
func mustJSON(t require.TestingT, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func guardCodes(gs []domain.Guard) []string {
	out := []string{}
	for _, g := range gs {
		out = append(out, g.Code)
	}
	return out
}

func eventTypes(evs []workflow.Event) []workflow.EventType {
	out := []workflow.EventType{}
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func TestMoveStageRefusesToLeaveAStageWhileAGuardIsUnmet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		stage  domain.Stage
		omit   []string
		extra  []step
		mutate func(*workflow.Incident)
		mover  domain.Actor
		want   []string
	}{
		{name: "classification no longer major", stage: domain.StageDetectionDeclaration,
			mutate: func(s *workflow.Incident) { s.Classification.Kind = domain.KindStandard },
			want:   []string{workflow.GuardClassifiedMajor}},
		{name: "no incident commander assigned", stage: domain.StageDetectionDeclaration,
			omit: []string{"assign_ic", "acknowledge"}, mover: admin,
			want: []string{workflow.GuardICAssigned, workflow.GuardICAcknowledged}},
		{name: "incident commander has not acknowledged", stage: domain.StageDetectionDeclaration,
			omit: []string{"acknowledge"}, want: []string{workflow.GuardICAcknowledged}},
		{name: "a new incident commander after a handover has not acknowledged", stage: domain.StageDetectionDeclaration,
			extra: []step{{"handover", commander, workflow.AssignRole{Role: domain.RoleIncidentCommander, Person: person(responder)}}},
			mover: responder, want: []string{workflow.GuardICAcknowledged}},

		{name: "technical bridge never opened", stage: domain.StageMobilization,
			omit: []string{"open_bridge"}, want: []string{workflow.GuardTechnicalBridgeOpen}},
		{name: "technical bridge closed again", stage: domain.StageMobilization,
			extra: []step{{"close", commander, workflow.CloseBridge{Kind: domain.BridgeTechnical}}},
			want:  []string{workflow.GuardTechnicalBridgeOpen}},
		{name: "only the customer bridge is open", stage: domain.StageMobilization, omit: []string{"open_bridge"},
			extra: []step{{"customer", commander, workflow.OpenBridge{Kind: domain.BridgeCustomer, URL: "https://meet.example.com/c"}}},
			want:  []string{workflow.GuardTechnicalBridgeOpen}},
		{name: "no communications lead", stage: domain.StageMobilization,
			omit: []string{"assign_comms"}, want: []string{workflow.GuardCommunicationsLead}},
		{name: "no technical lead engaged", stage: domain.StageMobilization,
			omit: []string{"assign_tech"}, want: []string{workflow.GuardTechnicalLeadEngaged}},
		{name: "the only technical lead released", stage: domain.StageMobilization,
			extra: []step{{"release", commander, workflow.RemoveRole{Role: domain.RoleTechnicalLead, UserID: tech.UserID}}},
			want:  []string{workflow.GuardTechnicalLeadEngaged}},
		{name: "nothing done in mobilization", stage: domain.StageMobilization,
			omit: []string{"open_bridge", "assign_comms", "assign_tech", "assign_sponsor"},
			want: []string{workflow.GuardTechnicalBridgeOpen, workflow.GuardCommunicationsLead, workflow.GuardTechnicalLeadEngaged}},

		{name: "no action logged", stage: domain.StageDiagnosisAction,
			omit: []string{"log_action"}, want: []string{workflow.GuardActionLogged}},

		{name: "the first update is only drafted", stage: domain.StageStatusUpdates,
			omit: []string{"approve"}, want: []string{workflow.GuardPublicUpdatePublished}},
		{name: "the first update is approved but not published", stage: domain.StageStatusUpdates, omit: []string{"approve"},
			extra: []step{{"approve_only", commander, workflow.ApproveUpdate{ID: "upd-1"}}},
			want:  []string{workflow.GuardPublicUpdatePublished}},
		{name: "no restoration recorded", stage: domain.StageStatusUpdates,
			omit: []string{"restore"}, want: []string{workflow.GuardRestorationRecorded}},

		{name: "service not verified", stage: domain.StageServiceRestoration,
			omit: []string{"verify"}, want: []string{workflow.GuardServiceVerified}},
		{name: "no final update: components still down and nothing resolved", stage: domain.StageServiceRestoration,
			omit: []string{"resolve"},
			want: []string{workflow.GuardComponentsOperational, workflow.GuardResolvedUpdatePublished}},
		{name: "resolved update leaves a component degraded", stage: domain.StageServiceRestoration, omit: []string{"resolve"},
			extra: []step{{"resolve_degraded", commander, workflow.DraftUpdate{ID: "upd-9", Status: domain.UpdateResolved,
				Body: "Mostly fine.", Publish: true,
				Components: map[string]domain.ComponentStatus{"api": domain.ComponentOperational, "db": domain.ComponentDegradedPerformance}}}},
			want: []string{workflow.GuardComponentsOperational}},
		{name: "latest published update is monitoring, not resolved", stage: domain.StageServiceRestoration,
			extra: []step{{"monitoring", commander, workflow.DraftUpdate{ID: "upd-9", Status: domain.UpdateMonitoring,
				Body: "Watching.", Publish: true}}},
			want: []string{workflow.GuardResolvedUpdatePublished}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := prepared(t, tt.stage, tt.omit...)
			for _, st := range tt.extra {
				s = run(t, s, st.actor, st.cmd)
			}
			if tt.mutate != nil {
				tt.mutate(&s)
			}
			mover := tt.mover
			if mover.UserID == "" {
				mover = commander
			}

			de := refuse(t, s, mover, workflow.MoveStage{To: workflow.Next(tt.stage)})

			require.Equal(t, domain.ErrConflict, de.Kind)
			require.Equal(t, "guards_unmet", de.Code)
			require.Equal(t, tt.want, guardCodes(de.Unmet))
			for _, g := range de.Unmet {
				require.False(t, g.Met)
				require.NotEmpty(t, g.Message)
				require.Contains(t, de.Message, g.Message)
			}
			require.Equal(t, tt.want, guardCodes(workflow.Unmet(workflow.Guards(s))))
		})
	}
}

func TestMoveStageGoesForwardOneStageWhenEveryGuardIsMet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stage domain.Stage
		omit  []string
		extra []step
		mover domain.Actor
	}{
		{name: "detection to mobilization", stage: domain.StageDetectionDeclaration},
		{name: "an admin moves detection to mobilization", stage: domain.StageDetectionDeclaration, mover: admin},
		{name: "mobilization to diagnosis", stage: domain.StageMobilization},
		{name: "mobilization with a resolver group engaged instead of a person", stage: domain.StageMobilization,
			omit:  []string{"assign_tech"},
			extra: []step{{"group", commander, workflow.AssignRole{Role: domain.RoleTechnicalLead, Group: "sre-db"}}}},
		{name: "diagnosis to status updates", stage: domain.StageDiagnosisAction},
		{name: "status updates to service restoration", stage: domain.StageStatusUpdates},
		{name: "status updates with a workaround instead of a fix", stage: domain.StageStatusUpdates, omit: []string{"restore"},
			extra: []step{{"workaround", tech, workflow.RecordRestoration{ID: "res-2", Kind: domain.RestorationWorkaround,
				Description: "failed over to the standby"}}}},
		{name: "service restoration to concluded", stage: domain.StageServiceRestoration},
		{name: "service restoration with a degraded component explicitly accepted", stage: domain.StageServiceRestoration,
			omit: []string{"verify", "resolve"},
			extra: []step{
				{"resolve_degraded", commander, workflow.DraftUpdate{ID: "upd-9", Status: domain.UpdateResolved,
					Body: "Resolved; reports are slower.", Publish: true,
					Components: map[string]domain.ComponentStatus{"api": domain.ComponentOperational, "db": domain.ComponentDegradedPerformance}}},
				{"verify_accepting", tech, workflow.RecordVerification{Method: "probes", Accepted: []string{"db"}}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := prepared(t, tt.stage, tt.omit...)
			for _, st := range tt.extra {
				s = run(t, s, st.actor, st.cmd)
			}
			mover := tt.mover
			if mover.UserID == "" {
				mover = commander
			}
			require.Empty(t, workflow.Unmet(workflow.Guards(s)))
			next := workflow.Next(tt.stage)

			evs, err := workflow.Handle(s, mover, workflow.MoveStage{To: next, Note: " on we go "}, t1)

			require.NoError(t, err)
			// Concluding closes the open bridges first, each on the timeline; then the stage changes.
			last := evs[len(evs)-1]
			for _, e := range evs[:len(evs)-1] {
				require.Equal(t, domain.StageConcluded, next)
				require.Equal(t, workflow.EventBridgeClosed, e.Type)
			}
			if next != domain.StageConcluded {
				require.Len(t, evs, 1)
			}
			require.Equal(t, workflow.EventStageChanged, last.Type)
			require.Equal(t, &workflow.StageChanged{From: tt.stage, To: next, Note: "on we go"}, last.Data)
			n := s
			for _, e := range evs {
				n, err = workflow.Apply(n, e)
				require.NoError(t, err)
			}
			require.Equal(t, next, n.Stage)
			require.Equal(t, tt.stage, s.Stage, "Apply must not change the state it was given")
		})
	}
}

func TestMoveStageRefusesMovesTheWorkflowDoesNotAllow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		state       func(t *testing.T) workflow.Incident
		move        workflow.MoveStage
		wantKind    domain.ErrorKind
		wantCode    string
		wantAllowed []string
	}{
		{"skipping mobilization", func(t *testing.T) workflow.Incident { return prepared(t, domain.StageDetectionDeclaration) },
			workflow.MoveStage{To: domain.StageDiagnosisAction, Reason: "hurry"},
			domain.ErrConflict, "invalid_transition", []string{"mobilization"}},
		{"skipping to conclusion", func(t *testing.T) workflow.Incident { return prepared(t, domain.StageDiagnosisAction) },
			workflow.MoveStage{To: domain.StageConcluded},
			domain.ErrConflict, "invalid_transition", []string{"status_updates"}},
		{"skipping status updates", func(t *testing.T) workflow.Incident { return prepared(t, domain.StageDiagnosisAction) },
			workflow.MoveStage{To: domain.StageServiceRestoration},
			domain.ErrConflict, "invalid_transition", []string{"status_updates"}},
		{"back from mobilization to detection", func(t *testing.T) workflow.Incident { return prepared(t, domain.StageMobilization) },
			workflow.MoveStage{To: domain.StageDetectionDeclaration, Reason: "wrong call"},
			domain.ErrConflict, "invalid_transition", []string{"diagnosis_action"}},
		{"back from diagnosis to mobilization", func(t *testing.T) workflow.Incident { return prepared(t, domain.StageDiagnosisAction) },
			workflow.MoveStage{To: domain.StageMobilization, Reason: "need more people"},
			domain.ErrConflict, "invalid_transition", []string{"status_updates"}},
		{"back from service restoration to status updates", func(t *testing.T) workflow.Incident {
			return prepared(t, domain.StageServiceRestoration)
		}, workflow.MoveStage{To: domain.StageStatusUpdates, Reason: "fix did not hold"},
			domain.ErrConflict, "invalid_transition", []string{"concluded", "diagnosis_action"}},
		{"back from status updates without a reason", func(t *testing.T) workflow.Incident {
			return prepared(t, domain.StageStatusUpdates)
		}, workflow.MoveStage{To: domain.StageDiagnosisAction, Reason: "   "},
			domain.ErrInvalid, "validation_failed", nil},
		{"back from service restoration without a reason", func(t *testing.T) workflow.Incident {
			return prepared(t, domain.StageServiceRestoration)
		}, workflow.MoveStage{To: domain.StageDiagnosisAction},
			domain.ErrInvalid, "validation_failed", nil},
		{"reopening without a reason", concluded, workflow.MoveStage{To: domain.StageDiagnosisAction},
			domain.ErrInvalid, "validation_failed", nil},
		{"reopening to another stage than diagnosis", concluded,
			workflow.MoveStage{To: domain.StageServiceRestoration, Reason: "customer says still broken"},
			domain.ErrConflict, "invalid_transition", []string{"diagnosis_action"}},
		{"staying in the same stage", func(t *testing.T) workflow.Incident { return prepared(t, domain.StageMobilization) },
			workflow.MoveStage{To: domain.StageMobilization},
			domain.ErrConflict, "already_in_stage", []string{"diagnosis_action"}},
		{"staying concluded", concluded, workflow.MoveStage{To: domain.StageConcluded},
			domain.ErrConflict, "already_in_stage", []string{"diagnosis_action"}},
		{"an unknown stage", func(t *testing.T) workflow.Incident { return prepared(t, domain.StageMobilization) },
			workflow.MoveStage{To: "triage"}, domain.ErrInvalid, "validation_failed", nil},
		{"no stage at all", func(t *testing.T) workflow.Incident { return prepared(t, domain.StageMobilization) },
			workflow.MoveStage{}, domain.ErrInvalid, "validation_failed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.state(t)

			de := refuse(t, s, commander, tt.move)

			require.Equal(t, tt.wantKind, de.Kind, de.Error())
			require.Equal(t, tt.wantCode, de.Code)
			require.Equal(t, tt.wantAllowed, de.Allowed)
			if tt.wantKind == domain.ErrInvalid {
				require.NotEmpty(t, de.Fields)
			}
		})
	}
}

func TestMoveStageGoesBackToDiagnosisWithAReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		state func(t *testing.T) workflow.Incident
		mover domain.Actor
	}{
		{"from status updates", func(t *testing.T) workflow.Incident { return prepared(t, domain.StageStatusUpdates) }, commander},
		{"from service restoration", func(t *testing.T) workflow.Incident { return prepared(t, domain.StageServiceRestoration) }, commander},
		{"an admin from service restoration", func(t *testing.T) workflow.Incident {
			return prepared(t, domain.StageServiceRestoration)
		}, admin},
		{"reopening a concluded incident", concluded, commander},
		{"an admin reopening a concluded incident", concluded, admin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.state(t)
			from := s.Stage

			evs, err := workflow.Handle(s, tt.mover, workflow.MoveStage{To: domain.StageDiagnosisAction, Reason: " fix did not hold "}, t1)

			require.NoError(t, err)
			require.Equal(t, []workflow.Event{{Type: workflow.EventStageChanged, At: t1, Data: &workflow.StageChanged{
				From: from, To: domain.StageDiagnosisAction, Reason: "fix did not hold", Backward: true}}}, evs)
			n, err := workflow.ApplyAll(s, evs)
			require.NoError(t, err)
			require.Equal(t, domain.StageDiagnosisAction, n.Stage)
			require.True(t, n.IsOpen())
			wantReopened := 0
			if from == domain.StageConcluded {
				wantReopened = 1
			}
			require.Equal(t, wantReopened, n.Reopened)
		})
	}
}

func TestAllowedMovesListsForwardAndTheWayBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stage domain.Stage
		want  []domain.Stage
	}{
		{domain.StageDetectionDeclaration, []domain.Stage{domain.StageMobilization}},
		{domain.StageMobilization, []domain.Stage{domain.StageDiagnosisAction}},
		{domain.StageDiagnosisAction, []domain.Stage{domain.StageStatusUpdates}},
		{domain.StageStatusUpdates, []domain.Stage{domain.StageServiceRestoration, domain.StageDiagnosisAction}},
		{domain.StageServiceRestoration, []domain.Stage{domain.StageConcluded, domain.StageDiagnosisAction}},
		{domain.StageConcluded, []domain.Stage{domain.StageDiagnosisAction}},
	}
	for _, tt := range tests {
		t.Run(string(tt.stage), func(t *testing.T) {
			t.Parallel()
			s := workflow.Incident{Kind: domain.KindMajor, Stage: tt.stage}

			require.Equal(t, tt.want, workflow.AllowedMoves(s))
		})
	}
	require.Nil(t, workflow.AllowedMoves(workflow.Incident{Kind: domain.KindStandard, Status: domain.StatusOpen}))
}

func TestHandleAllowsEachActOnlyToTheRolesThatMayDoIt(t *testing.T) {
	t.Parallel()
	var (
		noIC     = declaredMajor
		withIC   = func(t *testing.T) workflow.Incident { return prepared(t, domain.StageDetectionDeclaration) }
		notAcked = func(t *testing.T) workflow.Incident {
			return prepared(t, domain.StageDetectionDeclaration, "acknowledge")
		}
		staffed       = func(t *testing.T) workflow.Incident { return prepared(t, domain.StageMobilization) }
		draftPending  = func(t *testing.T) workflow.Incident { return prepared(t, domain.StageStatusUpdates, "approve") }
		approvedDraft = func(t *testing.T) workflow.Incident {
			return run(t, draftPending(t), commander, workflow.ApproveUpdate{ID: "upd-1"})
		}
		readyToConclude = func(t *testing.T) workflow.Incident { return prepared(t, domain.StageServiceRestoration) }

		assignIC = func(a domain.Actor) workflow.Command {
			return workflow.AssignRole{Role: domain.RoleIncidentCommander, Person: person(a)}
		}
		draft    = workflow.DraftUpdate{ID: "upd-7", Status: domain.UpdateInvestigating, Body: "We are looking into it."}
		publish  = workflow.DraftUpdate{ID: "upd-7", Status: domain.UpdateInvestigating, Body: "We are looking into it.", Publish: true}
		act      = workflow.LogAction{ID: "act-7", Kind: domain.ActionFinding, Description: "db connections saturated"}
		conclude = workflow.MoveStage{To: domain.StageConcluded}
		escalate = workflow.Escalate{Kind: domain.EscalationHierarchical, Target: "VP Engineering", Reason: "customer impact grows"}
		override = workflow.Reclassify{Criteria: standardCriteria, Classification: classification(standardCriteria),
			Override: &domain.Override{Kind: domain.KindMajor, Reason: "key customer affected"}}
		reclassify = workflow.Reclassify{Criteria: majorCriteria, Classification: classification(majorCriteria), Reason: "more regions"}
	)
	const ok = domain.ErrorKind("")
	tests := []struct {
		name     string
		state    func(t *testing.T) workflow.Incident
		actor    domain.Actor
		cmd      workflow.Command
		wantKind domain.ErrorKind
		wantCode string
	}{
		{"any responder assigns the first IC", noIC, responder, assignIC(commander), ok, ""},
		{"a responder takes the first IC role themselves", noIC, tech, assignIC(tech), ok, ""},
		{"an admin assigns the first IC", noIC, admin, assignIC(commander), ok, ""},
		{"a viewer cannot assign the first IC", noIC, viewer, assignIC(commander), domain.ErrForbidden, "forbidden"},
		{"a responder cannot hand the IC role over", withIC, responder, assignIC(responder), domain.ErrForbidden, "forbidden"},
		{"the communications lead cannot hand the IC role over", staffed, comms, assignIC(comms), domain.ErrForbidden, "forbidden"},
		{"the IC hands the IC role over", withIC, commander, assignIC(responder), ok, ""},
		{"an admin hands the IC role over", withIC, admin, assignIC(responder), ok, ""},
		{"handing the IC role to its holder is a conflict", withIC, admin, assignIC(commander), domain.ErrConflict, "already_assigned"},
		{"a responder cannot assign the communications lead", withIC, responder,
			workflow.AssignRole{Role: domain.RoleCommunicationsLead, Person: person(responder)}, domain.ErrForbidden, "forbidden"},
		{"the IC assigns the communications lead", withIC, commander,
			workflow.AssignRole{Role: domain.RoleCommunicationsLead, Person: person(comms)}, ok, ""},
		{"an admin adds a technical lead", withIC, admin,
			workflow.AssignRole{Role: domain.RoleTechnicalLead, Person: person(tech)}, ok, ""},
		{"a technical lead cannot add another", staffed, tech,
			workflow.AssignRole{Role: domain.RoleTechnicalLead, Person: person(responder)}, domain.ErrForbidden, "forbidden"},
		{"a responder cannot release a technical lead", staffed, responder,
			workflow.RemoveRole{Role: domain.RoleTechnicalLead, UserID: tech.UserID}, domain.ErrForbidden, "forbidden"},

		{"only the assigned IC acknowledges: an admin cannot", notAcked, admin, workflow.AcknowledgeIC{}, domain.ErrForbidden, "forbidden"},
		{"the assigned IC acknowledges", notAcked, commander, workflow.AcknowledgeIC{}, ok, ""},
		{"acknowledging twice is a conflict", withIC, commander, workflow.AcknowledgeIC{}, domain.ErrConflict, "already_acknowledged"},
		{"acknowledging with no IC is a conflict", noIC, commander, workflow.AcknowledgeIC{}, domain.ErrConflict, "no_incident_commander"},

		{"the communications lead drafts an update", staffed, comms, draft, ok, ""},
		{"an admin drafts an update", staffed, admin, draft, ok, ""},
		{"the communications lead cannot publish without approval", staffed, comms, publish, domain.ErrForbidden, "forbidden"},
		{"an admin cannot publish without approval", staffed, admin, publish, domain.ErrForbidden, "forbidden"},
		{"the IC drafts and publishes at once", staffed, commander, publish, ok, ""},
		{"the IC publishes from stage 1 on", withIC, commander, publish, ok, ""},
		{"a technical lead cannot draft an update", staffed, tech, draft, domain.ErrForbidden, "forbidden"},
		{"a responder without a role cannot draft an update", staffed, responder, draft, domain.ErrForbidden, "forbidden"},
		{"only the IC approves: the communications lead cannot", draftPending, comms,
			workflow.ApproveUpdate{ID: "upd-1", Publish: true}, domain.ErrForbidden, "forbidden"},
		{"only the IC approves: an admin cannot", draftPending, admin,
			workflow.ApproveUpdate{ID: "upd-1", Publish: true}, domain.ErrForbidden, "forbidden"},
		{"the IC approves", draftPending, commander, workflow.ApproveUpdate{ID: "upd-1", Publish: true}, ok, ""},
		{"approving an unknown update is not found", draftPending, commander, workflow.ApproveUpdate{ID: "nope"},
			domain.ErrNotFound, "not_found"},
		{"approving twice is a conflict", approvedDraft, commander, workflow.ApproveUpdate{ID: "upd-1"},
			domain.ErrConflict, "update_not_draft"},
		{"the communications lead publishes an approved update", approvedDraft, comms, workflow.PublishUpdate{ID: "upd-1"}, ok, ""},
		{"the IC publishes an approved update", approvedDraft, commander, workflow.PublishUpdate{ID: "upd-1"}, ok, ""},
		{"the communications lead cannot publish a draft", draftPending, comms, workflow.PublishUpdate{ID: "upd-1"},
			domain.ErrConflict, "update_not_approved"},
		{"a technical lead cannot publish an approved update", approvedDraft, tech, workflow.PublishUpdate{ID: "upd-1"},
			domain.ErrForbidden, "forbidden"},
		{"an admin cannot publish an approved update", approvedDraft, admin, workflow.PublishUpdate{ID: "upd-1"},
			domain.ErrForbidden, "forbidden"},

		{"a technical lead logs an action", staffed, tech, act, ok, ""},
		{"the communications lead cannot log an action", staffed, comms, act, domain.ErrForbidden, "forbidden"},
		{"a responder without a role cannot log an action", staffed, responder, act, domain.ErrForbidden, "forbidden"},
		{"a technical lead records the restoration", staffed, tech,
			workflow.RecordRestoration{ID: "res-7", Kind: domain.RestorationWorkaround, Description: "failover"}, ok, ""},
		{"the communications lead opens the customer bridge", staffed, comms,
			workflow.OpenBridge{Kind: domain.BridgeCustomer, URL: "https://meet.example.com/customers"}, ok, ""},
		{"a responder without a role cannot open a bridge", staffed, responder,
			workflow.OpenBridge{Kind: domain.BridgeCustomer, URL: "https://meet.example.com/customers"}, domain.ErrForbidden, "forbidden"},

		{"only the IC concludes: an admin cannot", readyToConclude, admin, conclude, domain.ErrForbidden, "forbidden"},
		{"only the IC concludes: a technical lead cannot", readyToConclude, tech, conclude, domain.ErrForbidden, "forbidden"},
		{"the IC concludes", readyToConclude, commander, conclude, ok, ""},
		{"a responder without a role cannot move a stage", withIC, responder,
			workflow.MoveStage{To: domain.StageMobilization}, domain.ErrForbidden, "forbidden"},
		{"the communications lead cannot move a stage", staffed, comms,
			workflow.MoveStage{To: domain.StageDiagnosisAction}, domain.ErrForbidden, "forbidden"},

		{"the IC escalates", staffed, commander, escalate, ok, ""},
		{"mim escalates by itself", staffed, domain.SystemActor, escalate, ok, ""},
		{"a technical lead cannot escalate", staffed, tech, escalate, domain.ErrForbidden, "forbidden"},
		{"an escalation needs a reason", staffed, commander,
			workflow.Escalate{Kind: domain.EscalationFunctional, Target: "dba"}, domain.ErrInvalid, "validation_failed"},

		{"only an admin overrides the classification: the IC cannot", withIC, commander, override, domain.ErrForbidden, "forbidden"},
		{"an admin overrides the classification", withIC, admin, override, ok, ""},
		{"the IC reclassifies", withIC, commander, reclassify, ok, ""},
		{"a responder cannot reclassify once an IC is assigned", withIC, responder, reclassify, domain.ErrForbidden, "forbidden"},
		{"a responder reclassifies before an IC is assigned", noIC, responder, reclassify, ok, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.state(t)

			evs, err := workflow.Handle(s, tt.actor, tt.cmd, t1)

			if tt.wantKind == ok {
				require.NoError(t, err)
				require.NotEmpty(t, evs)
				_, err = workflow.ApplyAll(s, evs)
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Nil(t, evs)
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			require.Equal(t, tt.wantKind, de.Kind, de.Error())
			require.Equal(t, tt.wantCode, de.Code)
			require.NotEmpty(t, de.Message)
		})
	}
}

// everyCommand is one well-formed command of each kind, for checks that must refuse them all.
func everyCommand() []workflow.Command {
	return []workflow.Command{
		workflow.Reclassify{Criteria: majorCriteria, Classification: classification(majorCriteria), Reason: "new facts"},
		workflow.AssignRole{Role: domain.RoleTechnicalLead, Person: person(responder)},
		workflow.AssignRole{Role: domain.RoleIncidentCommander, Person: person(sponsor)},
		workflow.RemoveRole{Role: domain.RoleTechnicalLead, UserID: tech.UserID},
		workflow.RemoveRole{Role: domain.RoleExecutiveSponsor, UserID: sponsor.UserID},
		workflow.AcknowledgeIC{},
		workflow.OpenBridge{Kind: domain.BridgeCustomer, URL: "https://meet.example.com/customers"},
		workflow.CloseBridge{Kind: domain.BridgeTechnical},
		workflow.LogAction{ID: "act-9", Kind: domain.ActionFinding, Description: "found it"},
		workflow.DraftUpdate{ID: "upd-9", Status: domain.UpdateInvestigating, Body: "Looking."},
		workflow.DraftUpdate{ID: "upd-9", Status: domain.UpdateInvestigating, Body: "Looking.", Publish: true},
		workflow.ApproveUpdate{ID: "upd-1", Publish: true},
		workflow.PublishUpdate{ID: "upd-1"},
		workflow.RecordRestoration{ID: "res-9", Kind: domain.RestorationFix, Description: "patched"},
		workflow.RecordVerification{Method: "probes"},
		workflow.MoveStage{To: domain.StageDiagnosisAction},
		workflow.SetStatus{To: domain.StatusResolved},
		workflow.Escalate{Kind: domain.EscalationFunctional, Target: "dba", Reason: "db is slow"},
		workflow.LinkTicket{ID: "tkt-9", System: "zendesk", Ref: "9"},
		workflow.SetMilestone{Milestone: domain.MilestoneImpactStarted, At: t0.Add(-time.Minute)},
		workflow.FoldAlert{},
	}
}

func TestHandleForbidsAnExecutiveSponsorEverything(t *testing.T) {
	t.Parallel()
	s := prepared(t, domain.StageMobilization, "assign_sponsor")
	s = run(t, s, commander, workflow.AssignRole{Role: domain.RoleExecutiveSponsor, Person: person(sponsor)})
	s = run(t, s, commander, workflow.DraftUpdate{ID: "upd-1", Status: domain.UpdateInvestigating, Body: "Looking."})
	for _, cmd := range everyCommand() {
		de := refuse(t, s, sponsor, cmd)
		require.Equal(t, domain.ErrForbidden, de.Kind, "%T: %s", cmd, de.Error())
	}
}

func TestHandleForbidsAViewerEverything(t *testing.T) {
	t.Parallel()
	de := refuse(t, workflow.Incident{}, viewer, declareCmd(majorCriteria))
	require.Equal(t, domain.ErrForbidden, de.Kind)

	s := prepared(t, domain.StageMobilization)
	for _, cmd := range everyCommand() {
		de := refuse(t, s, viewer, cmd)
		require.Equal(t, domain.ErrForbidden, de.Kind, "%T: %s", cmd, de.Error())
	}
	s = declaredStandard(t)
	for _, cmd := range everyCommand() {
		de := refuse(t, s, viewer, cmd)
		require.Equal(t, domain.ErrForbidden, de.Kind, "%T: %s", cmd, de.Error())
	}
}

func TestHandleForbidsAnAccountWithoutAKnownRole(t *testing.T) {
	t.Parallel()
	stranger := actor("u-x", "Xavier", "")
	de := refuse(t, workflow.Incident{}, stranger, declareCmd(majorCriteria))
	require.Equal(t, domain.ErrForbidden, de.Kind)
}

func TestMilestonesAreStampedByTheActsThatMakeThem(t *testing.T) {
	t.Parallel()
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	impact := at(-10)
	cmd := declareCmd(majorCriteria)
	cmd.ImpactStartedAt = &impact
	s := runAt(t, workflow.Incident{}, responder, cmd, at(5))
	steps := []step{
		{"assign_ic", responder, workflow.AssignRole{Role: domain.RoleIncidentCommander, Person: person(commander)}},
		{"acknowledge", commander, workflow.AcknowledgeIC{}},
		{"mobilize", commander, workflow.MoveStage{To: domain.StageMobilization}},
		{"open_bridge", commander, workflow.OpenBridge{Kind: domain.BridgeTechnical, URL: "https://meet.example.com/x"}},
		{"assign_comms", commander, workflow.AssignRole{Role: domain.RoleCommunicationsLead, Person: person(comms)}},
		{"assign_tech", commander, workflow.AssignRole{Role: domain.RoleTechnicalLead, Person: person(tech)}},
		{"diagnose", commander, workflow.MoveStage{To: domain.StageDiagnosisAction}},
		{"log", tech, workflow.LogAction{ID: "a1", Kind: domain.ActionDiagnosis, Description: "looking at db"}},
		{"updates", commander, workflow.MoveStage{To: domain.StageStatusUpdates}},
		{"draft", comms, workflow.DraftUpdate{ID: "u1", Status: domain.UpdateInvestigating, Body: "Looking."}},
		{"approve", commander, workflow.ApproveUpdate{ID: "u1", Publish: true}},
		{"identified", commander, workflow.DraftUpdate{ID: "u2", Status: domain.UpdateIdentified, Body: "Found.", Publish: true}},
		{"workaround", tech, workflow.RecordRestoration{ID: "r1", Kind: domain.RestorationWorkaround, Description: "failover"}},
		{"fix", tech, workflow.RecordRestoration{ID: "r2", Kind: domain.RestorationFix, Description: "patch"}},
		{"restoration", commander, workflow.MoveStage{To: domain.StageServiceRestoration}},
		{"verify", tech, workflow.RecordVerification{Method: "probes"}},
		{"resolve", commander, workflow.DraftUpdate{ID: "u3", Status: domain.UpdateResolved, Body: "Fixed.", Publish: true}},
		{"conclude", commander, workflow.MoveStage{To: domain.StageConcluded}},
		{"link_ticket_stamps_nothing", commander, workflow.LinkTicket{ID: "t1", System: "jira", Ref: "OPS-1"}},
	}
	when := map[string]time.Time{}
	for i, st := range steps {
		when[st.name] = at(6 + i)
		s = runAt(t, s, st.actor, st.cmd, when[st.name])
	}

	require.Equal(t, map[domain.Milestone]time.Time{
		domain.MilestoneImpactStarted:     impact,
		domain.MilestoneDetected:          t0,
		domain.MilestoneDeclared:          at(5),
		domain.MilestoneICAcknowledged:    when["acknowledge"],
		domain.MilestoneMobilized:         when["diagnose"],
		domain.MilestoneFirstPublicUpdate: when["approve"],
		domain.MilestoneIdentified:        when["identified"],
		domain.MilestoneMitigated:         when["workaround"],
		domain.MilestoneRestored:          when["fix"],
		domain.MilestoneVerified:          when["verify"],
		domain.MilestoneConcluded:         when["conclude"],
	}, s.Milestones)
	for _, p := range [][2]domain.Milestone{
		{domain.MilestoneDetected, domain.MilestoneDeclared},
		{domain.MilestoneDeclared, domain.MilestoneICAcknowledged},
		{domain.MilestoneICAcknowledged, domain.MilestoneMobilized},
		{domain.MilestoneRestored, domain.MilestoneVerified},
		{domain.MilestoneVerified, domain.MilestoneConcluded},
	} {
		require.True(t, s.Milestones[p[0]].Before(s.Milestones[p[1]]), "%s before %s", p[0], p[1])
	}
}

func TestMilestoneStampsKeepTheFirstTime(t *testing.T) {
	t.Parallel()
	s := prepared(t, domain.StageDetectionDeclaration)
	acked := s.Milestones[domain.MilestoneICAcknowledged]
	s = runAt(t, s, commander, workflow.AssignRole{Role: domain.RoleIncidentCommander, Person: person(responder)}, t1.Add(time.Minute))
	s = runAt(t, s, responder, workflow.AcknowledgeIC{}, t1.Add(2*time.Minute))

	require.Equal(t, acked, s.Milestones[domain.MilestoneICAcknowledged])
	require.Equal(t, t1.Add(2*time.Minute), *s.Roles.IncidentCommander.AcknowledgedAt)
}

func TestSetMilestoneRefusesTimesOutOfOrderOrInTheFuture(t *testing.T) {
	t.Parallel()
	now := t1.Add(30 * time.Minute) // detected t0, declared t1
	tests := []struct {
		name      string
		before    []workflow.SetMilestone
		set       workflow.SetMilestone
		wantError bool
	}{
		{"impact started before detection", nil,
			workflow.SetMilestone{Milestone: domain.MilestoneImpactStarted, At: t0.Add(-10 * time.Minute)}, false},
		{"impact started at detection", nil,
			workflow.SetMilestone{Milestone: domain.MilestoneImpactStarted, At: t0}, false},
		{"impact started after detection", nil,
			workflow.SetMilestone{Milestone: domain.MilestoneImpactStarted, At: t0.Add(time.Minute)}, true},
		{"detected earlier than first recorded", nil,
			workflow.SetMilestone{Milestone: domain.MilestoneDetected, At: t0.Add(-5 * time.Minute)}, false},
		{"detected after declaration", nil,
			workflow.SetMilestone{Milestone: domain.MilestoneDetected, At: t1.Add(time.Minute)}, true},
		{"detected before the impact started", []workflow.SetMilestone{{Milestone: domain.MilestoneImpactStarted, At: t0.Add(-10 * time.Minute)}},
			workflow.SetMilestone{Milestone: domain.MilestoneDetected, At: t0.Add(-20 * time.Minute)}, true},
		{"identified before detection", nil,
			workflow.SetMilestone{Milestone: domain.MilestoneIdentified, At: t0.Add(-time.Minute)}, true},
		{"restored after detection", nil,
			workflow.SetMilestone{Milestone: domain.MilestoneRestored, At: t1.Add(10 * time.Minute)}, false},
		{"identified in the future", nil,
			workflow.SetMilestone{Milestone: domain.MilestoneIdentified, At: now.Add(time.Second)}, true},
		{"impact started in the future", nil,
			workflow.SetMilestone{Milestone: domain.MilestoneImpactStarted, At: now.Add(time.Hour)}, true},
		{"no time", nil, workflow.SetMilestone{Milestone: domain.MilestoneIdentified}, true},
		{"declared is stamped, not set", nil,
			workflow.SetMilestone{Milestone: domain.MilestoneDeclared, At: t1}, true},
		{"concluded is stamped, not set", nil,
			workflow.SetMilestone{Milestone: domain.MilestoneConcluded, At: t1}, true},
		{"an unknown milestone", nil, workflow.SetMilestone{Milestone: "lunch", At: t1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := prepared(t, domain.StageDetectionDeclaration)
			for _, b := range tt.before {
				s = runAt(t, s, commander, b, now)
			}

			evs, err := workflow.Handle(s, commander, tt.set, now)

			if !tt.wantError {
				require.NoError(t, err)
				require.Equal(t, []workflow.Event{{Type: workflow.EventMilestoneSet, At: now,
					Data: &workflow.MilestoneSet{Milestone: tt.set.Milestone, At: tt.set.At}}}, evs)
				n, err := workflow.ApplyAll(s, evs)
				require.NoError(t, err)
				require.Equal(t, tt.set.At, n.Milestones[tt.set.Milestone])
				return
			}
			require.Nil(t, evs)
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			require.Equal(t, domain.ErrInvalid, de.Kind, de.Error())
			require.Len(t, de.Fields, 1)
		})
	}
}

func TestCheckMilestoneOrderComparesOnlyWithMilestonesAlreadySet(t *testing.T) {
	t.Parallel()
	ms := map[domain.Milestone]time.Time{domain.MilestoneDetected: t0, domain.MilestoneDeclared: t1}

	require.NoError(t, workflow.CheckMilestoneOrder(ms, domain.MilestoneImpactStarted, t0))
	require.Error(t, workflow.CheckMilestoneOrder(ms, domain.MilestoneImpactStarted, t0.Add(time.Nanosecond)))
	require.NoError(t, workflow.CheckMilestoneOrder(ms, domain.MilestoneVerified, t0.Add(-time.Hour)),
		"nothing that verified must follow is set")
	require.Error(t, workflow.CheckMilestoneOrder(ms, domain.MilestoneMitigated, t0.Add(-time.Second)))
	require.NoError(t, workflow.CheckMilestoneOrder(nil, domain.MilestoneDetected, t1))
}

func TestDeclareRefusesTimesOutOfOrder(t *testing.T) {
	t.Parallel()
	future := t1.Add(time.Minute)
	late := t0.Add(time.Minute)
	tests := []struct {
		name      string
		change    func(*workflow.Declare)
		wantField string
	}{
		{"detected in the future", func(d *workflow.Declare) { d.DetectedAt = &future }, "detected_at"},
		{"impact started after detection", func(d *workflow.Declare) { d.ImpactStartedAt = &late }, "impact_started_at"},
		{"no title", func(d *workflow.Declare) { d.Title = "  " }, "title"},
		{"an unknown severity", func(d *workflow.Declare) { d.Criteria.Severity = "apocalyptic" }, "severity"},
		{"negative customers", func(d *workflow.Declare) { d.Criteria.Scope.CustomersAffected = -1 }, "scope.customers_affected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := declareCmd(majorCriteria)
			tt.change(&cmd)

			de := refuse(t, workflow.Incident{}, responder, cmd)

			require.Equal(t, domain.ErrInvalid, de.Kind)
			require.Equal(t, tt.wantField, de.Fields[0].Field)
		})
	}
}

func TestDeclareStartsAMajorIncidentInDetection(t *testing.T) {
	t.Parallel()
	s := declaredMajor(t)

	require.Equal(t, domain.KindMajor, s.Kind)
	require.Equal(t, domain.StageDetectionDeclaration, s.Stage)
	require.Empty(t, s.Status)
	require.True(t, s.IsOpen())
	require.Equal(t, []string{"api", "db"}, s.Components)
	require.Equal(t, 1, s.AlertCount)
	require.Equal(t, []string{workflow.GuardClassifiedMajor, workflow.GuardICAssigned, workflow.GuardICAcknowledged},
		guardCodes(workflow.Guards(s)))
	require.Equal(t, []string{workflow.GuardICAssigned, workflow.GuardICAcknowledged},
		guardCodes(workflow.Unmet(workflow.Guards(s))))
}

func TestDeclareRefusesAnIncidentAlreadyDeclared(t *testing.T) {
	t.Parallel()
	s := prepared(t, domain.StageMobilization)

	de := refuse(t, s, admin, declareCmd(majorCriteria))

	require.Equal(t, domain.ErrConflict, de.Kind)
	require.Equal(t, "already_declared", de.Code)
}

func TestAStandardIncidentGoesOpenResolvedClosed(t *testing.T) {
	t.Parallel()
	s := declaredStandard(t)
	require.Equal(t, domain.KindStandard, s.Kind)
	require.Equal(t, domain.StatusOpen, s.Status)
	require.Empty(t, s.Stage)
	require.Nil(t, workflow.Guards(s))
	require.Nil(t, workflow.AllowedMoves(s))

	s = run(t, s, responder, workflow.LogAction{ID: "a1", Kind: domain.ActionFix, Description: "restarted"})
	s = run(t, s, responder, workflow.DraftUpdate{ID: "u1", Status: domain.UpdateResolved, Body: "Fixed.", Publish: true})
	s = run(t, s, responder, workflow.SetStatus{To: domain.StatusResolved})
	require.Equal(t, domain.StatusResolved, s.Status)
	require.False(t, s.IsOpen())
	s = run(t, s, responder, workflow.SetStatus{To: domain.StatusClosed})
	require.Equal(t, domain.StatusClosed, s.Status)
	s = run(t, s, responder, workflow.SetStatus{To: domain.StatusOpen, Reason: "it came back"})
	require.Equal(t, domain.StatusOpen, s.Status)
	require.Equal(t, domain.KindStandard, s.Kind)
}

func TestAStandardIncidentPublishesWithoutApproval(t *testing.T) {
	t.Parallel()
	s := declaredStandard(t)

	evs, err := workflow.Handle(s, responder, workflow.DraftUpdate{ID: "u1", Status: domain.UpdateIdentified,
		Body: "Found it.", Publish: true}, t1)

	require.NoError(t, err)
	require.Equal(t, []workflow.EventType{workflow.EventUpdateDrafted, workflow.EventUpdatePublished}, eventTypes(evs))
}

func TestSetStatusRefusesMovesAStandardIncidentCannotMake(t *testing.T) {
	t.Parallel()
	resolved := func(t *testing.T) workflow.Incident {
		return run(t, declaredStandard(t), responder, workflow.SetStatus{To: domain.StatusResolved})
	}
	tests := []struct {
		name     string
		state    func(t *testing.T) workflow.Incident
		to       workflow.SetStatus
		wantKind domain.ErrorKind
		wantCode string
	}{
		{"open straight to closed", declaredStandard, workflow.SetStatus{To: domain.StatusClosed},
			domain.ErrConflict, "invalid_transition"},
		{"open to open", declaredStandard, workflow.SetStatus{To: domain.StatusOpen, Reason: "x"},
			domain.ErrConflict, "already_in_status"},
		{"reopening without a reason", resolved, workflow.SetStatus{To: domain.StatusOpen},
			domain.ErrInvalid, "validation_failed"},
		{"an unknown status", declaredStandard, workflow.SetStatus{To: "done"}, domain.ErrInvalid, "validation_failed"},
		{"a status on a major incident", declaredMajor, workflow.SetStatus{To: domain.StatusResolved},
			domain.ErrConflict, "not_standard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			de := refuse(t, tt.state(t), responder, tt.to)

			require.Equal(t, tt.wantKind, de.Kind, de.Error())
			require.Equal(t, tt.wantCode, de.Code)
		})
	}
}

func TestWorkflowOnlyCommandsOnAStandardIncidentAreNotMajor(t *testing.T) {
	t.Parallel()
	s := declaredStandard(t)
	cmds := []workflow.Command{
		workflow.AssignRole{Role: domain.RoleIncidentCommander, Person: person(commander)},
		workflow.RemoveRole{Role: domain.RoleTechnicalLead, UserID: tech.UserID},
		workflow.AcknowledgeIC{},
		workflow.OpenBridge{Kind: domain.BridgeTechnical, URL: "https://meet.example.com/x"},
		workflow.CloseBridge{Kind: domain.BridgeTechnical},
		workflow.RecordRestoration{ID: "r1", Kind: domain.RestorationFix, Description: "patched"},
		workflow.RecordVerification{Method: "probes"},
		workflow.MoveStage{To: domain.StageMobilization},
		workflow.Escalate{Kind: domain.EscalationFunctional, Target: "dba", Reason: "slow"},
	}
	for _, a := range []domain.Actor{admin, responder} {
		for _, cmd := range cmds {
			de := refuse(t, s, a, cmd)
			require.Equal(t, domain.ErrConflict, de.Kind, "%T by %s: %s", cmd, a.Name, de.Error())
			require.Equal(t, "not_major", de.Code, "%T by %s", cmd, a.Name)
		}
	}
}

func TestReclassifyPromotesAStandardIncidentToTheWorkflow(t *testing.T) {
	t.Parallel()
	s := declaredStandard(t)

	evs, err := workflow.Handle(s, responder, workflow.Reclassify{Criteria: majorCriteria,
		Classification: classification(majorCriteria), Reason: " three regions now "}, t1)

	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, workflow.EventClassified, evs[0].Type)
	c := evs[0].Data.(*workflow.Classified)
	require.Equal(t, domain.KindStandard, c.From)
	require.Equal(t, domain.KindMajor, c.To)
	require.Equal(t, "three regions now", c.Reason)
	n, err := workflow.ApplyAll(s, evs)
	require.NoError(t, err)
	require.Equal(t, domain.KindMajor, n.Kind)
	require.Equal(t, domain.StageDetectionDeclaration, n.Stage)
	require.Empty(t, n.Status)
	require.Equal(t, majorCriteria, n.Criteria)
	require.Equal(t, []domain.Stage{domain.StageMobilization}, workflow.AllowedMoves(n))
	n = run(t, n, responder, workflow.AssignRole{Role: domain.RoleIncidentCommander, Person: person(commander)})
	n = run(t, n, commander, workflow.AcknowledgeIC{})
	n = run(t, n, commander, workflow.MoveStage{To: domain.StageMobilization})
	require.Equal(t, domain.StageMobilization, n.Stage)
}

func TestReclassifyByAnAdminOverridePromotesAStandardIncident(t *testing.T) {
	t.Parallel()
	s := declaredStandard(t)

	s = run(t, s, admin, workflow.Reclassify{Criteria: standardCriteria, Classification: classification(standardCriteria),
		Override: &domain.Override{Kind: domain.KindMajor, Reason: "our largest customer is down", By: person(admin)}})

	require.Equal(t, domain.KindMajor, s.Kind)
	require.Equal(t, domain.KindStandard, s.Classification.Kind)
	require.Equal(t, domain.KindMajor, s.Classification.EffectiveKind())
	require.Equal(t, t1, s.Classification.Override.At)
	require.True(t, workflow.Guards(s)[0].Met, "an override meets classified_major")
}

func TestReclassifyKeepsAMobilizedIncidentMajor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		state     func(t *testing.T) workflow.Incident
		wantKind  domain.Kind
		wantStage domain.Stage
	}{
		{"before mobilization new facts make it standard", func(t *testing.T) workflow.Incident {
			return prepared(t, domain.StageDetectionDeclaration)
		}, domain.KindStandard, ""},
		{"after mobilization it stays major in its stage", func(t *testing.T) workflow.Incident {
			return prepared(t, domain.StageDiagnosisAction)
		}, domain.KindMajor, domain.StageDiagnosisAction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := run(t, tt.state(t), commander, workflow.Reclassify{Criteria: standardCriteria,
				Classification: classification(standardCriteria), Reason: "only one region after all"})

			require.Equal(t, tt.wantKind, s.Kind)
			require.Equal(t, tt.wantStage, s.Stage)
			require.Equal(t, domain.KindStandard, s.Classification.Kind)
		})
	}
}

func TestAConcludedIncidentRefusesNewWork(t *testing.T) {
	t.Parallel()
	s := concluded(t)
	cmds := []workflow.Command{
		workflow.DraftUpdate{ID: "upd-9", Status: domain.UpdateInvestigating, Body: "Again?", Publish: true},
		workflow.LogAction{ID: "act-9", Kind: domain.ActionFinding, Description: "more"},
		workflow.RecordRestoration{ID: "res-9", Kind: domain.RestorationFix, Description: "again"},
		workflow.RecordVerification{Method: "probes"},
		workflow.OpenBridge{Kind: domain.BridgeTechnical, URL: "https://meet.example.com/again"},
		workflow.AssignRole{Role: domain.RoleTechnicalLead, Person: person(responder)},
		workflow.Escalate{Kind: domain.EscalationFunctional, Target: "dba", Reason: "x"},
		workflow.AcknowledgeIC{},
	}
	for _, cmd := range cmds {
		de := refuse(t, s, commander, cmd)
		require.Equal(t, domain.ErrConflict, de.Kind, "%T: %s", cmd, de.Error())
		require.Equal(t, "incident_closed", de.Code, "%T", cmd)
	}
}

func TestAConcludedIncidentRecordsAReclassificationWithoutLeavingConclusion(t *testing.T) {
	t.Parallel()
	for _, a := range []domain.Actor{commander, admin} {
		s := concluded(t)

		s = run(t, s, a, workflow.Reclassify{Criteria: standardCriteria, Classification: classification(standardCriteria),
			Reason: "impact was smaller than thought"})

		require.Equal(t, domain.KindMajor, s.Kind)
		require.Equal(t, domain.StageConcluded, s.Stage)
		require.Empty(t, s.Status)
		require.Equal(t, standardCriteria, s.Criteria)
		require.Equal(t, domain.KindStandard, s.Classification.Kind)
		require.Equal(t, []domain.Stage{domain.StageDiagnosisAction}, workflow.AllowedMoves(s))
	}
}

func TestAConcludedIncidentStillLinksTickets(t *testing.T) {
	t.Parallel()
	s := run(t, concluded(t), comms, workflow.LinkTicket{ID: "tkt-1", System: "zendesk", Ref: "4711"})

	require.Len(t, s.Tickets, 1)
}

func TestConclusionClosesTheBridgesAndStampsTheConclusion(t *testing.T) {
	t.Parallel()
	s := prepared(t, domain.StageServiceRestoration)
	s = run(t, s, comms, workflow.OpenBridge{Kind: domain.BridgeCustomer, URL: "https://meet.example.com/customers"})
	require.True(t, s.Bridges[domain.BridgeTechnical].Open())
	end := t1.Add(time.Hour)

	evs, err := workflow.Handle(s, commander, workflow.MoveStage{To: domain.StageConcluded}, end)
	require.NoError(t, err)
	require.Equal(t, []workflow.EventType{workflow.EventBridgeClosed, workflow.EventBridgeClosed,
		workflow.EventStageChanged}, eventTypes(evs), "each bridge's closing is on the timeline")
	require.Equal(t, &workflow.BridgeClosed{Kind: domain.BridgeTechnical}, evs[0].Data)
	require.Equal(t, &workflow.BridgeClosed{Kind: domain.BridgeCustomer}, evs[1].Data)
	s = runAt(t, s, commander, workflow.MoveStage{To: domain.StageConcluded}, end)

	require.Equal(t, domain.StageConcluded, s.Stage)
	require.False(t, s.IsOpen())
	require.False(t, s.Bridges[domain.BridgeTechnical].Open())
	require.Equal(t, end, *s.Bridges[domain.BridgeTechnical].ClosedAt)
	require.False(t, s.Bridges[domain.BridgeCustomer].Open())
	require.Equal(t, end, s.Milestones[domain.MilestoneConcluded])
	require.Nil(t, workflow.Guards(s))
}

func TestReopeningAConcludedIncidentLetsWorkResume(t *testing.T) {
	t.Parallel()
	s := concluded(t)

	s = run(t, s, commander, workflow.MoveStage{To: domain.StageDiagnosisAction, Reason: "errors are back"})

	require.Equal(t, domain.StageDiagnosisAction, s.Stage)
	require.True(t, s.IsOpen())
	require.Equal(t, 1, s.Reopened)
	require.NotContains(t, s.Milestones, domain.MilestoneConcluded)
	s = run(t, s, tech, workflow.LogAction{ID: "act-2", Kind: domain.ActionFix, Description: "second fix"})
	s = run(t, s, commander, workflow.OpenBridge{Kind: domain.BridgeTechnical, URL: "https://meet.example.com/again"})
	require.True(t, s.Bridges[domain.BridgeTechnical].Open())
}

func TestGoingBackClearsVerificationAndRevertsRestorations(t *testing.T) {
	t.Parallel()
	s := prepared(t, domain.StageServiceRestoration)
	require.NotNil(t, s.Verification)
	require.Contains(t, s.Milestones, domain.MilestoneRestored)

	s = run(t, s, commander, workflow.MoveStage{To: domain.StageDiagnosisAction, Reason: "errors are back"})

	require.Nil(t, s.Verification)
	require.NotEmpty(t, s.Restorations)
	for _, r := range s.Restorations {
		require.True(t, r.Reverted, r.ID)
	}
	for _, m := range []domain.Milestone{domain.MilestoneRestored, domain.MilestoneMitigated, domain.MilestoneVerified} {
		require.NotContains(t, s.Milestones, m)
	}
	require.Contains(t, s.Milestones, domain.MilestoneFirstPublicUpdate, "what was published stays published")

	// The way forward again needs a restoration that holds, and a new verification.
	s = run(t, s, commander, workflow.MoveStage{To: domain.StageStatusUpdates})
	de := refuse(t, s, commander, workflow.MoveStage{To: domain.StageServiceRestoration})
	require.Equal(t, []string{workflow.GuardRestorationRecorded}, guardCodes(de.Unmet))
	de = refuse(t, s, tech, workflow.RecordVerification{Method: "probes"})
	require.Equal(t, "guards_unmet", de.Code)
	s = run(t, s, tech, workflow.RecordRestoration{ID: "res-2", Kind: domain.RestorationFix, Description: "real fix"})
	s = run(t, s, commander, workflow.MoveStage{To: domain.StageServiceRestoration})
	de = refuse(t, s, commander, workflow.MoveStage{To: domain.StageConcluded})
	// The resolved update published before the fix failed no longer counts: customers must hear it again.
	require.Equal(t, []string{workflow.GuardServiceVerified, workflow.GuardResolvedUpdatePublished}, guardCodes(de.Unmet))
	s = run(t, s, tech, workflow.RecordVerification{Method: "probes again"})
	s = run(t, s, commander, workflow.DraftUpdate{ID: "final-2", Status: domain.UpdateResolved, Body: "fixed for good", Publish: true})
	run(t, s, commander, workflow.MoveStage{To: domain.StageConcluded})
}

func TestPublishingLogsTheUpdateOnEveryLinkedTicket(t *testing.T) {
	t.Parallel()
	s := prepared(t, domain.StageMobilization)
	s = run(t, s, comms, workflow.LinkTicket{ID: "t1", System: "zendesk", Ref: "1"})
	s = run(t, s, comms, workflow.LinkTicket{ID: "t2", System: "jira", Ref: "OPS-2", URL: "https://jira.example.com/OPS-2"})
	de := refuse(t, s, comms, workflow.LinkTicket{ID: "t3", System: "Zendesk", Ref: " 1 "})
	require.Equal(t, "ticket_already_linked", de.Code)

	s = run(t, s, commander, workflow.DraftUpdate{ID: "u1", Status: domain.UpdateInvestigating, Body: "Looking.", Publish: true})

	for _, tk := range s.Tickets {
		require.Equal(t, []workflow.TicketLog{{UpdateID: "u1", Status: domain.UpdateInvestigating, At: t1}}, tk.Log, tk.ID)
	}
}

func TestHandleRefusesMalformedFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cmd       workflow.Command
		wantField string
	}{
		{"a bridge without a URL", workflow.OpenBridge{Kind: domain.BridgeTechnical}, "url"},
		{"a bridge with an ftp URL", workflow.OpenBridge{Kind: domain.BridgeTechnical, URL: "ftp://x.example.com"}, "url"},
		{"a bridge of an unknown kind", workflow.OpenBridge{Kind: "video", URL: "https://x.example.com"}, "kind"},
		{"an invitee without an address", workflow.OpenBridge{Kind: domain.BridgeCustomer, URL: "https://x.example.com",
			Invitees: []string{"bob"}}, "invitees[0]"},
		{"an action of an unknown kind", workflow.LogAction{Kind: "prayer", Description: "x"}, "kind"},
		{"an action without a description", workflow.LogAction{Kind: domain.ActionFix, Description: " "}, "description"},
		{"an update of an unknown status", workflow.DraftUpdate{Status: "fine", Body: "x"}, "status"},
		{"an update without a body", workflow.DraftUpdate{Status: domain.UpdateIdentified}, "body"},
		{"an update with an unknown component status", workflow.DraftUpdate{Status: domain.UpdateIdentified, Body: "x",
			Components: map[string]domain.ComponentStatus{"api": "on_fire"}}, "components.api"},
		{"a restoration of an unknown kind", workflow.RecordRestoration{Kind: "hope", Description: "x"}, "kind"},
		{"a verification without a method", workflow.RecordVerification{}, "method"},
		{"a verification accepting a component not affected", workflow.RecordVerification{Method: "probes",
			Accepted: []string{"billing"}}, "accepted_components[0]"},
		{"a role that does not exist", workflow.AssignRole{Role: "scribe", Person: person(responder)}, "role"},
		{"a communications lead without a user", workflow.AssignRole{Role: domain.RoleCommunicationsLead}, "user"},
		{"a resolver group as communications lead", workflow.AssignRole{Role: domain.RoleCommunicationsLead,
			Person: person(responder), Group: "sre"}, "group"},
		{"removing the IC instead of handing over", workflow.RemoveRole{Role: domain.RoleIncidentCommander,
			UserID: commander.UserID}, "role"},
		{"a ticket without a reference", workflow.LinkTicket{System: "zendesk"}, "ref"},
		{"a ticket with a relative URL", workflow.LinkTicket{System: "zendesk", Ref: "1", URL: "/tickets/1"}, "url"},
		{"an escalation of an unknown kind", workflow.Escalate{Kind: "sideways", Target: "x", Reason: "y"}, "kind"},
		{"a reclassification with an unknown urgency", workflow.Reclassify{Criteria: domain.Criteria{
			Severity: domain.SeverityHigh, Urgency: "whenever"}}, "urgency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := prepared(t, domain.StageMobilization)

			de := refuse(t, s, commander, tt.cmd)

			require.Equal(t, domain.ErrInvalid, de.Kind, de.Error())
			require.Equal(t, "validation_failed", de.Code)
			require.Equal(t, tt.wantField, de.Fields[0].Field)
		})
	}
}

func TestRemoveRoleReleasesOnlyTheNamedTechnicalLead(t *testing.T) {
	t.Parallel()
	s := prepared(t, domain.StageMobilization)
	s = run(t, s, commander, workflow.AssignRole{Role: domain.RoleTechnicalLead, Group: "sre-db"})
	s = run(t, s, commander, workflow.AssignRole{Role: domain.RoleTechnicalLead, Person: person(responder), Group: "sre-net"})
	de := refuse(t, s, commander, workflow.AssignRole{Role: domain.RoleTechnicalLead, Group: "sre-db"})
	require.Equal(t, "already_assigned", de.Code)

	s = run(t, s, commander, workflow.RemoveRole{Role: domain.RoleTechnicalLead, Group: "sre-db"})

	var left []string
	for _, h := range s.Roles.TechnicalLeads {
		left = append(left, h.UserID+"/"+h.Group)
	}
	require.Equal(t, []string{"u-tech/", "u-resp/sre-net"}, left)
	de = refuse(t, s, commander, workflow.RemoveRole{Role: domain.RoleTechnicalLead, Group: "sre-db"})
	require.Equal(t, domain.ErrNotFound, de.Kind)
}

func TestHandleDoesNotChangeTheStateItIsGiven(t *testing.T) {
	t.Parallel()
	s := prepared(t, domain.StageServiceRestoration)
	s = run(t, s, comms, workflow.LinkTicket{ID: "t1", System: "zendesk", Ref: "1"})
	before := mustJSON(t, s)

	for _, a := range []domain.Actor{commander, admin, comms, tech} {
		for _, cmd := range append(everyCommand(), workflow.MoveStage{To: domain.StageConcluded},
			workflow.MoveStage{To: domain.StageDiagnosisAction, Reason: "x"}) {
			evs, err := workflow.Handle(s, a, cmd, t1)
			if err == nil {
				_, err = workflow.ApplyAll(s, evs)
				require.NoError(t, err)
			}
			require.Equal(t, before, mustJSON(t, s), "%T by %s", cmd, a.Name)
		}
	}
}

func TestApplyRefusesAnEventItCannotFold(t *testing.T) {
	t.Parallel()
	s := declaredMajor(t)

	_, err := workflow.Apply(s, workflow.Event{Type: workflow.EventUpdateApproved, At: t1, Data: &workflow.UpdateApproved{ID: "ghost"}})
	require.Error(t, err)
	_, err = workflow.Apply(s, workflow.Event{Type: "mystery", At: t1, Data: 42})
	require.Error(t, err)
	_, err = workflow.DecodeEvent("mystery", t1, []byte(`{}`))
	require.Error(t, err)
}

func TestHandleRefusesAnUnknownCommand(t *testing.T) {
	t.Parallel()
	var cmd workflow.Command // nil: no command at all
	_, err := workflow.Handle(declaredMajor(t), admin, cmd, t1)

	require.True(t, domain.IsKind(err, domain.ErrInternal))
}

func TestPublishingAddsNewComponentsInTheSameOrderEveryTime(t *testing.T) {
	t.Parallel()
	s := prepared(t, domain.StageMobilization)
	evs, err := workflow.Handle(s, commander, workflow.DraftUpdate{ID: "u1", Status: domain.UpdateInvestigating,
		Body: "Wider than we thought.", Publish: true, Components: map[string]domain.ComponentStatus{
			"zeta": domain.ComponentMajorOutage, "db": domain.ComponentPartialOutage, "alpha": domain.ComponentDegradedPerformance,
			"mid": domain.ComponentMajorOutage, "beta": domain.ComponentOperational,
		}}, t1)
	require.NoError(t, err)

	for range 20 {
		n, err := workflow.ApplyAll(s, evs)
		require.NoError(t, err)
		require.Equal(t, []string{"api", "db", "alpha", "beta", "mid", "zeta"}, n.Components)
		require.Equal(t, domain.ComponentPartialOutage, n.ComponentStatus["db"])
	}
}
