package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
)

// countingReceiver counts requests by webhook-id, as a deduplicating receiver would see them.
type countingReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	byID map[string]int
}

func newCountingReceiver(t *testing.T) *countingReceiver {
	c := &countingReceiver{byID: map[string]int{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.byID[r.Header.Get("webhook-id")]++
		c.mu.Unlock()
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *countingReceiver) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byID)
}

// addWebhookSubscribers inserts n active webhook subscribers to rcv directly (the API's rate limit is for people).
func addWebhookSubscribers(t *testing.T, e *env, rcv string, n int) {
	t.Helper()
	_, err := e.app.DB.Pool.Exec(context.Background(), `INSERT INTO subscribers (id, channel, address, secret, status)
		SELECT gen_random_uuid(), 'webhook', $1 || '/h/' || i, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'active'
		FROM generate_series(1, $2) i`, rcv, n)
	require.NoError(t, err)
}

// Two mim processes (two Apps) share one database: every notification of a 3,000-subscriber fan-out reaches the
// receiver exactly once by webhook-id, with both processes working the queue.
func TestTwoProcessesDeliverEachNotificationOnce(t *testing.T) {
	rcv := newCountingReceiver(t)
	var cfg config.Config
	n := setupNotify(t, func(c *config.Config) {
		c.AllowTargets = []string{strings.TrimPrefix(rcv.URL, "http://")}
		cfg = *c
	})
	second, err := app.New(context.Background(), cfg, n.app.DB.Pool.Config().ConnString(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(second.Close)

	const subscribers = 3000
	addWebhookSubscribers(t, n.env, rcv.URL, subscribers)
	n.standardIncident("API errors", map[string]string{"api": "partial_outage"}, "Looking into it.")
	require.Eventually(t, func() bool { return rcv.distinct() == subscribers }, 60*time.Second, 20*time.Millisecond)
	n.settle()
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for id, count := range rcv.byID {
		require.Equal(t, 1, count, "webhook-id %s", id)
	}
	var workers int
	require.NoError(t, n.app.DB.Pool.QueryRow(context.Background(),
		`SELECT count(DISTINCT attempted_by[1]) FROM river_job WHERE kind = 'mim_deliver'`).Scan(&workers))
	require.Equal(t, 2, workers, "both processes delivered")
}
