package postgres

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/incident"
)

// ListenPublic calls onChange whenever any mim process commits a change to the public state (LISTEN/NOTIFY), once
// after each (re)connection, since notifications sent while disconnected are lost, and once when the connection is
// lost, since from then on a change may go unheard: the status page rebuilds, and says it is delayed if the
// database cannot be read. It returns when ctx ends.
func (db *DB) ListenPublic(ctx context.Context, logger *slog.Logger, onChange func()) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, onChange)
		if ctx.Err() != nil {
			return
		}
		onChange()
		logger.WarnContext(ctx, "public change listener disconnected; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, onChange func()) error {
	pc, err := db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection that has LISTENed goes back to no pool.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+PublicChannel); err != nil {
		return err
	}
	onChange()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		onChange()
	}
}

// IncidentChannel is the LISTEN/NOTIFY channel on which a commit names the incident it changed (its key), so that
// every process can tell the people watching that incident's war room.
const IncidentChannel = "mim_incident"

// NotifyIncident is an incident reaction (IncidentStore.AddReaction): at commit, every process hears the key.
func NotifyIncident(ctx context.Context, tx pgx.Tx, c incident.Change) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, IncidentChannel, c.After.State.Key)
	return mapError(err)
}

// ListenIncidents calls onChange with the key of each incident any process changes, and with "" after each
// (re)connection (changes may have been missed while disconnected). It returns when ctx ends.
func (db *DB) ListenIncidents(ctx context.Context, logger *slog.Logger, onChange func(key string)) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenIncidentsOnce(ctx, onChange)
		if ctx.Err() != nil {
			return
		}
		logger.WarnContext(ctx, "incident change listener disconnected; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (db *DB) listenIncidentsOnce(ctx context.Context, onChange func(string)) error {
	pc, err := db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack() // a connection that has LISTENed goes back to no pool
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+IncidentChannel); err != nil {
		return err
	}
	onChange("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		onChange(n.Payload)
	}
}
