// Package subscription is the status page's public subscribers: who asked to hear about what, double opt-in for
// email, signed manage links, and the notifications each public change becomes for them.
package subscription

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
)

// Status is where a subscriber is.
type Status string

// Statuses.
const (
	StatusPending      Status = "pending" // email, until the confirmation link is opened
	StatusActive       Status = "active"
	StatusUnsubscribed Status = "unsubscribed"
	StatusBounced      Status = "bounced"    // a hard bounce: the mail server refused the address for good
	StatusComplained   Status = "complained" // the recipient reported a message as spam (BC-32)
	StatusGone         Status = "gone"       // the webhook answered 410, or Slack reported the URL gone
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusActive, StatusUnsubscribed, StatusBounced, StatusComplained, StatusGone:
		return true
	}
	return false
}

// Suppressed reports whether the status stops all mail for reasons other than the subscriber's own choice: a hard
// bounce, a complaint, or a target gone.
func (s Status) Suppressed() bool {
	return s == StatusBounced || s == StatusComplained || s == StatusGone
}

// Subscriber is one public subscriber. Components empty means all components.
type Subscriber struct {
	ID           string           `json:"id"`
	Channel      delivery.Channel `json:"channel"`
	Address      string           `json:"address"`
	Status       Status           `json:"status"`
	StatusReason string           `json:"status_reason,omitempty"`
	// StatusAt is when the status last changed; for bounced and complained, when the provider says it happened.
	StatusAt    *time.Time `json:"status_at,omitempty"`
	Components  []string   `json:"components"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`

	// Soft bounces are counted, never suppress.
	SoftBounces          int        `json:"soft_bounces"`
	LastSoftBounceAt     *time.Time `json:"last_soft_bounce_at,omitempty"`
	LastSoftBounceReason string     `json:"last_soft_bounce_reason,omitempty"`

	// The last admin reactivation: when, by whom, from which status, why, and whether it overrode a complaint.
	ReactivatedAt        *time.Time `json:"reactivated_at,omitempty"`
	ReactivatedBy        string     `json:"reactivated_by,omitempty"`
	ReactivatedFrom      Status     `json:"reactivated_from,omitempty"`
	ReactivationReason   string     `json:"reactivation_reason,omitempty"`
	ReactivationOverride bool       `json:"reactivation_override,omitempty"`

	// Stored, never shown.
	Secret        string     `json:"-"`
	ConfirmHash   []byte     `json:"-"`
	ConfirmExpiry *time.Time `json:"-"`
	ConfirmSentAt *time.Time `json:"-"`
}

// Store keeps subscribers. The postgres package implements it.
type Store interface {
	InTx(ctx context.Context, fn func(tx pgx.Tx) error) error
	// Claim finds the subscriber of (channel, address), or creates it from s, and locks it until tx ends.
	Claim(ctx context.Context, tx pgx.Tx, s Subscriber) (Subscriber, bool, error)
	// Save writes a subscriber's status, confirmation, secret and components.
	Save(ctx context.Context, tx pgx.Tx, s Subscriber) error
	Get(ctx context.Context, id string) (Subscriber, error)
	ByConfirmHash(ctx context.Context, hash []byte) (Subscriber, error)
	List(ctx context.Context, status Status) ([]Subscriber, error)
	Delete(ctx context.Context, id string) error
	// SetStatus changes a subscriber's status, with why and since when.
	SetStatus(ctx context.Context, id string, st Status, reason string, at time.Time) error
	// Lock reads a subscriber by id, or the email subscriber of a normalised address when id is empty, and locks it
	// until tx ends; not_found when there is none.
	Lock(ctx context.Context, tx pgx.Tx, id, email string) (Subscriber, error)
	// RecordEmailEvent stores a provider's event by its id, in tx; false when that id was already stored.
	RecordEmailEvent(ctx context.Context, tx pgx.Tx, ev EmailEvent, subscriberID string) (bool, error)
	// Recipients are the active subscribers following any of components (or all of them), each once.
	Recipients(ctx context.Context, tx pgx.Tx, components []string) ([]Subscriber, error)
	// ComponentSlugs are the slugs that exist, to check a chosen set against.
	ComponentSlugs(ctx context.Context) ([]string, error)
	// Components reads, in tx, the name and current public status of each of the components by slug (unknown
	// slugs are left out), for what a notice says of them.
	Components(ctx context.Context, tx pgx.Tx, slugs []string) (map[string]ComponentInfo, error)
	// RecordMaintenanceNotice records that a maintenance phase (of one window) is announced, in tx; false when it
	// already was.
	RecordMaintenanceNotice(ctx context.Context, tx pgx.Tx, maintenanceID string, occurrence time.Time, phase string) (bool, error)
	// HoldComponent records, in tx, that a status change of the component is held back by a maintenance window,
	// with the status subscribers were last told; a component already held keeps its first told status (BC-11).
	HoldComponent(ctx context.Context, tx pgx.Tx, slug string, told domain.ComponentStatus, at time.Time) error
	// ReleaseHolds deletes, in tx, the holds of every component not in covered and returns them; each hold is
	// returned to exactly one caller however many release at once.
	ReleaseHolds(ctx context.Context, tx pgx.Tx, covered []string) ([]Hold, error)
	// Key returns the named secret key of this database, created on first use.
	Key(ctx context.Context, name string) ([]byte, error)
}

