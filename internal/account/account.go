// Package account holds users and API tokens: creating them, hashing what must never be stored in the clear, and
// authenticating a bearer token into an actor whose permissions are the lesser of the user's role and the token's
// scopes.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/mimhq/mim/internal/domain"
)

// Scopes a token may carry.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
	ScopeAdmin = "admin"
)

// AllScopes lists the scopes, weakest first.
var AllScopes = []string{ScopeRead, ScopeWrite, ScopeAdmin}

// TokenPrefix starts every mim API token, so leaked tokens are easy to recognise and scan for.
const TokenPrefix = "mim_"

// Token is an API token as stored (never the token itself).
type Token struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	CreatedBy  string     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// NewUser is a user to create.
type NewUser struct {
	Email    string
	Name     string
	Role     domain.OrgRole
	Password string
}

// Store persists users and tokens.
type Store interface {
	CreateUser(ctx context.Context, u domain.User, passwordHash []byte) error
	User(ctx context.Context, ref string) (domain.User, error)
	Users(ctx context.Context) ([]domain.User, error)
	CreateToken(ctx context.Context, t Token, hash []byte) error
	// TokenByHash finds an unrevoked token and its user, and notes its use.
	TokenByHash(ctx context.Context, hash []byte) (Token, domain.User, error)
	RevokeToken(ctx context.Context, id string) error
	// PasswordHash finds an active user by email with their password hash (empty when they have none).
	PasswordHash(ctx context.Context, email string) (domain.User, []byte, error)
	// SetPassword replaces a user's password hash.
	SetPassword(ctx context.Context, userID string, hash []byte) error
	// SetRole changes a user's organisation role; it answers ErrLastAdmin, changing nothing, when the user is the
	// last active admin and role is not admin.
	SetRole(ctx context.Context, userID string, role domain.OrgRole) error
	// Tokens lists every token, newest first, revoked ones included.
	Tokens(ctx context.Context) ([]Token, error)
}

// Service manages accounts.
type Service struct{ store Store }

// NewService returns a Service on store.
func NewService(store Store) *Service { return &Service{store: store} }

// NormalizeEmail trims and lower-cases an address, so one mailbox is one account.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// CreateUser validates and stores a new user; the password, if any, is stored as a bcrypt hash.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (domain.User, error) {
	var v domain.Validator
	email := NormalizeEmail(in.Email)
	addr, err := mail.ParseAddress(email)
	v.Check(err == nil && addr.Address == email, "email", "must be an email address")
	v.Check(strings.TrimSpace(in.Name) != "", "name", "is required")
	domain.OneOf(&v, "role", in.Role, domain.OrgRoles)
	if in.Password != "" {
		checkPassword(&v, in.Password)
	}
	if err := v.Err(); err != nil {
		return domain.User{}, err
	}
	var hash []byte
	if in.Password != "" {
		if hash, err = hashPassword(in.Password); err != nil {
			return domain.User{}, err
		}
	}
	u := domain.User{ID: uuid.NewString(), Email: email, Name: strings.TrimSpace(in.Name), Role: in.Role,
		CreatedAt: time.Now().UTC()}
	if err := s.store.CreateUser(ctx, u, hash); err != nil {
		return domain.User{}, err
	}
	return u, nil
}

func checkPassword(v *domain.Validator, pw string) {
	v.Check(len(pw) >= 12, "password", "must be at least 12 characters")
	v.Check(len(pw) <= 72, "password", "must be at most 72 bytes")
}

func hashPassword(pw string) ([]byte, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return nil, domain.Internal(err)
	}
	return hash, nil
}

// dummyHash is compared against when no account (or no password) matches, so an unknown address costs the same
// bcrypt work as a known one and timing tells nothing about which accounts exist.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("mim: no such account, same work"), bcrypt.DefaultCost)

// ErrBadCredentials is the one answer to a failed sign-in, whatever failed: unknown address, no password, wrong one.
var ErrBadCredentials = &domain.Error{Kind: domain.ErrUnauthorized, Code: "bad_credentials",
	Message: "the email or password is not right"}

// CheckPassword returns the active user with this email and password, or ErrBadCredentials.
func (s *Service) CheckPassword(ctx context.Context, email, password string) (domain.User, error) {
	u, hash, err := s.store.PasswordHash(ctx, NormalizeEmail(email))
	if err != nil && !domain.IsKind(err, domain.ErrNotFound) {
		return domain.User{}, err
	}
	if err != nil || len(hash) == 0 || len(password) > 72 {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return domain.User{}, ErrBadCredentials
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return domain.User{}, ErrBadCredentials
	}
	return u, nil
}

