package subscription

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/a-h/templ"
	"github.com/go-chi/httprate"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/web"
)

// Pages are the public subscription pages: the form, the confirmation link, the manage page and unsubscribe.
type Pages struct {
	Service *Service
	// Limit is the per-client limit shared with the API's POST /subscribers.
	Limit *httprate.RateLimiter
	// ClientIP names the client for the limit.
	ClientIP   func(*http.Request) string
	Components func(ctx context.Context) ([]domain.Component, error)
	// Brand is the look of the pages; Look, when set, replaces it and the page name with the public page's current
	// ones (a brand an admin stored), read for each page.
	Brand  web.Brand
	Look   func(ctx context.Context) (string, web.Brand)
	Logger *slog.Logger
	// Secure marks the CSRF cookie Secure (the base URL is https).
	Secure bool
}

const csrfCookie = "mim_csrf"

// csrf returns the form token for the request's CSRF cookie, setting a fresh cookie when there is none: a signed
// double submit, so a cross-site form post, which cannot read the cookie, cannot forge the field.
func (p *Pages) csrf(w http.ResponseWriter, r *http.Request) (string, error) {
	v := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 22 && len(c.Value) <= 64 {
		v = c.Value
	} else {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		v = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, Secure: p.Secure,
			SameSite: http.SameSiteLaxMode, MaxAge: 86400})
	}
	return p.sign(r.Context(), v)
}

func (p *Pages) sign(ctx context.Context, v string) (string, error) {
	key, err := p.Service.key(ctx, "csrf")
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

func (p *Pages) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil {
		return false
	}
	want, err := p.sign(r.Context(), c.Value)
	return err == nil && hmac.Equal([]byte(want), []byte(r.PostFormValue("csrf")))
}

func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(web.WithBrand(r.Context(), p.brand(r.Context())), &buf); err != nil {
		p.Logger.ErrorContext(r.Context(), "render subscription page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // the manage token is in the URL
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// name is the page name the pages show.
func (p *Pages) name(ctx context.Context) string {
	if p.Look != nil {
		name, _ := p.Look(ctx)
		return name
	}
	return p.Service.PageName
}

func (p *Pages) brand(ctx context.Context) web.Brand {
	if p.Look != nil {
		_, b := p.Look(ctx)
		return b
	}
	return p.Brand
}

func (p *Pages) notice(w http.ResponseWriter, r *http.Request, status int, n web.NoticePage) {
	n.Name = p.name(r.Context())
	p.render(w, r, status, web.NoticePageView(n))
}

func (p *Pages) choices(ctx context.Context, chosen []string) ([]web.SubscribeComponent, error) {
	cs, err := p.Components(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]web.SubscribeComponent, 0, len(cs))
	for _, c := range cs {
		out = append(out, web.SubscribeComponent{Slug: c.Slug, Name: c.Name, Checked: slices.Contains(chosen, c.Slug)})
	}
	return out, nil
}

// Form shows the subscription form.
func (p *Pages) Form(w http.ResponseWriter, r *http.Request) {
	tok, err := p.csrf(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	cs, err := p.choices(r.Context(), nil)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, web.SubscribePageView(web.SubscribePage{Name: p.name(r.Context()), CSRF: tok,
		Components: cs, NoEmail: p.Service.EmailOff}))
}

// Submit takes the form. Known and unknown addresses get the same answer.
func (p *Pages) Submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		p.notice(w, r, http.StatusBadRequest, web.NoticePage{Title: "Could not read the form",
			Message: "The form could not be read. Go back and try again."})
		return
	}
	if !p.checkCSRF(r) {
		p.notice(w, r, http.StatusForbidden, web.NoticePage{Title: "Form expired",
			Message: "This form has expired or came from another site. Open the subscribe page again."})
		return
	}
	if p.Limit != nil && p.Limit.OnLimit(w, r, p.ClientIP(r)) {
		p.notice(w, r, http.StatusTooManyRequests, web.NoticePage{Title: "Too many requests",
			Message: "Too many subscription requests came from your address. Try again in a minute."})
		return
	}
	req := Request{Channel: delivery.Channel(r.PostFormValue("channel")), Address: r.PostFormValue("address"),
		Components: r.PostForm["components"]}
	if req.Channel == "" {
		req.Channel = delivery.ChannelEmail
	}
	out, err := p.Service.Subscribe(r.Context(), req)
	page := web.SubscribePage{Name: p.name(r.Context()), Channel: string(req.Channel), Address: req.Address,
		NoEmail: p.Service.EmailOff}
	var de *domain.Error
	if errors.As(err, &de) && de.Kind != domain.ErrInternal {
		page.Error = de.Message
		if len(de.Fields) > 0 {
			page.Error = de.Fields[0].Field + " " + de.Fields[0].Message
			if de.Code == "target_not_allowed" || de.Code == "email_unavailable" {
				page.Error = de.Message
			}
		}
		if page.CSRF, err = p.csrf(w, r); err != nil {
			p.fail(w, r, err)
			return
		}
		if page.Components, err = p.choices(r.Context(), req.Components); err != nil {
			p.fail(w, r, err)
			return
		}
		p.render(w, r, http.StatusUnprocessableEntity, web.SubscribePageView(page))
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if out.Subscriber == nil {
		page.Done = "Thank you. If the address can receive mail, a confirmation link is on its way: open it to " +
			"start receiving updates."
	} else {
		page.Done = "Subscribed. Updates will be sent to this URL."
		page.Secret, page.ManageURL = out.Secret, out.ManageURL
	}
	p.render(w, r, http.StatusOK, web.SubscribePageView(page))
}

