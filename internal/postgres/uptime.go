package postgres

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/statuspage"
	"github.com/mimhq/mim/internal/uptime"
)

// The uptime history of a component is kept in two tables (migrations/000006_uptime.up.sql): the rollups of its
// closed status intervals by UTC date, component_daily_status, and its interval in progress, component_uptime_open.
// An interval is closed whenever the component's status or the set of incidents contributing to it changes, in the
// transaction of that change, so each date lists exactly the incidents that contributed during it. The page reads at
// most uptime.Days rollup rows per component and counts the open interval up to the time it is built.

// track moves a component's uptime history to status, caused by the incidents with the keys, at the instant at: the
// open interval is closed and added to the rollups of the dates it spans, and the next one opens. The caller holds
// the component's row lock, which serialises every writer of its history; when logged, the caller has just appended
// the change to component_status_changes, and a logged change dated before the open interval (older history
// imported late) rebuilds the component's rollups from that log instead.
func track(ctx context.Context, q querier, componentID string, status domain.ComponentStatus, keys []string,
	at time.Time, logged bool) error {
	if status == domain.ComponentOperational {
		keys = nil // only a status other than operational is a contribution
	}
	keys = uptime.Union(nil, keys)
	open, err := openInterval(ctx, q, componentID)
	if err != nil {
		return err
	}
	if at.Before(open.Since) {
		if logged {
			return rebuildUptime(ctx, q, componentID)
		}
		at = open.Since // a clock a little behind another process's: the change happens now, not in the past
	}
	if status == open.Status && slices.Equal(keys, open.Incidents) {
		return nil
	}
	if err := closeInterval(ctx, q, componentID, open, at); err != nil {
		return err
	}
	_, err = q.Exec(ctx, `
		INSERT INTO component_uptime_open (component_id, status, since, incident_keys) VALUES ($1, $2, $3, $4)
		ON CONFLICT (component_id) DO UPDATE
		SET status = excluded.status, since = excluded.since, incident_keys = excluded.incident_keys`,
		componentID, string(status), at, nonNil(keys))
	return mapError(err)
}

// openInterval reads a component's interval in progress; with no row, it is operational since the creation.
func openInterval(ctx context.Context, q querier, componentID string) (uptime.Open, error) {
	var o uptime.Open
	var st string
	err := q.QueryRow(ctx, `
		SELECT coalesce(o.status, 'operational'), coalesce(o.since, c.created_at), coalesce(o.incident_keys, '{}')
		FROM components c LEFT JOIN component_uptime_open o ON o.component_id = c.id
		WHERE c.id = $1`, componentID).Scan(&st, &o.Since, &o.Incidents)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, notFound("component", componentID)
	}
	o.Status = domain.ComponentStatus(st)
	return o, mapError(err)
}

// closeInterval adds the interval [open.Since, end) to the rollups of the dates it spans. Operational time is not
// stored: a date with no row was operational.
func closeInterval(ctx context.Context, q querier, componentID string, open uptime.Open, end time.Time) error {
	if open.Status == domain.ComponentOperational {
		return nil
	}
	pieces := uptime.Split(open.Since, end, uptime.Zone)
	if len(pieces) == 0 {
		return nil
	}
	recs, err := loadRecords(ctx, q, `component_id = $1 AND day BETWEEN $2 AND $3`,
		componentID, pieces[0].Date, pieces[len(pieces)-1].Date)
	if err != nil {
		return err
	}
	byDate := make(map[time.Time]uptime.Record, len(recs))
	for _, r := range recs[componentID] {
		byDate[r.Date] = r
	}
	for _, p := range pieces {
		r := byDate[p.Date]
		r.Merge(open.Status, p, open.Incidents)
		if err := saveRecord(ctx, q, componentID, r); err != nil {
			return err
		}
	}
	return nil
}

