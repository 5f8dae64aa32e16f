package comms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// store holds this package's SQL: comms owns its tables (migrations/000008_internal_comms.up.sql).
type store struct{ pool *pgxpool.Pool }

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// uniqueName maps each table's unique-name constraint to the client's error.
var uniqueName = map[string]string{
	"stakeholder_lists_name_key": "a stakeholder list with this name already exists",
	"customers_name_key":         "a customer with this name already exists",
	"resolver_groups_name_key":   "a resolver group with this name already exists",
	"ticket_systems_name_key":    "a ticket system with this name already exists",
}

func mapError(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		if msg, ok := uniqueName[pe.ConstraintName]; ok {
			return domain.Invalid(domain.FieldError{Field: "name", Message: msg})
		}
	}
	return domain.Internal(err)
}

func notFound(what, id string) error {
	return domain.Errorf(domain.ErrNotFound, "not_found", "no %s %q", what, id)
}

// save runs an INSERT (create) or an UPDATE by id that must find its row, returning created_at.
func (st store) save(ctx context.Context, what string, create bool, id *string, insert, update string, args ...any) (time.Time, error) {
	var created time.Time
	if create {
		*id = uuid.NewString()
		err := st.pool.QueryRow(ctx, insert, append([]any{*id}, args...)...).Scan(&created)
		return created, mapError(err)
	}
	uid, err := uuid.Parse(*id)
	if err != nil {
		return created, notFound(what, *id)
	}
	err = st.pool.QueryRow(ctx, update, append([]any{uid}, args...)...).Scan(&created)
	if errors.Is(err, pgx.ErrNoRows) {
		return created, notFound(what, *id)
	}
	return created, mapError(err)
}

func (st store) delete(ctx context.Context, table, what, id string) error {
	uid, err := uuid.Parse(id)
	if err != nil {
		return notFound(what, id)
	}
	tag, err := st.pool.Exec(ctx, "DELETE FROM "+table+" WHERE id = $1", uid)
	if err != nil {
		return mapError(err)
	}
	if tag.RowsAffected() == 0 {
		return notFound(what, id)
	}
	return nil
}

func (st store) saveList(ctx context.Context, l StakeholderList, now time.Time, create bool) (StakeholderList, error) {
	var err error
	l.CreatedAt, err = st.save(ctx, "stakeholder list", create, &l.ID,
		`INSERT INTO stakeholder_lists (id, name, emails, severities, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $5) RETURNING created_at`,
		`UPDATE stakeholder_lists SET name = $2, emails = $3, severities = $4, updated_at = $5 WHERE id = $1
		 RETURNING created_at`,
		l.Name, l.Emails, domain.Strings(l.Severities), now)
	l.UpdatedAt = now
	return l, err
}

func (st store) lists(ctx context.Context) ([]StakeholderList, error) {
	return listsWhere(ctx, st.pool, "", nil)
}

// listsFor returns the lists covering a severity.
func listsFor(ctx context.Context, q querier, sev domain.Severity) ([]StakeholderList, error) {
	return listsWhere(ctx, q, "WHERE $1 = ANY (severities)", []any{string(sev)})
}

func listsWhere(ctx context.Context, q querier, where string, args []any) ([]StakeholderList, error) {
	rows, err := q.Query(ctx, `SELECT id::text, name, emails, severities, created_at, updated_at
		FROM stakeholder_lists `+where+` ORDER BY name`, args...)
	if err != nil {
		return nil, mapError(err)
	}
	out := []StakeholderList{}
	for rows.Next() {
		var l StakeholderList
		var sevs []string
		if err := rows.Scan(&l.ID, &l.Name, &l.Emails, &sevs, &l.CreatedAt, &l.UpdatedAt); err != nil {
			return nil, mapError(err)
		}
		for _, s := range sevs {
			l.Severities = append(l.Severities, domain.Severity(s))
		}
		out = append(out, l)
	}
	return out, mapError(rows.Err())
}

func (st store) saveCustomer(ctx context.Context, c Customer, now time.Time, create bool) (Customer, error) {
	var err error
	c.CreatedAt, err = st.save(ctx, "customer", create, &c.ID,
		`INSERT INTO customers (id, name, csm_email, tcsm_email, components, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING created_at`,
		`UPDATE customers SET name = $2, csm_email = $3, tcsm_email = $4, components = $5, updated_at = $6
		 WHERE id = $1 RETURNING created_at`,
		c.Name, c.CSMEmail, c.TCSMEmail, c.Components, now)
	c.UpdatedAt = now
	return c, err
}

