package subscription

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/statuspage"
	"github.com/mimhq/mim/internal/workflow"
)

// Notice is one public event, as every channel tells it: only what the status page shows.
type Notice struct {
	// Topic is incident.update, component.update or maintenance.{scheduled,started,completed}.
	Topic string
	// EventID names the event for deduplication: the update id, or the component change.
	EventID     string
	IncidentID  string
	IncidentKey string
	Title       string
	// Status is the public status (investigating ... resolved, or a component status).
	Status string
	// Body is the update in the customer's words (Markdown).
	Body       string
	Permalink  string
	At         time.Time
	Impact     string
	Components []ComponentNotice
	// Component is set on a component.update.
	Component *ComponentNotice

	// audience, when set, are the components whose subscribers hear the notice, instead of those it lists.
	audience []string
	// page is the page name that signs the messages, set by Notify.
	page string
}

// ComponentNotice is one component's public status change.
type ComponentNotice struct {
	Slug string                 `json:"code"`
	Name string                 `json:"name"`
	From domain.ComponentStatus `json:"old_status"`
	To   domain.ComponentStatus `json:"new_status"`
}

func (n Notice) slugs() []string {
	var out []string
	for _, c := range n.Components {
		out = append(out, c.Slug)
	}
	if n.Component != nil {
		out = append(out, n.Component.Slug)
	}
	return out
}

// Reaction turns an incident command's public outcome into notices, enqueued in the command's transaction: each
// update published on a public incident, and each public component status change not already told by such an
// update. Private incidents tell nobody. A change to a component inside a maintenance window is held until the
// window ends, and incident updates published meanwhile leave such components out (see hold.go, BC-11).
func (s *Service) Reaction(ctx context.Context, tx pgx.Tx, c incident.Change) error {
	st := c.After.State
	if st.Private || st.LatestPublished() == nil {
		return nil // nothing public yet means nothing to tell
	}
	if len(c.Components) == 0 && !slices.ContainsFunc(c.Events, func(e workflow.Event) bool {
		return e.Type == workflow.EventUpdatePublished
	}) {
		return nil // neither a publication nor a component change: nothing to tell, no window to look up
	}
	covered, err := s.covered(ctx, tx, c.After.UpdatedAt)
	if err != nil {
		return err
	}
	if err := s.hold(ctx, tx, c, covered); err != nil {
		return err
	}
	// What every notice says of the incident, read once however many notices the command makes.
	var base *Notice
	incidentNotice := func() (Notice, error) {
		if base == nil {
			n, err := s.incidentNotice(ctx, tx, st, c)
			if err != nil {
				return n, err
			}
			base = &n
		}
		return *base, nil
	}
	published := false
	for _, ev := range c.Events {
		if ev.Type != workflow.EventUpdatePublished {
			continue
		}
		p, ok := ev.Data.(*workflow.UpdatePublished)
		if !ok {
			if v, ok2 := ev.Data.(workflow.UpdatePublished); ok2 {
				p = &v
			} else {
				continue
			}
		}
		u, ok := st.Update(p.ID)
		if !ok {
			continue
		}
		published = true
		n, err := incidentNotice()
		if err != nil {
			return err
		}
		n = withoutCovered(n, covered)
		n.Topic, n.EventID, n.Status, n.Body = "incident.update", "update:"+u.ID, string(u.Status), u.Body
		if u.PublishedAt != nil {
			n.At = *u.PublishedAt
		}
		if err := s.Notify(ctx, tx, n); err != nil {
			return err
		}
	}
	if published {
		return nil // the update told the component changes
	}
	for _, cc := range c.Components {
		if covered[cc.Slug] {
			continue // held: told when the window ends, if it still differs
		}
		n, err := incidentNotice()
		if err != nil {
			return err
		}
		n.Topic = "component.update"
		n.EventID = fmt.Sprintf("component:%s:%d", cc.Slug, c.After.Version)
		n.Status, n.Body = string(cc.To), ""
		n.Components = nil
		n.Component = &ComponentNotice{Slug: cc.Slug, Name: cc.Name, From: cc.From, To: cc.To}
		if err := s.Notify(ctx, tx, n); err != nil {
			return err
		}
	}
	return nil
}

