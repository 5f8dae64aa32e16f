package comms

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/workflow"
)

// React is the incident reaction (postgres.Reaction) that produces the messages of one command's change, enqueued in
// the command's transaction. Linked tickets hear each published update; everyone else hears only a major incident's
// significant changes (and its demotion). An edit that changes nothing meaningful, or any change to a concluded
// incident other than its conclusion, sends nothing (BC-28).
func (s *Service) React(ctx context.Context, tx pgx.Tx, c incident.Change) error {
	if s.d.Enqueue == nil {
		return nil
	}
	msgs, err := s.messages(ctx, tx, c)
	if err != nil || len(msgs) == 0 {
		return err
	}
	return s.d.Enqueue.Enqueue(ctx, tx, msgs)
}

func (s *Service) messages(ctx context.Context, tx pgx.Tx, c incident.Change) ([]delivery.Message, error) {
	st := c.After.State
	// Linked tickets hear every published update, of a standard incident too; a private one stays inside mim, as
	// a ticket system may show what it receives to the customer.
	var out []delivery.Message
	if !st.Private {
		for _, e := range c.Events {
			if d, ok := e.Data.(*workflow.UpdatePublished); ok {
				u, found := st.Update(d.ID)
				if !found {
					continue
				}
				msgs, err := s.tickets(ctx, tx, st, *u)
				if err != nil {
					return nil, err
				}
				out = append(out, msgs...)
			}
		}
	}
	if st.Kind != domain.KindMajor {
		if c.Before.Kind == domain.KindMajor && st.IsOpen() {
			// Demoted: the stakeholders who heard it was major hear that it no longer is.
			msgs, err := s.stakeholders(ctx, tx, []domain.Severity{c.Before.Criteria.Severity}, st,
				[]string{"No longer a major incident: " + st.Classification.Reason})
			return append(out, msgs...), err
		}
		return out, nil
	}
	var changes []string
	var published []workflow.Update
	concluded := false
	for _, e := range c.Events {
		switch d := e.Data.(type) {
		case *workflow.Declared:
			changes = append(changes, "Declared a major incident.")
		case *workflow.Classified:
			switch {
			case d.From != domain.KindMajor && d.To == domain.KindMajor:
				changes = append(changes, "Classified as a major incident: "+d.Classification.Reason)
			case d.To == domain.KindMajor && (c.Before.Criteria.Severity != d.Criteria.Severity ||
				c.Before.Classification.Priority != d.Classification.Priority):
				changes = append(changes, fmt.Sprintf("Reclassified: severity %s → %s, priority %s → %s.",
					c.Before.Criteria.Severity, d.Criteria.Severity, c.Before.Classification.Priority, d.Classification.Priority))
			}
		case *workflow.StageChanged:
			if d.From != d.To {
				changes = append(changes, fmt.Sprintf("Stage: %s → %s.", d.From.Title(), d.To.Title()))
				concluded = concluded || d.To == domain.StageConcluded
			}
		case *workflow.UpdatePublished:
			if u, ok := st.Update(d.ID); ok {
				published = append(published, *u)
				changes = append(changes, fmt.Sprintf("Update published (%s).", u.Status))
			}
		case *workflow.RestorationRecorded:
			changes = append(changes, fmt.Sprintf("Restoration recorded (%s): %s", d.Kind, d.Description))
		case *workflow.BridgeOpened:
			if d.Kind == domain.BridgeCustomer {
				out = append(out, s.bridgeInvitations(c.Before, st, d)...)
			}
		case *workflow.Escalated:
			msgs, err := s.escalation(ctx, tx, st, d)
			if err != nil {
				return nil, err
			}
			out = append(out, msgs...)
		}
	}
	if !st.IsOpen() && !concluded {
		return out, nil // a concluded incident is over: reclassifying or linking a ticket to it tells no one
	}
	if len(changes) > 0 {
		// The lists of the severity it had hear too when it was major, so a list hears that it left their severity.
		sevs := []domain.Severity{st.Criteria.Severity}
		if c.Before.Kind == domain.KindMajor && c.Before.Criteria.Severity != st.Criteria.Severity {
			sevs = append(sevs, c.Before.Criteria.Severity)
		}
		msgs, err := s.stakeholders(ctx, tx, sevs, st, changes)
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
	}
	for _, u := range published {
		msgs, err := s.customerSuccess(ctx, tx, st, u)
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
	}
	return out, nil
}

