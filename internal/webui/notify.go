package webui

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/subscription"
	"github.com/mimhq/mim/web"
)

// Subscriptions is what the admin's subscriber page needs (subscription.Service and its store).
type Subscriptions interface {
	Subscribe(ctx context.Context, r subscription.Request) (subscription.Outcome, error)
	Reactivate(ctx context.Context, id string, how subscription.Reactivation) (subscription.Subscriber, error)
	List(ctx context.Context, status subscription.Status) ([]subscription.Subscriber, error)
	Delete(ctx context.Context, id string) error
}

// Deliveries is what the delivery log page needs (delivery.Engine and its store).
type Deliveries interface {
	List(ctx context.Context, f delivery.Filter) ([]delivery.Delivery, string, error)
	Retry(ctx context.Context, id string) (delivery.Delivery, error)
}

var subscriberChannels = []string{string(delivery.ChannelEmail), string(delivery.ChannelWebhook),
	string(delivery.ChannelSlack), string(delivery.ChannelTeams)}

// maskURL shows a URL as its scheme and host only: the path and query of a Slack, Teams or webhook URL are often
// its credential. Anything that is not a URL (an email address) is shown as it is.
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if strings.Contains(s, "://") {
			return "(a URL)"
		}
		return s
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// subscriberState is how the admin reads a subscriber's status: confirmed, pending, or deactivated and why.
func subscriberState(s subscription.Subscriber) (state, reason string, canReactivate bool) {
	switch s.Status {
	case subscription.StatusActive:
		return "confirmed", "", false
	case subscription.StatusPending:
		return "pending", "confirmation link not yet opened", false
	}
	reason = s.StatusReason
	// An email address that unsubscribed must subscribe again itself; a bounced or gone one an admin may restore.
	return string(s.Status), reason, s.Status != subscription.StatusUnsubscribed
}

func (u *UI) subscribersPage(w http.ResponseWriter, r *http.Request) {
	u.renderSubscribers(w, r, http.StatusOK, web.Subscribers{FormChannel: string(delivery.ChannelEmail)}, "")
}

func (u *UI) renderSubscribers(w http.ResponseWriter, r *http.Request, status int, v web.Subscribers, errMsg string) {
	ctx := r.Context()
	subs, err := u.Subscriptions.List(ctx, "")
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	comps, err := u.Components.List(ctx)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	for _, c := range comps {
		v.Components = append(v.Components, c.Slug)
	}
	v.Channels = subscriberChannels
	zone := u.zone()
	for _, s := range subs {
		state, reason, again := subscriberState(s)
		components := "all"
		if len(s.Components) > 0 {
			components = strings.Join(s.Components, ", ")
		}
		v.Rows = append(v.Rows, web.SubscriberRow{ID: s.ID, Channel: string(s.Channel), Address: maskURL(s.Address),
			Components: components, State: state, Reason: reason, Since: stamp(s.UpdatedAt, zone), CanReactivate: again})
	}
	p := u.page(r, "Subscribers")
	p.Error = errMsg
	u.renderStatus(w, r, status, p, web.SubscribersView(p, v))
}

func (u *UI) createSubscriber(w http.ResponseWriter, r *http.Request) {
	v := web.Subscribers{FormChannel: r.PostFormValue("channel"), FormAddress: strings.TrimSpace(r.PostFormValue("address")),
		FormComponents: r.PostForm["components"]}
	out, err := u.Subscriptions.Subscribe(r.Context(), subscription.Request{Channel: delivery.Channel(v.FormChannel),
		Address: v.FormAddress, Components: v.FormComponents})
	if err != nil {
		if !clientError(err) {
			u.serverError(w, r, err)
			return
		}
		v.FieldErrors = fieldErrors(err)
		u.renderSubscribers(w, r, statusOf(err), v, describe(err))
		return
	}
	if out.Subscriber == nil { // email: pending until the link is opened
		u.redirect(w, r, "/app/admin/subscribers", "A confirmation link is on its way to "+v.FormAddress+
			"; the subscriber is pending until it is opened")
		return
	}
	// The secret and the manage link are shown once, in this answer: no redirect that would need to carry them.
	u.renderSubscribers(w, r, http.StatusCreated, web.Subscribers{FormChannel: string(delivery.ChannelEmail),
		Created: maskURL(out.Subscriber.Address), Secret: out.Secret, ManageURL: out.ManageURL}, "")
}

