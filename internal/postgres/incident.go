package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mimhq/mim/internal/classify"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/workflow"
)

// IncidentStore implements incident.Store.
type IncidentStore struct {
	db        *DB
	reactions []Reaction
}

// Reaction is work done in the transaction of every incident command, after the incident is saved: it commits with
// the command or not at all.
type Reaction func(ctx context.Context, tx pgx.Tx, c incident.Change) error

// NewIncidentStore returns the incident store on db; reactions run, in order, inside each command's transaction.
func NewIncidentStore(db *DB, reactions ...Reaction) *IncidentStore {
	return &IncidentStore{db: db, reactions: reactions}
}

// AddReaction adds a reaction run after those already added. Add them all before the store is used.
func (s *IncidentStore) AddReaction(r Reaction) { s.reactions = append(s.reactions, r) }

var _ incident.Store = (*IncidentStore)(nil)
var _ incident.Tx = (*incidentTx)(nil)

// InTx implements incident.Store.
func (s *IncidentStore) InTx(ctx context.Context, fn func(tx incident.Tx) error) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error { return fn(&incidentTx{tx: tx, reactions: s.reactions}) })
}

const incidentColumns = `state, version, created_at, updated_at`

func scanRecord(row pgx.Row) (incident.Record, error) {
	var r incident.Record
	var state []byte
	if err := row.Scan(&state, &r.Version, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return r, err
	}
	if err := json.Unmarshal(state, &r.State); err != nil {
		return r, fmt.Errorf("decode incident state: %w", err)
	}
	return r, nil
}

// refWhere matches an incident by id (a UUID) or key (INC-n, any case).
func refWhere(ref string) (string, any) {
	if id, err := uuid.Parse(ref); err == nil {
		return "id = $1", id
	}
	return "key = $1", strings.ToUpper(strings.TrimSpace(ref))
}