func (st store) customers(ctx context.Context) ([]Customer, error) {
	return customersWhere(ctx, st.pool, "", nil)
}

// customersUsing returns the customers that use any of the components.
func customersUsing(ctx context.Context, q querier, slugs []string) ([]Customer, error) {
	return customersWhere(ctx, q, "WHERE components && $1", []any{slugs})
}

func customersWhere(ctx context.Context, q querier, where string, args []any) ([]Customer, error) {
	rows, err := q.Query(ctx, `SELECT id::text, name, csm_email, tcsm_email, components, created_at, updated_at
		FROM customers `+where+` ORDER BY name`, args...)
	if err != nil {
		return nil, mapError(err)
	}
	out := []Customer{}
	for rows.Next() {
		var c Customer
		if err := rows.Scan(&c.ID, &c.Name, &c.CSMEmail, &c.TCSMEmail, &c.Components, &c.CreatedAt, &c.UpdatedAt); err != nil {
			return nil, mapError(err)
		}
		out = append(out, c)
	}
	return out, mapError(rows.Err())
}

// missingComponents returns the slugs that name no component, and every known slug.
func (st store) missingComponents(ctx context.Context, slugs []string) (missing, known []string, err error) {
	rows, err := st.pool.Query(ctx, `SELECT slug FROM components ORDER BY slug`)
	if err != nil {
		return nil, nil, mapError(err)
	}
	known, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, mapError(err)
	}
	for _, s := range slugs {
		if !slices.Contains(known, s) {
			missing = append(missing, fmt.Sprintf("%q", s))
		}
	}
	return missing, known, nil
}

