package postgres

import (
	"context"
	"log/slog"
	"time"
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
