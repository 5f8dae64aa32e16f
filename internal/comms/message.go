package comms

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// email makes one email message per recipient (recipients never see each other), HTML from the same text.
func email(topic, key string, to []string, subject, text string) []delivery.Message {
	subject = oneLine(subject)
	var out []delivery.Message
	seen := map[string]bool{}
	for _, addr := range to {
		addr = strings.ToLower(strings.TrimSpace(addr))
		if addr == "" || seen[addr] {
			continue
		}
		seen[addr] = true
		out = append(out, delivery.Message{Channel: delivery.ChannelEmail, To: addr, Topic: topic, IncidentKey: key,
			Subject: subject, Text: text, HTML: textToHTML(text),
			// RFC 3834: machine-sent, so out-of-office responders do not answer it.
			Headers: map[string]string{"Auto-Submitted": "auto-generated"}})
	}
	return out
}

// oneLine makes user text safe for a header: control characters (a line break in a title) become spaces, so no
// text can end the Subject and start another header.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }), " ")
}

// textToHTML renders plain text as escaped paragraphs: user text never becomes markup.
func textToHTML(text string) string {
	var b strings.Builder
	b.WriteString("<!doctype html><html><body>")
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>")
	}
	b.WriteString("</body></html>")
	return b.String()
}

// permalink is the incident's public page.
func (s *Service) permalink(key string) string {
	return strings.TrimRight(s.d.BaseURL, "/") + "/incidents/" + key
}

// holderName names a role's holder; only the Incident Commander acknowledges, so only for that role does acknowledged
// matter.
func holderName(h *workflow.RoleHolder, acknowledges bool) string {
	if h == nil {
		return "not assigned"
	}
	if acknowledges && h.AcknowledgedAt == nil {
		return h.Name + " (not acknowledged)"
	}
	return h.Name
}

// internalSummary is what staff are told about a major incident: its facts and roles, never a bridge (the technical
// bridge is for responders, the customer one for the invited).
func (s *Service) internalSummary(st workflow.Incident) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", st.Key, st.Title)
	where := "Stage: " + st.Stage.Title()
	if st.Kind != domain.KindMajor {
		where = fmt.Sprintf("A standard incident, %s", st.Status)
	}
	fmt.Fprintf(&b, "Severity %s, urgency %s, priority %s. %s.\n", st.Criteria.Severity, st.Criteria.Urgency,
		st.Classification.Priority, where)
	if len(st.Components) > 0 {
		fmt.Fprintf(&b, "Affected: %s.\n", strings.Join(st.Components, ", "))
	}
	fmt.Fprintf(&b, "Incident Commander: %s. Communications Lead: %s.\n",
		holderName(st.Roles.IncidentCommander, true), holderName(st.Roles.CommunicationsLead, false))
	var techs []string
	for _, h := range st.Roles.TechnicalLeads {
		if h.Group != "" {
			techs = append(techs, h.Group)
		} else {
			techs = append(techs, h.Name)
		}
	}
	if len(techs) > 0 {
		fmt.Fprintf(&b, "Technical Leads: %s.\n", strings.Join(techs, ", "))
	}
	if u := st.LatestPublished(); u != nil {
		fmt.Fprintf(&b, "\nLatest public update (%s, %s):\n%s\n", u.Status, u.PublishedAt.UTC().Format("2006-01-02 15:04 MST"), u.Body)
	} else {
		b.WriteString("\nNo public update yet.\n")
	}
	if clk := st.UpdateClock(s.d.Cadence); clk.Running {
		fmt.Fprintf(&b, "Next update due by %s.\n", clk.DueAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	fmt.Fprintf(&b, "\nStatus page: %s\n", s.permalink(st.Key))
	return b.String()
}

// customerUpdate is a published update worded for a customer success manager to forward: only what the status page
// says, nothing internal.
func (s *Service) customerUpdate(st workflow.Incident, u workflow.Update, customer string, names map[string]string, touched []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "An update for %s about an incident affecting services they use. You can forward the text below the line as it is.\n\n", customer)
	b.WriteString("----\n\n")
	fmt.Fprintf(&b, "%s\n", st.Title)
	fmt.Fprintf(&b, "Status: %s\n", u.Status)
	var affected []string
	for _, slug := range touched {
		if n := names[slug]; n != "" {
			affected = append(affected, n)
		} else {
			affected = append(affected, slug)
		}
	}
	fmt.Fprintf(&b, "Affected services: %s\n\n", strings.Join(affected, ", "))
	fmt.Fprintf(&b, "%s\n\n", u.Body)
	fmt.Fprintf(&b, "Follow this incident: %s\n", s.permalink(st.Key))
	return b.String()
}

// slackEscape makes user text inert in a Slack (or Mattermost) message: no <!channel>, <@user> or <url|label> can be
// formed, and an @ cannot start a Mattermost mention.
func slackEscape(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "@", "@\u200b").Replace(s)
	return s
}

// slackMessage is a Block Kit body: a section of mrkdwn text, with the same text as the notification fallback.
func slackMessage(text string) json.RawMessage {
	body := map[string]any{
		"text": text,
		"blocks": []any{map[string]any{
			"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text},
		}},
		"unfurl_links": false,
	}
	b, _ := json.Marshal(body) // maps of strings always encode
	return b
}

// severityAtLeast reports whether s is min or worse (severities are listed worst first).
func severityAtLeast(s, min domain.Severity) bool {
	rank := func(x domain.Severity) int {
		for i, v := range domain.Severities {
			if v == x {
				return i
			}
		}
		return len(domain.Severities)
	}
	return rank(s) <= rank(min)
}