// stakeholders mails the changes to the lists covering any of the severities.
func (s *Service) stakeholders(ctx context.Context, tx pgx.Tx, sevs []domain.Severity, st workflow.Incident, changes []string) ([]delivery.Message, error) {
	var to []string
	for _, sev := range sevs {
		lists, err := listsFor(ctx, tx, sev)
		if err != nil {
			return nil, err
		}
		for _, l := range lists {
			to = append(to, l.Emails...)
		}
	}
	subject := fmt.Sprintf("[%s %s] %s — %s", st.Key, st.Criteria.Severity, st.Title, strings.TrimSuffix(changes[0], "."))
	text := strings.Join(changes, "\n") + "\n\n" + s.internalSummary(st)
	return email(TopicStakeholder, st.Key, to, subject, text), nil
}

// bridgeInvitations mails the customer bridge to its invitees, each alone: all of them when the bridge opens or its
// URL changes, only the newly invited when the same bridge gains invitees.
func (s *Service) bridgeInvitations(before, st workflow.Incident, d *workflow.BridgeOpened) []delivery.Message {
	invitees := d.Invitees
	if prev := before.Bridges[domain.BridgeCustomer]; prev.Open() && prev.URL == d.URL {
		invitees = nil
		for _, inv := range d.Invitees {
			if !slices.Contains(prev.Invitees, inv) {
				invitees = append(invitees, inv)
			}
		}
	}
	subject := "Invitation: update call about " + st.Title
	text := fmt.Sprintf("You are invited to our customer update call about %q.\n\nJoin here: %s\n\nFollow the incident: %s\n",
		st.Title, d.URL, s.permalink(st.Key))
	return email(TopicBridgeInvite, st.Key, invitees, subject, text)
}

// escalation reaches whom an escalation engages: the resolver group named by its target (functional, or an
// executives' list), the incident's executive sponsors (hierarchical), and the chat channel.
func (s *Service) escalation(ctx context.Context, tx pgx.Tx, st workflow.Incident, d *workflow.Escalated) ([]delivery.Message, error) {
	var to []string
	addr, err := groupEmail(ctx, tx, d.Target)
	if err != nil {
		return nil, err
	}
	if addr != "" {
		to = append(to, addr)
	}
	if d.Kind == domain.EscalationHierarchical {
		for _, h := range st.Roles.ExecutiveSponsors {
			to = append(to, h.Email)
		}
	}
	how := "by " + d.By
	if d.Automatic {
		how = "automatically by mim"
	}
	subject := fmt.Sprintf("[%s %s] Escalated to %s: %s", st.Key, st.Criteria.Severity, d.Target, st.Title)
	text := fmt.Sprintf("%s was escalated (%s) to %s %s.\nReason: %s\n\n%s", st.Key, d.Kind, d.Target, how, d.Reason,
		s.internalSummary(st))
	out := email(TopicEscalation, st.Key, to, subject, text)
	if s.d.ChatWebhookURL != "" {
		chat := fmt.Sprintf(":rotating_light: *%s escalated (%s) to %s* %s\n*%s* (severity %s, stage %s)\nReason: %s\n%s",
			slackEscape(st.Key), d.Kind, slackEscape(d.Target), slackEscape(how), slackEscape(st.Title),
			st.Criteria.Severity, st.Stage.Title(), slackEscape(d.Reason), s.permalink(st.Key))
		out = append(out, delivery.Message{Channel: delivery.ChannelSlack, To: s.d.ChatWebhookURL, Topic: TopicEscalation,
			IncidentKey: st.Key, Body: slackMessage(chat)})
	}
	return out, nil
}

