package webui

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/web"
)

// Limiter counts failed sign-ins per client address within a window: past Max, that address may not try again
// until the window has passed. A cheap first line against spraying many accounts from one place, before the
// per-address lockout in the session manager; only failures count, so people who type their password right are
// never slowed by it.
type Limiter struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	mu    sync.Mutex
	seen  map[string][]time.Time
	swept time.Time
}

// NewLimiter returns a limiter of max failures per window; now may be nil (the wall clock).
func NewLimiter(max int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{Max: max, Window: window, Now: now, seen: map[string][]time.Time{}}
}

// Allow reports whether key is under its limit of failures.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(key)) < l.Max
}

// Fail records a failure of key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen[key] = append(l.recent(key), l.Now())
}

// recent prunes and returns key's failures within the window; l.mu is held.
func (l *Limiter) recent(key string) []time.Time {
	now := l.Now()
	cut := now.Add(-l.Window)
	if now.Sub(l.swept) > l.Window { // forget quiet clients, so the map does not grow without bound
		for k, ts := range l.seen {
			if len(ts) == 0 || ts[len(ts)-1].Before(cut) {
				delete(l.seen, k)
			}
		}
		l.swept = now
	}
	ts := l.seen[key]
	for len(ts) > 0 && ts[0].Before(cut) {
		ts = ts[1:]
	}
	if len(ts) == 0 {
		delete(l.seen, key)
		return nil
	}
	l.seen[key] = ts
	return ts
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// safeNext keeps a post-sign-in destination only when it is a path inside the UI: never another site.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/app/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") &&
		!strings.HasPrefix(next, "/app/login") {
		return next
	}
	return "/app/incidents"
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := ActorFrom(r.Context()); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	u.renderLogin(w, r, http.StatusOK, web.Login{Next: r.URL.Query().Get("next")})
}

// renderLogin shows the sign-in form with a fresh pre-session CSRF token (a cookie and the same value in the form).
func (u *UI) renderLogin(w http.ResponseWriter, r *http.Request, status int, v web.Login) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/app/login", MaxAge: 3600, HttpOnly: true,
		Secure: u.SecureCookies, SameSite: http.SameSiteStrictMode})
	p := u.page(r, "Sign in")
	p.CSRF = tok
	u.renderStatus(w, r, status, p, web.LoginView(p, v))
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.renderLogin(w, r, http.StatusBadRequest, web.Login{Error: "the form could not be read"})
		return
	}
	email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
	v := web.Login{Email: email, Next: r.PostFormValue("next")}
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf_token"), c.Value) {
		v.Error = "this sign-in form has expired: please try again"
		u.renderLogin(w, r, http.StatusForbidden, v)
		return
	}
	if u.LoginLimiter != nil && !u.LoginLimiter.Allow(clientAddr(r)) {
		v.Error = "too many failed sign-ins from your network address: wait a minute and try again"
		u.renderLogin(w, r, http.StatusTooManyRequests, v)
		return
	}
	plain, _, err := u.Sessions.SignIn(r.Context(), email, password, r.UserAgent())
	if err != nil {
		if !domain.IsKind(err, domain.ErrUnauthorized) {
			u.serverError(w, r, err)
			return
		}
		if u.LoginLimiter != nil {
			u.LoginLimiter.Fail(clientAddr(r))
		}
		v.Error = domain.AsError(err).Message
		u.renderLogin(w, r, http.StatusUnauthorized, v)
		return
	}
	u.clearLoginCookie(w)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: plain, Path: "/app", HttpOnly: true,
		Secure: u.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(v.Next), http.StatusSeeOther)
}

func (u *UI) clearLoginCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/app/login", MaxAge: -1, HttpOnly: true,
		Secure: u.SecureCookies, SameSite: http.SameSiteStrictMode})
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if err := u.Sessions.SignOut(r.Context(), from(r.Context()).plain); err != nil {
		u.serverError(w, r, err)
		return
	}
	u.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/app/login", http.StatusSeeOther)
}
