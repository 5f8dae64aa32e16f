package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/config"
)

// bounceSecret is the test's MIM_BOUNCE_WEBHOOK_SECRET.
var bounceSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("bc32-test-secret-32-bytes-long!!"))

var webhookSeq atomic.Int64

// emailEvent posts body to /hooks/email-events signed per Standard Webhooks with secret at ts (a fresh webhook-id
// each time, as a provider retrying would not reuse the event's own id for).
func (n *notifyEnv) emailEvent(secret string, ts time.Time, body any) response {
	n.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(n.t, err)
	id := fmt.Sprintf("msg_%d", webhookSeq.Add(1))
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	require.NoError(n.t, err)
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.%s", id, ts.Unix(), raw)
	req, err := http.NewRequest("POST", n.srv.URL+"/hooks/email-events", strings.NewReader(string(raw)))
	require.NoError(n.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(n.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(n.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// confirmed subscribes each address to everything and opens its confirmation link.
func (n *notifyEnv) confirmed(addrs ...string) {
	n.t.Helper()
	for _, a := range addrs {
		_, err := n.app.Subscriptions.Subscribe(context.Background(), subscriptionRequest(a, nil))
		require.NoError(n.t, err)
		link := confirmLink.FindString(n.mail.WaitFor(n.t, a, 1)[0].Text)
		require.Equal(n.t, 200, n.request("", "GET", n.local(link), nil, nil).status)
	}
}

// subscribersByAddress reads GET /api/v1/subscribers, keyed by address.
func (n *notifyEnv) subscribersByAddress() map[string]map[string]any {
	n.t.Helper()
	out := map[string]map[string]any{}
	for _, s := range n.do("admin", "GET", "/api/v1/subscribers", nil, 200)["subscribers"].([]any) {
		m := s.(map[string]any)
		out[m["address"].(string)] = m
	}
	return out
}

// BC-32, the whole reproduction: Ivy's hard bounce, Jack's soft bounce and Kim's complaint arrive through the signed
// webhook; the next incident mails Jack only; the subscriber list says bounced, complained and active with date and
// reason; Ivy's reactivation is recorded with the admin; Kim's is refused without an explicit, recorded override;
// a bad signature or a stale timestamp is 401 and changes nothing; the same event twice is applied once.
func TestBC32BouncesAndComplaintsSuppressMailUntilAnAdminReactivates(t *testing.T) {
	n := setupNotify(t, func(c *config.Config) { c.BounceWebhookSecret = bounceSecret })
	n.confirmed("ivy@example.com", "jack@example.com", "kim@example.com")
	now := time.Now()
	at := now.Add(-2 * time.Minute).UTC().Truncate(time.Second)

	for _, ev := range []map[string]any{
		{"type": "hard_bounce", "email": "Ivy@Example.com", "reason": "550 5.1.1 mailbox does not exist",
			"event_id": "evt-ivy-1", "at": at.Format(time.RFC3339)},
		{"type": "soft_bounce", "email": "jack@example.com", "reason": "452 4.2.2 mailbox full",
			"event_id": "evt-jack-1", "at": at.Format(time.RFC3339)},
		{"type": "complaint", "email": "kim@example.com", "reason": "abuse report (feedback loop)",
			"event_id": "evt-kim-1", "at": at.Format(time.RFC3339)},
	} {
		r := n.emailEvent(bounceSecret, now, ev)
		require.Equal(t, 200, r.status, string(r.body))
		require.Equal(t, "applied", r.json(t)["result"])
	}

	// The same event again (a provider retry, with a new webhook-id) is handled once.
	r := n.emailEvent(bounceSecret, now, map[string]any{"type": "soft_bounce", "email": "jack@example.com",
		"reason": "452 4.2.2 mailbox full", "event_id": "evt-jack-1"})
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "duplicate", r.json(t)["result"])

	// Step 6: a bad signature, a stale timestamp, no signature: 401, nothing changes.
	before := n.subscribersByAddress()
	jackHard := map[string]any{"type": "hard_bounce", "email": "jack@example.com", "reason": "forged",
		"event_id": "evt-forged"}
	wrong := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-secret-of-32-bytes-long!"))
	r = n.emailEvent(wrong, now, jackHard)
	require.Equal(t, 401, r.status, string(r.body))
	require.Contains(t, r.header.Get("Content-Type"), "application/problem+json")
	require.Equal(t, "signature_invalid", r.json(t)["code"])
	r = n.emailEvent(bounceSecret, now.Add(-time.Hour), jackHard)
	require.Equal(t, 401, r.status, string(r.body))
	require.Equal(t, "timestamp_out_of_tolerance", r.json(t)["code"])
	unsigned := n.request("", "POST", "/hooks/email-events", jackHard, nil)
	require.Equal(t, 401, unsigned.status)
	require.Equal(t, before, n.subscribersByAddress(), "refused events changed nothing")
	// A properly signed but malformed event is refused with its fields named, and changes nothing either.
	r = n.emailEvent(bounceSecret, now, map[string]any{"type": "bounce", "email": "jack@example.com", "event_id": "evt-bad"})
	require.Equal(t, 422, r.status, string(r.body))
	require.Equal(t, "validation_failed", r.json(t)["code"])
	require.Equal(t, before, n.subscribersByAddress())

	// Kim, complained, subscribing again is answered as anyone is, and sent nothing.
	n.do("admin", "POST", "/api/v1/subscribers", map[string]any{"address": "kim@example.com"}, 202)

	// Step 3: an incident reaches Jack only.
	n.standardIncident("API errors", map[string]string{"api": "partial_outage"}, "Investigating.")
	n.settle()
	require.Len(t, n.mail.To("jack@example.com"), 2, "Jack: confirmation and the incident")
	require.Len(t, n.mail.To("ivy@example.com"), 1, "Ivy (hard bounce): only the confirmation")
	require.Len(t, n.mail.To("kim@example.com"), 1, "Kim (complaint): only the confirmation")
	updates := n.deliveries("topic=incident.update")
	require.Len(t, updates, 1)
	require.Equal(t, "jack@example.com", updates[0]["target"])

	// Maintenance notices are suppressed alike.
	start := time.Now().UTC().Truncate(time.Minute).Add(24 * time.Hour)
	n.do("admin", "POST", "/api/v1/maintenances", map[string]any{"title": "Database upgrade",
		"body": "We upgrade the API database.", "components": []string{"api"},
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(time.Hour).Format(time.RFC3339)}, 201)
	n.mail.WaitFor(t, "jack@example.com", 3)
	n.settle()
	scheduled := n.deliveries("topic=maintenance.scheduled")
	require.Len(t, scheduled, 1)
	require.Equal(t, "jack@example.com", scheduled[0]["target"])
	require.Len(t, n.mail.To("ivy@example.com"), 1)
	require.Len(t, n.mail.To("kim@example.com"), 1)

	// Step 4: the list says which, when and why.
	subs := n.subscribersByAddress()
	ivy, jack, kim := subs["ivy@example.com"], subs["jack@example.com"], subs["kim@example.com"]
	require.Equal(t, "bounced", ivy["status"])
	require.Contains(t, ivy["status_reason"], "550 5.1.1 mailbox does not exist")
	require.Equal(t, at.Format(time.RFC3339), mustTime(t, ivy["status_at"]).UTC().Format(time.RFC3339))
	require.Equal(t, "complained", kim["status"])
	require.Contains(t, kim["status_reason"], "abuse report")
	require.Equal(t, at.Format(time.RFC3339), mustTime(t, kim["status_at"]).UTC().Format(time.RFC3339))
	require.Equal(t, "active", jack["status"])
	require.Equal(t, float64(1), jack["soft_bounces"], "the duplicate was not counted")
	require.Equal(t, "452 4.2.2 mailbox full", jack["last_soft_bounce_reason"])
	require.Equal(t, at.Format(time.RFC3339), mustTime(t, jack["last_soft_bounce_at"]).UTC().Format(time.RFC3339))
	require.Len(t, n.do("admin", "GET", "/api/v1/subscribers?status=complained", nil, 200)["subscribers"].([]any), 1)

	// Step 5: Ivy reactivated, recorded with who and when.
	ivyID, kimID := ivy["id"].(string), kim["id"].(string)
	n.do("viewer", "POST", "/api/v1/subscribers/"+ivyID+"/reactivate", nil, 403)
	got := n.do("admin", "POST", "/api/v1/subscribers/"+ivyID+"/reactivate", nil, 200)
	require.Equal(t, "active", got["status"])
	require.Equal(t, "admin@example.com", got["reactivated_by"])
	require.Equal(t, "bounced", got["reactivated_from"])
	require.NotEmpty(t, got["reactivated_at"])
	require.Nil(t, got["reactivation_override"])

	// Kim: refused without the override, and without a reason; accepted with both, and that is recorded.
	refused := n.request("admin", "POST", "/api/v1/subscribers/"+kimID+"/reactivate", nil, nil)
	require.Equal(t, 409, refused.status, string(refused.body))
	require.Equal(t, "complaint_override_required", refused.json(t)["code"])
	refused = n.request("admin", "POST", "/api/v1/subscribers/"+kimID+"/reactivate", map[string]any{"override": true}, nil)
	require.Equal(t, 422, refused.status, string(refused.body))
	require.Equal(t, "complained", n.subscribersByAddress()["kim@example.com"]["status"])
	got = n.do("admin", "POST", "/api/v1/subscribers/"+kimID+"/reactivate",
		map[string]any{"override": true, "reason": "Kim wrote to support asking to hear from us again"}, 200)
	require.Equal(t, "active", got["status"])
	require.Equal(t, true, got["reactivation_override"])
	require.Equal(t, "complained", got["reactivated_from"])
	require.Equal(t, "Kim wrote to support asking to hear from us again", got["reactivation_reason"])
	require.Equal(t, "admin@example.com", got["reactivated_by"])
	subs = n.subscribersByAddress()
	require.Equal(t, true, subs["kim@example.com"]["reactivation_override"], "the override is shown in the list")
	require.Equal(t, "admin@example.com", subs["ivy@example.com"]["reactivated_by"])

	// Eligible again: the next incident reaches all three.
	n.standardIncident("API slow", map[string]string{"api": "degraded_performance"}, "Slow.")
	n.settle()
	require.Len(t, n.mail.To("ivy@example.com"), 2)
	require.Len(t, n.mail.To("jack@example.com"), 4)
	require.Len(t, n.mail.To("kim@example.com"), 2)
}

// BC-32: Postmark's bounce and spam complaint webhooks, signed the same way (through a relay that signs), are
// understood; a Postmark type mim does not act on is acknowledged and ignored; an unknown address is stored only.
func TestBC32PostmarkBounceAndSpamComplaint(t *testing.T) {
	n := setupNotify(t, func(c *config.Config) { c.BounceWebhookSecret = bounceSecret })
	n.confirmed("ivy@example.com", "kim@example.com", "jack@example.com")
	now := time.Now()
	for _, c := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"RecordType": "Bounce", "ID": 4323372036854775807, "Type": "HardBounce", "TypeCode": 1,
			"Email": "ivy@example.com", "BouncedAt": "2026-12-03T16:33:54.9070259Z",
			"Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
			"Details":     "smtp;550 5.1.1 unknown user", "MessageStream": "outbound"}, "applied"},
		{map[string]any{"RecordType": "SpamComplaint", "ID": 42, "Type": "SpamComplaint", "TypeCode": 512,
			"Email": "kim@example.com", "BouncedAt": "2026-12-03T16:40:00Z"}, "applied"},
		{map[string]any{"RecordType": "Bounce", "ID": 43, "Type": "AutoResponder", "Email": "jack@example.com"}, "ignored"},
		{map[string]any{"RecordType": "Bounce", "ID": 44, "Type": "HardBounce", "Email": "nobody@example.com"}, "unknown"},
		{map[string]any{"RecordType": "SpamComplaint", "ID": 42, "Type": "SpamComplaint",
			"Email": "kim@example.com"}, "duplicate"},
	} {
		r := n.emailEvent(bounceSecret, now, c.body)
		require.Equal(t, 200, r.status, string(r.body))
		require.Equal(t, c.want, r.json(t)["result"], c.body)
	}
	subs := n.subscribersByAddress()
	require.Equal(t, "bounced", subs["ivy@example.com"]["status"])
	require.Contains(t, subs["ivy@example.com"]["status_reason"], "550 5.1.1 unknown user")
	require.Equal(t, "2026-12-03T16:33:54Z", mustTime(t, subs["ivy@example.com"]["status_at"]).UTC().Format(time.RFC3339))
	require.Equal(t, "complained", subs["kim@example.com"]["status"])
	require.Equal(t, "active", subs["jack@example.com"]["status"])
	require.Equal(t, float64(0), subs["jack@example.com"]["soft_bounces"])
}

