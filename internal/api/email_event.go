package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/subscription"
)

// EmailEventTolerance is how far a signed email event's webhook-timestamp may be from now: older (or newer) ones
// are refused, so a captured request cannot be replayed later.
const EmailEventTolerance = 5 * time.Minute

// maxEmailEventBytes bounds an email event body; a provider's bounce is a few kilobytes.
const maxEmailEventBytes = 64 << 10

// DecodeWebhookSecret turns a Standard Webhooks secret (whsec_ and base64) into its key bytes.
func DecodeWebhookSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(secret), "whsec_"))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(secret), "whsec_") || len(key) < 24 {
		return nil, errors.New("must be whsec_ followed by the base64 of at least 24 random bytes")
	}
	return key, nil
}

var errSignature = &domain.Error{Kind: domain.ErrUnauthorized, Code: "signature_invalid",
	Message: "the webhook-signature does not match this body under the configured secret " +
		"(Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature)"}

var errTimestamp = &domain.Error{Kind: domain.ErrUnauthorized, Code: "timestamp_out_of_tolerance",
	Message: "webhook-timestamp is missing or more than 5 minutes from now; the request may be a replay"}

// verifyStandardWebhook checks a Standard Webhooks signature: HMAC-SHA256 under key of "id.timestamp.body",
// base64, any of the space-separated "v1,<sig>" entries of webhook-signature, and a timestamp within tolerance.
func verifyStandardWebhook(h http.Header, body, key []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || sigs == "" {
		return errSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > EmailEventTolerance || d < -EmailEventTolerance {
		return errTimestamp
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, sec)
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errSignature
}

// genericEmailEvent is mim's own email event shape, for any provider (or a relay in front of one).
type genericEmailEvent struct {
	Type    subscription.EmailEventType `json:"type"`
	Email   string                      `json:"email"`
	Reason  string                      `json:"reason"`
	EventID string                      `json:"event_id"`
	At      *time.Time                  `json:"at"`
}

// postmarkEvent is the part of Postmark's bounce and spam complaint webhooks mim reads.
type postmarkEvent struct {
	RecordType  string      `json:"RecordType"`
	ID          json.Number `json:"ID"`
	Type        string      `json:"Type"`
	Email       string      `json:"Email"`
	BouncedAt   string      `json:"BouncedAt"`
	Description string      `json:"Description"`
	Details     string      `json:"Details"`
}

// postmarkTypes maps Postmark's bounce types to mim's; the rest (auto-responders, unsubscribes, ...) are ignored.
var postmarkTypes = map[string]subscription.EmailEventType{
	"HardBounce": subscription.HardBounce, "BadEmailAddress": subscription.HardBounce,
	"SoftBounce": subscription.SoftBounce, "Transient": subscription.SoftBounce, "DnsError": subscription.SoftBounce,
	"SpamComplaint": subscription.Complaint,
}

// parseEmailEvent reads the generic shape, or Postmark's (recognised by its RecordType); ok false means an event
// mim does not act on.
func parseEmailEvent(body []byte, webhookID string) (ev subscription.EmailEvent, ok bool, err error) {
	var probe struct {
		RecordType string `json:"RecordType"`
	}
	if json.Unmarshal(body, &probe) == nil && probe.RecordType != "" {
		var p postmarkEvent
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil {
			return ev, false, jsonError(err)
		}
		t, known := postmarkTypes[p.Type]
		if p.RecordType == "SpamComplaint" {
			t, known = subscription.Complaint, true
		}
		if !known || (p.RecordType != "Bounce" && p.RecordType != "SpamComplaint") {
			return ev, false, nil
		}
		ev = subscription.EmailEvent{Type: t, Email: p.Email, Reason: strings.TrimSpace(p.Description + " " + p.Details)}
		if p.ID != "" {
			ev.ID = "postmark:" + p.ID.String()
		} else {
			ev.ID = webhookID
		}
		if p.BouncedAt != "" {
			at, err := time.Parse(time.RFC3339Nano, p.BouncedAt)
			if err != nil {
				return ev, false, domain.Invalid(domain.FieldError{Field: "BouncedAt", Message: "must be an RFC 3339 time"})
			}
			ev.At = at
		}
		return ev, true, nil
	}
	var g genericEmailEvent
	if err := decodeBytes(body, &g); err != nil {
		return ev, false, err
	}
	ev = subscription.EmailEvent{ID: g.EventID, Type: g.Type, Email: g.Email, Reason: g.Reason}
	if ev.ID == "" {
		ev.ID = webhookID // Standard Webhooks: the message id is the idempotency key
	}
	if g.At != nil {
		ev.At = *g.At
	}
	return ev, true, nil
}

// EmailEvents is POST /hooks/email-events: the email provider's bounce and complaint webhook. It is signed per
// Standard Webhooks with MIM_BOUNCE_WEBHOOK_SECRET (no bearer token); without that secret it is not found. A bad
// signature or a stale timestamp is 401 and changes nothing.
func (a *API) EmailEvents(w http.ResponseWriter, r *http.Request) {
	if len(a.BounceWebhookKey) == 0 {
		WriteError(w, r, a.Logger, &domain.Error{Kind: domain.ErrNotFound, Code: "not_found",
			Message: "the email event webhook is off: set MIM_BOUNCE_WEBHOOK_SECRET"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEmailEventBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			WriteError(w, r, a.Logger, &domain.Error{Kind: domain.ErrTooLarge, Code: "body_too_large",
				Message: fmt.Sprintf("an email event is at most %d bytes", maxEmailEventBytes)})
			return
		}
		WriteError(w, r, a.Logger, &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_body",
			Message: "could not read the request body"})
		return
	}
	if err := verifyStandardWebhook(r.Header, body, a.BounceWebhookKey, a.now()); err != nil {
		a.Logger.WarnContext(r.Context(), "email event refused", "code", domain.AsError(err).Code,
			"client", ClientIP(r))
		WriteError(w, r, a.Logger, err)
		return
	}
	ev, ok, err := parseEmailEvent(body, r.Header.Get("webhook-id"))
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if !ok {
		writeJSON(w, http.StatusOK, map[string]string{"result": "ignored"})
		return
	}
	res, err := a.Subscriptions.RecordEmailEvent(r.Context(), ev)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "email event", "event_id", ev.ID, "type", ev.Type, "result", res)
	writeJSON(w, http.StatusOK, map[string]string{"result": string(res)})
}
