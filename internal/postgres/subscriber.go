package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/subscription"
)

// SubscriberStore keeps the status page's public subscribers.
type SubscriberStore struct{ db *DB }

// NewSubscriberStore returns the subscriber store over db.
func NewSubscriberStore(db *DB) *SubscriberStore { return &SubscriberStore{db: db} }

var _ subscription.Store = (*SubscriberStore)(nil)

// InTx runs fn in one transaction.
func (s *SubscriberStore) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.db.inTx(ctx, fn)
}

const subscriberColumns = `s.id::text, s.channel, s.address, s.secret, s.status, s.status_reason, s.confirm_hash,
	s.confirm_expires, s.confirm_sent_at, s.confirmed_at, s.created_at, s.updated_at,
	s.status_at, s.soft_bounces, s.last_soft_bounce_at, s.last_soft_bounce_reason,
	s.reactivated_at, s.reactivated_by, s.reactivated_from, s.reactivation_reason, s.reactivation_override,
	CASE WHEN s.all_components THEN '{}'::text[]
		ELSE ARRAY(SELECT component FROM subscriber_components c WHERE c.subscriber_id = s.id ORDER BY component) END`

func scanSubscriber(row pgx.Row) (subscription.Subscriber, error) {
	var sub subscription.Subscriber
	err := row.Scan(&sub.ID, &sub.Channel, &sub.Address, &sub.Secret, &sub.Status, &sub.StatusReason,
		&sub.ConfirmHash, &sub.ConfirmExpiry, &sub.ConfirmSentAt, &sub.ConfirmedAt, &sub.CreatedAt, &sub.UpdatedAt,
		&sub.StatusAt, &sub.SoftBounces, &sub.LastSoftBounceAt, &sub.LastSoftBounceReason,
		&sub.ReactivatedAt, &sub.ReactivatedBy, &sub.ReactivatedFrom, &sub.ReactivationReason, &sub.ReactivationOverride,
		&sub.Components)
	return sub, err
}

// Claim finds or creates the subscriber of (channel, address) and locks it: parallel submits of one address make
// one row (the unique constraint decides).
func (s *SubscriberStore) Claim(ctx context.Context, tx pgx.Tx, sub subscription.Subscriber) (subscription.Subscriber, bool, error) {
	var created bool
	var id string
	err := tx.QueryRow(ctx, `INSERT INTO subscribers (id, channel, address, status, all_components)
		VALUES ($1, $2, $3, $4, true)
		ON CONFLICT (channel, address) DO UPDATE SET updated_at = subscribers.updated_at
		RETURNING id::text, (xmax = 0)`, sub.ID, sub.Channel, sub.Address, sub.Status).Scan(&id, &created)
	if err != nil {
		return sub, false, mapError(err)
	}
	got, err := scanSubscriber(tx.QueryRow(ctx, `SELECT `+subscriberColumns+` FROM subscribers s WHERE id = $1 FOR UPDATE`, id))
	if err != nil {
		return sub, false, mapError(err)
	}
	return got, created, nil
}

