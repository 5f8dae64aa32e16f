package statuspage

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer is a log destination safe for the rebuild goroutine and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// renamed is bc06State with the active incident renamed, to tell snapshots apart.
func renamed(t *testing.T, name string) State {
	state := bc06State(t)
	state.Incidents[0].Name = name
	return state
}

func summaryBody(t *testing.T, b *bundle) string {
	t.Helper()
	rec := get(b.svc.Summary)
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String()
}

func TestSourceErrorKeepsServingTheLastGoodSnapshot(t *testing.T) {
	t.Parallel()
	b := setup(t, renamed(t, "First"))
	var logs syncBuffer
	b.svc.log = slog.New(slog.NewTextHandler(&logs, nil))
	require.NoError(t, b.svc.Refresh(context.Background()))
	good := summaryBody(t, b)
	require.Contains(t, good, "First")

	b.src.set(renamed(t, "Second"), errors.New("database is down"))
	b.svc.Invalidate()
	require.Equal(t, good, summaryBody(t, b), "a failed rebuild serves the previous snapshot")
	require.Contains(t, logs.String(), "database is down")

	b.clock.Advance(2 * time.Second)
	err := b.svc.Refresh(context.Background())
	require.ErrorContains(t, err, "database is down")
	require.Equal(t, good, summaryBody(t, b))
	rec := get(b.svc.Page)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "First")
}

func TestFailedRebuildIsRetriedAtMostOncePerSecond(t *testing.T) {
	t.Parallel()
	b := setup(t, renamed(t, "First"))
	require.NoError(t, b.svc.Refresh(context.Background()))
	require.EqualValues(t, 1, b.src.calls.Load())

	b.src.set(State{}, errors.New("database is down"))
	b.svc.Invalidate()
	for range 5 {
		require.Contains(t, summaryBody(t, b), "First")
	}
	require.EqualValues(t, 2, b.src.calls.Load(), "one attempt, then none within the second")

	b.clock.Advance(500 * time.Millisecond)
	summaryBody(t, b)
	require.EqualValues(t, 2, b.src.calls.Load())

	b.clock.Advance(600 * time.Millisecond)
	summaryBody(t, b)
	require.EqualValues(t, 3, b.src.calls.Load(), "retried once the second has passed")

	b.src.set(renamed(t, "Back"), nil)
	b.clock.Advance(time.Second)
	// While the Source was failing a request waits only failingWait for the retry and may be served the old snapshot
	// on a loaded machine; the one rebuild still lands.
	require.Eventually(t, func() bool { return strings.Contains(summaryBody(t, b), "Back") }, 10*time.Second, 5*time.Millisecond)
	require.EqualValues(t, 4, b.src.calls.Load())
	summaryBody(t, b)
	require.EqualValues(t, 4, b.src.calls.Load(), "a fresh snapshot needs no Source call")
}

// concurrentGets starts n requests while the Source is held, waits until every one of them waits for the rebuild,
// then lets the Source answer; it returns the bodies.
func concurrentGets(t *testing.T, b *bundle, n int) []string {
	t.Helper()
	gate := make(chan struct{})
	b.src.setGate(gate)
	waiting := make(chan struct{}, n)
	b.svc.onWait = func() { waiting <- struct{}{} }
	b.svc.maxWait = time.Minute

	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { bodies[i] = get(b.svc.Summary).Body.String() })
	}
	for range n {
		<-waiting
	}
	close(gate)
	wg.Wait()
	b.src.setGate(nil)
	return bodies
}

func TestInvalidateWithConcurrentRequestsRebuildsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, renamed(t, "First"))
	require.NoError(t, b.svc.Refresh(context.Background()))

	b.src.set(renamed(t, "Second"), nil)
	b.svc.Invalidate()
	bodies := concurrentGets(t, b, 50)
	require.EqualValues(t, 2, b.src.calls.Load(), "one Refresh, then one rebuild for all 50 requests")
	for _, body := range bodies {
		require.Contains(t, body, "Second", "requests that waited get the new snapshot")
	}

	b.svc.Invalidate()
	b.svc.Invalidate() // invalidations before the next request collapse into one rebuild
	concurrentGets(t, b, 20)
	require.EqualValues(t, 3, b.src.calls.Load())
}

func TestFirstRequestsShareTheFirstBuild(t *testing.T) {
	t.Parallel()
	b := setup(t, renamed(t, "First"))
	bodies := concurrentGets(t, b, 30)
	require.EqualValues(t, 1, b.src.calls.Load())
	for _, body := range bodies {
		require.Contains(t, body, "First")
	}
}

func TestInvalidateDuringARebuildRebuildsAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, renamed(t, "First"))
	require.NoError(t, b.svc.Refresh(context.Background()))

	gate := make(chan struct{})
	b.src.setGate(gate)
	waiting := make(chan struct{}, 1)
	b.svc.onWait = func() { waiting <- struct{}{} }
	b.svc.maxWait = time.Minute
	b.svc.Invalidate()
	done := make(chan string)
	go func() { done <- get(b.svc.Summary).Body.String() }()
	<-waiting // the rebuild has started and read nothing yet
	b.svc.Invalidate()
	b.src.setGate(nil)
	close(gate)
	<-done
	require.EqualValues(t, 2, b.src.calls.Load())

	summaryBody(t, b)
	require.EqualValues(t, 3, b.src.calls.Load(), "a snapshot started before the last Invalidate is stale")
	summaryBody(t, b)
	require.EqualValues(t, 3, b.src.calls.Load())
}

func TestSlowRebuildServesThePreviousSnapshot(t *testing.T) {
	t.Parallel()
	b := setup(t, renamed(t, "First"))
	require.NoError(t, b.svc.Refresh(context.Background()))

	gate := make(chan struct{})
	b.src.setGate(gate)
	b.svc.maxWait = 20 * time.Millisecond
	b.src.set(renamed(t, "Second"), nil)
	b.svc.Invalidate()
	require.Contains(t, summaryBody(t, b), "First", "after maxWait the previous snapshot is served")
	require.Contains(t, summaryBody(t, b), "First", "and at once while the same rebuild is still running")
	require.EqualValues(t, 2, b.src.calls.Load(), "no second rebuild while one is in flight")

	b.src.setGate(nil)
	close(gate)
	require.NoError(t, b.svc.Refresh(context.Background()))
	require.Contains(t, summaryBody(t, b), "Second")
}

func TestCurrentExposesStateAndStatus(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	snap, err := b.svc.Current(context.Background())
	require.NoError(t, err)
	require.Equal(t, IndicatorMinor, snap.Status.Indicator)
	require.Len(t, snap.State.Incidents, 2)
	require.Equal(t, b.clock.Now(), snap.BuiltAt)
	require.NotEmpty(t, snap.HTML.Body)
	require.NotEmpty(t, snap.SummaryJSON.Gzip)
}

func TestRefreshHonoursItsContext(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	gate := make(chan struct{})
	b.src.setGate(gate)
	t.Cleanup(func() { close(gate) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, b.svc.Refresh(ctx), context.Canceled)
}