// componentNames maps slugs to component names.
func componentNames(ctx context.Context, q querier, slugs []string) (map[string]string, error) {
	rows, err := q.Query(ctx, `SELECT slug, name FROM components WHERE slug = ANY ($1)`, slugs)
	if err != nil {
		return nil, mapError(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var slug, name string
		if err := rows.Scan(&slug, &name); err != nil {
			return nil, mapError(err)
		}
		out[slug] = name
	}
	return out, mapError(rows.Err())
}

func (st store) saveGroup(ctx context.Context, g ResolverGroup, now time.Time, create bool) (ResolverGroup, error) {
	var err error
	g.CreatedAt, err = st.save(ctx, "resolver group", create, &g.ID,
		`INSERT INTO resolver_groups (id, name, email, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
		 RETURNING created_at`,
		`UPDATE resolver_groups SET name = $2, email = $3, updated_at = $4 WHERE id = $1 RETURNING created_at`,
		g.Name, g.Email, now)
	g.UpdatedAt = now
	return g, err
}

func (st store) groups(ctx context.Context) ([]ResolverGroup, error) {
	rows, err := st.pool.Query(ctx, `SELECT id::text, name, email, created_at, updated_at FROM resolver_groups ORDER BY lower(name)`)
	if err != nil {
		return nil, mapError(err)
	}
	out := []ResolverGroup{}
	for rows.Next() {
		var g ResolverGroup
		if err := rows.Scan(&g.ID, &g.Name, &g.Email, &g.CreatedAt, &g.UpdatedAt); err != nil {
			return nil, mapError(err)
		}
		out = append(out, g)
	}
	return out, mapError(rows.Err())
}

// groupEmail returns the address of the resolver group of that name, or "" when there is none.
func groupEmail(ctx context.Context, q querier, name string) (string, error) {
	var email string
	err := q.QueryRow(ctx, `SELECT email FROM resolver_groups WHERE lower(name) = lower($1)`, strings.TrimSpace(name)).Scan(&email)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return email, mapError(err)
}

func (st store) saveTicketSystem(ctx context.Context, ts TicketSystem, now time.Time, create bool) (TicketSystem, error) {
	var err error
	if create {
		ts.CreatedAt, err = st.save(ctx, "ticket system", true, &ts.ID,
			`INSERT INTO ticket_systems (id, name, url, secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
			 RETURNING created_at`, "", ts.Name, ts.URL, ts.Secret, now)
	} else {
		ts.CreatedAt, err = st.save(ctx, "ticket system", false, &ts.ID, "",
			`UPDATE ticket_systems SET name = $2, url = $3, updated_at = $4 WHERE id = $1 RETURNING created_at`,
			ts.Name, ts.URL, now)
	}
	ts.UpdatedAt = now
	return ts, err
}

func (st store) ticketSystems(ctx context.Context) ([]TicketSystem, error) {
	rows, err := st.pool.Query(ctx, `SELECT id::text, name, url, created_at, updated_at FROM ticket_systems ORDER BY lower(name)`)
	if err != nil {
		return nil, mapError(err)
	}
	out := []TicketSystem{}
	for rows.Next() {
		var ts TicketSystem
		if err := rows.Scan(&ts.ID, &ts.Name, &ts.URL, &ts.CreatedAt, &ts.UpdatedAt); err != nil {
			return nil, mapError(err)
		}
		out = append(out, ts)
	}
	return out, mapError(rows.Err())
}

// ticketSystemsByName returns every ticket system with its secret, keyed by lower-cased name.
func ticketSystemsByName(ctx context.Context, q querier) (map[string]TicketSystem, error) {
	rows, err := q.Query(ctx, `SELECT id::text, name, url, secret FROM ticket_systems`)
	if err != nil {
		return nil, mapError(err)
	}
	out := map[string]TicketSystem{}
	for rows.Next() {
		var ts TicketSystem
		if err := rows.Scan(&ts.ID, &ts.Name, &ts.URL, &ts.Secret); err != nil {
			return nil, mapError(err)
		}
		out[strings.ToLower(ts.Name)] = ts
	}
	return out, mapError(rows.Err())
}

// addTicketDelivery records a pending delivery of an update to a ticket and returns its id, or "" when that update
// was already sent to that ticket.
func addTicketDelivery(ctx context.Context, q querier, incidentID, ticketID, updateID, system string, now time.Time) (string, error) {
	id := uuid.NewString()
	tag, err := q.Exec(ctx, `INSERT INTO ticket_deliveries (id, incident_id, ticket_id, update_id, system, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) ON CONFLICT (incident_id, ticket_id, update_id) DO NOTHING`,
		id, incidentID, ticketID, updateID, system, now)
	if err != nil {
		return "", mapError(err)
	}
	if tag.RowsAffected() == 0 {
		return "", nil
	}
	return id, nil
}

func (st store) ticketDeliveries(ctx context.Context, incidentID string) ([]TicketDelivery, error) {
	rows, err := st.pool.Query(ctx, `SELECT ticket_id, update_id, status, attempts, last_error, updated_at
		FROM ticket_deliveries WHERE incident_id = $1 ORDER BY created_at, ticket_id`, incidentID)
	if err != nil {
		return nil, mapError(err)
	}
	out := []TicketDelivery{}
	for rows.Next() {
		var d TicketDelivery
		if err := rows.Scan(&d.TicketID, &d.UpdateID, &d.Status, &d.Attempts, &d.LastError, &d.UpdatedAt); err != nil {
			return nil, mapError(err)
		}
		out = append(out, d)
	}
	return out, mapError(rows.Err())
}

// recordTicketResult logs a delivery attempt on its ticket delivery. A late report of an earlier attempt never
// overwrites a later one, and nothing overwrites delivered.
func (st store) recordTicketResult(ctx context.Context, id, status string, attempt int, lastError string, at time.Time) error {
	uid, err := uuid.Parse(id)
	if err != nil {
		return fmt.Errorf("ticket delivery ref %q is not an id", id)
	}
	_, err = st.pool.Exec(ctx, `UPDATE ticket_deliveries SET status = $2, attempts = $3, last_error = $4, updated_at = $5
		WHERE id = $1 AND status <> 'delivered' AND attempts <= $3`, uid, status, attempt, lastError, at)
	return mapError(err)
}

// lockIncident reads an incident's current state and locks its row until the transaction ends, as the incident
// service's commands do, so a periodic decision is taken on a state no command is changing: an update published
// while the check runs is seen, not raced. It reads the incidents table of internal/postgres, read-only.
func lockIncident(ctx context.Context, tx pgx.Tx, id string) (workflow.Incident, error) {
	var raw []byte
	if err := tx.QueryRow(ctx, `SELECT state FROM incidents WHERE id = $1 FOR UPDATE`, id).Scan(&raw); err != nil {
		return workflow.Incident{}, mapError(err)
	}
	var st workflow.Incident
	if err := json.Unmarshal(raw, &st); err != nil {
		return workflow.Incident{}, domain.Internal(err)
	}
	return st, nil
}

// markSent records that the periodic message of this kind and due time was sent for the incident. It reports false
// when it already was (by this process before a restart, or by another): then the caller sends nothing.
func markSent(ctx context.Context, q querier, incidentID, kind string, due, now time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `INSERT INTO comms_sent (incident_id, kind, due_at, sent_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, incidentID, kind, due, now)
	if err != nil {
		return false, mapError(err)
	}
	return tag.RowsAffected() == 1, nil
}