// Confirm opens a confirmation link: the mailbox's owner proves it.
func (p *Pages) Confirm(w http.ResponseWriter, r *http.Request) {
	if _, err := p.Service.Confirm(r.Context(), r.PathValue("token")); err != nil {
		p.linkError(w, r, err)
		return
	}
	p.notice(w, r, http.StatusOK, web.NoticePage{Title: "Subscription confirmed",
		Message: "You will now receive status updates. Every email has a link to change or stop them."})
}

// Manage shows a subscriber's page.
func (p *Pages) Manage(w http.ResponseWriter, r *http.Request) {
	p.manage(w, r, "")
}

func (p *Pages) manage(w http.ResponseWriter, r *http.Request, note string) {
	token := r.PathValue("token")
	sub, err := p.Service.FromManageToken(r.Context(), token)
	if err != nil {
		p.linkError(w, r, err)
		return
	}
	csrf, err := p.csrf(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	cs, err := p.choices(r.Context(), sub.Components)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, web.ManagePageView(web.ManagePage{Name: p.name(r.Context()), Token: token,
		CSRF: csrf, Address: displayAddress(sub), Status: string(sub.Status), All: len(sub.Components) == 0,
		Components: cs, Notice: note}))
}

// displayAddress shows an email as is and a URL by its host only (its path may be the credential).
func displayAddress(s Subscriber) string {
	if s.Channel == delivery.ChannelEmail {
		return s.Address
	}
	host := strings.TrimPrefix(strings.TrimPrefix(s.Address, "https://"), "http://")
	host, _, _ = strings.Cut(host, "/")
	return string(s.Channel) + " to " + host
}

// SaveComponents changes what the subscriber follows.
func (p *Pages) SaveComponents(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || !p.checkCSRF(r) {
		p.notice(w, r, http.StatusForbidden, web.NoticePage{Title: "Form expired",
			Message: "This form has expired or came from another site. Open your subscription link again."})
		return
	}
	if _, err := p.Service.SetComponents(r.Context(), r.PathValue("token"), r.PostForm["components"]); err != nil {
		p.linkError(w, r, err)
		return
	}
	p.manage(w, r, "Saved.")
}

// UnsubscribePage answers a GET of the unsubscribe link with a button: link scanners and prefetchers GET links,
// so a GET never unsubscribes.
func (p *Pages) UnsubscribePage(w http.ResponseWriter, r *http.Request) {
	if _, err := p.Service.FromManageToken(r.Context(), r.PathValue("token")); err != nil {
		p.linkError(w, r, err)
		return
	}
	p.notice(w, r, http.StatusOK, web.NoticePage{Title: "Unsubscribe",
		Message: "Stop all status updates to this address?", Form: "/subscriptions/" + r.PathValue("token") + "/unsubscribe",
		Button: "Unsubscribe"})
}

// Unsubscribe is the one-click POST (RFC 8058: a mail client posts List-Unsubscribe=One-Click without cookies; the
// token in the URL is the credential), and the button's target.
func (p *Pages) Unsubscribe(w http.ResponseWriter, r *http.Request) {
	if _, err := p.Service.Unsubscribe(r.Context(), r.PathValue("token")); err != nil {
		p.linkError(w, r, err)
		return
	}
	p.notice(w, r, http.StatusOK, web.NoticePage{Title: "Unsubscribed",
		Message: "You will receive no more status updates. You can subscribe again at any time."})
}

func (p *Pages) linkError(w http.ResponseWriter, r *http.Request, err error) {
	var de *domain.Error
	if errors.As(err, &de) && de.Kind != domain.ErrInternal {
		p.notice(w, r, StatusOfLink(de), web.NoticePage{Title: "Link not valid", Message: de.Message})
		return
	}
	p.fail(w, r, err)
}

// StatusOfLink is the HTTP status of a link error.
func StatusOfLink(e *domain.Error) int {
	if e.Kind == domain.ErrInvalid {
		return http.StatusUnprocessableEntity
	}
	return http.StatusNotFound
}

func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	p.Logger.ErrorContext(r.Context(), "subscription page", "err", err)
	p.notice(w, r, http.StatusInternalServerError, web.NoticePage{Title: "Something went wrong",
		Message: "Please try again in a moment."})
}