// loadRecords reads rollup rows, by component id.
func loadRecords(ctx context.Context, q querier, where string, args ...any) (map[string][]uptime.Record, error) {
	rows, err := q.Query(ctx, `
		SELECT component_id::text, day, worst_status, seconds_degraded, seconds_partial, seconds_major,
		       seconds_maintenance, incident_keys
		FROM component_daily_status WHERE `+where+` ORDER BY component_id, day`, args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	out := map[string][]uptime.Record{}
	for rows.Next() {
		var id, worst string
		var r uptime.Record
		var deg, part, maj, maint float64
		if err := rows.Scan(&id, &r.Date, &worst, &deg, &part, &maj, &maint, &r.Incidents); err != nil {
			return nil, mapError(err)
		}
		r.Date = uptime.Date(r.Date, time.UTC)
		r.Worst = domain.ComponentStatus(worst)
		r.Totals = uptime.Totals{Degraded: duration(deg), Partial: duration(part), Major: duration(maj),
			Maintenance: duration(maint)}
		out[id] = append(out[id], r)
	}
	return out, mapError(rows.Err())
}

func saveRecord(ctx context.Context, q querier, componentID string, r uptime.Record) error {
	worst := r.Worst
	if worst == "" {
		worst = domain.ComponentOperational
	}
	_, err := q.Exec(ctx, `
		INSERT INTO component_daily_status (component_id, day, worst_status, seconds_degraded, seconds_partial,
		                                    seconds_major, seconds_maintenance, incident_keys)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (component_id, day) DO UPDATE
		SET worst_status = excluded.worst_status, seconds_degraded = excluded.seconds_degraded,
		    seconds_partial = excluded.seconds_partial, seconds_major = excluded.seconds_major,
		    seconds_maintenance = excluded.seconds_maintenance, incident_keys = excluded.incident_keys`,
		componentID, r.Date, string(worst), r.Totals.Degraded.Seconds(), r.Totals.Partial.Seconds(),
		r.Totals.Major.Seconds(), r.Totals.Maintenance.Seconds(), nonNil(r.Incidents))
	return mapError(err)
}

// rebuildUptime recomputes a component's rollups and open interval from its whole log of status changes, keeping
// the incidents each date already lists while the date still has a status other than operational (dates are UTC
// dates: they never move; the log itself names no incidents). It costs the component's history, and runs only when
// older history is recorded after newer.
func rebuildUptime(ctx context.Context, q querier, componentID string) error {
	open, err := openInterval(ctx, q, componentID)
	if err != nil {
		return err
	}
	var created time.Time
	if err := q.QueryRow(ctx, `SELECT created_at FROM components WHERE id = $1`, componentID).Scan(&created); err != nil {
		return mapError(err)
	}
	old, err := loadRecords(ctx, q, `component_id = $1`, componentID)
	if err != nil {
		return err
	}
	keysOn := map[time.Time][]string{}
	for _, r := range old[componentID] {
		keysOn[r.Date] = r.Incidents
	}
	rows, err := q.Query(ctx, `SELECT status, at FROM component_status_changes WHERE component_id = $1 ORDER BY at, id`,
		componentID)
	if err != nil {
		return mapError(err)
	}
	type change struct {
		status domain.ComponentStatus
		at     time.Time
	}
	var changes []change
	for rows.Next() {
		var c change
		var st string
		if err := rows.Scan(&st, &c.at); err != nil {
			rows.Close()
			return mapError(err)
		}
		c.status = domain.ComponentStatus(st)
		changes = append(changes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapError(err)
	}

	recs := map[time.Time]*uptime.Record{}
	cur := change{status: domain.ComponentOperational, at: created}
	for _, c := range changes { // each change closes the interval before it; the last stays open
		if cur.status != domain.ComponentOperational {
			for _, p := range uptime.Split(cur.at, c.at, uptime.Zone) {
				r := recs[p.Date]
				if r == nil {
					r = &uptime.Record{}
					recs[p.Date] = r
				}
				r.Merge(cur.status, p, keysOn[p.Date])
			}
		}
		cur = c
	}
	if _, err := q.Exec(ctx, `DELETE FROM component_daily_status WHERE component_id = $1`, componentID); err != nil {
		return mapError(err)
	}
	for _, r := range recs {
		if err := saveRecord(ctx, q, componentID, *r); err != nil {
			return err
		}
	}
	keys := []string(nil)
	if cur.status == open.Status {
		keys = open.Incidents
	}
	_, err = q.Exec(ctx, `
		INSERT INTO component_uptime_open (component_id, status, since, incident_keys) VALUES ($1, $2, $3, $4)
		ON CONFLICT (component_id) DO UPDATE
		SET status = excluded.status, since = excluded.since, incident_keys = excluded.incident_keys`,
		componentID, string(cur.status), cur.at, nonNil(keys))
	return mapError(err)
}

func duration(seconds float64) time.Duration {
	return time.Duration(math.Round(seconds*1e6)) * time.Microsecond
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// UptimeStore records component status history at chosen times: for importing older history, and for tests that
// need days gone by. Live status changes are recorded by the incident store, in the transaction that publishes them.
type UptimeStore struct{ db *DB }

// NewUptimeStore returns the uptime store on db.
func NewUptimeStore(db *DB) *UptimeStore { return &UptimeStore{db: db} }

// Record records that the component with the slug took the status at the instant at, set by the incidents with
// the keys (only public ones are ever shown), as a live change would: in one transaction it appends the change to
// component_status_changes, updates the rollups, and sets the component's current status when the change is its
// latest; then every process is told that the public state changed. Errors: ErrInvalid for a status that is not one,
// ErrNotFound for no such component.
func (s *UptimeStore) Record(ctx context.Context, slug string, status domain.ComponentStatus, at time.Time,
	incidents []string) error {
	if !status.Valid() {
		return domain.Invalid(domain.FieldError{Field: "status", Message: "is not a component status"})
	}
	at = at.UTC().Truncate(time.Microsecond)
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		var id string
		err := tx.QueryRow(ctx, `SELECT id::text FROM components WHERE slug = $1 FOR NO KEY UPDATE`, slug).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("component", slug)
		}
		if err != nil {
			return mapError(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO component_status_changes (component_id, status, at) VALUES ($1, $2, $3)`,
			id, string(status), at); err != nil {
			return mapError(err)
		}
		if err := track(ctx, tx, id, status, incidents, at, true); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE components SET status = $2, updated_at = greatest(updated_at, $3)
			WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM component_status_changes WHERE component_id = $1 AND at > $3)`,
			id, string(status), at); err != nil {
			return mapError(err)
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, PublicChannel)
		return mapError(err)
	})
}

// addUptime fills in each component's history of the last uptime.Days dates, counted up to now: one read of the
// rollups (at most uptime.Days rows a component, whatever the length of the history), one of the open intervals,
// and one of the names of the incidents they list, of which only those with a published update and not private
// are kept.
func addUptime(ctx context.Context, q querier, comps []statuspage.Component, now time.Time) error {
	if len(comps) == 0 {
		return nil
	}
	ids := make([]string, len(comps))
	for i, c := range comps {
		ids[i] = c.ID
	}
	from := uptime.Date(now, uptime.Zone).AddDate(0, 0, -(uptime.Days - 1))
	recs, err := loadRecords(ctx, q, `component_id = ANY($1::uuid[]) AND day >= $2`, ids, from)
	if err != nil {
		return err
	}
	opens := map[string]uptime.Open{}
	rows, err := q.Query(ctx, `SELECT component_id::text, status, since, incident_keys FROM component_uptime_open
		WHERE component_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return mapError(err)
	}
	for rows.Next() {
		var id, st string
		var o uptime.Open
		if err := rows.Scan(&id, &st, &o.Since, &o.Incidents); err != nil {
			rows.Close()
			return mapError(err)
		}
		o.Status = domain.ComponentStatus(st)
		opens[id] = o
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapError(err)
	}

	histories := make([][]uptime.Day, len(comps))
	var keys []string
	for i, c := range comps {
		histories[i] = uptime.History(uptime.Days, now, uptime.Zone, c.CreatedAt, recs[c.ID], opens[c.ID])
		for _, d := range histories[i] {
			for _, in := range d.Incidents {
				keys = append(keys, in.Key)
			}
		}
	}
	names := map[string]string{}
	if keys = uptime.Union(nil, keys); len(keys) > 0 {
		// An incident an admin made private after it contributed keeps its time on the history, not its name.
		rows, err := q.Query(ctx, `SELECT key, title FROM incidents WHERE key = ANY($1) AND public_status IS NOT NULL
			AND NOT coalesce((state->>'private')::boolean, false)`, keys)
		if err != nil {
			return mapError(err)
		}
		for rows.Next() {
			var k, title string
			if err := rows.Scan(&k, &title); err != nil {
				rows.Close()
				return mapError(err)
			}
			names[k] = title
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapError(err)
		}
	}
	for i := range comps {
		for j := range histories[i] {
			d := &histories[i][j]
			public := d.Incidents[:0]
			for _, in := range d.Incidents {
				if name, ok := names[in.Key]; ok {
					public = append(public, uptime.Incident{Key: in.Key, Name: name})
				}
			}
			d.Incidents = slices.Clip(public)
			if len(d.Incidents) == 0 {
				d.Incidents = nil
			}
		}
		comps[i].Uptime = histories[i]
	}
	return nil
}
