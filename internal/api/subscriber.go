package api

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/subscription"
)

// ClientIP is the address a request came from, for rate limits: the connection's peer, never a header a client
// could set (mim trusts no proxy headers).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return httprate.CanonicalizeIP(host)
}

// NewSubscribeLimiter is the per-client limit on subscription requests, shared by the public form and the API so
// neither is a way around the other (BC-31).
func NewSubscribeLimiter(perMinute int) *httprate.RateLimiter {
	return httprate.NewRateLimiter(perMinute, time.Minute)
}

func (a *API) subscribeLimited(w http.ResponseWriter, r *http.Request) bool {
	if a.SubscribeLimit == nil || !a.SubscribeLimit.OnLimit(w, r, ClientIP(r)) {
		return false
	}
	WriteError(w, r, a.Logger, &domain.Error{Kind: domain.ErrRateLimited, Code: "rate_limited",
		Message: "too many subscription requests from this address; try again later"})
	return true
}

type subscriberRequest struct {
	Channel    delivery.Channel `json:"channel"`
	Address    string           `json:"address"`
	Components []string         `json:"components"`
}

// createSubscriber takes the same path as the public form: rate limit, validation, double opt-in for email.
func (a *API) createSubscriber(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r.Context()); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	var req subscriberRequest
	if err := decode(w, r, &req); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if a.subscribeLimited(w, r) {
		return
	}
	if req.Channel == "" {
		req.Channel = delivery.ChannelEmail
	}
	out, err := a.Subscriptions.Subscribe(r.Context(), subscription.Request{Channel: req.Channel,
		Address: req.Address, Components: req.Components})
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if out.Subscriber == nil {
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "confirmation_sent",
			"message": "if the address can receive mail, a confirmation link is on its way"})
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (a *API) listSubscribers(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r.Context()); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	st := subscription.Status(r.URL.Query().Get("status"))
	if st != "" && !st.Valid() {
		WriteError(w, r, a.Logger, domain.Invalid(domain.FieldError{Field: "status",
			Message: "must be pending, active, unsubscribed, bounced, complained or gone"}))
		return
	}
	subs, err := a.Subscriptions.Store.List(r.Context(), st)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if subs == nil {
		subs = []subscription.Subscriber{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscribers": subs})
}

func (a *API) deleteSubscriber(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r.Context()); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if err := a.Subscriptions.Store.Delete(r.Context(), chi.URLParam(r, "subscriberID")); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) reactivateSubscriber(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r.Context()); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	var req struct {
		Override bool   `json:"override"`
		Reason   string `json:"reason"`
	}
	if err := decodeOptional(w, r, &req); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	actor := actorFrom(r.Context())
	by := actor.Email
	if by == "" {
		by = actor.Name
	}
	sub, err := a.Subscriptions.Reactivate(r.Context(), chi.URLParam(r, "subscriberID"),
		subscription.Reactivation{By: by, Override: req.Override, Reason: req.Reason})
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "subscriber reactivated", "subscriber", sub.ID, "from", sub.ReactivatedFrom,
		"override", sub.ReactivationOverride, "reason", sub.ReactivationReason, "by", actor.UserID, "by_name", by)
	writeJSON(w, http.StatusOK, sub)
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r.Context()); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	q := r.URL.Query()
	var v domain.Validator
	f := delivery.Filter{Status: delivery.Status(q.Get("status")), Channel: delivery.Channel(q.Get("channel")),
		Topic: q.Get("topic"), IncidentKey: q.Get("incident"), SubscriberID: q.Get("subscriber_id"),
		After: q.Get("cursor")}
	v.Check(f.Status == "" || f.Status.Valid(), "status", "must be pending, delivered, retrying, dead or cancelled")
	switch f.Channel {
	case "", delivery.ChannelEmail, delivery.ChannelWebhook, delivery.ChannelSlack, delivery.ChannelTeams:
	default:
		v.Check(false, "channel", "must be email, webhook, slack or teams")
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		v.Check(err == nil && n >= 1 && n <= 500, "limit", "must be a number from 1 to 500")
		f.Limit = n
	}
	if err := v.Err(); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	ds, next, err := a.Deliveries.Store().List(r.Context(), f)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if ds == nil {
		ds = []delivery.Delivery{}
	}
	out := struct {
		Deliveries []delivery.Delivery `json:"deliveries"`
		NextCursor string              `json:"next_cursor,omitempty"`
	}{ds, next}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) retryDelivery(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r.Context()); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	d, err := a.Deliveries.Retry(r.Context(), chi.URLParam(r, "deliveryID"))
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}
