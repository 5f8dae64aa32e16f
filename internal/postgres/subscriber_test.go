package postgres_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/postgres"
	"github.com/mimhq/mim/internal/postgrestest"
)

// On a fresh database, concurrent first uses of a named key all get the one key that was stored: none fails
// (an INSERT ... ON CONFLICT DO NOTHING beside a SELECT once returned no row to the loser of the race).
func TestSubscriberKeyConcurrentFirstUseAgrees(t *testing.T) {
	t.Parallel()
	db, err := postgres.Open(t.Context(), postgrestest.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(db.Close)
	store := postgres.NewSubscriberStore(db)
	for round := range 5 {
		name := "race-" + string(rune('a'+round))
		keys := make([][]byte, 20)
		errs := make([]error, 20)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				keys[i], errs[i] = store.Key(t.Context(), name)
			}()
		}
		close(start)
		wg.Wait()
		for i := range 20 {
			require.NoError(t, errs[i])
			require.Len(t, keys[i], 32)
			require.Equal(t, keys[0], keys[i])
		}
	}
}
