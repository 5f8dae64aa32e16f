package delivery

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/mimhq/mim/internal/domain"
)

// The delivery log's SQL lives here rather than in internal/postgres: it is one concept with the River queue, and
// both write in the same transactions.

// Status is where a delivery is.
type Status string

// Statuses.
const (
	StatusPending   Status = "pending"
	StatusDelivered Status = "delivered"
	StatusRetrying  Status = "retrying"
	StatusDead      Status = "dead"
	StatusCancelled Status = "cancelled"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusDelivered, StatusRetrying, StatusDead, StatusCancelled:
		return true
	}
	return false
}

// Delivery is one entry of the delivery log, as admins see it: never the secret, never the full target of a URL
// (its query or path may be a credential, as in Slack's URLs).
type Delivery struct {
	ID           string     `json:"id"`
	Channel      Channel    `json:"channel"`
	Target       string     `json:"target"`
	Topic        string     `json:"topic"`
	IncidentKey  string     `json:"incident_key,omitempty"`
	SubscriberID string     `json:"subscriber_id,omitempty"`
	Status       Status     `json:"status"`
	Attempts     int        `json:"attempts"`
	LastError    string     `json:"last_error,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	DeliveredAt  *time.Time `json:"delivered_at,omitempty"`
}

// Store reads and writes the delivery log.
type Store struct {
	pool *pgxpool.Pool
}

// insertDeliveries writes the contents and the deliveries in bulk (unnest: one statement however many), skipping
// messages whose Key was enqueued before, and returns the ids inserted.
func insertDeliveries(ctx context.Context, tx pgx.Tx, rows []deliveryRow, contents map[uuid.UUID][]byte, batch *uuid.UUID) ([]string, error) {
	cids := make([]uuid.UUID, 0, len(contents))
	bodies := make([]string, 0, len(contents))
	for id, b := range contents {
		cids = append(cids, id)
		bodies = append(bodies, string(b))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO delivery_contents (id, content)
		SELECT * FROM unnest($1::uuid[], $2::text[])`, cids, bodies); err != nil {
		return nil, fmt.Errorf("delivery: insert contents: %w", err)
	}
	// Drop what was enqueued before under the same key. Producers enqueue one event under the lock of the thing it
	// is about (the incident row, the maintenance notice's key), so no other transaction races on the same keys;
	// the unique index still stops one slipping through.
	var keys []string
	for _, r := range rows {
		if r.msg.Key != "" {
			keys = append(keys, r.msg.Key)
		}
	}
	if len(keys) > 0 {
		kr, err := tx.Query(ctx, `SELECT dedupe_key FROM deliveries WHERE dedupe_key = ANY($1)`, keys)
		if err != nil {
			return nil, fmt.Errorf("delivery: check keys: %w", err)
		}
		seen, err := pgx.CollectRows(kr, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("delivery: check keys: %w", err)
		}
		done := make(map[string]bool, len(seen))
		for _, k := range seen {
			done[k] = true
		}
		kept := rows[:0:0]
		for _, r := range rows {
			if r.msg.Key == "" || !done[r.msg.Key] {
				if r.msg.Key != "" {
					done[r.msg.Key] = true // a key twice in one call is sent once too
				}
				kept = append(kept, r)
			}
		}
		rows = kept
	}
	ids := make([]string, len(rows))
	src := make([][]any, len(rows))
	for i, r := range rows {
		ids[i] = r.id.String()
		var sub, vars, key any
		if r.msg.SubscriberID != "" {
			sub = r.msg.SubscriberID
		}
		if r.vars != nil {
			vars = string(r.vars)
		}
		if r.msg.Key != "" {
			key = r.msg.Key
		}
		src[i] = []any{r.id, r.contentID, string(r.msg.Channel), r.msg.To, r.msg.Topic, r.msg.IncidentKey, sub,
			r.msg.Ref, r.msg.Secret, vars, key, batch}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"deliveries"}, []string{"id", "content_id", "channel", "target",
		"topic", "incident_key", "subscriber_id", "ref", "secret", "vars", "dedupe_key", "batch"},
		pgx.CopyFromRows(src)); err != nil {
		return nil, fmt.Errorf("delivery: insert deliveries: %w", err)
	}
	return ids, nil
}

// stored is a delivery as the worker needs it.
type stored struct {
	ID, Target, IncidentKey, SubscriberID, Ref, Secret string
	Status                                             Status
	Content                                            content
	Vars                                               map[string]string
}

