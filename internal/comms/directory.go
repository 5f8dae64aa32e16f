package comms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
)

// StakeholderList is a distribution list of internal staff who hear about major incidents of the severities it covers.
type StakeholderList struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Emails     []string          `json:"emails"`
	Severities []domain.Severity `json:"severities"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// Customer is a customer account whose customer success people (CSM, TCSM) forward updates about the components it
// uses.
type Customer struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	CSMEmail   string    `json:"csm_email"`
	TCSMEmail  string    `json:"tcsm_email"`
	Components []string  `json:"components"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ResolverGroup is a team a functional escalation engages, reached at one address.
type ResolverGroup struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TicketSystem is the outbound webhook of one support-ticket system: the tickets linked with this system name receive
// each published update. Secret is set only in the answer that creates it.
type TicketSystem struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TicketDelivery is one published update sent to one linked ticket, and what became of it.
type TicketDelivery struct {
	TicketID  string    `json:"ticket_id"`
	UpdateID  string    `json:"update_id"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

const (
	maxName   = 200
	maxEmails = 500
)

// normaliseEmail checks a bare address and returns it trimmed and lower-cased, so one person is one recipient.
func normaliseEmail(v *domain.Validator, field, s string) string {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	ok := err == nil && a.Address == s && a.Name == "" && len(s) <= 254 && strings.Contains(s, "@")
	v.Check(ok, field, "must be an email address like ops@example.com")
	return strings.ToLower(s)
}

func checkName(v *domain.Validator, name *string) {
	*name = strings.TrimSpace(*name)
	v.Check(*name != "", "name", "is required")
	v.Check(len(*name) <= maxName, "name", fmt.Sprintf("must be at most %d characters", maxName))
}

func validateList(l *StakeholderList) error {
	var v domain.Validator
	checkName(&v, &l.Name)
	v.Check(len(l.Emails) > 0, "emails", "at least one address is required")
	v.Check(len(l.Emails) <= maxEmails, "emails", fmt.Sprintf("at most %d addresses", maxEmails))
	var emails []string
	for i, e := range l.Emails {
		if n := normaliseEmail(&v, fmt.Sprintf("emails[%d]", i), e); !slices.Contains(emails, n) {
			emails = append(emails, n)
		}
	}
	l.Emails = emails
	v.Check(len(l.Severities) > 0, "severities", "at least one severity is required")
	var sevs []domain.Severity
	for i, s := range l.Severities {
		if !s.Valid() {
			v.Add(fmt.Sprintf("severities[%d]", i), "must be one of the severities", domain.Strings(domain.Severities)...)
		} else if !slices.Contains(sevs, s) {
			sevs = append(sevs, s)
		}
	}
	l.Severities = sevs
	return v.Err()
}

func validateCustomer(c *Customer) error {
	var v domain.Validator
	checkName(&v, &c.Name)
	if strings.TrimSpace(c.CSMEmail) != "" {
		c.CSMEmail = normaliseEmail(&v, "csm_email", c.CSMEmail)
	} else {
		c.CSMEmail = ""
	}
	if strings.TrimSpace(c.TCSMEmail) != "" {
		c.TCSMEmail = normaliseEmail(&v, "tcsm_email", c.TCSMEmail)
	} else {
		c.TCSMEmail = ""
	}
	v.Check(c.CSMEmail != "" || c.TCSMEmail != "", "csm_email", "a CSM or a TCSM address is required")
	v.Check(len(c.Components) > 0, "components", "at least one component is required")
	v.Check(len(c.Components) <= 100, "components", "at most 100 components")
	var comps []string
	for _, s := range c.Components {
		if s = strings.TrimSpace(s); !slices.Contains(comps, s) {
			comps = append(comps, s)
		}
	}
	c.Components = comps
	return v.Err()
}

func validateGroup(g *ResolverGroup) error {
	var v domain.Validator
	checkName(&v, &g.Name)
	g.Email = normaliseEmail(&v, "email", g.Email)
	return v.Err()
}

func (s *Service) validateTicketSystem(ctx context.Context, ts *TicketSystem) error {
	var v domain.Validator
	checkName(&v, &ts.Name)
	ts.URL = strings.TrimSpace(ts.URL)
	u, err := url.Parse(ts.URL)
	ok := err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
	v.Check(ok, "url", "must be an absolute http or https URL without credentials")
	v.Check(len(ts.URL) <= 2000, "url", "must be at most 2000 characters")
	if err := v.Err(); err != nil {
		return err
	}
	if s.d.Guard == nil {
		return nil
	}
	// The check subscriber URLs get: a port no connection can use, or a private or local address (unless allowed),
	// is refused now rather than retried for ever.
	if _, err := s.d.Guard.ValidateURL(ctx, ts.URL); errors.Is(err, delivery.ErrBlockedTarget) {
		return &domain.Error{Kind: domain.ErrInvalid, Code: "target_not_allowed",
			Message: "this URL points to a private or local address, which notifications may not reach",
			Fields:  []domain.FieldError{{Field: "url", Message: "is not a public address"}}}
	} else if err != nil {
		return domain.Invalid(domain.FieldError{Field: "url", Message: err.Error()})
	}
	return nil
}

// MaskURL keeps only a URL's scheme and host, as the delivery log shows it: its path or query may be a secret.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// newSecret makes a Standard Webhooks signing secret: "whsec_" and 32 random bytes in base64.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// CreateList stores a new stakeholder list.
func (s *Service) CreateList(ctx context.Context, l StakeholderList) (StakeholderList, error) {
	if err := validateList(&l); err != nil {
		return l, err
	}
	return s.store.saveList(ctx, l, s.now(), true)
}

// UpdateList replaces a stakeholder list (not_found when there is none).
func (s *Service) UpdateList(ctx context.Context, l StakeholderList) (StakeholderList, error) {
	if err := validateList(&l); err != nil {
		return l, err
	}
	return s.store.saveList(ctx, l, s.now(), false)
}

// Lists returns every stakeholder list by name.
func (s *Service) Lists(ctx context.Context) ([]StakeholderList, error) { return s.store.lists(ctx) }

// DeleteList removes a stakeholder list.
func (s *Service) DeleteList(ctx context.Context, id string) error {
	return s.store.delete(ctx, "stakeholder_lists", "stakeholder list", id)
}

// CreateCustomer stores a new customer account; its components must exist.
func (s *Service) CreateCustomer(ctx context.Context, c Customer) (Customer, error) {
	if err := s.checkCustomer(ctx, &c); err != nil {
		return c, err
	}
	return s.store.saveCustomer(ctx, c, s.now(), true)
}

// UpdateCustomer replaces a customer account.
func (s *Service) UpdateCustomer(ctx context.Context, c Customer) (Customer, error) {
	if err := s.checkCustomer(ctx, &c); err != nil {
		return c, err
	}
	return s.store.saveCustomer(ctx, c, s.now(), false)
}

func (s *Service) checkCustomer(ctx context.Context, c *Customer) error {
	if err := validateCustomer(c); err != nil {
		return err
	}
	missing, known, err := s.store.missingComponents(ctx, c.Components)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return domain.Invalid(domain.FieldError{Field: "components",
			Message: "unknown component " + strings.Join(missing, ", "), Allowed: known})
	}
	return nil
}

// Customers returns every customer account by name.
func (s *Service) Customers(ctx context.Context) ([]Customer, error) { return s.store.customers(ctx) }

// DeleteCustomer removes a customer account.
func (s *Service) DeleteCustomer(ctx context.Context, id string) error {
	return s.store.delete(ctx, "customers", "customer", id)
}

// CreateGroup stores a new resolver group.
func (s *Service) CreateGroup(ctx context.Context, g ResolverGroup) (ResolverGroup, error) {
	if err := validateGroup(&g); err != nil {
		return g, err
	}
	return s.store.saveGroup(ctx, g, s.now(), true)
}

// UpdateGroup replaces a resolver group.
func (s *Service) UpdateGroup(ctx context.Context, g ResolverGroup) (ResolverGroup, error) {
	if err := validateGroup(&g); err != nil {
		return g, err
	}
	return s.store.saveGroup(ctx, g, s.now(), false)
}

// Groups returns every resolver group by name.
func (s *Service) Groups(ctx context.Context) ([]ResolverGroup, error) { return s.store.groups(ctx) }

// DeleteGroup removes a resolver group.
func (s *Service) DeleteGroup(ctx context.Context, id string) error {
	return s.store.delete(ctx, "resolver_groups", "resolver group", id)
}

// CreateTicketSystem stores a new ticket-system integration with a fresh signing secret, returned this once.
func (s *Service) CreateTicketSystem(ctx context.Context, ts TicketSystem) (TicketSystem, error) {
	if err := s.validateTicketSystem(ctx, &ts); err != nil {
		return ts, err
	}
	ts.Secret = newSecret()
	return s.store.saveTicketSystem(ctx, ts, s.now(), true)
}

// UpdateTicketSystem changes a ticket system's name or URL; its secret stays.
func (s *Service) UpdateTicketSystem(ctx context.Context, ts TicketSystem) (TicketSystem, error) {
	if err := s.validateTicketSystem(ctx, &ts); err != nil {
		return ts, err
	}
	ts.Secret = ""
	return s.store.saveTicketSystem(ctx, ts, s.now(), false)
}

// TicketSystems returns every ticket-system integration by name, without secrets.
func (s *Service) TicketSystems(ctx context.Context) ([]TicketSystem, error) {
	return s.store.ticketSystems(ctx)
}

// DeleteTicketSystem removes a ticket-system integration.
func (s *Service) DeleteTicketSystem(ctx context.Context, id string) error {
	return s.store.delete(ctx, "ticket_systems", "ticket system", id)
}

// TicketDeliveries returns what was sent to the tickets of an incident, oldest first.
func (s *Service) TicketDeliveries(ctx context.Context, incidentID string) ([]TicketDelivery, error) {
	return s.store.ticketDeliveries(ctx, incidentID)
}