func (u *UI) deleteSubscriber(w http.ResponseWriter, r *http.Request) {
	if err := u.Subscriptions.Delete(r.Context(), chi.URLParam(r, "id")); err != nil {
		u.subscriberRefused(w, r, err)
		return
	}
	u.redirect(w, r, "/app/admin/subscribers", "Subscriber deleted")
}

func (u *UI) reactivateSubscriber(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	// A complained address is restored only with an explicit override and its reason, both recorded.
	s, err := u.Subscriptions.Reactivate(r.Context(), chi.URLParam(r, "id"), subscription.Reactivation{By: a.Email,
		Override: r.PostFormValue("override") == "yes", Reason: strings.TrimSpace(r.PostFormValue("reason"))})
	if err != nil {
		u.subscriberRefused(w, r, err)
		return
	}
	u.Logger.InfoContext(r.Context(), "subscriber reactivated", "subscriber", s.ID, "by", a.UserID)
	u.redirect(w, r, "/app/admin/subscribers", "Subscriber reactivated")
}

func (u *UI) subscriberRefused(w http.ResponseWriter, r *http.Request, err error) {
	if !clientError(err) {
		u.serverError(w, r, err)
		return
	}
	msg := describe(err)
	if domain.AsError(err).Code == "complaint_override_required" {
		msg = "this address reported mim's mail as spam: tick \"override the complaint\" and say why to send it mail again"
	}
	u.renderSubscribers(w, r, statusOf(err), web.Subscribers{FormChannel: string(delivery.ChannelEmail)}, msg)
}

// deliveryPage is how many deliveries the log shows at a time.
const deliveryPage = 50

func (u *UI) deliveriesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := web.Deliveries{Status: q.Get("status"), Topic: strings.TrimSpace(q.Get("topic")),
		Incident: strings.TrimSpace(q.Get("incident"))}
	for _, s := range []delivery.Status{delivery.StatusPending, delivery.StatusRetrying, delivery.StatusDelivered,
		delivery.StatusDead, delivery.StatusCancelled} {
		v.Statuses = append(v.Statuses, string(s))
	}
	status := http.StatusOK
	f := delivery.Filter{Status: delivery.Status(v.Status), Topic: v.Topic, IncidentKey: v.Incident,
		After: q.Get("cursor"), Limit: deliveryPage}
	if f.Status != "" && !f.Status.Valid() {
		v.FilterError = "status must be one of " + strings.Join(v.Statuses, ", ")
		f.Status, status = "", http.StatusUnprocessableEntity
	}
	ds, next, err := u.Deliveries.List(r.Context(), f)
	if err != nil {
		if !clientError(err) {
			u.serverError(w, r, err)
			return
		}
		v.FilterError, status = describe(err), statusOf(err)
	}
	zone := u.zone()
	for _, d := range ds {
		v.Rows = append(v.Rows, web.DeliveryRow{ID: d.ID, Channel: string(d.Channel), Target: maskURL(d.Target),
			Topic: d.Topic, Incident: d.IncidentKey, Status: string(d.Status), LastError: d.LastError,
			Attempts: d.Attempts, Updated: stamp(d.UpdatedAt, zone), CanRetry: d.Status == delivery.StatusDead})
	}
	if next != "" {
		nq := url.Values{"cursor": {next}}
		for k, val := range map[string]string{"status": string(f.Status), "topic": v.Topic, "incident": v.Incident} {
			if val != "" {
				nq.Set(k, val)
			}
		}
		v.NextURL = "/app/admin/deliveries?" + nq.Encode()
	}
	p := u.page(r, "Delivery log")
	u.renderStatus(w, r, status, p, web.DeliveriesView(p, v))
}

func (u *UI) retryDelivery(w http.ResponseWriter, r *http.Request) {
	if _, err := u.Deliveries.Retry(r.Context(), chi.URLParam(r, "id")); err != nil {
		if !clientError(err) {
			u.serverError(w, r, err)
			return
		}
		p := u.page(r, "Delivery log")
		u.renderStatus(w, r, statusOf(err), p, web.Message("Not retried", describe(err)))
		return
	}
	u.redirect(w, r, "/app/admin/deliveries?status="+string(delivery.StatusPending), "Delivery queued again")
}
