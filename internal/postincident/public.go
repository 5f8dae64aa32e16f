package postincident

import (
	"regexp"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// PublicReport is the customer-safe version of a published PIR or RCA, shown on the incident's public permalink.
// It is built from the document's customer summary and the incident's published updates only: no responder, bridge,
// ticket, action, email or internal timeline ever enters it.
type PublicReport struct {
	Kind        Kind      `json:"kind"`
	IncidentKey string    `json:"incident_key"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary"`
	PublishedAt time.Time `json:"published_at"`
}

var emailPattern = regexp.MustCompile(`[^\s@<>()"']+@[^\s@<>()"']+\.[A-Za-z]{2,}`)

// CustomerSafe builds the public version of a document published at now, or refuses (422 internal_detail) when its
// customer summary names something internal to the incident: a responder, an email address, a bridge, a ticket.
func CustomerSafe(d Document, inc workflow.Incident, now time.Time) (PublicReport, error) {
	var summary, field string
	switch d.Kind {
	case KindPIR:
		summary, field = d.PIR.CustomerSummary, "customer_summary"
	case KindRCA:
		summary, field = d.RCA.CustomerSummary, "customer_summary"
	}
	if strings.TrimSpace(summary) == "" {
		return PublicReport{}, domain.Invalid(domain.FieldError{Field: field,
			Message: "is required to publish a customer-safe version"})
	}
	if leaks := InternalDetails(inc, summary); len(leaks) > 0 {
		return PublicReport{}, &domain.Error{Kind: domain.ErrInvalid, Code: "internal_detail",
			Message: "the customer summary names internal details: " + strings.Join(leaks, ", ") +
				"; remove them, or publish without the customer-safe version",
			Fields: []domain.FieldError{{Field: field, Message: "names internal details: " + strings.Join(leaks, ", ")}}}
	}
	return PublicReport{Kind: d.Kind, IncidentKey: inc.Key, Title: inc.Title, Summary: summary,
		PublishedAt: now.UTC()}, nil
}

// InternalDetails lists what of the incident's internal record text mentions: email addresses, the names of the
// people and groups engaged, bridge URLs, ticket references and URLs.
func InternalDetails(inc workflow.Incident, text string) []string {
	lower := strings.ToLower(text)
	var out []string
	seen := map[string]bool{}
	add := func(what, term string) {
		term = strings.TrimSpace(term)
		// Very short terms (a ticket numbered "1") would match ordinary words.
		if len(term) < 3 || seen[what+term] || !strings.Contains(lower, strings.ToLower(term)) {
			return
		}
		seen[what+term] = true
		out = append(out, what+" "+term)
	}
	for _, m := range emailPattern.FindAllString(text, -1) {
		add("email", m)
	}
	people := func(h *workflow.RoleHolder) {
		if h != nil {
			add("person", h.Name)
			add("email", h.Email)
			add("group", h.Group)
		}
	}
	people(inc.Roles.IncidentCommander)
	people(inc.Roles.CommunicationsLead)
	for i := range inc.Roles.TechnicalLeads {
		people(&inc.Roles.TechnicalLeads[i])
	}
	for i := range inc.Roles.ExecutiveSponsors {
		people(&inc.Roles.ExecutiveSponsors[i])
	}
	for _, b := range inc.Bridges {
		add("bridge", b.URL)
		for _, i := range b.Invitees {
			add("invitee", i)
		}
	}
	for _, t := range inc.Tickets {
		add("ticket", t.Ref)
		add("ticket", t.URL)
	}
	return out
}
