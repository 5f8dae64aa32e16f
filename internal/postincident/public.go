package postincident

import (
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

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
// people and groups engaged, bridge URLs, ticket references and URLs. Both sides are compared folded (see fold), so
// spacing, zero-width characters, full-width letters and case do not hide a name; a URL is found with or without
// its scheme and trailing slash; a ticket reference (and its number, when it has one of four digits or more) is
// found as a whole word.
func InternalDetails(inc workflow.Incident, text string) []string {
	folded := fold(text)
	var out []string
	seen := map[string]bool{}
	report := func(what, term string) {
		if !seen[what+term] {
			seen[what+term] = true
			out = append(out, what+" "+term)
		}
	}
	add := func(what, term string) {
		term = strings.TrimSpace(term)
		// Very short terms (a ticket numbered "1") would match ordinary words.
		if f := fold(term); len(f) >= 3 && strings.Contains(folded, f) {
			report(what, term)
		}
	}
	addURL := func(what, u string) {
		u = strings.TrimSpace(u)
		if f := urlCore(u); len(f) >= 3 && strings.Contains(folded, f) {
			report(what, u)
		}
	}
	addToken := func(what, term, token string) {
		if f := fold(token); len(f) >= 3 && containsWord(folded, f) {
			report(what, strings.TrimSpace(term))
		}
	}
	for _, m := range emailPattern.FindAllString(text, -1) {
		add("email", m)
	}
	for _, m := range emailPattern.FindAllString(folded, -1) {
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
		addURL("bridge", b.URL)
		for _, i := range b.Invitees {
			add("invitee", i)
		}
	}
	for _, t := range inc.Tickets {
		addToken("ticket", t.Ref, t.Ref)
		if n := ticketNumber.FindString(t.Ref); n != "" {
			addToken("ticket", t.Ref, n)
		}
		addURL("ticket", t.URL)
	}
	return out
}

// ticketNumber is the number a ticket reference ends with (ZD-48213: 48213), when it is long enough to be told
// from ordinary figures.
var ticketNumber = regexp.MustCompile(`[0-9]{4,}$`)

// fold is text as compared for internal details: NFKC-normalised (full-width letters become ASCII), without format
// characters (zero-width spaces and joiners), every run of whitespace one space, case-folded.
func fold(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r):
		case unicode.IsSpace(r):
			space = true
		default:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		}
	}
	return norm.NFKC.String(cases.Fold().String(b.String()))
}

// urlCore is a URL folded, without its scheme and trailing slashes, so it is found however it is written.
func urlCore(u string) string {
	f := fold(u)
	if i := strings.Index(f, "://"); i >= 0 {
		f = f[i+3:]
	}
	return strings.TrimRight(f, "/")
}

// containsWord reports whether word occurs in text with no letter or digit either side.
func containsWord(text, word string) bool {
	for from := 0; from <= len(text); {
		i := strings.Index(text[from:], word)
		if i < 0 {
			return false
		}
		i += from
		before, _ := utf8.DecodeLastRuneInString(text[:i])
		after, _ := utf8.DecodeRuneInString(text[i+len(word):])
		if !isWordRune(before) && !isWordRune(after) {
			return true
		}
		from = i + 1
	}
	return false
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}
