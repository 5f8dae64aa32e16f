// Package webui is the responders' web UI under /app: sign-in and sessions, the incident list, declaration, the war
// room, live updates over SSE and the admin pages. Every change goes through the same services as the REST API, with
// the signed-in person as the actor; every form carries a per-session CSRF token, and every handler checks the
// person's organisation role on the server.
package webui

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/api"
	"github.com/mimhq/mim/internal/classify"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/session"
	"github.com/mimhq/mim/internal/workflow"
	"github.com/mimhq/mim/web"
)

// Cookie names.
const (
	sessionCookie = "mim_session"
	flashCookie   = "mim_flash"
	loginCookie   = "mim_login" // the sign-in form's CSRF token, before there is a session
)

// Components is what the UI needs of the component store.
type Components interface {
	List(ctx context.Context) ([]domain.Component, error)
	Create(ctx context.Context, c domain.Component) (domain.Component, error)
	Update(ctx context.Context, slug string, c domain.Component) (domain.Component, error)
}

// Policies reads the current classification policy.
type Policies interface {
	Current(ctx context.Context) (classify.Policy, error)
}

// UI is the web UI's handlers and what they need.
type UI struct {
	Sessions   *session.Manager
	Accounts   *account.Service
	Incidents  *incident.Service
	Components Components
	Policies   Policies
	Live       *Live
	// Cadence is the update cadence the war room and the list measure against.
	Cadence workflow.Cadence
	// Zone is the organisation's time zone: every time is written in it, with its name.
	Zone *time.Location
	// SecureCookies marks cookies Secure (MIM_BASE_URL is https).
	SecureCookies bool
	// ExtraNav are navigation items of pages mounted by other packages behind this sign-in.
	ExtraNav []web.NavLink
	// Markdown renders an update body exactly as the public page does.
	Markdown func(string) string
	Logger   *slog.Logger
	Now      func() time.Time
	// LoginLimiter throttles sign-in attempts per client address (a lockout per address typed is in Sessions).
	LoginLimiter *Limiter
	// Subscriptions and Deliveries back the admin's subscriber and delivery log pages; without them the pages
	// are not mounted.
	Subscriptions Subscriptions
	Deliveries    Deliveries
	// Directory backs the admin's pages of stakeholder lists, customers, resolver groups and ticket systems.
	Directory Directory
	// Branding stores the public page's brand; nil leaves /app/branding out. BrandDefaults is the configuration's
	// brand, which the form shows while none is stored (its Logo is set when a logo is configured).
	Branding      Branding
	BrandDefaults domain.Brand
	// Mount adds other packages' pages under /app, after the session is loaded and the CSRF token checked; each
	// wraps its routes in RequireRole.
	Mount []func(r chi.Router)
}

func (u *UI) now() time.Time {
	if u.Now != nil {
		return u.Now()
	}
	return time.Now()
}

// Routes mounts the UI under the router given (the server mounts it at /app).
func (u *UI) Routes(r chi.Router) {
	r.Use(u.LoadSession, noStore)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/app/incidents", http.StatusSeeOther)
	})
	r.Get("/login", u.loginPage)
	r.Post("/login", u.login)
	r.Group(func(r chi.Router) {
		r.Use(u.RequireRole(domain.OrgViewer))
		r.Post("/logout", u.logout)
		r.Get("/incidents", u.list)
		r.Get("/incidents/{key}", u.warRoom)
		r.Get("/incidents/{key}/events", u.events)
		r.Get("/events", u.listEvents)
		r.Get("/classify", u.classifyPreview)
		r.Post("/markdown", u.markdownPreview)
	})
	r.Group(func(r chi.Router) {
		r.Use(u.RequireRole(domain.OrgResponder))
		r.Get("/incidents/new", u.declarePage)
		r.Post("/incidents/new", u.declare)
		r.Post("/incidents/{key}/{command}", u.command)
	})
	r.Group(func(r chi.Router) {
		r.Use(u.RequireRole(domain.OrgAdmin))
		r.Get("/admin/users", u.usersPage)
		r.Post("/admin/users", u.createUser)
		r.Post("/admin/users/{id}/role", u.setRole)
		r.Post("/admin/users/{id}/password", u.resetPassword)
		r.Get("/admin/tokens", u.tokensPage)
		r.Post("/admin/tokens", u.createToken)
		r.Post("/admin/tokens/{id}/revoke", u.revokeToken)
		r.Get("/components", u.componentsPage)
		r.Post("/components", u.createComponent)
		r.Post("/components/{slug}", u.updateComponent)
		if u.Subscriptions != nil {
			r.Get("/admin/subscribers", u.subscribersPage)
			r.Post("/admin/subscribers", u.createSubscriber)
			r.Post("/admin/subscribers/{id}/delete", u.deleteSubscriber)
			r.Post("/admin/subscribers/{id}/reactivate", u.reactivateSubscriber)
		}
		if u.Directory != nil {
			u.directoryRoutes(r)
		}
		if u.Deliveries != nil {
			r.Get("/admin/deliveries", u.deliveriesPage)
			r.Post("/admin/deliveries/{id}/retry", u.retryDelivery)
		}
		if u.Branding != nil {
			r.Get("/branding", u.brandingPage)
			r.Post("/branding", u.saveBranding)
			r.Post("/branding/reset", u.resetBranding)
		}
	})
	for _, mount := range u.Mount {
		mount(r)
	}
}

