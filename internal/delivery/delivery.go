// Package delivery sends mim's notifications — email, signed webhooks, Slack and Teams messages — through a
// Postgres-backed job queue, so a message exists exactly when the change that caused it committed, survives crashes,
// is retried with backoff, and is recorded in the delivery log.
//
// Producers (public subscriptions, internal communication, post-incident reminders) build Messages and hand them to
// an Enqueuer inside their own transaction. Periodic work (cadence checks, reminders, maintenance phases) is declared
// as Periodic tasks and run by one elected leader among the mim processes sharing the database.
package delivery

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channel is how a message travels.
type Channel string

// Channels.
const (
	ChannelEmail   Channel = "email"
	ChannelWebhook Channel = "webhook" // a JSON body POSTed and signed per Standard Webhooks
	ChannelSlack   Channel = "slack"   // a Slack (or Mattermost) incoming webhook: a Block Kit JSON body
	ChannelTeams   Channel = "teams"   // a Microsoft Teams workflow webhook: an Adaptive Card JSON body
)

// Message is one notification to one recipient.
type Message struct {
	Channel Channel `json:"channel"`
	// To is an email address (email) or an http(s) URL (the other channels).
	To string `json:"to"`
	// Topic says what the message is about, for the delivery log and for result hooks: for instance
	// "incident.update", "component.update", "maintenance.started", "subscription.confirm", "stakeholder.update",
	// "reminder.update_overdue", "ticket.update", "escalation", "pir.overdue".
	Topic string `json:"topic"`
	// IncidentKey names the incident the message is about, if any, for the delivery log.
	IncidentKey string `json:"incident_key,omitempty"`
	// SubscriberID, when set, names the public subscriber this goes to: a receiver answering 410, a Slack URL
	// reported gone or a hard bounce deactivates that subscriber.
	SubscriberID string `json:"subscriber_id,omitempty"`
	// Ref is handed back unchanged to result hooks (for instance the ticket link a ticket-system webhook is for).
	Ref string `json:"ref,omitempty"`
	// Secret signs webhook bodies (Standard Webhooks, base64 after the "whsec_" prefix); empty sends them unsigned.
	Secret string `json:"secret,omitempty"`

	// Email.
	Subject string            `json:"subject,omitempty"`
	Text    string            `json:"text,omitempty"`
	HTML    string            `json:"html,omitempty"`
	Headers map[string]string `json:"headers,omitempty"` // extra headers, e.g. List-Unsubscribe

	// Body is the JSON sent by the HTTP channels.
	Body json.RawMessage `json:"body,omitempty"`

	// Key, when set, names the event for this recipient (for instance subscriber, channel and update id): a second
	// message with a key already enqueued is dropped, so an event reaches a recipient once however often it is
	// enqueued (BC-20).
	Key string `json:"key,omitempty"`
	// Vars are per-recipient values substituted for {{name}} in Subject, Text, HTML, Headers and Body when the
	// message is sent. Messages of one Enqueue that differ only in To, SubscriberID, Ref, Secret, Key and Vars share
	// one stored content, which is what makes a fan-out to 100,000 recipients cheap.
	Vars map[string]string `json:"vars,omitempty"`
}

// Enqueuer queues messages inside the caller's transaction: they are delivered only if it commits.
type Enqueuer interface {
	Enqueue(ctx context.Context, tx pgx.Tx, msgs []Message) error
}

// Result is the outcome of one delivery attempt, handed to the result hooks of its topic.
type Result struct {
	Message Message
	Attempt int
	// Delivered is set when the receiver accepted the message.
	Delivered bool
	// Final is set when no further attempt will be made (delivered, dead-lettered or refused for good).
	Final bool
	Error string
	At    time.Time
}

// ResultHook learns the outcome of deliveries of one topic (for instance to log a ticket-system call on the ticket).
type ResultHook func(ctx context.Context, r Result) error

// Periodic is work that runs at an interval on one elected leader among the processes sharing the database.
type Periodic struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}
