package subscription

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
)

// EmailEventType is what the email provider reports about an address (BC-32).
type EmailEventType string

// Email event types.
const (
	// HardBounce: the address does not exist or refuses mail for good. It suppresses the subscriber (bounced).
	HardBounce EmailEventType = "hard_bounce"
	// SoftBounce: a full mailbox, a busy server. It is counted, and suppresses nothing.
	SoftBounce EmailEventType = "soft_bounce"
	// Complaint: the recipient marked a message as spam. It suppresses the subscriber (complained) at once, and
	// only an explicit admin override lifts it.
	Complaint EmailEventType = "complaint"
)

// Valid reports whether t is a known event type.
func (t EmailEventType) Valid() bool {
	return t == HardBounce || t == SoftBounce || t == Complaint
}

// EmailEvent is one bounce or complaint, as the provider's webhook reported it.
type EmailEvent struct {
	// ID is the provider's event id: the same id is applied once, however often it is posted.
	ID     string
	Type   EmailEventType
	Email  string
	Reason string
	// At is when it happened, per the provider; the zero time means when it was received.
	At time.Time
}

// EmailEventResult says what an event did.
type EmailEventResult string

// Email event results.
const (
	EventApplied   EmailEventResult = "applied"   // the subscriber's state changed or the soft bounce was counted
	EventDuplicate EmailEventResult = "duplicate" // this event id was handled before: nothing changed
	EventUnknown   EmailEventResult = "unknown"   // no subscriber has the address: stored, nothing else
	// EventStale: the event is dated before the subscriber's last reactivation: stored, nothing else (an admin's
	// reactivation is not undone by a late report of what happened before it).
	EventStale EmailEventResult = "stale"
)

// maxReason bounds a stored reason: providers send whole SMTP transcripts.
const maxReason = 500

// RecordEmailEvent applies a provider's bounce or complaint to the email subscriber of its address, in one
// transaction with the record of its id, so a second delivery of the same event changes nothing. A hard bounce
// makes the subscriber bounced, a complaint complained (a complaint also outranks an earlier bounce; a bounce
// never turns a complaint back); a soft bounce is counted. It returns invalid for a malformed event.
func (s *Service) RecordEmailEvent(ctx context.Context, ev EmailEvent) (EmailEventResult, error) {
	var v domain.Validator
	ev.ID = strings.TrimSpace(ev.ID)
	v.Check(ev.ID != "" && len(ev.ID) <= 200 && utf8.ValidString(ev.ID), "event_id", "is required, at most 200 characters")
	v.Check(ev.Type.Valid(), "type", "must be hard_bounce, soft_bounce or complaint")
	addr, err := NormalizeEmail(ev.Email)
	v.Check(err == nil, "email", "is not an email address")
	if err := v.Err(); err != nil {
		return "", err
	}
	ev.Email = addr
	ev.Reason = clip(strings.TrimSpace(strings.ToValidUTF8(ev.Reason, "")), maxReason)
	// The provider's time is taken when it is plausible; one in the future or years back is replaced by now.
	if now := s.now(); ev.At.IsZero() || ev.At.After(now.Add(5*time.Minute)) || ev.At.Before(now.AddDate(-1, 0, 0)) {
		ev.At = now
	}
	if ev.Reason == "" {
		ev.Reason = defaultReason[ev.Type]
	}
	result := EventApplied
	err = s.Store.InTx(ctx, func(tx pgx.Tx) error {
		sub, err := s.Store.Lock(ctx, tx, "", addr)
		known := err == nil
		if err != nil && domain.AsError(err).Kind != domain.ErrNotFound {
			return err
		}
		subID := ""
		if known {
			subID = sub.ID
		}
		fresh, err := s.Store.RecordEmailEvent(ctx, tx, ev, subID)
		if err != nil {
			return err
		}
		switch {
		case !fresh:
			result = EventDuplicate
			return nil
		case !known:
			result = EventUnknown
			return nil
		}
		at := ev.At
		if sub.ReactivatedAt != nil && at.Before(*sub.ReactivatedAt) {
			result = EventStale
			return nil
		}
		switch ev.Type {
		case SoftBounce:
			sub.SoftBounces++
			sub.LastSoftBounceAt, sub.LastSoftBounceReason = &at, ev.Reason
		case HardBounce:
			if sub.Status == StatusComplained || sub.Status == StatusBounced {
				return nil // already suppressed; a complaint stays a complaint
			}
			sub.Status, sub.StatusReason, sub.StatusAt = StatusBounced, "hard bounce: "+ev.Reason, &at
		case Complaint:
			if sub.Status == StatusComplained {
				return nil
			}
			sub.Status, sub.StatusReason, sub.StatusAt = StatusComplained, "complaint: "+ev.Reason, &at
		}
		return s.Store.Save(ctx, tx, sub)
	})
	return result, err
}