func (s stored) message() Message {
	c := s.Content
	m := Message{Channel: c.Channel, To: s.Target, Topic: c.Topic, IncidentKey: s.IncidentKey,
		SubscriberID: s.SubscriberID, Ref: s.Ref, Secret: s.Secret, Subject: c.Subject, Text: c.Text, HTML: c.HTML,
		Body: c.Body, Vars: s.Vars}
	if len(c.Headers) > 0 {
		m.Headers = make(map[string]string, len(c.Headers))
		for k, v := range c.Headers {
			m.Headers[k] = v
		}
	}
	return m.expand()
}

// expand substitutes the message's Vars into its content.
func (m Message) expand() Message {
	if len(m.Vars) == 0 {
		return m
	}
	pairs := make([]string, 0, 2*len(m.Vars))
	hpairs := make([]string, 0, 2*len(m.Vars))
	for k, v := range m.Vars {
		pairs = append(pairs, "{{"+k+"}}", v)
		// HTML-escape the values so a substitution inside an attribute stays inside it.
		hpairs = append(hpairs, "{{"+k+"}}", html.EscapeString(v))
	}
	r := strings.NewReplacer(pairs...)
	m.Subject, m.Text, m.HTML = r.Replace(m.Subject), r.Replace(m.Text), strings.NewReplacer(hpairs...).Replace(m.HTML)
	for k, v := range m.Headers {
		m.Headers[k] = r.Replace(v)
	}
	if len(m.Body) > 0 {
		// JSON-escape the values so a substitution inside a JSON string stays valid JSON.
		jpairs := make([]string, 0, len(pairs))
		for k, v := range m.Vars {
			b, _ := json.Marshal(v)
			jpairs = append(jpairs, "{{"+k+"}}", string(b[1:len(b)-1]))
		}
		m.Body = json.RawMessage(strings.NewReplacer(jpairs...).Replace(string(m.Body)))
	}
	return m
}

func (s *Store) load(ctx context.Context, id string) (stored, error) {
	var d stored
	var sub *string
	var vars []byte
	var c string
	err := s.pool.QueryRow(ctx, `SELECT d.id::text, d.target, d.incident_key, d.subscriber_id::text, d.ref, d.secret,
			d.status, c.content, d.vars
		FROM deliveries d JOIN delivery_contents c ON c.id = d.content_id WHERE d.id = $1`, id).
		Scan(&d.ID, &d.Target, &d.IncidentKey, &sub, &d.Ref, &d.Secret, &d.Status, &c, &vars)
	if err != nil {
		return d, err
	}
	if sub != nil {
		d.SubscriberID = *sub
	}
	if err := json.Unmarshal([]byte(c), &d.Content); err != nil {
		return d, err
	}
	if len(vars) > 0 {
		if err := json.Unmarshal(vars, &d.Vars); err != nil {
			return d, err
		}
	}
	return d, nil
}

func (s *Store) record(ctx context.Context, id string, st Status, attempt int, lastErr string, at time.Time) error {
	// Cut on a character boundary, and drop invalid bytes: a receiver's answer quoted in the error may hold
	// either, and Postgres refuses text that is not UTF-8.
	lastErr = strings.ToValidUTF8(lastErr, "")
	if n := 500; len(lastErr) > n {
		for n > 0 && !utf8.RuneStart(lastErr[n]) {
			n--
		}
		lastErr = lastErr[:n]
	}
	_, err := s.pool.Exec(ctx, `UPDATE deliveries SET status = $2, attempts = GREATEST(attempts, $3), last_error = $4,
			updated_at = $5, delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE delivered_at END
		WHERE id = $1 AND status <> 'delivered'`, id, st, attempt, lastErr, at)
	return err
}