// Service subscribes, confirms and unsubscribes, and builds what subscribers receive.
type Service struct {
	Store    Store
	Enqueuer delivery.Enqueuer
	Guard    *delivery.Guard
	// EmailOff is set when no SMTP server is configured: email subscriptions are refused (email_unavailable)
	// rather than promised a confirmation that cannot be sent.
	EmailOff bool
	// Maintenances are the scheduled windows: a component status change inside one of its component's windows is
	// held until the window ends (BC-11). Nil: nothing is held.
	Maintenances MaintenancesAt
	// BaseURL is the public URL links are made from (MIM_BASE_URL); PageName signs the messages.
	BaseURL  string
	PageName string
	// StoredName, when set, reads in tx the page name an admin stored at /app/branding, "" when none is: it then
	// signs the messages instead of PageName.
	StoredName func(ctx context.Context, tx pgx.Tx) (string, error)
	// Location is the organisation's zone, in which messages show times.
	Location *time.Location
	// ConfirmTTL is how long a confirmation link works (48 h); Cooldown is the least time between two
	// confirmation emails to one address, however often it is subscribed (BC-31).
	ConfirmTTL time.Duration
	Cooldown   time.Duration
	Now        func() time.Time

	keyMu sync.Mutex
	keys  map[string][]byte
}

// key is the named secret key of the database ("manage" signs manage tokens, "csrf" the pages' form tokens), read
// once: it never changes.
func (s *Service) key(ctx context.Context, name string) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if k, ok := s.keys[name]; ok {
		return k, nil
	}
	k, err := s.Store.Key(ctx, name)
	if err != nil {
		return nil, err
	}
	if s.keys == nil {
		s.keys = map[string][]byte{}
	}
	s.keys[name] = k
	return k, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) confirmTTL() time.Duration {
	if s.ConfirmTTL > 0 {
		return s.ConfirmTTL
	}
	return 48 * time.Hour
}

func (s *Service) cooldown() time.Duration {
	if s.Cooldown > 0 {
		return s.Cooldown
	}
	return 15 * time.Minute
}

// NormalizeEmail trims, composes (NFC) and lower-cases an address, so one mailbox is one subscriber whatever its
// spelling; it rejects what is not a plain address.
func NormalizeEmail(raw string) (string, error) {
	// Checked before normalising, which would turn invalid bytes into U+FFFD and make a different address.
	// U+FFFD is what a JSON decoder made of invalid bytes.
	if t := strings.TrimSpace(raw); !utf8.ValidString(t) || strings.ContainsFunc(t, unicode.IsControl) ||
		strings.ContainsRune(t, utf8.RuneError) {
		return "", errors.New("is not an email address")
	}
	e := strings.ToLower(norm.NFC.String(strings.TrimSpace(raw)))
	if e == "" || len(e) > 254 || !utf8.ValidString(e) || strings.ContainsAny(e, " \t\r\n<>,;\"") {
		return "", errors.New("is not an email address")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return "", errors.New("is not an email address")
	}
	local, domainPart, ok := strings.Cut(e, "@")
	if !ok || local == "" || !strings.Contains(domainPart, ".") || strings.HasSuffix(domainPart, ".") {
		return "", errors.New("is not an email address")
	}
	return e, nil
}

// ComponentInfo is what subscribers are told of a component: its name and its status on the status page.
type ComponentInfo struct {
	Name   string
	Status domain.ComponentStatus
}

// Request is a subscription asked for, from the public form or the API.
type Request struct {
	Channel delivery.Channel `json:"channel"`
	// Address is an email address (email) or the receiver's URL.
	Address string `json:"address"`
	// Components are the chosen component slugs; empty means all.
	Components []string `json:"components"`
}

// Outcome is what a subscription request gives back. For email it says nothing of whether the address was known.
type Outcome struct {
	Subscriber *Subscriber `json:"subscriber,omitempty"`
	// Secret signs webhook bodies (whsec_...): shown this once.
	Secret string `json:"secret,omitempty"`
	// ManageURL manages a URL subscriber: shown this once (email subscribers get theirs by email).
	ManageURL string `json:"manage_url,omitempty"`
}

func invalid(field, msg string) error {
	return domain.Invalid(domain.FieldError{Field: field, Message: msg})
}

