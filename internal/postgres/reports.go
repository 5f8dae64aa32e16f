package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/metrics"
	"github.com/mimhq/mim/internal/reports"
	"github.com/mimhq/mim/internal/workflow"
)

// ReportStore reads what reports and metrics need.
type ReportStore struct{ db *DB }

// NewReportStore returns the report store on db.
func NewReportStore(db *DB) *ReportStore { return &ReportStore{db: db} }

// IncidentsDeclared returns the incidents, major and standard, declared in [from, to), oldest first, with their stage
// moves and severities from the timeline (for the update clock). created_at is
// the declaration (the Declared event's time; the importer sets it to the original declaration), so the range is
// read from the incidents_created_at index. Only the parts of the state the numbers use are sent over: the
// milestones, the severity, the components and the updates' times and statuses, not bodies, bridges or tickets.
func (s *ReportStore) IncidentsDeclared(ctx context.Context, from, to time.Time) ([]reports.Stored, error) {
	// jsonb_to_record takes the fields out in one pass: each state->'field' of a large (TOASTed) state would
	// decompress all of it again.
	rows, err := s.db.Pool.Query(ctx, `
		SELECT jsonb_build_object(
		         'key', x.key, 'title', x.title, 'kind', x.kind, 'stage', x.stage, 'status', x.status,
		         'criteria', jsonb_build_object('severity', x.criteria->'severity'),
		         'components', x.components, 'milestones', x.milestones,
		         'updates', coalesce((SELECT jsonb_agg(jsonb_build_object('state', u->'state', 'status', u->'status',
		                                 'published_at', u->'published_at', 'superseded', u->'superseded'))
		                              FROM jsonb_array_elements(CASE WHEN jsonb_typeof(x.updates) = 'array'
		                                                             THEN x.updates ELSE '[]'::jsonb END) u
		                              WHERE u->>'state' = 'published'), '[]'::jsonb)),
		       coalesce((SELECT jsonb_agg(jsonb_build_object('at', t.at, 'type', t.type, 'to', t.data->'to',
		                                  'backward', t.data->'backward', 'severity', t.data->'criteria'->'severity')
		                                  ORDER BY t.seq)
		                 FROM timeline_entries t
		                 WHERE t.incident_id = i.id AND t.type IN ('declared', 'classified', 'stage_changed')), '[]'::jsonb)
		FROM incidents i,
		     jsonb_to_record(i.state) AS x(key jsonb, title jsonb, kind jsonb, stage jsonb, status jsonb,
		                                   criteria jsonb, components jsonb, milestones jsonb, updates jsonb)
		WHERE i.created_at >= $1 AND i.created_at < $2
		ORDER BY i.created_at, i.id`, from, to)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []reports.Stored
	for rows.Next() {
		var raw, moves []byte
		if err := rows.Scan(&raw, &moves); err != nil {
			return nil, mapError(err)
		}
		var st reports.Stored
		var ms []struct {
			At       time.Time       `json:"at"`
			Type     string          `json:"type"`
			To       domain.Stage    `json:"to"`
			Backward bool            `json:"backward"`
			Severity domain.Severity `json:"severity"`
		}
		if err := json.Unmarshal(raw, &st.State); err != nil {
			return nil, domain.Internal(fmt.Errorf("decode incident for reports: %w", err))
		}
		if err := json.Unmarshal(moves, &ms); err != nil {
			return nil, domain.Internal(fmt.Errorf("decode stage moves for reports: %w", err))
		}
		for _, m := range ms {
			if m.Type == string(workflow.EventStageChanged) {
				st.StageMoves = append(st.StageMoves, reports.StageMove{At: m.At, To: m.To, Backward: m.Backward})
			} else if m.Severity != "" {
				st.Severities = append(st.Severities, reports.SeverityChange{At: m.At, Severity: m.Severity})
			}
		}
		out = append(out, st)
	}
	return out, mapError(rows.Err())
}

// OpenIncidentCounts counts the open incidents by kind and severity, from the columns copied out of the state.
func (s *ReportStore) OpenIncidentCounts(ctx context.Context) ([]metrics.OpenCount, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT kind, severity, count(*) FROM incidents WHERE is_open GROUP BY kind, severity ORDER BY kind, severity`)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []metrics.OpenCount
	for rows.Next() {
		var c metrics.OpenCount
		if err := rows.Scan(&c.Kind, &c.Severity, &c.Count); err != nil {
			return nil, mapError(err)
		}
		out = append(out, c)
	}
	return out, mapError(rows.Err())
}

// OpenMajorIncidents returns the state of every open major incident (to see which updates are overdue).
func (s *ReportStore) OpenMajorIncidents(ctx context.Context) ([]workflow.Incident, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT state FROM incidents WHERE is_open AND kind = 'major'`)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []workflow.Incident
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, mapError(err)
		}
		var s workflow.Incident
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, domain.Internal(fmt.Errorf("decode incident for metrics: %w", err))
		}
		out = append(out, s)
	}
	return out, mapError(rows.Err())
}
