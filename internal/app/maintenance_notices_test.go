package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/config"
)

// BC-20 and BC-11: one confirmed email subscriber and one webhook subscriber; a maintenance is scheduled, starts and
// completes under a fake clock, swept again and again (and by the change hook and the leader's periodic task);
// an incident publishes three updates. The log holds exactly one delivered message per subscriber, channel and
// event: 3 maintenance phases × 2 + 3 updates × 2.
func TestBC20BC11EachEventReachesEachSubscriberOnce(t *testing.T) {
	var mu sync.Mutex
	ids := map[string]int{}
	rcv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		ids[r.Header.Get("webhook-id")]++
	}))
	t.Cleanup(rcv.Close)
	n := setupNotify(t, func(c *config.Config) { c.AllowTargets = []string{strings.TrimPrefix(rcv.URL, "http://")} })
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Minute)
	var clockMu sync.Mutex
	now := base
	n.app.MaintenanceNotices.SetClock(func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now })
	setNow := func(t time.Time) { clockMu.Lock(); defer clockMu.Unlock(); now = t }

	_, err := n.app.Subscriptions.Subscribe(ctx, subscriptionRequest("sam@example.com", []string{"api"}))
	require.NoError(t, err)
	link := confirmLink.FindString(n.mail.WaitFor(t, "sam@example.com", 1)[0].Text)
	require.Equal(t, 200, n.request("", "GET", n.local(link), nil, nil).status)
	n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"channel": "webhook", "address": rcv.URL + "/m"}, 201)

	m := n.do("admin", "POST", "/api/v1/maintenances", map[string]any{"title": "Database upgrade",
		"body": "We upgrade the API database.", "components": []string{"api"},
		"starts_at": base.Add(time.Hour).Format(time.RFC3339), "ends_at": base.Add(2 * time.Hour).Format(time.RFC3339)}, 201)
	require.NotEmpty(t, m["id"])
	sweep := func(at time.Time) {
		setNow(at)
		for range 3 {
			require.NoError(t, n.app.MaintenanceNotices.Sweep(ctx))
		}
	}
	sweep(base)
	sweep(base.Add(30 * time.Minute))
	sweep(base.Add(61 * time.Minute))
	sweep(base.Add(90 * time.Minute))
	sweep(base.Add(121 * time.Minute))
	sweep(base.Add(3 * time.Hour))

	key := n.standardIncident("API errors", map[string]string{"api": "partial_outage"}, "First.")
	for _, body := range []string{"Second.", "Third."} {
		n.do("responder", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "identified",
			"body": body, "publish": true}, 201)
	}
	n.settle()
	count := func(topic string) int {
		return len(n.deliveries("status=delivered&topic=" + topic))
	}
	for _, topic := range []string{"maintenance.scheduled", "maintenance.started", "maintenance.completed"} {
		require.Equal(t, 2, count(topic), topic)
	}
	require.Equal(t, 6, count("incident.update"))
	require.Empty(t, n.deliveries("status=dead"))

	mails := n.mail.To("sam@example.com")
	require.Len(t, mails, 1+3+3, "confirmation, three maintenance notices, three updates")
	phases := map[string]int{}
	for _, m := range mails {
		if strings.Contains(m.Subject, "Database upgrade") {
			require.Contains(t, m.Text, "Affected: API\r\n", "the component by name, not its slug")
			for _, p := range []string{"Scheduled", "In progress", "Completed"} {
				if strings.Contains(m.Subject, p) {
					phases[p]++
				}
			}
		}
	}
	require.Equal(t, map[string]int{"Scheduled": 1, "In progress": 1, "Completed": 1}, phases)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, ids, 6)
	for id, c := range ids {
		require.Equal(t, 1, c, id)
	}
}
