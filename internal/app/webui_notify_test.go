package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/subscription"
)

// The admin's subscriber page: only admins; refused input shown with the input kept and escaped; a webhook's
// secret shown once and its URL masked to scheme and host; email pending until confirmed; delete; a gone
// subscriber reactivated. The delivery log: filters, a dead letter retried, viewers refused.
func TestWebAdminManagesSubscribersAndTheDeliveryLog(t *testing.T) {
	t.Parallel()
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(rcv.Close)
	n := setupNotify(t, func(c *config.Config) {
		c.AllowTargets = []string{strings.TrimPrefix(rcv.URL, "http://")}
		c.Delivery.MaxAttempts, c.Delivery.Backoff = 2, 10*time.Millisecond
	})
	viewer, responder, admin := n.signIn("viewer"), n.signIn("responder"), n.signIn("admin")
	for _, path := range []string{"/app/admin/subscribers", "/app/admin/deliveries"} {
		require.Equal(t, http.StatusForbidden, viewer.get(path).status, path)
		require.Equal(t, http.StatusForbidden, responder.get(path).status, path)
	}
	require.Equal(t, http.StatusForbidden, responder.post("/app/admin/subscribers",
		url.Values{"channel": {"email"}, "address": {"r@example.org"}}).status)
	require.Equal(t, 0, viewer.get("/app/incidents").doc.Find(`nav a[href="/app/admin/subscribers"]`).Length())

	p := admin.get("/app/admin/subscribers")
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Equal(t, 1, p.doc.Find(`[data-testid="signed-in-as"]`).Length(), "inside the layout")
	require.Equal(t, "page", p.doc.Find(`nav a[href="/app/admin/subscribers"]`).AttrOr("aria-current", ""))
	require.Equal(t, 1, p.doc.Find(`[data-testid="subscribers-empty"]`).Length())

	// Refused: said beside the field, the input kept, escaped.
	evil := `<script>alert(1)</script>`
	p = admin.post("/app/admin/subscribers", url.Values{"channel": {"webhook"}, "address": {evil}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.NotEmpty(t, p.text(`[data-testid="sub-address-error"]`))
	require.Equal(t, evil, p.doc.Find(`#sub-address`).AttrOr("value", ""))
	require.Equal(t, "webhook", p.doc.Find(`#sub-channel option[selected]`).AttrOr("value", ""))
	require.NotContains(t, p.body, evil)
	require.Equal(t, http.StatusForbidden, admin.post("/app/admin/subscribers", url.Values{"csrf_token": {""},
		"channel": {"email"}, "address": {"c@example.org"}}).status, "no CSRF token")

	// A webhook: active at once, its secret shown this once, its URL never shown beyond the host.
	hook := rcv.URL + "/hook/" + "s3cr3t-path?token=abc"
	p = admin.post("/app/admin/subscribers", url.Values{"channel": {"webhook"}, "address": {hook}})
	require.Equal(t, http.StatusCreated, p.status, p.body)
	require.Regexp(t, `^whsec_`, p.text(`[data-testid="new-secret"]`))
	require.NotContains(t, p.body, "s3cr3t-path")
	require.Equal(t, rcv.URL+"/…", p.text(`[data-testid="subscriber-address"]`))
	require.Equal(t, "confirmed", p.text(`[data-testid="subscriber-state"]`))
	hookID := strings.TrimPrefix(p.doc.Find(`[data-testid="subscriber-row"]`).AttrOr("id", ""), "subscriber-")
	require.NotEmpty(t, hookID)
	require.Empty(t, admin.get("/app/admin/subscribers").doc.Find(`[data-testid="new-secret"]`).Text(), "shown once")

	// An email address: pending until its link is opened.
	p = admin.follow("/app/admin/subscribers", url.Values{"channel": {"email"}, "address": {"dana@example.org"},
		"components": {"api"}})
	require.Contains(t, p.text(`[data-testid="flash"]`), "dana@example.org")
	row := p.doc.Find(`[data-testid="subscriber-row"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Text(), "dana@example.org")
	})
	require.Equal(t, 1, row.Length())
	require.Contains(t, row.Find(`[data-testid="subscriber-state"]`).Text(), "pending")

	// The webhook fails: a dead letter in the log, retried by the admin.
	n.standardIncident("API down", map[string]string{"api": "major_outage"}, "Looking.")
	require.Eventually(t, func() bool {
		ds, _, err := n.app.Delivery.Store().List(t.Context(), delivery.Filter{Status: delivery.StatusDead})
		return err == nil && len(ds) > 0
	}, 15*time.Second, 20*time.Millisecond)
	p = admin.get("/app/admin/deliveries?status=dead")
	require.Equal(t, http.StatusOK, p.status, p.body)
	dead := p.doc.Find(`[data-testid="delivery-row"]`)
	require.Equal(t, 1, dead.Length())
	require.Equal(t, "dead", strings.TrimSpace(dead.Find(`[data-testid="delivery-status"]`).Text()))
	require.NotContains(t, p.body, "s3cr3t-path")
	require.Equal(t, 0, admin.get("/app/admin/deliveries?status=delivered&incident=NOPE-1").doc.Find(`[data-testid="delivery-row"]`).Length())
	bad := admin.get("/app/admin/deliveries?status=bogus")
	require.Equal(t, http.StatusUnprocessableEntity, bad.status)
	require.NotEmpty(t, bad.text(`[data-testid="filter-error"]`))
	deadID := strings.TrimPrefix(dead.AttrOr("id", ""), "delivery-")
	require.Equal(t, http.StatusForbidden, viewer.post("/app/admin/deliveries/"+deadID+"/retry", url.Values{}).status)
	p = admin.post("/app/admin/deliveries/"+deadID+"/retry", url.Values{})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, http.StatusConflict, admin.post("/app/admin/deliveries/"+deadID+"/retry", url.Values{}).status,
		"only a dead letter is retried")

	// Gone, then reactivated; then deleted.
	require.NoError(t, n.app.Subscriptions.Deactivate(t.Context(), hookID, "410 from the receiver"))
	p = admin.get("/app/admin/subscribers")
	state := p.doc.Find(`#subscriber-` + hookID + ` [data-testid="subscriber-state"]`).Text()
	require.Contains(t, state, "gone")
	require.Contains(t, state, "410 from the receiver")
	p = admin.follow("/app/admin/subscribers/"+hookID+"/reactivate", url.Values{})
	require.Contains(t, p.doc.Find(`#subscriber-`+hookID+` [data-testid="subscriber-state"]`).Text(), "confirmed")
	require.Equal(t, http.StatusForbidden, responder.post("/app/admin/subscribers/"+hookID+"/delete", url.Values{}).status)
	p = admin.follow("/app/admin/subscribers/"+hookID+"/delete", url.Values{})
	require.Equal(t, 0, p.doc.Find(`#subscriber-`+hookID).Length())
	require.Equal(t, http.StatusNotFound, admin.post("/app/admin/subscribers/"+hookID+"/delete", url.Values{}).status)
}

// A complained address is restored from the admin page only with the override ticked and a reason; the refusal says
// so in the page's words.
func TestWebReactivatingAComplainedSubscriberNeedsTheOverride(t *testing.T) {
	t.Parallel()
	n := setupNotify(t, nil)
	n.confirmed("kim@example.com")
	_, err := n.app.Subscriptions.RecordEmailEvent(t.Context(), subscription.EmailEvent{ID: "evt-kim",
		Type: subscription.Complaint, Email: "kim@example.com", Reason: "abuse report"})
	require.NoError(t, err)
	id := n.subscribersByAddress()["kim@example.com"]["id"].(string)
	admin := n.signIn("admin")
	admin.get("/app/admin/subscribers")
	p := admin.post("/app/admin/subscribers/"+id+"/reactivate", url.Values{})
	require.Equal(t, http.StatusConflict, p.status, p.body)
	require.Contains(t, p.body, "override the complaint")
	require.NotContains(t, p.body, `{"override"`)
	p = admin.follow("/app/admin/subscribers/"+id+"/reactivate", url.Values{"override": {"yes"}, "reason": {"asked us by phone"}})
	require.Equal(t, "active", n.subscribersByAddress()["kim@example.com"]["status"])
}