// maxForm bounds a form's body: an update's Markdown is the largest field.
const maxForm = 256 << 10

type ctxKey struct{}

// signedIn is the session a request carries, in its context.
type signedIn struct {
	sess   session.Session
	plain  string
	actor  domain.Actor
	loaded bool
}

// LoadSession reads the session cookie into the request context; it never refuses (RequireRole does). Every
// non-GET request with a session must carry the session's CSRF token, or it is refused with 403.
func (u *UI) LoadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var si signedIn
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			s, err := u.Sessions.Lookup(r.Context(), c.Value)
			switch {
			case err == nil:
				si = signedIn{sess: s, plain: c.Value, loaded: true, actor: domain.Actor{UserID: s.User.ID,
					Name: s.User.Name, Email: s.User.Email, OrgRole: s.User.Role, Channel: domain.ChannelUI}}
			case domain.IsKind(err, domain.ErrUnauthorized):
				u.clearCookie(w, sessionCookie)
			default:
				u.serverError(w, r, err)
				return
			}
		}
		multipart := isMultipart(r)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			limit := int64(maxForm) // no form of the UI comes near it but the logo's upload
			if multipart {
				limit = maxUpload
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		if si.loaded && r.Method != http.MethodGet && r.Method != http.MethodHead {
			parse := r.ParseForm
			if multipart {
				parse = func() error { return r.ParseMultipartForm(maxUpload) }
			}
			if err := parse(); err != nil {
				u.renderStatus(w, r, http.StatusBadRequest, u.page(r, "Bad form"), web.Message("The form could not be read",
					"it is too large or not a form; nothing was changed"))
				return
			}
			if !storableForm(r.PostForm) {
				u.renderStatus(w, r, http.StatusBadRequest, u.page(r, "Bad form"), web.Message("The form could not be read",
					"a field holds a NUL character or text that is not UTF-8, which mim cannot store; nothing was changed"))
				return
			}
			if !sameToken(r.PostFormValue("csrf_token"), si.sess.CSRF) {
				u.forbidden(w, r, "this form has expired or did not come from mim (CSRF check failed): reload the page and try again")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, si)))
	})
}

// storableForm reports whether every field is valid UTF-8 without NUL: PostgreSQL stores nothing else as text, and
// such input is never a person's typing.
func storableForm(form url.Values) bool {
	for k, vs := range form {
		if !utf8.ValidString(k) || strings.ContainsRune(k, 0) {
			return false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return false
			}
		}
	}
	return true
}

// isMultipart reports whether a request's body is a multipart form (one with a file).
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func from(ctx context.Context) signedIn {
	si, _ := ctx.Value(ctxKey{}).(signedIn)
	return si
}

// ActorFrom returns the signed-in person of a request that passed RequireRole, and whether there is one.
func ActorFrom(ctx context.Context) (domain.Actor, bool) {
	si := from(ctx)
	return si.actor, si.loaded
}

// CSRFToken returns the token that forms rendered for this request must carry in a csrf_token field (web.CSRFField).
func CSRFToken(ctx context.Context) string { return from(ctx).sess.CSRF }

// roleRank orders organisation roles: each may do what the ones below it may.
func roleRank(r domain.OrgRole) int {
	switch r {
	case domain.OrgAdmin:
		return 3
	case domain.OrgResponder:
		return 2
	case domain.OrgViewer:
		return 1
	}
	return 0
}

