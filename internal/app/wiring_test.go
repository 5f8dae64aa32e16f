package app_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/drill"
)

// Internal messages travel the same queue as the public ones: a stakeholder list hears a major incident declared,
// through a real SMTP server, and the delivery log shows it.
func TestStakeholderMailGoesThroughTheDeliveryQueueToSMTP(t *testing.T) {
	t.Parallel()
	n := setupNotify(t, nil)
	n.do("admin", "POST", "/api/v1/stakeholder-lists", map[string]any{"name": "Leadership",
		"emails": []string{"cto@example.com"}, "severities": []string{"critical"}}, 201)
	key := n.declareMajor()
	mails := n.mail.WaitFor(t, "cto@example.com", 1)
	require.Contains(t, mails[0].Subject, key)
	require.NotContains(t, mails[0].Text, "meet.example.com", "the technical bridge is for responders only")
	n.settle()
	logged := n.deliveries("topic=stakeholder.update")
	require.NotEmpty(t, logged)
	require.Equal(t, "delivered", logged[0]["status"])
}

// Publishing the customer-safe PIR tells the subscribers of the incident's components, once; a subscriber to
// another component hears nothing of it.
func TestPublishedCustomerSafeReportNotifiesSubscribers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	got := map[string][][]byte{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got[r.URL.Path] = append(got[r.URL.Path], readBody(t, r))
	}))
	t.Cleanup(rcv.Close)
	n := setupNotify(t, func(c *config.Config) { c.AllowTargets = []string{strings.TrimPrefix(rcv.URL, "http://")} })
	n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"channel": "webhook", "address": rcv.URL + "/cp",
		"components": []string{"control-plane-eu"}}, 201)
	n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"channel": "webhook", "address": rcv.URL + "/api",
		"components": []string{"api"}}, 201)

	var out bytes.Buffer
	require.NoError(t, drill.Run(context.Background(), drill.Options{BaseURL: n.srv.URL, Token: n.tokens["admin"], Out: &out}), out.String())
	n.settle()
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, got["/api"], "a subscriber to another component hears nothing")
	var reports int
	for _, b := range got["/cp"] {
		if strings.Contains(string(b), "Post-incident report") {
			reports++
			for _, internal := range []string{"meet.example.com", "ZD-48213", "@example.com"} {
				require.NotContains(t, string(b), internal)
			}
		}
	}
	require.Equal(t, 1, reports, "the customer-safe PIR is announced once")
	require.Eventually(t, func() bool { return len(n.deliveries("topic=incident.postmortem")) == 1 }, 5*time.Second, 20*time.Millisecond)
}
