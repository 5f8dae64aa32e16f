package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/workflow"
)

// Reactions run inside each command's transaction: they see what changed (component statuses included), and when one
// fails the command is rolled back whole.
func TestReactionsCommitWithTheCommandOrNotAtAll(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var mu sync.Mutex
	var seen []incident.Change
	fail := false
	e.app.IncidentStore.AddReaction(func(ctx context.Context, tx pgx.Tx, c incident.Change) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return errors.New("reaction refused")
		}
		seen = append(seen, c)
		return nil
	})
	key := e.declareMajor()
	require.Len(t, seen, 1)
	require.True(t, seen[0].Declaration())
	require.Equal(t, key, seen[0].After.State.Key)

	e.engage(key)
	publish := map[string]any{"status": "investigating", "publish": true, "body": "We are investigating.",
		"components": map[string]string{"control-plane-eu": "major_outage"}}

	mu.Lock()
	fail = true
	before := len(seen)
	mu.Unlock()
	r := e.request("ic", "POST", "/api/v1/incidents/"+key+"/updates", publish, nil)
	require.Equal(t, 500, r.status, string(r.body))
	inc := e.do("admin", "GET", "/api/v1/incidents/"+key, nil, 200)
	require.Empty(t, inc["updates"], "a failed reaction rolls the publication back")
	require.Contains(t, string(e.request("", "GET", "/api/v2/components.json", nil, nil).body), `"operational"`)
	require.NotContains(t, string(e.request("", "GET", "/api/v2/components.json", nil, nil).body), `"major_outage"`)

	mu.Lock()
	fail = false
	mu.Unlock()
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", publish, 201)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, before+1)
	last := seen[len(seen)-1]
	require.True(t, last.Public)
	require.Equal(t, []incident.ComponentChange{{Slug: "control-plane-eu", Name: "Control Plane (Europe)",
		From: domain.ComponentOperational, To: domain.ComponentMajorOutage}}, last.Components)
	require.Contains(t, eventTypes(last.Events), workflow.EventUpdatePublished)
}

func eventTypes(events []workflow.Event) []workflow.EventType {
	out := make([]workflow.EventType, len(events))
	for i, ev := range events {
		out[i] = ev.Type
	}
	return out
}