// Prune deletes finished deliveries last changed before cutoff, and the contents no delivery uses any more; it
// returns how many deliveries went.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM deliveries WHERE status IN ('delivered', 'dead', 'cancelled')
		AND updated_at < $1`, cutoff)
	if err != nil {
		return 0, err
	}
	_, err = s.pool.Exec(ctx, `DELETE FROM delivery_contents c WHERE c.created_at < $1
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.content_id = c.id)`, cutoff)
	return tag.RowsAffected(), err
}

// Filter narrows a listing of the delivery log.
type Filter struct {
	Status       Status
	Channel      Channel
	Topic        string
	IncidentKey  string
	SubscriberID string
	// After is the opaque cursor of the previous page.
	After string
	Limit int
}

// List reads the delivery log, newest first, and the cursor of the next page ("" when none).
func (s *Store) List(ctx context.Context, f Filter) ([]Delivery, string, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Status != "" {
		add("status = $%d", string(f.Status))
	}
	if f.Channel != "" {
		add("channel = $%d", string(f.Channel))
	}
	if f.Topic != "" {
		add("topic = $%d", f.Topic)
	}
	if f.IncidentKey != "" {
		add("incident_key = $%d", f.IncidentKey)
	}
	if f.SubscriberID != "" {
		if _, err := uuid.Parse(f.SubscriberID); err != nil {
			return nil, "", domain.Invalid(domain.FieldError{Field: "subscriber_id", Message: "must be a subscriber id"})
		}
		add("subscriber_id = $%d", f.SubscriberID)
	}
	if f.After != "" {
		id, err := decodeCursor(f.After)
		if err != nil {
			return nil, "", domain.Invalid(domain.FieldError{Field: "cursor", Message: "is not a cursor from a previous page"})
		}
		add("id < $%d", id)
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	args = append(args, f.Limit+1)
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries `+where+
		fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, "", err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) { return scanDelivery(r) })
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = encodeCursor(last.ID)
	}
	return out, next, nil
}

// Get reads one delivery.
func (s *Store) Get(ctx context.Context, id string) (Delivery, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Delivery{}, notFound(id)
	}
	d, err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, notFound(id)
	}
	return d, err
}

// deliveryColumns are what scanDelivery reads.
const deliveryColumns = `id::text, channel, target, topic, incident_key, coalesce(subscriber_id::text, ''), status,
	attempts, last_error, created_at, updated_at, delivered_at`

// scanDelivery reads a row of deliveryColumns, its target redacted.
func scanDelivery(row pgx.Row) (Delivery, error) {
	var d Delivery
	err := row.Scan(&d.ID, &d.Channel, &d.Target, &d.Topic, &d.IncidentKey, &d.SubscriberID, &d.Status,
		&d.Attempts, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &d.DeliveredAt)
	d.Target = redactTarget(d.Channel, d.Target)
	return d, err
}

func notFound(id string) error {
	return &domain.Error{Kind: domain.ErrNotFound, Code: "not_found", Message: "no delivery " + id}
}

// expandBatch makes the River jobs of a large Enqueue, a chunk per transaction, so a crash loses nothing and a
// rerun continues where it stopped.
func (e *Engine) expandBatch(ctx context.Context, batch string) error {
	for {
		n := 0
		err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT id::text FROM deliveries WHERE batch = $1 LIMIT 5000 FOR UPDATE SKIP LOCKED`, batch)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil || len(ids) == 0 {
				return err
			}
			if _, err := e.river.InsertManyFastTx(ctx, tx, e.deliverJobs(ids)); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE deliveries SET batch = NULL WHERE id = ANY($1::uuid[])`, ids)
			n = len(ids)
			return err
		})
		if err != nil {
			return fmt.Errorf("delivery: expand batch: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
}

// Retry queues a dead delivery again, with a fresh set of attempts. Only dead letters can be retried.
func (e *Engine) Retry(ctx context.Context, id string) (Delivery, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Delivery{}, notFound(id)
	}
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		return Delivery{}, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var st Status
	err = tx.QueryRow(ctx, `SELECT status FROM deliveries WHERE id = $1 FOR UPDATE`, id).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		return Delivery{}, notFound(id)
	}
	if err != nil {
		return Delivery{}, err
	}
	if st != StatusDead {
		return Delivery{}, &domain.Error{Kind: domain.ErrConflict, Code: "not_dead_letter",
			Message: "only a dead delivery can be retried; this one is " + string(st)}
	}
	if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', attempts = 0, updated_at = now()
		WHERE id = $1`, id); err != nil {
		return Delivery{}, err
	}
	if _, err := e.river.InsertTx(ctx, tx, deliverArgs{ID: id}, &river.InsertOpts{MaxAttempts: e.cfg.MaxAttempts}); err != nil {
		return Delivery{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Delivery{}, err
	}
	return e.store.Get(ctx, id)
}

// redactTarget keeps an email address, and only the scheme and host of a URL: its path or query may be the secret.
func redactTarget(c Channel, target string) string {
	if c == ChannelEmail {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", err
	}
	if _, err := uuid.Parse(string(b)); err != nil {
		return "", err
	}
	return string(b), nil
}
