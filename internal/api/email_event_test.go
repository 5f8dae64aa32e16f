package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/subscription"
)

func sign(key []byte, id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.%s", id, ts, body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// BC-32: the email event webhook accepts exactly the Standard Webhooks signatures of its secret, within 5 minutes.
func TestBC32StandardWebhookVerification(t *testing.T) {
	t.Parallel()
	key, err := DecodeWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	require.NoError(t, err)
	other := []byte("another key of twenty-four+ bytes")
	now := time.Unix(1764777600, 0)
	body := []byte(`{"type":"complaint","email":"kim@example.com"}`)
	good := sign(key, "msg_1", now.Unix(), body)
	for _, c := range []struct {
		name      string
		id        string
		ts        int64
		sig, code string
	}{
		{"valid", "msg_1", now.Unix(), good, ""},
		{"one of several, as during a key rotation", "msg_1", now.Unix(), "v1,AAAA " + good, ""},
		{"4 min 59 s old", "msg_1", now.Unix() - 299, sign(key, "msg_1", now.Unix()-299, body), ""},
		{"another key", "msg_1", now.Unix(), sign(other, "msg_1", now.Unix(), body), "signature_invalid"},
		{"another id", "msg_2", now.Unix(), good, "signature_invalid"},
		{"another version", "msg_1", now.Unix(), "v1a," + good[3:], "signature_invalid"},
		{"no signature", "msg_1", now.Unix(), "", "signature_invalid"},
		{"no id", "", now.Unix(), good, "signature_invalid"},
		{"6 min old", "msg_1", now.Unix() - 360, sign(key, "msg_1", now.Unix()-360, body), "timestamp_out_of_tolerance"},
		{"6 min ahead", "msg_1", now.Unix() + 360, sign(key, "msg_1", now.Unix()+360, body), "timestamp_out_of_tolerance"},
	} {
		h := http.Header{}
		h.Set("webhook-id", c.id)
		h.Set("webhook-timestamp", strconv.FormatInt(c.ts, 10))
		h.Set("webhook-signature", c.sig)
		err := verifyStandardWebhook(h, body, key, now)
		if c.code == "" {
			require.NoError(t, err, c.name)
			continue
		}
		require.Equal(t, c.code, domain.AsError(err).Code, c.name)
	}
	// The body is part of what is signed.
	h := http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {strconv.FormatInt(now.Unix(), 10)},
		"Webhook-Signature": {good}}
	require.Error(t, verifyStandardWebhook(h, append(body, ' '), key, now))

	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2hvcnQ=", "whsec_!!"} {
		_, err := DecodeWebhookSecret(bad)
		require.Error(t, err, bad)
	}
}

// BC-32: both body shapes are read; Postmark types mim does not act on are ignored, not refused.
func TestBC32EmailEventShapes(t *testing.T) {
	t.Parallel()
	ev, ok, err := parseEmailEvent([]byte(`{"type":"soft_bounce","email":"jack@example.com","reason":"452 full"}`), "msg_9")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, subscription.EmailEvent{ID: "msg_9", Type: subscription.SoftBounce, Email: "jack@example.com",
		Reason: "452 full"}, ev, "the webhook-id stands in for a missing event_id")

	_, _, err = parseEmailEvent([]byte(`{"type":"complaint","email":"kim@example.com","extra":1}`), "msg_9")
	require.Error(t, err, "the generic shape is strict")

	ev, ok, err = parseEmailEvent([]byte(`{"RecordType":"Bounce","ID":7,"Type":"Transient","Email":"j@example.com",
		"BouncedAt":"2026-12-03T16:00:00Z","Description":"Delayed","Details":"451 try later","Tag":"x"}`), "msg_9")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "postmark:7", ev.ID)
	require.Equal(t, subscription.SoftBounce, ev.Type)
	require.Equal(t, "Delayed 451 try later", ev.Reason)

	_, ok, err = parseEmailEvent([]byte(`{"RecordType":"Delivery","ID":8,"Email":"j@example.com"}`), "msg_9")
	require.NoError(t, err)
	require.False(t, ok)
}