// incidentNotice is what every notice of the incident says of it: the same id as /api/v2 (the incident's id, not
// its key), each of its components by name with its current public status (or the change this command made), and
// the impact as the status page derives it: the worst component status its published updates gave, unless
// PublicImpact fixes it.
func (s *Service) incidentNotice(ctx context.Context, tx pgx.Tx, st workflow.Incident, c incident.Change) (Notice, error) {
	n := Notice{IncidentID: st.ID, IncidentKey: st.Key, Title: st.Title, At: c.After.UpdatedAt,
		Permalink: s.BaseURL + "/incidents/" + st.Key}
	byslug := map[string]incident.ComponentChange{}
	for _, cc := range c.Components {
		byslug[cc.Slug] = cc
	}
	info, err := s.Store.Components(ctx, tx, st.Components)
	if err != nil {
		return n, err
	}
	for _, slug := range st.Components {
		ci, ok := info[slug]
		if !ok {
			ci = ComponentInfo{Name: slug, Status: st.ComponentStatus[slug]}
		}
		cn := ComponentNotice{Slug: slug, Name: ci.Name, From: ci.Status, To: ci.Status}
		if cc, ok := byslug[slug]; ok {
			cn = ComponentNotice{Slug: slug, Name: cmp.Or(cc.Name, ci.Name), From: cc.From, To: cc.To}
		}
		n.Components = append(n.Components, cn)
	}
	worst := domain.ComponentOperational
	for _, u := range st.Updates {
		if u.State != workflow.StatePublished || u.PublishedAt == nil {
			continue
		}
		for _, cs := range u.Components {
			worst = domain.Worse(worst, cs)
		}
	}
	n.Impact = cmp.Or(st.PublicImpact, impactOf(worst))
	return n, nil
}

func impactOf(s domain.ComponentStatus) string {
	switch s {
	case domain.ComponentMajorOutage:
		return "critical"
	case domain.ComponentPartialOutage:
		return "major"
	case domain.ComponentDegradedPerformance:
		return "minor"
	default:
		return "none"
	}
}

// Notify enqueues one message per matching active subscriber, in tx. A subscriber following several of the
// components hears once; the dedupe key makes a second enqueue of the same event a no-op.
func (s *Service) Notify(ctx context.Context, tx pgx.Tx, n Notice) error {
	audience := n.audience
	if audience == nil {
		audience = n.slugs()
	}
	subs, err := s.Store.Recipients(ctx, tx, audience)
	if err != nil {
		return err
	}
	if len(subs) == 0 {
		return nil
	}
	if n.page, err = s.pageName(ctx, tx); err != nil {
		return err
	}
	tmpl, err := s.render(n)
	if err != nil {
		return err
	}
	msgs := make([]delivery.Message, 0, len(subs))
	for _, sub := range subs {
		tok, err := s.ManageToken(ctx, sub.ID)
		if err != nil {
			return err
		}
		m := tmpl[sub.Channel]
		m.To, m.SubscriberID, m.Secret = sub.Address, sub.ID, sub.Secret
		m.Key = sub.ID + ":" + string(sub.Channel) + ":" + n.EventID
		m.Vars = map[string]string{"manage_url": s.BaseURL + "/subscriptions/" + tok,
			"unsubscribe_url": s.BaseURL + "/subscriptions/" + tok + "/unsubscribe"}
		msgs = append(msgs, m)
	}
	return s.Enqueuer.Enqueue(ctx, tx, msgs)
}

// render builds the shared message of each channel; {{manage_url}} and {{unsubscribe_url}} are filled per
// recipient when sent.
func (s *Service) render(n Notice) (map[delivery.Channel]delivery.Message, error) {
	base := delivery.Message{Topic: n.Topic, IncidentKey: n.IncidentKey}
	out := map[delivery.Channel]delivery.Message{}

	email := base
	email.Channel = delivery.ChannelEmail
	email.Subject = fmt.Sprintf("[%s] %s: %s", n.page, n.Title, humanStatus(n.Status))
	if n.Title == "" {
		email.Subject = fmt.Sprintf("[%s] %s", n.page, humanStatus(n.Status))
	}
	email.Text, email.HTML = s.emailBodies(n)
	email.Headers = unsubscribeHeaders()
	out[delivery.ChannelEmail] = email

	hook := base
	hook.Channel = delivery.ChannelWebhook
	body, err := delivery.MarshalBody(s.statuspageWebhook(n))
	if err != nil {
		return nil, err
	}
	hook.Body = body
	out[delivery.ChannelWebhook] = hook

	slack := base
	slack.Channel = delivery.ChannelSlack
	if slack.Body, err = delivery.MarshalBody(s.slackMessage(n)); err != nil {
		return nil, err
	}
	out[delivery.ChannelSlack] = slack

	teams := base
	teams.Channel = delivery.ChannelTeams
	if teams.Body, err = delivery.MarshalBody(s.teamsCard(n)); err != nil {
		return nil, err
	}
	out[delivery.ChannelTeams] = teams
	return out, nil
}