func getIncident(ctx context.Context, q querier, ref, suffix string) (incident.Record, error) {
	where, arg := refWhere(ref)
	r, err := scanRecord(q.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE `+where+suffix, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, notFound("incident", ref)
	}
	return r, mapError(err)
}

// Get implements incident.Store.
func (s *IncidentStore) Get(ctx context.Context, ref string) (incident.Record, error) {
	return getIncident(ctx, s.db.Pool, ref, "")
}

// List implements incident.Store: newest first, keyset-paginated on (created_at, id).
func (s *IncidentStore) List(ctx context.Context, f incident.ListFilter) ([]incident.Record, string, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.Kind != "" {
		where = append(where, "kind = "+arg(string(f.Kind)))
	}
	if f.Open != nil {
		where = append(where, "is_open = "+arg(*f.Open))
	}
	if f.Stage != "" {
		where = append(where, "stage = "+arg(string(f.Stage)))
	}
	if f.Severity != "" {
		where = append(where, "severity = "+arg(string(f.Severity)))
	}
	if f.Component != "" {
		where = append(where, `EXISTS (SELECT 1 FROM incident_components ic JOIN components c ON c.id = ic.component_id
			WHERE ic.incident_id = incidents.id AND c.slug = `+arg(f.Component)+`)`)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		p := arg("%" + escapeLike(q) + "%")
		where = append(where, "(key ILIKE "+p+" OR title ILIKE "+p+")")
	}
	if f.After != "" {
		at, id, err := decodeCursor(f.After)
		if err != nil {
			return nil, "", domain.Invalid(domain.FieldError{Field: "cursor", Message: "is not a cursor this API gave out"})
		}
		where = append(where, "(created_at, id) < ("+arg(at)+", "+arg(id)+")")
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	sql := `SELECT ` + incidentColumns + `, id FROM incidents`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY created_at DESC, id DESC LIMIT " + arg(limit+1)
	rows, err := s.db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, "", mapError(err)
	}
	defer rows.Close()
	var out []incident.Record
	var lastID uuid.UUID
	for rows.Next() {
		var r incident.Record
		var state []byte
		var id uuid.UUID
		if err := rows.Scan(&state, &r.Version, &r.CreatedAt, &r.UpdatedAt, &id); err != nil {
			return nil, "", mapError(err)
		}
		if err := json.Unmarshal(state, &r.State); err != nil {
			return nil, "", domain.Internal(err)
		}
		if len(out) == limit {
			return out, encodeCursor(out[len(out)-1].CreatedAt, lastID), nil
		}
		out = append(out, r)
		lastID = id
	}
	return out, "", mapError(rows.Err())
}

func encodeCursor(at time.Time, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id.String()))
}

func decodeCursor(c string) (time.Time, uuid.UUID, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, uuid.UUID{}, err
	}
	ts, idStr, ok := strings.Cut(string(raw), "|")
	if !ok {
		return time.Time{}, uuid.UUID{}, errors.New("bad cursor")
	}
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, uuid.UUID{}, err
	}
	id, err := uuid.Parse(idStr)
	return at, id, err
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Timeline implements incident.Store.
func (s *IncidentStore) Timeline(ctx context.Context, incidentID string) ([]incident.TimelineEntry, error) {
	return readTimeline(ctx, s.db.Pool, incidentID)
}

// readTimeline reads an incident's timeline in order, in a transaction or not.
func readTimeline(ctx context.Context, q querier, incidentID string) ([]incident.TimelineEntry, error) {
	rows, err := q.Query(ctx, `
		SELECT t.seq, t.version, t.type, t.at, coalesce(t.actor_id::text, ''), t.actor_name, coalesce(u.email, ''),
		       t.channel, t.data, coalesce(t.token_id::text, ''), coalesce(k.created_by::text, '')
		FROM timeline_entries t LEFT JOIN users u ON u.id = t.actor_id LEFT JOIN api_tokens k ON k.id = t.token_id
		WHERE t.incident_id = $1 ORDER BY t.seq`, incidentID)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []incident.TimelineEntry
	for rows.Next() {
		var e incident.TimelineEntry
		var typ, ch string
		if err := rows.Scan(&e.Seq, &e.Version, &typ, &e.At, &e.Actor.UserID, &e.Actor.Name, &e.Actor.Email,
			&ch, &e.Data, &e.Actor.TokenID, &e.Actor.TokenCreatedBy); err != nil {
			return nil, mapError(err)
		}
		e.Type, e.Channel, e.Actor.Channel = workflow.EventType(typ), domain.Channel(ch), domain.Channel(ch)
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, mapError(rows.Err())
}

type incidentTx struct {
	tx        pgx.Tx
	reactions []Reaction
}

func (t *incidentTx) React(ctx context.Context, c incident.Change) error {
	for _, r := range t.reactions {
		if err := r(ctx, t.tx, c); err != nil {
			return err
		}
	}
	return nil
}

func (t *incidentTx) NextNumber(ctx context.Context) (int64, error) {
	var n int64
	err := t.tx.QueryRow(ctx, `SELECT nextval('incident_number_seq')`).Scan(&n)
	return n, mapError(err)
}

func (t *incidentTx) Insert(ctx context.Context, r incident.Record) error {
	state, err := json.Marshal(r.State)
	if err != nil {
		return domain.Internal(err)
	}
	s := r.State
	first, last := publicSpan(s)
	number, _ := strconv.ParseInt(strings.TrimPrefix(s.Key, "INC-"), 10, 64)
	// A savepoint keeps the transaction usable when the dedup index refuses the row.
	_, err = t.tx.Exec(ctx, `SAVEPOINT insert_incident`)
	if err != nil {
		return mapError(err)
	}
	_, err = t.tx.Exec(ctx, `
		INSERT INTO incidents (id, number, key, title, kind, stage, status, severity, urgency, priority, public_status,
		                       is_open, dedup_key, state, version, created_at, updated_at, public_started_at,
		                       public_updated_at)
		VALUES ($1, $2, $3, $4, $5, nullif($6, ''), nullif($7, ''), $8, $9, $10, nullif($11, ''), $12, nullif($13, ''),
		        $14, $15, $16, $17, $18, $19)`,
		s.ID, number, s.Key, s.Title, string(s.Kind), string(s.Stage), string(s.Status), string(s.Criteria.Severity),
		string(s.Criteria.Urgency), s.Classification.Priority, string(s.PublicStatus()), s.IsOpen(), s.DedupKey,
		state, r.Version, r.CreatedAt, r.UpdatedAt, first, last)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "incidents_open_dedup_key" {
		return incident.ErrDedupConflict
	}
	if err != nil {
		return mapError(err)
	}
	return t.linkComponents(ctx, s)
}

func (t *incidentTx) linkComponents(ctx context.Context, s workflow.Incident) error {
	_, err := t.tx.Exec(ctx, `
		INSERT INTO incident_components (incident_id, component_id)
		SELECT $1, id FROM components WHERE slug = ANY($2)
		ON CONFLICT DO NOTHING`, s.ID, s.Components)
	return mapError(err)
}

func (t *incidentTx) Lock(ctx context.Context, ref string) (incident.Record, error) {
	return getIncident(ctx, t.tx, ref, " FOR UPDATE")
}

func (t *incidentTx) LockOpenByDedupKey(ctx context.Context, key string) (incident.Record, error) {
	r, err := scanRecord(t.tx.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE dedup_key = $1 AND is_open FOR UPDATE`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, notFound("open incident with dedup key", key)
	}
	return r, mapError(err)
}

