package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postincident"
)

// deadlineItem is a pending PIR, RCA or action with the people to remind of it.
type deadlineItem struct {
	postincident.Deadline
	reminderKey string
	ic          *domain.Person
}

// pending lists every PIR, RCA and action not yet finished that is due before until, soonest first.
func (s *PostIncidentStore) pending(ctx context.Context, q querier, until time.Time) ([]deadlineItem, error) {
	// Each incident's commander is read out of its state once, not once per late action (MATERIALIZED): the state
	// is the largest value in the row.
	rows, err := q.Query(ctx, `
		WITH docs AS MATERIALIZED (
			SELECT kind, incident_id, status, due_at FROM post_incident_documents
			WHERE status <> 'published' AND due_at < $1),
		acts AS MATERIALIZED (
			SELECT a.id, a.incident_id, a.title, a.status, a.due_at, u.id AS owner_id, u.name, u.email
			FROM corrective_actions a JOIN users u ON u.id = a.owner_id
			WHERE a.status IN ('open', 'in_progress') AND a.due_at < $1),
		inc AS MATERIALIZED (
			SELECT i.id, i.key, i.title,
			       coalesce(i.state #>> '{roles,incident_commander,id}', '') AS ic_id,
			       coalesce(i.state #>> '{roles,incident_commander,name}', '') AS ic_name,
			       coalesce(i.state #>> '{roles,incident_commander,email}', '') AS ic_email
			FROM incidents i WHERE i.id IN (SELECT incident_id FROM docs UNION SELECT incident_id FROM acts))
		SELECT d.kind, d.incident_id::text, inc.key, inc.title, d.status, d.due_at, inc.ic_id, inc.ic_name,
		       inc.ic_email, '', '', ''
		FROM docs d JOIN inc ON inc.id = d.incident_id
		UNION ALL
		SELECT 'action', a.id::text, coalesce(inc.key, ''), a.title, a.status, a.due_at, coalesce(inc.ic_id, ''),
		       coalesce(inc.ic_name, ''), coalesce(inc.ic_email, ''), a.owner_id::text, a.name, a.email
		FROM acts a LEFT JOIN inc ON inc.id = a.incident_id
		ORDER BY 6, 1, 2`, until)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	now := s.now()
	var out []deadlineItem
	for rows.Next() {
		var it deadlineItem
		var id string
		var ic, owner domain.Person
		if err := rows.Scan(&it.Kind, &id, &it.IncidentKey, &it.Title, &it.Status, &it.DueAt, &ic.UserID, &ic.Name,
			&ic.Email, &owner.UserID, &owner.Name, &owner.Email); err != nil {
			return nil, mapError(err)
		}
		it.Overdue = now.After(it.DueAt)
		if ic.UserID != "" {
			it.ic = &ic
		}
		it.reminderKey = it.Kind + ":" + id
		if it.Kind == "action" {
			it.ID, it.Owner = id, &owner
		} else {
			// A PIR's or RCA's owner is the incident's commander.
			it.Title = strings.ToUpper(it.Kind) + " of " + it.IncidentKey + ": " + it.Title
			it.Owner = it.ic
		}
		out = append(out, it)
	}
	return out, mapError(rows.Err())
}

// Deadlines lists what is late and what falls due within the next window, soonest first.
func (s *PostIncidentStore) Deadlines(ctx context.Context, window time.Duration) (overdue, dueSoon []postincident.Deadline, err error) {
	items, err := s.pending(ctx, s.db.Pool, s.now().Add(window))
	if err != nil {
		return nil, nil, err
	}
	overdue, dueSoon = []postincident.Deadline{}, []postincident.Deadline{}
	for _, it := range items {
		if it.Overdue {
			overdue = append(overdue, it.Deadline)
		} else {
			dueSoon = append(dueSoon, it.Deadline)
		}
	}
	return overdue, dueSoon, nil
}

// SendReminders reminds the owner (and the IC) of each overdue PIR, RCA and action, once per item: the reminder's
// key is recorded in the transaction that queues its emails, so a reminder is sent exactly when it is recorded.
// It returns how many items were reminded of; with no Enqueuer it does nothing.
func (s *PostIncidentStore) SendReminders(ctx context.Context) (int, error) {
	if s.Enqueuer == nil {
		return 0, nil
	}
	n := 0
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		now := s.now()
		items, err := s.pending(ctx, tx, now)
		if err != nil {
			return err
		}
		var msgs []delivery.Message
		for _, it := range items {
			tag, err := tx.Exec(ctx, `INSERT INTO post_incident_reminders (key, sent_at) VALUES ($1, $2)
				ON CONFLICT (key) DO NOTHING`, it.reminderKey, now)
			if err != nil {
				return mapError(err)
			}
			if tag.RowsAffected() == 0 {
				continue
			}
			n++
			msgs = append(msgs, s.reminder(it)...)
		}
		if len(msgs) == 0 {
			return nil
		}
		return s.Enqueuer.Enqueue(ctx, tx, msgs)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func (s *PostIncidentStore) reminder(it deadlineItem) []delivery.Message {
	var to []string
	seen := map[string]bool{}
	for _, p := range []*domain.Person{it.Owner, it.ic} {
		if p != nil && p.Email != "" && !seen[strings.ToLower(p.Email)] {
			seen[strings.ToLower(p.Email)] = true
			to = append(to, p.Email)
		}
	}
	what := map[string]string{"pir": "Post Incident Report", "rca": "Root Cause Analysis", "action": "Corrective action"}[it.Kind]
	subject := fmt.Sprintf("Overdue: %s — %s", what, it.Title)
	var b strings.Builder
	fmt.Fprintf(&b, "%s is overdue.\n\n%s\nDue: %s\nStatus: %s\n", what, it.Title,
		it.DueAt.In(s.Location).Format("Mon 2 Jan 2006 15:04 MST"), it.Status)
	if it.IncidentKey != "" {
		fmt.Fprintf(&b, "Incident: %s\n", it.IncidentKey)
	}
	if s.BaseURL != "" {
		fmt.Fprintf(&b, "\n%s/app/post-incident\n", strings.TrimRight(s.BaseURL, "/"))
	}
	out := make([]delivery.Message, 0, len(to))
	for _, addr := range to {
		out = append(out, delivery.Message{Channel: delivery.ChannelEmail, To: addr, Topic: it.Kind + ".overdue",
			IncidentKey: it.IncidentKey, Ref: it.reminderKey, Subject: subject, Text: b.String()})
	}
	return out
}

// Periodic is the deadline check for the leader's scheduler: every interval it sends the reminders due.
func (s *PostIncidentStore) Periodic(every time.Duration) delivery.Periodic {
	return delivery.Periodic{Name: "post-incident-reminders", Every: every, Run: func(ctx context.Context) error {
		_, err := s.SendReminders(ctx)
		return err
	}}
}