// RequireRole lets through requests of a signed-in person whose organisation role is at least min. Someone not
// signed in is sent to the sign-in page (and back afterwards); someone signed in with too small a role gets 403.
// It must run after LoadSession (Routes installs it; a colleague's page mounted in the same router gets it too).
func (u *UI) RequireRole(min domain.OrgRole) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			si := from(r.Context())
			if !si.loaded {
				if r.Method == http.MethodGet {
					http.Redirect(w, r, "/app/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				u.renderStatus(w, r, http.StatusUnauthorized, u.page(r, "Sign in"), web.Message("Please sign in again",
					"Your session has ended. Sign in, then repeat what you were doing."))
				return
			}
			if roleRank(si.actor.OrgRole) < roleRank(min) {
				u.forbidden(w, r, "your role ("+string(si.actor.OrgRole)+") may not do this; it needs "+string(min))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// nav is the navigation for a role: configuration for admins, then the pages of colleagues.
func (u *UI) nav(role domain.OrgRole) []web.NavLink {
	out := []web.NavLink{{Label: "Incidents", Href: "/app/incidents"}}
	if roleRank(role) >= roleRank(domain.OrgResponder) {
		out = append(out, web.NavLink{Label: "Declare", Href: "/app/incidents/new"})
	}
	out = append(out, u.ExtraNav...)
	if role == domain.OrgAdmin {
		out = append(out, web.NavLink{Label: "Components", Href: "/app/components"})
		if u.Branding != nil {
			out = append(out, web.NavLink{Label: "Branding", Href: "/app/branding"})
		}
		out = append(out,
			web.NavLink{Label: "Users", Href: "/app/admin/users"}, web.NavLink{Label: "API tokens", Href: "/app/admin/tokens"})
		if u.Subscriptions != nil {
			out = append(out, web.NavLink{Label: "Subscribers", Href: "/app/admin/subscribers"})
		}
		if u.Deliveries != nil {
			out = append(out, web.NavLink{Label: "Delivery log", Href: "/app/admin/deliveries"})
		}
		if u.Directory != nil {
			for _, k := range directoryKinds {
				out = append(out, web.NavLink{Label: k.heading, Href: "/app" + k.path})
			}
		}
	}
	return out
}

// Page returns the layout's view model for a request: for colleagues' pages rendered inside web.AppLayout.
func (u *UI) Page(r *http.Request, title string) web.AppPage { return u.page(r, title) }

func (u *UI) page(r *http.Request, title string) web.AppPage {
	si := from(r.Context())
	p := web.AppPage{Title: title, CSRF: si.sess.CSRF, Current: r.URL.Path, Zone: u.zone().String()}
	if si.loaded {
		p.User = web.AppUser{Name: si.actor.Name, Email: si.actor.Email, Role: string(si.actor.OrgRole)}
		p.Nav = u.nav(si.actor.OrgRole)
	}
	if c, err := r.Cookie(flashCookie); err == nil {
		if v, err := url.QueryUnescape(c.Value); err == nil {
			p.Flash = v
		}
	}
	return p
}

func (u *UI) zone() *time.Location {
	if u.Zone == nil {
		return time.UTC
	}
	return u.Zone
}

// render writes a page with status 200, buffered, so a rendering error is a proper error page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, p web.AppPage, body templ.Component) {
	u.renderStatus(w, r, http.StatusOK, p, body)
}

func (u *UI) renderStatus(w http.ResponseWriter, r *http.Request, status int, p web.AppPage, body templ.Component) {
	var buf bytes.Buffer
	ctx := templ.WithChildren(r.Context(), body)
	if err := web.AppLayout(p).Render(ctx, &buf); err != nil {
		u.serverError(w, r, err)
		return
	}
	if p.Flash != "" {
		u.clearCookie(w, flashCookie)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// redirect answers a successful form with 303 to where to look next, with a flash to show there.
func (u *UI) redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(flash), Path: "/app", MaxAge: 60,
			HttpOnly: true, Secure: u.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (u *UI) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/app", MaxAge: -1, HttpOnly: true,
		Secure: u.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (u *UI) forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	u.renderStatus(w, r, http.StatusForbidden, u.page(r, "Not allowed"), web.Message("Not allowed", msg))
}

func (u *UI) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	u.renderStatus(w, r, http.StatusNotFound, u.page(r, "Not found"), web.Message("Not found", msg))
}

func (u *UI) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	u.Logger.ErrorContext(r.Context(), "web ui", "err", err, "method", r.Method, "path", r.URL.Path)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte("500 internal error\n"))
}

// statusOf is the HTTP status for a domain error re-rendered on a form: the REST API's.
func statusOf(err error) int { return api.StatusFor(err) }

// clientError reports whether err is the person's to fix (shown on the form), not mim's.
func clientError(err error) bool {
	return domain.AsError(err).Kind != domain.ErrInternal
}

// describe turns a domain error into the sentence a person reads on the form.
func describe(err error) string {
	de := domain.AsError(err)
	if len(de.Unmet) > 0 {
		// The workflow's message already names the unmet guards after its colon: say each once, as missing.
		head, _, _ := strings.Cut(de.Message, ":")
		missing := make([]string, len(de.Unmet))
		for i, g := range de.Unmet {
			missing[i] = g.Message
		}
		return head + " yet — still missing: " + strings.Join(missing, "; ")
	}
	var parts []string
	if de.Message != "" {
		parts = append(parts, de.Message)
	}
	for _, f := range de.Fields {
		parts = append(parts, strings.ReplaceAll(f.Field, "_", " ")+" "+f.Message)
	}
	return strings.Join(parts, "; ")
}

// fieldErrors maps a validation error to its fields, for showing beside inputs.
func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	for _, f := range domain.AsError(err).Fields {
		out[f.Field] = f.Message
	}
	return out
}