var defaultReason = map[EmailEventType]string{HardBounce: "reported by the email provider",
	SoftBounce: "reported by the email provider", Complaint: "marked as spam by the recipient"}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Deactivate marks a subscriber whose target is gone for good (the delivery engine's OnGone): an email subscriber
// refused by the mail server (SMTP 5xx on RCPT) is bounced, a URL one gone. A complained subscriber stays
// complained.
func (s *Service) Deactivate(ctx context.Context, id, reason string) error {
	sub, err := s.Store.Get(ctx, id)
	if domain.AsError(err).Kind == domain.ErrNotFound {
		return nil // deleted meanwhile: nothing left to stop
	}
	if err != nil {
		return err
	}
	if sub.Status == StatusComplained {
		return nil
	}
	st := StatusGone
	if sub.Channel == delivery.ChannelEmail {
		st = StatusBounced
	}
	return s.Store.SetStatus(ctx, id, st, reason, s.now())
}

// Suppressed reports whether the subscriber of id may be sent nothing now: bounced, complained or gone (the
// delivery engine's check before each attempt). A subscriber deleted meanwhile is not suppressed here.
func (s *Service) Suppressed(ctx context.Context, id string) (bool, error) {
	sub, err := s.Store.Get(ctx, id)
	if domain.AsError(err).Kind == domain.ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sub.Status.Suppressed(), nil
}

// Reactivation is an admin's request to make a suppressed subscriber eligible again.
type Reactivation struct {
	// By names the admin, for the record.
	By string
	// Override must be true to reactivate a complained subscriber, with a Reason.
	Override bool
	Reason   string
}

// Reactivate makes a bounced or gone subscriber active again (an admin's call, after fixing the target), and
// records who did it and when on the subscriber. A complained subscriber is refused (conflict,
// complaint_override_required) unless r.Override is set with a reason. Anything else is conflict, not_deactivated.
func (s *Service) Reactivate(ctx context.Context, id string, r Reactivation) (Subscriber, error) {
	r.Reason = clip(strings.TrimSpace(r.Reason), maxReason)
	var out Subscriber
	err := s.Store.InTx(ctx, func(tx pgx.Tx) error {
		sub, err := s.Store.Lock(ctx, tx, id, "")
		if err != nil {
			return err
		}
		switch {
		case sub.Status == StatusComplained && !r.Override:
			return &domain.Error{Kind: domain.ErrConflict, Code: "complaint_override_required",
				Message: "this subscriber reported our mail as spam; reactivate it only with " +
					`{"override": true, "reason": "..."}` + ", for instance after they asked to hear from us again"}
		case sub.Status == StatusComplained && r.Reason == "":
			return domain.Invalid(domain.FieldError{Field: "reason", Message: "is required to override a complaint"})
		case !sub.Status.Suppressed():
			return &domain.Error{Kind: domain.ErrConflict, Code: "not_deactivated",
				Message: "only a bounced, complained or gone subscriber can be reactivated; this one is " + string(sub.Status)}
		}
		now := s.now()
		from := sub.Status
		sub.Status, sub.StatusAt = StatusActive, &now
		sub.StatusReason = "reactivated by " + r.By
		if from == StatusComplained {
			sub.StatusReason = "complaint overridden by " + r.By
		}
		sub.ReactivatedAt, sub.ReactivatedBy, sub.ReactivatedFrom = &now, r.By, from
		sub.ReactivationReason, sub.ReactivationOverride = r.Reason, from == StatusComplained
		if err := s.Store.Save(ctx, tx, sub); err != nil {
			return err
		}
		out = sub
		return nil
	})
	return out, err
}