// SetPassword sets (or resets) the password of the user named by id or email.
func (s *Service) SetPassword(ctx context.Context, userRef, password string) error {
	var v domain.Validator
	checkPassword(&v, password)
	if err := v.Err(); err != nil {
		return err
	}
	u, err := s.store.User(ctx, userRef)
	if err != nil {
		return err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return s.store.SetPassword(ctx, u.ID, hash)
}

// ErrLastAdmin refuses to demote the only active admin: the organisation would have nobody left to manage it.
var ErrLastAdmin = &domain.Error{Kind: domain.ErrConflict, Code: "last_admin",
	Message: "this is the last admin: make someone else an admin first"}

// SetRole changes the organisation role of the user named by id or email. Demoting the last active admin is
// refused with ErrLastAdmin (the store checks it in the same transaction as the change, so two admins demoting each
// other at once cannot both succeed).
func (s *Service) SetRole(ctx context.Context, userRef string, role domain.OrgRole) error {
	var v domain.Validator
	domain.OneOf(&v, "role", role, domain.OrgRoles)
	if err := v.Err(); err != nil {
		return err
	}
	u, err := s.store.User(ctx, userRef)
	if err != nil {
		return err
	}
	return s.store.SetRole(ctx, u.ID, role)
}

// Tokens lists every API token (never the tokens themselves), newest first.
func (s *Service) Tokens(ctx context.Context) ([]Token, error) { return s.store.Tokens(ctx) }

// User finds a user by id or email.
func (s *Service) User(ctx context.Context, ref string) (domain.User, error) {
	return s.store.User(ctx, ref)
}

// Users lists every user.
func (s *Service) Users(ctx context.Context) ([]domain.User, error) { return s.store.Users(ctx) }

// DefaultScopes are the scopes a token gets when none are asked for: all that the user's role allows.
func DefaultScopes(r domain.OrgRole) []string {
	switch r {
	case domain.OrgAdmin:
		return []string{ScopeRead, ScopeWrite, ScopeAdmin}
	case domain.OrgResponder:
		return []string{ScopeRead, ScopeWrite}
	}
	return []string{ScopeRead}
}

// CreateToken makes a token for the user named by id or email, from the CLI (which may grant all the user's role
// allows). The token is returned once and stored only hashed.
func (s *Service) CreateToken(ctx context.Context, userRef, name string, scopes []string) (string, Token, error) {
	return s.createToken(ctx, nil, userRef, name, scopes)
}

// CreateTokenAs makes a token on behalf of an authenticated actor: for themselves, or (an admin) for another user. A
// token never carries more than its maker's own effective role allows, nor more than its user's role.
func (s *Service) CreateTokenAs(ctx context.Context, by domain.Actor, userRef, name string, scopes []string) (string, Token, error) {
	return s.createToken(ctx, &by, userRef, name, scopes)
}

func (s *Service) createToken(ctx context.Context, by *domain.Actor, userRef, name string, scopes []string) (string, Token, error) {
	u, err := s.store.User(ctx, userRef)
	if err != nil {
		return "", Token{}, err
	}
	allowed := DefaultScopes(u.Role)
	if by != nil {
		if u.ID != by.UserID && by.OrgRole != domain.OrgAdmin {
			return "", Token{}, &domain.Error{Kind: domain.ErrForbidden, Code: "forbidden",
				Message: "only an admin makes tokens for other users"}
		}
		mine := DefaultScopes(by.OrgRole)
		allowed = slices.DeleteFunc(slices.Clone(allowed), func(sc string) bool { return !slices.Contains(mine, sc) })
	}
	if len(scopes) == 0 {
		scopes = allowed
	}
	var v domain.Validator
	for _, sc := range scopes {
		v.Check(slices.Contains(AllScopes, sc), "scopes", "unknown scope "+sc, AllScopes...)
		if slices.Contains(AllScopes, sc) {
			v.Check(slices.Contains(allowed, sc), "scopes", "scope "+sc+" is more than this token may carry", allowed...)
		}
	}
	if strings.TrimSpace(name) == "" {
		name = "token"
	}
	if err := v.Err(); err != nil {
		return "", Token{}, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", Token{}, domain.Internal(err)
	}
	plain := TokenPrefix + base64.RawURLEncoding.EncodeToString(secret)
	t := Token{ID: uuid.NewString(), UserID: u.ID, Name: strings.TrimSpace(name), Prefix: plain[:len(TokenPrefix)+6],
		Scopes: slices.Clone(scopes), CreatedAt: time.Now().UTC()}
	if by != nil && by.UserID != u.ID {
		t.CreatedBy = by.UserID
	}
	if err := s.store.CreateToken(ctx, t, HashToken(plain)); err != nil {
		return "", Token{}, err
	}
	return plain, t, nil
}

// RevokeToken revokes a token by id.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	return s.store.RevokeToken(ctx, id)
}

// HashToken is how tokens are stored: SHA-256, enough for 256 random bits, and fast on every request.
func HashToken(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// Authenticate turns a bearer token into the actor it speaks for. A missing, unknown or revoked token is unauthorized.
func (s *Service) Authenticate(ctx context.Context, plain string, ch domain.Channel) (domain.Actor, error) {
	unauth := &domain.Error{Kind: domain.ErrUnauthorized, Code: "unauthorized",
		Message: "a valid API token is required: Authorization: Bearer <token>"}
	if !strings.HasPrefix(plain, TokenPrefix) || len(plain) > 200 {
		return domain.Actor{}, unauth
	}
	t, u, err := s.store.TokenByHash(ctx, HashToken(plain))
	if domain.IsKind(err, domain.ErrNotFound) {
		return domain.Actor{}, unauth
	}
	if err != nil {
		return domain.Actor{}, err
	}
	return domain.Actor{UserID: u.ID, Name: u.Name, Email: u.Email, OrgRole: EffectiveRole(u.Role, t.Scopes),
		Channel: ch, TokenID: t.ID, TokenCreatedBy: t.CreatedBy}, nil
}

// EffectiveRole is the lesser of the user's role and what the token's scopes allow.
func EffectiveRole(r domain.OrgRole, scopes []string) domain.OrgRole {
	switch {
	case r == domain.OrgAdmin && slices.Contains(scopes, ScopeAdmin):
		return domain.OrgAdmin
	case r != domain.OrgViewer && slices.Contains(scopes, ScopeWrite):
		return domain.OrgResponder
	}
	return domain.OrgViewer
}
