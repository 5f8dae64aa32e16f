package subscription

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/maintenance"
	"github.com/mimhq/mim/internal/workflow"
)

// holdStore is the part of Store a reaction uses; the rest is left nil.
type holdStore struct {
	Store
	holds map[string]domain.ComponentStatus
}

func (s *holdStore) HoldComponent(_ context.Context, _ pgx.Tx, slug string, told domain.ComponentStatus, _ time.Time) error {
	if _, ok := s.holds[slug]; !ok {
		s.holds[slug] = told
	}
	return nil
}

func (s *holdStore) Recipients(context.Context, pgx.Tx, []string) ([]Subscriber, error) {
	return []Subscriber{{ID: "0190d5a0-0000-7000-8000-000000000001", Channel: delivery.ChannelWebhook,
		Address: "https://hooks.example.com/x"}}, nil
}

func (s *holdStore) Components(context.Context, pgx.Tx, []string) (map[string]ComponentInfo, error) {
	return nil, nil
}

func (s *holdStore) Key(context.Context, string) ([]byte, error) { return make([]byte, 32), nil }

type fixedWindows []maintenance.Maintenance

func (f fixedWindows) ListAt(context.Context, pgx.Tx, time.Time) ([]maintenance.Maintenance, error) {
	return f, nil
}

type captured []delivery.Message

func (c *captured) Enqueue(_ context.Context, _ pgx.Tx, msgs []delivery.Message) error {
	*c = append(*c, msgs...)
	return nil
}

// A component change that publishes nothing (component.update) inside a window of the component is held with the
// status last told, and enqueues nothing; a change to a component outside every window is told at once.
func TestComponentUpdateInsideAWindowIsHeldNotEnqueued(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	store := &holdStore{holds: map[string]domain.ComponentStatus{}}
	var sent captured
	s := &Service{Store: store, Enqueuer: &sent, BaseURL: "https://status.example.com", PageName: "Status",
		Maintenances: fixedWindows{{ID: "m", Components: []string{"mail"}, StartsAt: start,
			EndsAt: start.Add(30 * time.Minute)}}}
	published := start.Add(-time.Hour)
	st := workflow.Incident{ID: "i", Key: "INC-1", Title: "Mail", Components: []string{"mail", "api"},
		ComponentStatus: map[string]domain.ComponentStatus{},
		Updates:         []workflow.Update{{ID: "u", State: workflow.StatePublished, PublishedAt: &published}}}
	change := func(at time.Time, slug string) incident.Change {
		return incident.Change{After: incident.Record{State: st, Version: 3, UpdatedAt: at},
			Components: []incident.ComponentChange{{Slug: slug, Name: slug, From: domain.ComponentMajorOutage,
				To: domain.ComponentOperational}}}
	}
	ctx := context.Background()
	require.NoError(t, s.Reaction(ctx, nil, change(start.Add(10*time.Minute), "mail")))
	require.Empty(t, sent, "held")
	require.Equal(t, map[string]domain.ComponentStatus{"mail": domain.ComponentMajorOutage}, store.holds)

	require.NoError(t, s.Reaction(ctx, nil, change(start.Add(10*time.Minute), "api")))
	require.Len(t, sent, 1, "api is not under maintenance")
	require.Equal(t, "component.update", sent[0].Topic)

	require.NoError(t, s.Reaction(ctx, nil, change(start.Add(30*time.Minute), "mail")))
	require.Len(t, sent, 2, "after the window, a change is told at once")
}