func (t *incidentTx) LastClosedByDedupKey(ctx context.Context, key string) (incident.Record, error) {
	r, err := scanRecord(t.tx.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE dedup_key = $1 AND NOT is_open ORDER BY created_at DESC LIMIT 1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, notFound("closed incident with dedup key", key)
	}
	return r, mapError(err)
}

func (t *incidentTx) Save(ctx context.Context, r incident.Record) error {
	state, err := json.Marshal(r.State)
	if err != nil {
		return domain.Internal(err)
	}
	s := r.State
	first, last := publicSpan(s)
	// The version check repeats what the row lock already guarantees: a save never overwrites a newer state.
	tag, err := t.tx.Exec(ctx, `
		UPDATE incidents SET title = $2, kind = $3, stage = nullif($4, ''), status = nullif($5, ''), severity = $6,
		       urgency = $7, priority = $8, public_status = nullif($9, ''), is_open = $10, state = $11, version = $12,
		       updated_at = $13, public_started_at = $14, public_updated_at = $15
		WHERE id = $1 AND version = $12 - 1`,
		s.ID, s.Title, string(s.Kind), string(s.Stage), string(s.Status), string(s.Criteria.Severity),
		string(s.Criteria.Urgency), s.Classification.Priority, string(s.PublicStatus()), s.IsOpen(), state, r.Version,
		r.UpdatedAt, first, last)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "incidents_open_dedup_key" {
		return domain.Errorf(domain.ErrConflict, "dedup_key_in_use",
			"another open incident has the dedup key %q (a recurrence of this one): resolve or conclude it first", s.DedupKey)
	}
	if err != nil {
		return mapError(err)
	}
	if tag.RowsAffected() != 1 {
		return &domain.Error{Kind: domain.ErrConflict, Code: "version_conflict",
			Message: fmt.Sprintf("%s was changed by someone else; reload and try again", s.Key)}
	}
	return t.linkComponents(ctx, s)
}

func (t *incidentTx) Append(ctx context.Context, incidentID string, entries []incident.TimelineEntry) error {
	var seq int
	if err := t.tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM timeline_entries WHERE incident_id = $1`,
		incidentID).Scan(&seq); err != nil {
		return mapError(err)
	}
	for _, e := range entries {
		seq++
		var actorID, tokenID *string
		if e.Actor.UserID != "" {
			actorID = &e.Actor.UserID
		}
		if e.Actor.TokenID != "" {
			tokenID = &e.Actor.TokenID
		}
		if _, err := t.tx.Exec(ctx, `
			INSERT INTO timeline_entries (incident_id, seq, version, type, at, actor_id, actor_name, channel, data, token_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			incidentID, seq, e.Version, string(e.Type), e.At, actorID, e.Actor.Name, string(e.Channel), e.Data,
			tokenID); err != nil {
			return mapError(err)
		}
	}
	return nil
}

func (t *incidentTx) Components(ctx context.Context, slugs []string) ([]domain.Component, []string, error) {
	found, err := listComponents(ctx, t.tx, "WHERE slug = ANY($1)", slugs)
	if err != nil {
		return nil, nil, err
	}
	bySlug := map[string]domain.Component{}
	for _, c := range found {
		bySlug[c.Slug] = c
	}
	var ordered []domain.Component
	var missing []string
	for _, s := range slugs {
		if c, ok := bySlug[s]; ok {
			ordered = append(ordered, c)
		} else {
			missing = append(missing, s)
		}
	}
	return ordered, missing, nil
}

