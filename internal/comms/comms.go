// Package comms is mim's internal communication from the major-incident process (brief §4): stakeholder lists by
// severity, the update cadence and its overdue reminders, customer success managers, customer-bridge invitations,
// escalations by email and chat, and ticket-system webhooks. It builds delivery.Messages and hands them to the
// delivery engine inside the transaction of the change that causes them, so a message exists exactly when its change
// committed; what it sends on a timer is declared as delivery.Periodic tasks, driven by an injected clock.
package comms

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/workflow"
)

// Deps is what the service needs. Enqueue may be nil: then nothing is sent (a mim without a delivery engine).
type Deps struct {
	Pool      *pgxpool.Pool
	Enqueue   delivery.Enqueuer
	Incidents *incident.Service
	// Now is the clock of every time-dependent decision; nil means time.Now.
	Now     func() time.Time
	Cadence workflow.Cadence
	// BaseURL is mim's public URL, for the incident's permalink in messages.
	BaseURL string
	// ChatWebhookURL is a Slack-compatible incoming webhook that hears about escalations; empty sends none.
	ChatWebhookURL string
	// CSMMinSeverity is the least severity whose published updates reach customer success managers.
	CSMMinSeverity domain.Severity
	// AckTimeout is how long a major incident may wait for an acknowledged Incident Commander before mim escalates
	// it to the executive sponsors by itself.
	AckTimeout time.Duration
	// CheckEvery is how often the periodic tasks run; default one minute.
	CheckEvery time.Duration
	// Guard checks a ticket system's URL when it is saved, as subscriber URLs are; nil checks only its form.
	Guard  *delivery.Guard
	Logger *slog.Logger
}

// Service produces internal communication and stores who receives it.
type Service struct {
	d     Deps
	store store
}

// Topics of the messages this package produces, for the delivery log and result hooks.
const (
	TopicStakeholder    = "stakeholder.update"
	TopicOverdue        = "reminder.update_overdue"
	TopicCustomerUpdate = "csm.update"
	TopicBridgeInvite   = "bridge.invitation"
	TopicEscalation     = "escalation"
	TopicTicket         = "ticket.update"
)

// AutomaticEscalationTarget is whom the automatic escalation engages: the incident's executive sponsors, and the
// resolver group of this name when one is configured (an executives' mailing list).
const AutomaticEscalationTarget = "executive sponsors"

// New makes the service with its defaults filled in.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	d.Cadence = d.Cadence.OrDefault()
	if d.CSMMinSeverity == "" {
		d.CSMMinSeverity = domain.SeverityHigh
	}
	if d.AckTimeout <= 0 {
		d.AckTimeout = 10 * time.Minute
	}
	if d.CheckEvery <= 0 {
		d.CheckEvery = time.Minute
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, store: store{pool: d.Pool}}
}

// SetEnqueuer gives the service its delivery engine after it was made, for an engine that must be built with the
// service's Periodic tasks: comms.New, then delivery.New(…, Periodic()…), then SetEnqueuer. Call it before the
// service is used.
func (s *Service) SetEnqueuer(e delivery.Enqueuer) { s.d.Enqueue = e }

// Periodic is the work mim does on a timer, to be run on one elected leader: the stakeholder cadence summaries and
// overdue-update reminders, and the automatic escalation. Each is idempotent on its own, so a second runner or a
// restart never sends anything twice.
func (s *Service) Periodic() []delivery.Periodic {
	return []delivery.Periodic{
		{Name: "comms.cadence", Every: s.d.CheckEvery, Run: s.RunCadence},
		{Name: "comms.ack_timeout", Every: s.d.CheckEvery, Run: s.RunAckTimeout},
	}
}

// ResultHooks are the delivery.ResultHooks by topic this package needs registered: the outcome of each ticket
// webhook is logged on its ticket link.
func (s *Service) ResultHooks() map[string]delivery.ResultHook {
	return map[string]delivery.ResultHook{TopicTicket: s.TicketResult}
}

func (s *Service) now() time.Time { return s.d.Now().UTC().Truncate(time.Microsecond) }