// unsubscribeHeaders are RFC 8058's one-click unsubscribe, in every email.
func unsubscribeHeaders() map[string]string {
	return map[string]string{"List-Unsubscribe": "<{{unsubscribe_url}}>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
}

func humanStatus(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (s *Service) zone() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

// localTime shows a time in the organisation's zone, labelled (BC-25: never an unlabelled UTC time).
func (s *Service) localTime(t time.Time) string {
	return t.In(s.zone()).Format("2 Jan 2006 15:04 MST")
}

var emailHTML = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html><body style="font-family:system-ui,sans-serif;max-width:40em">
<p style="color:#555">{{.Page}}</p>
{{if .Title}}<h1 style="font-size:1.3em">{{.Title}}</h1>{{end}}
<p><strong>{{.Status}}</strong> · {{.At}}</p>
{{if .Component}}<p>{{.Component}}</p>{{end}}
{{.Body}}
{{if .Components}}<p>Affected: {{.Components}}</p>{{end}}
{{if .Permalink}}<p><a href="{{.Permalink}}">View on the status page</a></p>{{end}}
<hr><p style="color:#555;font-size:.9em"><a href="{{"{{"}}manage_url{{"}}"}}">Manage your subscription</a> · <a href="{{"{{"}}unsubscribe_url{{"}}"}}">Unsubscribe</a></p>
</body></html>`))

func (s *Service) emailBodies(n Notice) (string, string) {
	var names []string
	for _, c := range n.Components {
		names = append(names, c.Name)
	}
	comp := ""
	if n.Component != nil {
		comp = fmt.Sprintf("%s is now %s (was %s).", n.Component.Name, humanStatus(string(n.Component.To)),
			humanStatus(string(n.Component.From)))
	}
	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\n", n.page)
	if n.Title != "" {
		fmt.Fprintf(&text, "%s\n", n.Title)
	}
	fmt.Fprintf(&text, "%s · %s\n\n", humanStatus(n.Status), s.localTime(n.At))
	if comp != "" {
		fmt.Fprintf(&text, "%s\n\n", comp)
	}
	if n.Body != "" {
		fmt.Fprintf(&text, "%s\n\n", n.Body)
	}
	if len(names) > 0 {
		fmt.Fprintf(&text, "Affected: %s\n\n", strings.Join(names, ", "))
	}
	if n.Permalink != "" {
		fmt.Fprintf(&text, "View on the status page: %s\n\n", n.Permalink)
	}
	text.WriteString("--\nManage your subscription: {{manage_url}}\nUnsubscribe: {{unsubscribe_url}}\n")

	var html bytes.Buffer
	_ = emailHTML.Execute(&html, map[string]any{"Page": n.page, "Title": n.Title,
		"Status": humanStatus(n.Status), "At": s.localTime(n.At), "Component": comp,
		// RenderMarkdown sanitises: raw HTML in the update never reaches the email as markup.
		"Body": template.HTML(statuspage.RenderMarkdown(n.Body)), "Components": strings.Join(names, ", "),
		"Permalink": n.Permalink})
	return text.String(), keepVars(html.String())
}

// varsEscaped undoes html/template's URL escaping of the per-recipient placeholders in an href, so the delivery's
// substitution of {{manage_url}} and {{unsubscribe_url}} finds them in the HTML part too.
var varsEscaped = strings.NewReplacer("%7b%7bmanage_url%7d%7d", "{{manage_url}}",
	"%7b%7bunsubscribe_url%7d%7d", "{{unsubscribe_url}}")

func keepVars(html string) string { return varsEscaped.Replace(html) }

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// statuspageWebhook is the body Atlassian Statuspage posts to its webhook subscribers: meta, page, and incident
// (with incident_updates) or component_update with component.
func (s *Service) statuspageWebhook(n Notice) map[string]any {
	body := map[string]any{
		"meta": map[string]any{"unsubscribe": "{{unsubscribe_url}}", "documentation": s.BaseURL + "/openapi.yaml"},
		"page": map[string]any{"id": "mim", "status_indicator": n.Impact,
			"status_description": statuspage.Indicator(n.Impact).Description()},
	}
	if n.Component != nil {
		body["component_update"] = map[string]any{"created_at": ts(n.At), "new_status": n.Component.To,
			"old_status": n.Component.From, "id": n.EventID, "component_id": n.Component.Slug}
		body["component"] = map[string]any{"created_at": ts(n.At), "id": n.Component.Slug,
			"name": n.Component.Name, "status": n.Component.To}
		return body
	}
	if n.IncidentKey == "" {
		return body
	}
	affected := make([]map[string]any, 0, len(n.Components))
	comps := make([]map[string]any, 0, len(n.Components))
	for _, c := range n.Components {
		affected = append(affected, map[string]any{"code": c.Slug, "name": c.Name, "old_status": c.From,
			"new_status": c.To})
		comps = append(comps, map[string]any{"id": c.Slug, "name": c.Name, "status": c.To})
	}
	updateID := strings.TrimPrefix(n.EventID, "update:")
	var resolvedAt any
	if n.Status == string(domain.UpdateResolved) {
		resolvedAt = ts(n.At)
	}
	body["incident"] = map[string]any{
		"id": n.IncidentID, "name": n.Title, "status": n.Status, "impact": n.Impact,
		"created_at": ts(n.At), "updated_at": ts(n.At), "resolved_at": resolvedAt, "shortlink": n.Permalink,
		"page_id":    "mim",
		"components": comps,
		"incident_updates": []map[string]any{{"id": updateID, "status": n.Status, "body": n.Body,
			"incident_id": n.IncidentID, "created_at": ts(n.At), "updated_at": ts(n.At), "display_at": ts(n.At),
			"affected_components": affected}},
	}
	return body
}

// SlackEscape escapes user text for Slack mrkdwn: with &, < and > escaped it cannot mention a channel (<!channel>),
// a user or forge a <url|text> link.
func SlackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackMessage is a Block Kit message: the title as plain text (no emoji or markup conversion), status, the
// update escaped, and the only link the one mim builds. The top-level text is the notification fallback.
func (s *Service) slackMessage(n Notice) map[string]any {
	title := n.Title
	if n.Component != nil {
		title = n.Component.Name
	}
	if title == "" {
		title = n.page
	}
	if len([]rune(title)) > 150 {
		title = string([]rune(title)[:149]) + "…"
	}
	when := fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", n.At.Unix(), s.localTime(n.At))
	status := "*" + SlackEscape(humanStatus(n.Status)) + "* · " + when
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": title, "emoji": false}},
		{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": status}},
	}
	if n.Body != "" {
		blocks = append(blocks, map[string]any{"type": "section",
			"text": map[string]any{"type": "mrkdwn", "text": SlackEscape(n.Body), "verbatim": true}})
	}
	if n.Permalink != "" {
		blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{{"type": "mrkdwn",
			"text": "<" + n.Permalink + "|View on the status page>"}}})
	}
	return map[string]any{"text": SlackEscape(title + ": " + humanStatus(n.Status)), "blocks": blocks,
		"unfurl_links": false}
}

// teamsEscaper backslash-escapes every character the Markdown subset of an Adaptive Card TextBlock gives a meaning
// (links [text](url), **bold**, _italic_, ~strike~, `code`, # headings, > quotes, <autolinks>, and the backslash
// itself), so user text renders as the characters typed.
var teamsEscaper = strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`, "*", `\*`,
	"_", `\_`, "~", `\~`, "#", `\#`, ">", `\>`, "<", `\<`, "`", "\\`")

// TeamsEscape escapes user text for an Adaptive Card TextBlock: it cannot forge a link or formatting. A list
// marker at the start of a line ("- ", "+ ", "1. ") is escaped too.
func TeamsEscape(s string) string {
	lines := strings.Split(teamsEscaper.Replace(s), "\n")
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " \t")
		indent := l[:len(l)-len(trimmed)]
		switch {
		case strings.HasPrefix(trimmed, "- "), strings.HasPrefix(trimmed, "+ "):
			lines[i] = indent + `\` + trimmed
		default:
			if d := len(trimmed) - len(strings.TrimLeft(trimmed, "0123456789")); d > 0 && strings.HasPrefix(trimmed[d:], ". ") {
				lines[i] = indent + trimmed[:d] + `\` + trimmed[d:]
			}
		}
	}
	return strings.Join(lines, "\n")
}

// teamsCard is the same as an Adaptive Card in a Teams workflow message; user text is escaped (TeamsEscape).
func (s *Service) teamsCard(n Notice) map[string]any {
	title := n.Title
	if n.Component != nil {
		title = n.Component.Name
	}
	body := []map[string]any{
		{"type": "TextBlock", "text": TeamsEscape(title), "weight": "Bolder", "size": "Medium", "wrap": true},
		{"type": "FactSet", "facts": []map[string]any{{"title": "Status", "value": humanStatus(n.Status)},
			{"title": "Time", "value": s.localTime(n.At)}}},
	}
	if n.Body != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": TeamsEscape(n.Body), "wrap": true})
	}
	card := map[string]any{"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
		"version": "1.4", "body": body}
	if n.Permalink != "" {
		card["actions"] = []map[string]any{{"type": "Action.OpenUrl", "title": "View on the status page",
			"url": n.Permalink}}
	}
	return map[string]any{"type": "message", "attachments": []map[string]any{{
		"contentType": "application/vnd.microsoft.card.adaptive", "content": card}}}
}

// confirmEmail carries the confirmation link: the only thing a pending subscriber ever receives.
func (s *Service) confirmEmail(sub Subscriber, token, page string) delivery.Message {
	link := s.BaseURL + "/subscriptions/confirm/" + token
	text := fmt.Sprintf("Someone, hopefully you, asked to receive status notifications from %s at this address.\n\n"+
		"Confirm within %s: %s\n\nIf it was not you, ignore this email: nothing will be sent.\n",
		page, humanDuration(s.confirmTTL()), link)
	var html bytes.Buffer
	_ = confirmHTML.Execute(&html, map[string]any{"Page": page, "Link": link, "TTL": humanDuration(s.confirmTTL())})
	return delivery.Message{Channel: delivery.ChannelEmail, To: sub.Address, Topic: "subscription.confirm",
		SubscriberID: sub.ID, Subject: "Confirm your subscription to " + page, Text: text, HTML: html.String()}
}

// humanDuration says a duration as a reader would ("48 hours", "30 minutes"), not as Go prints it ("48h0m0s").
func humanDuration(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	case d >= time.Hour:
		return unit(int64((d+time.Hour/2)/time.Hour), "hour")
	default:
		return unit(int64((d+time.Minute/2)/time.Minute), "minute")
	}
}

var confirmHTML = template.Must(template.New("confirm").Parse(`<!DOCTYPE html>
<html><body style="font-family:system-ui,sans-serif;max-width:40em">
<p>Someone, hopefully you, asked to receive status notifications from {{.Page}} at this address.</p>
<p><a href="{{.Link}}">Confirm your subscription</a> (within {{.TTL}}).</p>
<p>If it was not you, ignore this email: nothing will be sent.</p>
</body></html>`))

// manageEmail answers a subscription request for an address already confirmed, with its manage link.
func (s *Service) manageEmail(sub Subscriber, tok, page string) delivery.Message {
	m := delivery.Message{Channel: delivery.ChannelEmail, To: sub.Address, Topic: "subscription.manage",
		SubscriberID: sub.ID, Subject: "Your subscription to " + page,
		Text: fmt.Sprintf("This address already receives status notifications from %s.\n\n"+
			"Manage your subscription: {{manage_url}}\nUnsubscribe: {{unsubscribe_url}}\n", page),
		Headers: unsubscribeHeaders(),
		Vars: map[string]string{"manage_url": s.BaseURL + "/subscriptions/" + tok,
			"unsubscribe_url": s.BaseURL + "/subscriptions/" + tok + "/unsubscribe"}}
	return m
}

// NotifyReport tells the subscribers following an incident's components that the customer-safe version of its
// post-incident report (kind "pir" or "rca") was published: its summary, in the customer's words, with the link to
// the permalink that shows it. A private incident tells nobody.
func (s *Service) NotifyReport(ctx context.Context, tx pgx.Tx, st workflow.Incident, kind, summary string, at time.Time) error {
	if st.Private {
		return nil
	}
	n, err := s.incidentNotice(ctx, tx, st, incident.Change{After: incident.Record{State: st, UpdatedAt: at}})
	if err != nil {
		return err
	}
	n.Topic = "incident.postmortem"
	n.EventID = fmt.Sprintf("report:%s:%s:%d", st.ID, kind, at.UnixMicro())
	n.Status = "postmortem"
	title := "Post-incident report"
	if kind == "rca" {
		title = "Root cause analysis"
	}
	n.Body = "**" + title + "**\n\n" + summary
	return s.Notify(ctx, tx, n)
}

// pageName is the page name that signs the messages: the one an admin stored (read in tx), else PageName.
func (s *Service) pageName(ctx context.Context, tx pgx.Tx) (string, error) {
	if s.StoredName != nil {
		name, err := s.StoredName(ctx, tx)
		if err != nil || name != "" {
			return name, err
		}
	}
	return s.PageName, nil
}