func (t *incidentTx) AllComponentSlugs(ctx context.Context) ([]string, error) {
	rows, err := t.tx.Query(ctx, `SELECT slug FROM components ORDER BY position, slug`)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, mapError(err)
}

func (t *incidentTx) RecomputeComponents(ctx context.Context, slugs []string, at time.Time) ([]incident.ComponentChange, error) {
	return recomputeComponents(ctx, t.tx, slugs, at)
}

// recomputeComponents sets each component to the worst status any open, unresolved incident published for it, and
// keeps its uptime history in step (track): a change of status, or of the incidents contributing to it, closes the
// interval in progress. It returns the status changes.
func recomputeComponents(ctx context.Context, q querier, slugs []string, at time.Time) ([]incident.ComponentChange, error) {
	// Lock the components first: two incidents publishing on one component then take turns, and the second sees the
	// first's committed state. NO KEY UPDATE, like the UPDATE below, does not conflict with the key-share locks that
	// linking an incident to its components takes, so declarations and publications do not deadlock.
	if _, err := q.Exec(ctx, `SELECT 1 FROM (SELECT id FROM components WHERE slug = ANY($1) ORDER BY id FOR NO KEY UPDATE) l`,
		slugs); err != nil {
		return nil, mapError(err)
	}
	rows, err := q.Query(ctx, `
		SELECT c.id::text, c.slug, c.name, c.status,
		       coalesce(array_agg(cs.value #>> '{}') FILTER (WHERE cs.value IS NOT NULL), '{}'),
		       coalesce(array_agg(DISTINCT i.key) FILTER (WHERE cs.value #>> '{}' <> 'operational'), '{}')
		FROM components c
		LEFT JOIN incidents i ON i.is_open AND i.public_status IS NOT NULL AND i.public_status <> 'resolved'
			AND NOT coalesce((i.state->>'private')::boolean, false)
		LEFT JOIN LATERAL jsonb_each(i.state->'component_status') cs ON cs.key = c.slug
		WHERE c.slug = ANY($1)
		GROUP BY c.id, c.slug, c.name, c.status`, slugs)
	if err != nil {
		return nil, mapError(err)
	}
	type change struct {
		id, slug, name, from, status string
		changed                      bool
		keys                         []string // of the incidents contributing a status other than operational
	}
	var changes []change
	for rows.Next() {
		var id, slug, name, cur string
		var contributions, keys []string
		if err := rows.Scan(&id, &slug, &name, &cur, &contributions, &keys); err != nil {
			rows.Close()
			return nil, mapError(err)
		}
		worst := domain.ComponentOperational
		for _, c := range contributions {
			worst = domain.Worse(worst, domain.ComponentStatus(c))
		}
		changes = append(changes, change{id, slug, name, cur, string(worst), string(worst) != cur, keys})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	var out []incident.ComponentChange
	for _, c := range changes {
		if c.changed {
			if _, err := q.Exec(ctx, `
				WITH u AS (UPDATE components SET status = $2, updated_at = $3 WHERE slug = $1 RETURNING id)
				INSERT INTO component_status_changes (component_id, status, at) SELECT id, $2, $3 FROM u`,
				c.slug, c.status, at); err != nil {
				return nil, mapError(err)
			}
			out = append(out, incident.ComponentChange{Slug: c.slug, Name: c.name,
				From: domain.ComponentStatus(c.from), To: domain.ComponentStatus(c.status)})
		}
		if err := track(ctx, q, c.id, domain.ComponentStatus(c.status), c.keys, at, c.changed); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *incidentTx) User(ctx context.Context, ref string) (domain.User, error) {
	return getUser(ctx, t.tx, ref)
}

func (t *incidentTx) Policy(ctx context.Context) (classify.Policy, error) {
	return currentPolicy(ctx, t.tx)
}

func (t *incidentTx) NotifyPublic(ctx context.Context) error {
	_, err := t.tx.Exec(ctx, `SELECT pg_notify($1, '')`, PublicChannel)
	return mapError(err)
}
