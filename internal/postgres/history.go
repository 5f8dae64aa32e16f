package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/statuspage"
	"github.com/mimhq/mim/internal/workflow"
)

// maxHistoryIncidents bounds one read of the history, whatever the span asked for: a page of the history is a few
// months, which no real status page fills with this many incidents.
const maxHistoryIncidents = 1000

// publicSpan is when an incident's first and its latest published update went out, as the columns
// public_started_at and public_updated_at keep them for the history and the feeds; nil while nothing is published,
// and for a private incident, which is on no public surface.
func publicSpan(s workflow.Incident) (first, last *time.Time) {
	if s.Private {
		return nil, nil
	}
	for _, u := range s.Updates {
		if u.State != workflow.StatePublished || u.PublishedAt == nil {
			continue
		}
		at := *u.PublishedAt
		if first == nil || at.Before(*first) {
			first = &at
		}
		if last == nil || at.After(*last) {
			last = &at
		}
	}
	return first, last
}

// PublicIncident implements statuspage.Source: the incident with that key (INC-n, exactly) as customers see it.
func (s *PublicSource) PublicIncident(ctx context.Context, key string) (statuspage.Incident, error) {
	var raw []byte
	err := s.db.Pool.QueryRow(ctx, `SELECT state FROM incidents WHERE key = $1 AND public_started_at IS NOT NULL`,
		key).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return statuspage.Incident{}, notFound("public incident", key)
	}
	if err != nil {
		return statuspage.Incident{}, mapError(err)
	}
	var inc workflow.Incident
	if err := json.Unmarshal(raw, &inc); err != nil {
		return statuspage.Incident{}, domain.Internal(err)
	}
	p, ok := PublicIncident(inc)
	if !ok {
		return statuspage.Incident{}, notFound("public incident", key)
	}
	return p, nil
}

// PublicHistory implements statuspage.Source. Every part is a range or a one-row probe of the index
// incidents_public_started: the work is that of the incidents on the page, however long the history.
func (s *PublicSource) PublicHistory(ctx context.Context, from, to time.Time) (statuspage.History, error) {
	var h statuspage.History
	var older, newer *time.Time
	if err := s.db.Pool.QueryRow(ctx, `
		SELECT (SELECT public_started_at FROM incidents WHERE public_started_at < $1
		        ORDER BY public_started_at DESC, id DESC LIMIT 1),
		       (SELECT public_started_at FROM incidents WHERE public_started_at >= $2
		        ORDER BY public_started_at, id LIMIT 1)`, from, to).Scan(&older, &newer); err != nil {
		return h, mapError(err)
	}
	if older != nil {
		h.Older = *older
	}
	if newer != nil {
		h.Newer = *newer
	}
	incs, err := s.publicIncidents(ctx, `
		SELECT state FROM incidents WHERE public_started_at >= $1 AND public_started_at < $2
		ORDER BY public_started_at DESC, id DESC LIMIT $3`, from, to, maxHistoryIncidents+1)
	if err != nil {
		return h, err
	}
	if len(incs) > maxHistoryIncidents {
		incs, h.Truncated = incs[:maxHistoryIncidents], true
	}
	h.Incidents = incs
	return h, nil
}

// PublicLatest implements statuspage.Source, from the index incidents_public_updated.
func (s *PublicSource) PublicLatest(ctx context.Context, n int) ([]statuspage.Incident, error) {
	return s.publicIncidents(ctx, `
		SELECT state FROM incidents WHERE public_updated_at IS NOT NULL
		ORDER BY public_updated_at DESC, id DESC LIMIT $1`, n)
}

// publicIncidents runs a query of incident states and returns their customer-safe views, in the query's order.
func (s *PublicSource) publicIncidents(ctx context.Context, query string, args ...any) ([]statuspage.Incident, error) {
	rows, err := s.db.Pool.Query(ctx, query, args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []statuspage.Incident
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, mapError(err)
		}
		var inc workflow.Incident
		if err := json.Unmarshal(raw, &inc); err != nil {
			return nil, domain.Internal(err)
		}
		if p, ok := PublicIncident(inc); ok {
			out = append(out, p)
		}
	}
	return out, mapError(rows.Err())
}