// BC-32: without MIM_BOUNCE_WEBHOOK_SECRET the webhook does not exist.
func TestBC32EmailEventWebhookOffWithoutSecret(t *testing.T) {
	n := setupNotify(t, nil)
	r := n.emailEvent(bounceSecret, time.Now(), map[string]any{"type": "complaint", "email": "kim@example.com",
		"event_id": "e1"})
	require.Equal(t, 404, r.status, string(r.body))
	require.Contains(t, r.header.Get("Content-Type"), "application/problem+json")
}

func mustTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "a time: %v", v)
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return tm
}

// BC-32 "suppressed at once": mail queued for Kim before her complaint arrived is not sent after it, even when an
// admin retries it from the dead letters; it ends cancelled, saying why.
func TestBC32MailQueuedBeforeAComplaintIsNotSentAfterIt(t *testing.T) {
	n := setupNotify(t, func(c *config.Config) {
		c.BounceWebhookSecret = bounceSecret
		c.Delivery.MaxAttempts = 1
	})
	n.confirmed("kim@example.com")
	n.mail.FailNext(1) // the incident's mail to Kim fails once (451), and with one attempt allowed it is dead
	n.standardIncident("API errors", map[string]string{"api": "partial_outage"}, "Investigating.")
	n.settle()
	dead := n.deliveries("status=dead&topic=incident.update")
	require.Len(t, dead, 1)

	r := n.emailEvent(bounceSecret, time.Now(), map[string]any{"type": "complaint", "email": "kim@example.com",
		"event_id": "evt-kim-2"})
	require.Equal(t, 200, r.status, string(r.body))
	n.do("admin", "POST", "/api/v1/deliveries/"+dead[0]["id"].(string)+"/retry", nil, 200)
	n.settle()
	got := n.deliveries("topic=incident.update")
	require.Len(t, got, 1)
	require.Equal(t, "cancelled", got[0]["status"])
	require.Contains(t, got[0]["last_error"], "suppressed")
	require.Len(t, n.mail.To("kim@example.com"), 1, "only the confirmation ever reached Kim")
}

