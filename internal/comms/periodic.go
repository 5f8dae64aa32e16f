package comms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/workflow"
)

// Kinds of periodic messages, as recorded in comms_sent.
const (
	sentStakeholderCadence = "stakeholder_cadence"
	sentUpdateOverdue      = "update_overdue"
)

// eachOpenMajor calls fn for every open major incident; one incident's failure does not stop the others.
func (s *Service) eachOpenMajor(ctx context.Context, fn func(incident.Record) error) error {
	open := true
	var errs []error
	for cursor := ""; ; {
		recs, next, err := s.d.Incidents.List(ctx, incident.ListFilter{Kind: domain.KindMajor, Open: &open, Limit: 200, After: cursor})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if rec.State.IsOpen() {
				if err := fn(rec); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", rec.State.Key, err))
				}
			}
		}
		if next == "" {
			return errors.Join(errs...)
		}
		cursor = next
	}
}

// declaredAt is when the incident was declared.
func declaredAt(rec incident.Record) time.Time {
	if t, ok := rec.State.Milestones[domain.MilestoneDeclared]; ok {
		return t
	}
	return rec.CreatedAt
}

// RunCadence sends, for each open major incident, the stakeholder summary of each cadence interval since its
// declaration, and the reminder to its Incident Commander and Communications Lead when its update is overdue. Each
// is recorded with its due time in the transaction that enqueues it, so it goes out once per due time however often
// this runs, on however many processes.
func (s *Service) RunCadence(ctx context.Context) error {
	if s.d.Enqueue == nil {
		return nil
	}
	now := s.now()
	return s.eachOpenMajor(ctx, func(rec incident.Record) error { return s.cadenceOf(ctx, rec, now) })
}

func (s *Service) cadenceOf(ctx context.Context, rec incident.Record, now time.Time) error {
	tx, err := s.d.Pool.Begin(ctx)
	if err != nil {
		return mapError(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	st, err := lockIncident(ctx, tx, rec.State.ID)
	if err != nil {
		return err
	}
	if st.Kind != domain.KindMajor || !st.IsOpen() {
		return nil // concluded (or demoted) since it was listed
	}
	rec.State = st
	var msgs []delivery.Message
	interval := s.d.Cadence.Interval(st.Criteria.Severity)
	if since := declaredAt(rec); interval > 0 && now.Sub(since) >= interval {
		slot := since.Add(now.Sub(since) / interval * interval)
		fresh, err := markSent(ctx, tx, st.ID, sentStakeholderCadence, slot, now)
		if err != nil {
			return err
		}
		if fresh {
			lists, err := listsFor(ctx, tx, st.Criteria.Severity)
			if err != nil {
				return err
			}
			var to []string
			for _, l := range lists {
				to = append(to, l.Emails...)
			}
			subject := fmt.Sprintf("[%s %s] %s — summary at %s", st.Key, st.Criteria.Severity, st.Title,
				slot.UTC().Format("15:04 MST"))
			text := fmt.Sprintf("Summary of an open major incident, every %s.\n\n%s", interval, s.internalSummary(st))
			msgs = append(msgs, email(TopicStakeholder, st.Key, to, subject, text)...)
		}
	}
	if clk := st.UpdateClock(s.d.Cadence); clk.Overdue(now) {
		fresh, err := markSent(ctx, tx, st.ID, sentUpdateOverdue, clk.DueAt, now)
		if err != nil {
			return err
		}
		if fresh {
			var to []string
			for _, h := range []*workflow.RoleHolder{st.Roles.IncidentCommander, st.Roles.CommunicationsLead} {
				if h != nil {
					to = append(to, h.Email)
				}
			}
			subject := fmt.Sprintf("[%s] Update overdue since %s: %s", st.Key, clk.DueAt.UTC().Format("15:04 MST"), st.Title)
			text := fmt.Sprintf("The next status update of %s was due at %s (every %s at severity %s) and none has been published.\n"+
				"Draft and publish one now.\n\n%s", st.Key, clk.DueAt.UTC().Format("2006-01-02 15:04 MST"), clk.Interval,
				st.Criteria.Severity, s.internalSummary(st))
			msgs = append(msgs, email(TopicOverdue, st.Key, to, subject, text)...)
		}
	}
	if len(msgs) > 0 {
		if err := s.d.Enqueue.Enqueue(ctx, tx, msgs); err != nil {
			return err
		}
	}
	return mapError(tx.Commit(ctx))
}

// RunAckTimeout escalates, hierarchically and automatically, each open major incident that no Incident Commander
// acknowledged within the timeout of its declaration (or promotion). The escalation is an incident command (on the timeline, and
// its messages go out through React); the workflow refuses a second automatic escalation, so this happens once.
func (s *Service) RunAckTimeout(ctx context.Context) error {
	now := s.now()
	return s.eachOpenMajor(ctx, func(rec incident.Record) error {
		st := rec.State
		// An acknowledged IC is a guard of leaving Detection & Declaration, so the wait is counted from entering it
		// (the declaration, or the promotion to major).
		if _, acked := st.Milestones[domain.MilestoneICAcknowledged]; acked || st.Stage != domain.StageDetectionDeclaration ||
			now.Sub(st.StageEnteredAt) < s.d.AckTimeout {
			return nil
		}
		for _, e := range st.Escalations {
			if e.Automatic {
				return nil
			}
		}
		_, err := s.d.Incidents.Execute(ctx, domain.SystemActor, st.ID, nil, workflow.Escalate{
			Kind: domain.EscalationHierarchical, Target: AutomaticEscalationTarget, Automatic: true,
			Reason: fmt.Sprintf("no Incident Commander acknowledged within %s of the declaration", s.d.AckTimeout)})
		var de *domain.Error
		if errors.As(err, &de) && de.Code == "already_escalated" {
			return nil // another runner got there first
		}
		if err == nil {
			s.d.Logger.Info("escalated automatically: no Incident Commander acknowledged", "incident", st.Key,
				"timeout", s.d.AckTimeout.String())
		}
		return err
	})
}