// Save writes the subscriber's state (status, confirmation, secret, bounces, reactivation) and replaces its
// components (each once: BC-17).
func (s *SubscriberStore) Save(ctx context.Context, tx pgx.Tx, sub subscription.Subscriber) error {
	_, err := tx.Exec(ctx, `UPDATE subscribers SET status = $2, status_reason = $3, secret = $4, confirm_hash = $5,
			confirm_expires = $6, confirm_sent_at = $7, confirmed_at = $8, all_components = $9,
			status_at = $10, soft_bounces = $11, last_soft_bounce_at = $12, last_soft_bounce_reason = $13,
			reactivated_at = $14, reactivated_by = $15, reactivated_from = $16, reactivation_reason = $17,
			reactivation_override = $18, updated_at = now()
		WHERE id = $1`, sub.ID, sub.Status, sub.StatusReason, sub.Secret, sub.ConfirmHash, sub.ConfirmExpiry,
		sub.ConfirmSentAt, sub.ConfirmedAt, len(sub.Components) == 0,
		sub.StatusAt, sub.SoftBounces, sub.LastSoftBounceAt, sub.LastSoftBounceReason,
		sub.ReactivatedAt, sub.ReactivatedBy, sub.ReactivatedFrom, sub.ReactivationReason, sub.ReactivationOverride)
	if err != nil {
		return mapError(err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM subscriber_components WHERE subscriber_id = $1`, sub.ID); err != nil {
		return mapError(err)
	}
	if len(sub.Components) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO subscriber_components (subscriber_id, component)
			SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, sub.ID, sub.Components); err != nil {
			return mapError(err)
		}
	}
	return nil
}

// Get reads a subscriber by id.
func (s *SubscriberStore) Get(ctx context.Context, id string) (subscription.Subscriber, error) {
	if !isUUID(id) {
		return subscription.Subscriber{}, notFound("subscriber", id)
	}
	sub, err := scanSubscriber(s.db.Pool.QueryRow(ctx, `SELECT `+subscriberColumns+` FROM subscribers s WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return sub, notFound("subscriber", id)
	}
	return sub, mapError(err)
}

// ByConfirmHash reads the subscriber whose confirmation token hashes to hash.
func (s *SubscriberStore) ByConfirmHash(ctx context.Context, hash []byte) (subscription.Subscriber, error) {
	sub, err := scanSubscriber(s.db.Pool.QueryRow(ctx, `SELECT `+subscriberColumns+` FROM subscribers s
		WHERE confirm_hash = $1`, hash))
	return sub, mapError(err)
}

// List reads subscribers, newest first, all or of one status.
func (s *SubscriberStore) List(ctx context.Context, st subscription.Status) ([]subscription.Subscriber, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+subscriberColumns+` FROM subscribers s
		WHERE $1 = '' OR s.status = $1 ORDER BY s.created_at DESC, s.id DESC LIMIT 1000`, string(st))
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (subscription.Subscriber, error) { return scanSubscriber(r) })
	return out, mapError(err)
}

// Delete removes a subscriber.
func (s *SubscriberStore) Delete(ctx context.Context, id string) error {
	if !isUUID(id) {
		return notFound("subscriber", id)
	}
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM subscribers WHERE id = $1`, id)
	if err != nil {
		return mapError(err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("subscriber", id)
	}
	return nil
}

// SetStatus changes a subscriber's status, with why and since when.
func (s *SubscriberStore) SetStatus(ctx context.Context, id string, st subscription.Status, reason string, at time.Time) error {
	if !isUUID(id) {
		return notFound("subscriber", id)
	}
	_, err := s.db.Pool.Exec(ctx, `UPDATE subscribers SET status = $2, status_reason = $3, status_at = $4,
		updated_at = now() WHERE id = $1`, id, st, reason, at)
	return mapError(err)
}

// Lock reads the subscriber of id, or the email subscriber of email when id is empty, locked until tx ends.
func (s *SubscriberStore) Lock(ctx context.Context, tx pgx.Tx, id, email string) (subscription.Subscriber, error) {
	var row pgx.Row
	if id != "" {
		if !isUUID(id) {
			return subscription.Subscriber{}, notFound("subscriber", id)
		}
		row = tx.QueryRow(ctx, `SELECT `+subscriberColumns+` FROM subscribers s WHERE s.id = $1 FOR UPDATE`, id)
	} else {
		id = email
		row = tx.QueryRow(ctx, `SELECT `+subscriberColumns+` FROM subscribers s
			WHERE s.channel = 'email' AND s.address = $1 FOR UPDATE`, email)
	}
	sub, err := scanSubscriber(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return sub, notFound("subscriber", id)
	}
	return sub, mapError(err)
}

// RecordEmailEvent stores a provider's event by its id; false when the id was stored before.
func (s *SubscriberStore) RecordEmailEvent(ctx context.Context, tx pgx.Tx, ev subscription.EmailEvent, subscriberID string) (bool, error) {
	var sid *string
	if subscriberID != "" {
		sid = &subscriberID
	}
	tag, err := tx.Exec(ctx, `INSERT INTO email_events (event_id, type, email, reason, occurred_at, subscriber_id)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING`,
		ev.ID, ev.Type, ev.Email, ev.Reason, ev.At, sid)
	if err != nil {
		return false, mapError(err)
	}
	return tag.RowsAffected() == 1, nil
}

// Recipients reads the active subscribers following any of components, or all components, each once.
func (s *SubscriberStore) Recipients(ctx context.Context, tx pgx.Tx, components []string) ([]subscription.Subscriber, error) {
	rows, err := tx.Query(ctx, `SELECT s.id::text, s.channel, s.address, s.secret FROM subscribers s
		WHERE s.status = 'active' AND (s.all_components OR EXISTS (
			SELECT 1 FROM subscriber_components c WHERE c.subscriber_id = s.id AND c.component = ANY($1)))`,
		components)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (subscription.Subscriber, error) {
		var sub subscription.Subscriber
		err := r.Scan(&sub.ID, &sub.Channel, &sub.Address, &sub.Secret)
		return sub, err
	})
	return out, mapError(err)
}

// ComponentSlugs lists the slugs of every component.
func (s *SubscriberStore) ComponentSlugs(ctx context.Context) ([]string, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT slug FROM components`)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, mapError(err)
}

