// Package session signs people in to the web UI: a password check throttled per address, sessions whose ids are
// random 256-bit values stored only hashed, with an absolute lifetime and an idle timeout. Storage is behind Store,
// which the postgres package implements.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/domain"
)

// Session is a signed-in browser, as stored (never its id, only the id's hash).
type Session struct {
	IDHash     []byte
	User       domain.User
	CSRF       string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
}

// Store persists sessions and failed sign-ins.
type Store interface {
	CreateSession(ctx context.Context, s Session) error
	// Session finds a session of an active user by the hash of its id (not_found when none).
	Session(ctx context.Context, idHash []byte) (Session, error)
	TouchSession(ctx context.Context, idHash []byte, at time.Time) error
	DeleteSession(ctx context.Context, idHash []byte) error
	// LockedUntil is when the address's lockout ends, or the zero time when it is not locked at now.
	LockedUntil(ctx context.Context, email string, now time.Time) (time.Time, error)
	// RecordFailure counts a failed sign-in for the address; the max-th within window locks it for lock.
	RecordFailure(ctx context.Context, email string, now time.Time, window time.Duration, max int, lock time.Duration) error
	ClearFailures(ctx context.Context, email string) error
}

// Passwords checks a password; account.Service is one.
type Passwords interface {
	CheckPassword(ctx context.Context, email, password string) (domain.User, error)
}

// Policy is how long sessions last and how guessing is throttled.
type Policy struct {
	Lifetime time.Duration // from sign-in, whatever the activity
	Idle     time.Duration // without a request
	// MaxFailures failed sign-ins for one address within FailureWindow lock it for Lockout.
	MaxFailures   int
	FailureWindow time.Duration
	Lockout       time.Duration
}

// DefaultPolicy: a working day's session, an hour idle, five wrong passwords in fifteen minutes lock for fifteen.
func DefaultPolicy() Policy {
	return Policy{Lifetime: 12 * time.Hour, Idle: time.Hour, MaxFailures: 5, FailureWindow: 15 * time.Minute,
		Lockout: 15 * time.Minute}
}

// Manager signs people in and finds their sessions.
type Manager struct {
	store     Store
	passwords Passwords
	policy    Policy
	now       func() time.Time
}

// NewManager returns a Manager. now may be nil (the wall clock).
func NewManager(store Store, passwords Passwords, policy Policy, now func() time.Time) *Manager {
	if now == nil {
		now = time.Now
	}
	return &Manager{store: store, passwords: passwords, policy: policy, now: now}
}

// errLocked is the answer while an address is locked out. It is the same whether or not an account has the address.
func errLocked(until, now time.Time) error {
	mins := int(until.Sub(now).Minutes()) + 1
	return &domain.Error{Kind: domain.ErrUnauthorized, Code: "locked",
		Message: fmt.Sprintf("too many failed sign-ins for this address: try again in %d min", mins)}
}

// SignIn checks the password and opens a session. It returns the session id for the cookie (shown once, stored
// hashed). Every failure is account.ErrBadCredentials or a lockout, the same for unknown addresses.
func (m *Manager) SignIn(ctx context.Context, email, password, userAgent string) (string, Session, error) {
	now := m.now().UTC()
	email = account.NormalizeEmail(email)
	if !utf8.ValidString(email) || strings.ContainsRune(email, 0) {
		// No account can have such an address, and PostgreSQL refuses it in text: the same answer, and the same
		// bcrypt work, as for any unknown address.
		_, _ = m.passwords.CheckPassword(ctx, "", password)
		return "", Session{}, account.ErrBadCredentials
	}
	email = truncate(email, 320)
	until, err := m.store.LockedUntil(ctx, email, now)
	if err != nil {
		return "", Session{}, err
	}
	if !until.IsZero() {
		// Same bcrypt work as a real check, so a lockout is not told apart by its speed either.
		_, _ = m.passwords.CheckPassword(ctx, "", password)
		return "", Session{}, errLocked(until, now)
	}
	u, err := m.passwords.CheckPassword(ctx, email, password)
	if domain.IsKind(err, domain.ErrUnauthorized) {
		if err := m.store.RecordFailure(ctx, email, now, m.policy.FailureWindow, m.policy.MaxFailures, m.policy.Lockout); err != nil {
			return "", Session{}, err
		}
		return "", Session{}, err
	}
	if err != nil {
		return "", Session{}, err
	}
	if err := m.store.ClearFailures(ctx, email); err != nil {
		return "", Session{}, err
	}
	plain, err := random()
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := random()
	if err != nil {
		return "", Session{}, err
	}
	userAgent = cleanUserAgent(userAgent)
	s := Session{IDHash: Hash(plain), User: u, CSRF: csrf, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(m.policy.Lifetime), UserAgent: userAgent}
	if err := m.store.CreateSession(ctx, s); err != nil {
		return "", Session{}, err
	}
	return plain, s, nil
}

// errNoSession is what an unknown, expired or idle session is.
var errNoSession = &domain.Error{Kind: domain.ErrUnauthorized, Code: "no_session", Message: "please sign in"}

// Lookup finds the live session with this id. An expired or idle one is deleted and unauthorized.
func (m *Manager) Lookup(ctx context.Context, plain string) (Session, error) {
	if plain == "" || len(plain) > 100 {
		return Session{}, errNoSession
	}
	h := Hash(plain)
	s, err := m.store.Session(ctx, h)
	if domain.IsKind(err, domain.ErrNotFound) {
		return Session{}, errNoSession
	}
	if err != nil {
		return Session{}, err
	}
	now := m.now().UTC()
	if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= m.policy.Idle {
		if err := m.store.DeleteSession(ctx, h); err != nil {
			return Session{}, err
		}
		return Session{}, errNoSession
	}
	// Written at most once a minute, so page views are not all writes.
	if now.Sub(s.LastSeenAt) > time.Minute {
		if err := m.store.TouchSession(ctx, h, now); err != nil {
			return Session{}, err
		}
		s.LastSeenAt = now
	}
	return s, nil
}

// SignOut deletes the session with this id.
func (m *Manager) SignOut(ctx context.Context, plain string) error {
	return m.store.DeleteSession(ctx, Hash(plain))
}

// Hash is how session ids are stored: SHA-256, enough for 256 random bits.
func Hash(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

func random() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", domain.Internal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// truncate cuts valid UTF-8 s to at most max bytes, on a rune boundary.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}

// cleanUserAgent makes the client's User-Agent storable: valid UTF-8, no control characters, at most 300 bytes.
func cleanUserAgent(ua string) string {
	ua = strings.ToValidUTF8(ua, "\uFFFD")
	ua = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, ua)
	return truncate(ua, 300)
}
