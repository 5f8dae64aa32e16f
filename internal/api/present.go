package api

import (
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/workflow"
)

// incidentJSON is an incident as the API shows it to authenticated users: the whole workflow state, plus what is
// derived from it (priority, public status, the guards of the next move) and the version to send back in If-Match.
type incidentJSON struct {
	workflow.Incident
	Severity     domain.Severity     `json:"severity"`
	Urgency      domain.Urgency      `json:"urgency"`
	Priority     string              `json:"priority"`
	PublicStatus domain.UpdateStatus `json:"public_status,omitempty"`
	// UpdateDueAt is when the next status update is due under the cadence (unset while none is expected), and
	// UpdateOverdue whether that time passed with none published.
	UpdateDueAt   *time.Time    `json:"update_due_at,omitempty"`
	UpdateOverdue bool          `json:"update_overdue"`
	Workflow      *workflowJSON `json:"workflow,omitempty"`
	Version       int           `json:"version"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
	// Folded is set on a declaration that was folded into an open incident with the same dedup key.
	Folded bool `json:"folded,omitempty"`
	// Created names what a creating call made inside the incident.
	Created *createdJSON `json:"created,omitempty"`
}

type workflowJSON struct {
	Stage      domain.Stage   `json:"stage"`
	StageTitle string         `json:"stage_title"`
	NextStage  domain.Stage   `json:"next_stage,omitempty"`
	Guards     []domain.Guard `json:"guards"`
	// CanAdvance says whether every guard of the next move holds.
	CanAdvance   bool           `json:"can_advance"`
	AllowedMoves []domain.Stage `json:"allowed_moves"`
}

type createdJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

func (a *API) presentIncident(rec incident.Record) incidentJSON {
	s := rec.State
	out := incidentJSON{
		Incident: s, Severity: s.Criteria.Severity, Urgency: s.Criteria.Urgency, Priority: s.Classification.Priority,
		PublicStatus: s.PublicStatus(), Version: rec.Version, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
	}
	if clk := s.UpdateClock(a.Cadence.OrDefault()); clk.Running {
		due := clk.DueAt
		out.UpdateDueAt, out.UpdateOverdue = &due, clk.Overdue(a.now())
	}
	if s.Kind == domain.KindMajor {
		gs := workflow.Guards(s)
		if gs == nil {
			gs = []domain.Guard{}
		}
		moves := workflow.AllowedMoves(s)
		if moves == nil {
			moves = []domain.Stage{}
		}
		out.Workflow = &workflowJSON{Stage: s.Stage, StageTitle: s.Stage.Title(), NextStage: workflow.Next(s.Stage),
			Guards: gs, CanAdvance: len(workflow.Unmet(gs)) == 0 && workflow.Next(s.Stage) != "", AllowedMoves: moves}
	}
	return out
}