// customerSuccess sends a published update, worded for forwarding, to the CSM and TCSM of each customer using an
// affected component, when the incident is severe enough.
func (s *Service) customerSuccess(ctx context.Context, tx pgx.Tx, st workflow.Incident, u workflow.Update) ([]delivery.Message, error) {
	if !severityAtLeast(st.Criteria.Severity, s.d.CSMMinSeverity) || len(st.Components) == 0 {
		return nil, nil
	}
	customers, err := customersUsing(ctx, tx, st.Components)
	if err != nil || len(customers) == 0 {
		return nil, err
	}
	names, err := componentNames(ctx, tx, st.Components)
	if err != nil {
		return nil, err
	}
	var out []delivery.Message
	for _, cu := range customers {
		var touched []string
		for _, slug := range st.Components {
			if slices.Contains(cu.Components, slug) {
				touched = append(touched, slug)
			}
		}
		subject := fmt.Sprintf("For %s: %s — %s", cu.Name, st.Title, u.Status)
		out = append(out, email(TopicCustomerUpdate, st.Key, []string{cu.CSMEmail, cu.TCSMEmail}, subject,
			s.customerUpdate(st, u, cu.Name, names, touched))...)
	}
	return out, nil
}

// ticketBody is what a ticket system receives for each published update, once per linked ticket.
type ticketBody struct {
	Event       string `json:"event"`
	System      string `json:"system"`
	TicketRef   string `json:"ticket_ref"`
	TicketURL   string `json:"ticket_url,omitempty"`
	IncidentKey string `json:"incident_key"`
	Title       string `json:"title"`
	Status      string `json:"status"`
	Body        string `json:"body"`
	PublishedAt string `json:"published_at"`
	Permalink   string `json:"permalink"`
}

// tickets sends one signed webhook per linked ticket whose system has an integration, each recorded as a pending
// delivery its result hook completes.
func (s *Service) tickets(ctx context.Context, tx pgx.Tx, st workflow.Incident, u workflow.Update) ([]delivery.Message, error) {
	if len(st.Tickets) == 0 {
		return nil, nil
	}
	systems, err := ticketSystemsByName(ctx, tx)
	if err != nil {
		return nil, err
	}
	var out []delivery.Message
	for _, t := range st.Tickets {
		sys, ok := systems[strings.ToLower(t.System)]
		if !ok {
			continue
		}
		ref, err := addTicketDelivery(ctx, tx, st.ID, t.ID, u.ID, sys.Name, s.now())
		if err != nil {
			return nil, err
		}
		if ref == "" {
			continue
		}
		body, err := json.Marshal(ticketBody{Event: "incident.update", System: t.System, TicketRef: t.Ref, TicketURL: t.URL,
			IncidentKey: st.Key, Title: st.Title, Status: string(u.Status), Body: u.Body,
			PublishedAt: u.PublishedAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00"), Permalink: s.permalink(st.Key)})
		if err != nil {
			return nil, domain.Internal(err)
		}
		out = append(out, delivery.Message{Channel: delivery.ChannelWebhook, To: sys.URL, Topic: TopicTicket,
			IncidentKey: st.Key, Ref: ref, Secret: sys.Secret, Body: body})
	}
	return out, nil
}

// TicketResult is the delivery.ResultHook of ticket webhooks: it logs each attempt's outcome on the ticket link.
func (s *Service) TicketResult(ctx context.Context, r delivery.Result) error {
	status := "pending"
	switch {
	case r.Delivered:
		status = "delivered"
	case r.Final:
		status = "failed"
	}
	at := r.At
	if at.IsZero() {
		at = s.now()
	}
	return s.store.recordTicketResult(ctx, r.Message.Ref, status, r.Attempt, r.Error, at.UTC())
}
