package statuspage

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPageAlwaysSaysWhenItWasLastUpdated(t *testing.T) {
	t.Parallel()
	doc := renderedPage(t, setup(t, bc06State(t)))
	require.Equal(t, "Last updated 5 May 2026, 09:30 UTC", textOf(one(t, doc, "last-updated")),
		"the newest change of the public state")
	require.Empty(t, byTestID(doc, "delayed-notice"), "no notice while the Source answers")
}

// When the database cannot be read, the page keeps the last good status and says, calmly, since when; nothing of
// the error reaches it. The JSON stays the last good JSON, byte for byte, so every cache of it stays valid.
func TestFailingSourceServesTheLastStatusWithADelayedNotice(t *testing.T) {
	t.Parallel()
	b := setup(t, renamed(t, "First"))
	require.NoError(t, b.svc.Refresh(context.Background()))
	goodPage, goodSummary := get(b.svc.Page), get(b.svc.Summary)

	b.clock.Advance(35 * time.Minute)
	b.src.set(renamed(t, "Second"), errors.New("dial tcp 10.0.0.5:5432: connect: connection refused"))
	b.svc.Invalidate()

	page := get(b.svc.Page)
	require.Equal(t, http.StatusOK, page.Code)
	doc := parseHTML(t, page.Body.String())
	require.Equal(t, "Live updates are delayed; showing the status as of 5 May 2026, 10:00 UTC.",
		textOf(one(t, doc, "delayed-notice")), "as of the last good read, not of the rebuild")
	require.Equal(t, "Last updated 5 May 2026, 09:30 UTC", textOf(one(t, doc, "last-updated")))
	require.Contains(t, page.Body.String(), "First")
	require.NotContains(t, page.Body.String(), "Second")
	require.NotContains(t, page.Body.String(), "10.0.0.5")
	require.NotContains(t, page.Body.String(), "refused")
	require.NotEqual(t, goodPage.Header().Get("ETag"), page.Header().Get("ETag"), "caches learn of the notice")

	summary := get(b.svc.Summary)
	require.Equal(t, http.StatusOK, summary.Code)
	require.Equal(t, goodSummary.Body.String(), summary.Body.String())
	require.Equal(t, goodSummary.Header().Get("ETag"), summary.Header().Get("ETag"))

	snap, err := b.svc.Current(context.Background())
	require.NoError(t, err)
	require.True(t, snap.Delayed)
	require.Equal(t, at(t, "2026-05-05T10:00:00Z"), snap.ReadAt)

	// Later failures render nothing again: the notice keeps the time of the last good read.
	calls := b.src.calls.Load()
	b.clock.Advance(2 * time.Second)
	get(b.svc.Page)
	require.Eventually(t, func() bool { return b.src.calls.Load() > calls }, 5*time.Second, time.Millisecond)
	require.Same(t, snap, mustCurrent(t, b))

	// The database is back: the next request after the retry interval brings the page up to date, notice gone.
	b.src.set(renamed(t, "Second"), nil)
	b.clock.Advance(2 * time.Second)
	require.Eventually(t, func() bool {
		return !mustCurrent(t, b).Delayed
	}, 5*time.Second, 10*time.Millisecond)
	doc = parseHTML(t, get(b.svc.Page).Body.String())
	require.Empty(t, byTestID(doc, "delayed-notice"))
	require.Contains(t, textOf(doc), "Second")
}

// A database that hangs instead of refusing holds no reader once a rebuild has failed: the delayed snapshot answers
// after failingWait at most, however long maxWait is.
func TestHangingSourceDoesNotHoldReadersOnceARebuildFailed(t *testing.T) {
	t.Parallel()
	b := setup(t, renamed(t, "First"))
	b.svc.maxWait = time.Minute
	require.NoError(t, b.svc.Refresh(context.Background()))
	b.src.set(State{}, errors.New("database is down"))
	b.svc.Invalidate()
	require.Contains(t, get(b.svc.Page).Body.String(), "delayed-notice")

	gate := make(chan struct{})
	defer close(gate)
	b.src.setGate(gate) // the retry hangs until the test ends
	b.clock.Advance(2 * time.Second)
	start := time.Now()
	rec := get(b.svc.Summary)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "First")
	require.Less(t, time.Since(start), 10*failingWait)
}

func mustCurrent(t *testing.T, b *bundle) *Snapshot {
	t.Helper()
	snap, err := b.svc.Current(context.Background())
	require.NoError(t, err)
	return snap
}