// Components reads the name and status of each of the components by slug.
func (s *SubscriberStore) Components(ctx context.Context, tx pgx.Tx, slugs []string) (map[string]subscription.ComponentInfo, error) {
	out := map[string]subscription.ComponentInfo{}
	if len(slugs) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT slug, name, status FROM components WHERE slug = ANY($1)`, slugs)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var slug string
		var c subscription.ComponentInfo
		if err := rows.Scan(&slug, &c.Name, &c.Status); err != nil {
			return nil, mapError(err)
		}
		out[slug] = c
	}
	return out, mapError(rows.Err())
}

// RecordMaintenanceNotice records a maintenance phase as announced; false when it already was.
func (s *SubscriberStore) RecordMaintenanceNotice(ctx context.Context, tx pgx.Tx, maintenanceID string, occurrence time.Time, phase string) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO maintenance_notices (maintenance_id, occurrence, phase) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, maintenanceID, occurrence, phase)
	if err != nil {
		return false, mapError(err)
	}
	return tag.RowsAffected() == 1, nil
}

// HoldComponent records that a status change of the component is held back from subscribers by a maintenance
// window, with the status they were last told; a component already held keeps the status told before its first
// held change.
func (s *SubscriberStore) HoldComponent(ctx context.Context, tx pgx.Tx, slug string, told domain.ComponentStatus, at time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO component_holds (component, told_status, held_at) VALUES ($1, $2, $3)
		ON CONFLICT (component) DO NOTHING`, slug, told, at)
	return mapError(err)
}

// ReleaseHolds deletes the holds of every component not in covered and returns them with each component's name and
// current status. The delete takes the rows: of processes releasing at once, each hold goes to exactly one.
func (s *SubscriberStore) ReleaseHolds(ctx context.Context, tx pgx.Tx, covered []string) ([]subscription.Hold, error) {
	if covered == nil {
		covered = []string{}
	}
	rows, err := tx.Query(ctx, `DELETE FROM component_holds h USING components c
		WHERE c.slug = h.component AND NOT (h.component = ANY($1))
		RETURNING h.component, c.name, h.told_status, c.status, h.held_at`, covered)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (subscription.Hold, error) {
		var h subscription.Hold
		err := r.Scan(&h.Slug, &h.Name, &h.Told, &h.Now, &h.HeldAt)
		return h, err
	})
	return out, mapError(err)
}

// Key returns the named key, creating a random one on first use; every process of the database shares it.
func (s *SubscriberStore) Key(ctx context.Context, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	var key []byte
	// DO UPDATE (a no-op) rather than DO NOTHING: it waits for a concurrent first insert and returns the stored
	// key, where a SELECT beside DO NOTHING saw neither row and answered none.
	err := s.db.Pool.QueryRow(ctx, `INSERT INTO delivery_keys (name, key) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING key`, name, fresh).Scan(&key)
	if err != nil {
		return nil, mapError(err)
	}
	return key, nil
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}