// Subscribe records a subscription. Email: a new or lapsed address becomes pending and is sent a confirmation link
// (nothing else until it is opened); a pending one is sent a new link, at most once per cooldown; a confirmed one is
// sent its manage link. A URL subscriber is active at once and gets its secret and manage link in the answer.
func (s *Service) Subscribe(ctx context.Context, r Request) (Outcome, error) {
	comps, err := s.checkComponents(ctx, r.Components)
	if err != nil {
		return Outcome{}, err
	}
	switch r.Channel {
	case delivery.ChannelEmail:
		if s.EmailOff {
			return Outcome{}, &domain.Error{Kind: domain.ErrInvalid, Code: "email_unavailable",
				Message: "Email subscriptions are unavailable: this status page sends no email. Webhook, Slack and " +
					"Teams subscriptions still work.",
				Fields: []domain.FieldError{{Field: "channel", Message: "email is unavailable"}}}
		}
		addr, err := NormalizeEmail(r.Address)
		if err != nil {
			return Outcome{}, invalid("address", err.Error())
		}
		return Outcome{}, s.subscribeEmail(ctx, addr, comps)
	case delivery.ChannelWebhook, delivery.ChannelSlack, delivery.ChannelTeams:
		u, err := s.Guard.ValidateURL(ctx, r.Address)
		if errors.Is(err, delivery.ErrBlockedTarget) {
			return Outcome{}, &domain.Error{Kind: domain.ErrInvalid, Code: "target_not_allowed",
				Message: "this URL points to a private or local address, which notifications may not reach",
				Fields:  []domain.FieldError{{Field: "address", Message: "is not a public address"}}}
		}
		if err != nil {
			return Outcome{}, invalid("address", err.Error())
		}
		return s.subscribeURL(ctx, r.Channel, u.String(), comps)
	default:
		return Outcome{}, invalid("channel", "must be email, webhook, slack or teams")
	}
}