// BC-32: the same event posted by several provider retries at once is still applied once.
func TestBC32SameEventPostedConcurrentlyIsAppliedOnce(t *testing.T) {
	n := setupNotify(t, func(c *config.Config) { c.BounceWebhookSecret = bounceSecret })
	n.confirmed("jack@example.com")
	ev := map[string]any{"type": "soft_bounce", "email": "jack@example.com", "reason": "452 mailbox full",
		"event_id": "evt-jack-race"}
	results := make(chan string, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := n.emailEvent(bounceSecret, time.Now(), ev)
			var m map[string]any
			_ = json.Unmarshal(r.body, &m)
			results <- fmt.Sprint(r.status, " ", m["result"])
		}()
	}
	wg.Wait()
	close(results)
	count := map[string]int{}
	for r := range results {
		count[r]++
	}
	require.Equal(t, map[string]int{"200 applied": 1, "200 duplicate": 7}, count)
	require.Equal(t, float64(1), n.subscribersByAddress()["jack@example.com"]["soft_bounces"])
}

// BC-32: a late report of a bounce from before an admin's reactivation does not undo it; a provider time in the
// future is taken as now.
func TestBC32LateBounceDoesNotUndoAReactivation(t *testing.T) {
	t.Parallel()
	n := setupNotify(t, func(c *config.Config) { c.BounceWebhookSecret = bounceSecret })
	n.confirmed("jo@example.com")
	now := time.Now()
	r := n.emailEvent(bounceSecret, now, map[string]any{"type": "hard_bounce", "email": "jo@example.com",
		"event_id": "evt-jo-1", "at": "9999-12-31T23:59:59Z"})
	require.Equal(t, 200, r.status, string(r.body))
	jo := n.subscribersByAddress()["jo@example.com"]
	require.Equal(t, "bounced", jo["status"])
	statusAt, err := time.Parse(time.RFC3339Nano, jo["status_at"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, now, statusAt, time.Minute, "a time in the future counts as now")

	n.do("admin", "POST", "/api/v1/subscribers/"+jo["id"].(string)+"/reactivate", nil, 200)
	r = n.emailEvent(bounceSecret, time.Now(), map[string]any{"type": "hard_bounce", "email": "jo@example.com",
		"event_id": "evt-jo-2", "at": now.Add(-time.Hour).UTC().Format(time.RFC3339)})
	require.Equal(t, 200, r.status, string(r.body))
	require.Contains(t, string(r.body), "stale")
	require.Equal(t, "active", n.subscribersByAddress()["jo@example.com"]["status"])
}