func (s *Service) checkComponents(ctx context.Context, comps []string) ([]string, error) {
	if len(comps) == 0 {
		return nil, nil
	}
	known, err := s.Store.ComponentSlugs(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range comps {
		c = strings.TrimSpace(c)
		if !slices.Contains(known, c) {
			return nil, invalid("components", fmt.Sprintf("no component %q", c))
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s *Service) subscribeEmail(ctx context.Context, addr string, comps []string) error {
	now := s.now()
	return s.Store.InTx(ctx, func(tx pgx.Tx) error {
		sub, created, err := s.Store.Claim(ctx, tx, Subscriber{ID: uuid.NewString(), Channel: delivery.ChannelEmail,
			Address: addr, Status: StatusPending, Components: comps})
		if err != nil {
			return err
		}
		if sub.Status == StatusComplained {
			// The address reported our mail as spam: not even a confirmation goes to it until an admin decides
			// (BC-32). The answer stays the same as for any address.
			return nil
		}
		recent := sub.ConfirmSentAt != nil && now.Sub(*sub.ConfirmSentAt) < s.cooldown()
		if !created && recent && (sub.Status == StatusPending || sub.Status == StatusActive) {
			// Asked again too soon: the email already sent will do. This is what keeps a victim's mailbox from
			// being flooded however many clients ask (BC-31).
			if sub.Status == StatusPending && !slices.Equal(sub.Components, comps) {
				sub.Components = comps
				return s.Store.Save(ctx, tx, sub)
			}
			return nil
		}
		if sub.Status == StatusActive {
			// Already confirmed: a stranger must not change someone's choice, so send the manage link instead.
			sub.ConfirmSentAt = &now
			if err := s.Store.Save(ctx, tx, sub); err != nil {
				return err
			}
			tok, err := s.ManageToken(ctx, sub.ID)
			if err != nil {
				return err
			}
			page, err := s.pageName(ctx, tx)
			if err != nil {
				return err
			}
			return s.Enqueuer.Enqueue(ctx, tx, []delivery.Message{s.manageEmail(sub, tok, page)})
		}
		// New, pending or lapsed (unsubscribed, bounced): a fresh confirmation.
		token := randomToken()
		h := sha256.Sum256([]byte(token))
		expiry := now.Add(s.confirmTTL())
		sub.Status, sub.StatusReason, sub.StatusAt = StatusPending, "", &now
		sub.ConfirmHash, sub.ConfirmExpiry, sub.ConfirmSentAt = h[:], &expiry, &now
		sub.Components = comps
		if err := s.Store.Save(ctx, tx, sub); err != nil {
			return err
		}
		page, err := s.pageName(ctx, tx)
		if err != nil {
			return err
		}
		return s.Enqueuer.Enqueue(ctx, tx, []delivery.Message{s.confirmEmail(sub, token, page)})
	})
}

func (s *Service) subscribeURL(ctx context.Context, ch delivery.Channel, target string, comps []string) (Outcome, error) {
	var out Outcome
	err := s.Store.InTx(ctx, func(tx pgx.Tx) error {
		now := s.now()
		sub, created, err := s.Store.Claim(ctx, tx, Subscriber{ID: uuid.NewString(), Channel: ch, Address: target,
			Status: StatusActive, Components: comps, ConfirmedAt: &now})
		if err != nil {
			return err
		}
		if !created && sub.Status == StatusActive {
			return &domain.Error{Kind: domain.ErrConflict, Code: "already_subscribed",
				Message: "this URL is already subscribed; change it with its manage link"}
		}
		sub.Status, sub.StatusReason, sub.StatusAt, sub.Components, sub.ConfirmedAt = StatusActive, "", &now, comps, &now
		if ch == delivery.ChannelWebhook {
			sub.Secret = newWebhookSecret()
			out.Secret = sub.Secret
		}
		if err := s.Store.Save(ctx, tx, sub); err != nil {
			return err
		}
		out.Subscriber = &sub
		return nil
	})
	if err != nil {
		return Outcome{}, err
	}
	tok, err := s.ManageToken(ctx, out.Subscriber.ID)
	if err != nil {
		return Outcome{}, err
	}
	out.ManageURL = s.BaseURL + "/subscriptions/" + tok
	return out, nil
}

// Confirm activates the pending subscriber of a confirmation token. Opening a link twice is harmless; an unknown
// or expired token is not_found.
func (s *Service) Confirm(ctx context.Context, token string) (Subscriber, error) {
	h := sha256.Sum256([]byte(token))
	sub, err := s.Store.ByConfirmHash(ctx, h[:])
	if err != nil {
		return Subscriber{}, errNoLink
	}
	if sub.Status == StatusActive {
		return sub, nil
	}
	if sub.Status != StatusPending || sub.ConfirmExpiry == nil || s.now().After(*sub.ConfirmExpiry) {
		return Subscriber{}, errNoLink
	}
	now := s.now()
	sub.Status, sub.StatusAt, sub.ConfirmedAt = StatusActive, &now, &now
	err = s.Store.InTx(ctx, func(tx pgx.Tx) error { return s.Store.Save(ctx, tx, sub) })
	return sub, err
}

var errNoLink = &domain.Error{Kind: domain.ErrNotFound, Code: "link_not_valid",
	Message: "this link is not valid or has expired; subscribe again to get a new one"}

// ManageToken is a subscriber's manage and unsubscribe token: its id and an HMAC of it under this database's key,
// so it needs no storage, cannot be forged, and works only for its own subscriber.
func (s *Service) ManageToken(ctx context.Context, id string) (string, error) {
	key, err := s.key(ctx, "manage")
	if err != nil {
		return "", err
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(u[:])
	return base64.RawURLEncoding.EncodeToString(append(u[:], mac.Sum(nil)[:16]...)), nil
}

// FromManageToken returns the subscriber a manage token is for.
func (s *Service) FromManageToken(ctx context.Context, token string) (Subscriber, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != 32 {
		return Subscriber{}, errNoLink
	}
	key, err := s.key(ctx, "manage")
	if err != nil {
		return Subscriber{}, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(b[:16])
	if !hmac.Equal(mac.Sum(nil)[:16], b[16:]) {
		return Subscriber{}, errNoLink
	}
	id, _ := uuid.FromBytes(b[:16])
	sub, err := s.Store.Get(ctx, id.String())
	if err != nil {
		return Subscriber{}, errNoLink
	}
	return sub, nil
}

// Unsubscribe stops everything to the subscriber of a manage token. Doing it twice is harmless.
func (s *Service) Unsubscribe(ctx context.Context, token string) (Subscriber, error) {
	sub, err := s.FromManageToken(ctx, token)
	if err != nil {
		return Subscriber{}, err
	}
	if sub.Status == StatusUnsubscribed {
		return sub, nil
	}
	now := s.now()
	sub.Status, sub.StatusReason, sub.StatusAt = StatusUnsubscribed, "unsubscribed by the subscriber", &now
	return sub, s.Store.SetStatus(ctx, sub.ID, sub.Status, sub.StatusReason, now)
}

// SetComponents changes what the subscriber of a manage token follows (empty: all).
func (s *Service) SetComponents(ctx context.Context, token string, comps []string) (Subscriber, error) {
	sub, err := s.FromManageToken(ctx, token)
	if err != nil {
		return Subscriber{}, err
	}
	if sub.Components, err = s.checkComponents(ctx, comps); err != nil {
		return Subscriber{}, err
	}
	return sub, s.Store.InTx(ctx, func(tx pgx.Tx) error { return s.Store.Save(ctx, tx, sub) })
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newWebhookSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}
