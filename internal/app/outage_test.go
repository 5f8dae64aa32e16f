package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// cutDatabase makes the test's database unreachable for its app, as an outage would: no new connection is accepted
// (ALLOW_CONNECTIONS false) and every open one, the pool's and the listener's, is terminated, from an admin
// connection to another database of the same server. It returns the function that lets connections in again,
// which the cleanup also calls.
func cutDatabase(t *testing.T, e *env) (restore func()) {
	t.Helper()
	ctx := context.Background()
	cfg := e.app.DB.Pool.Config().ConnConfig.Copy()
	name := cfg.Database
	require.NotEmpty(t, name)
	cfg.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	ident := pgx.Identifier{name}.Sanitize()
	_, err = admin.Exec(ctx, "ALTER DATABASE "+ident+" ALLOW_CONNECTIONS false")
	require.NoError(t, err)
	restored := false
	restore = func() {
		if restored {
			return
		}
		restored = true
		_, err := admin.Exec(ctx, "ALTER DATABASE "+ident+" ALLOW_CONNECTIONS true")
		require.NoError(t, err)
		require.NoError(t, admin.Close(ctx))
	}
	t.Cleanup(restore)
	_, err = admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
	require.NoError(t, err)
	// The cut is real: the app's own pool can no longer reach its database.
	require.Eventually(t, func() bool {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return e.app.DB.Ping(pctx) != nil
	}, 10*time.Second, 20*time.Millisecond)
	return restore
}

func (e *env) publishUpdate(key, body, idempotencyKey string) {
	e.t.Helper()
	r := e.request("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "identified",
		"body": body, "publish": true, "components": map[string]string{"control-plane-eu": "partial_outage"}},
		map[string]string{"Idempotency-Key": idempotencyKey})
	require.Equal(e.t, 201, r.status, string(r.body))
}

// The database goes away in the middle of an incident: the public page and summary.json keep answering 200 with the
// last snapshot, the page saying calmly that live updates are delayed and since when, with no error text; once the
// database is back they catch up by themselves, with what was published since.
func TestPublicPageSurvivesTheDatabaseGoingAwayAndRecovers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key := e.declareMajor()
	e.engage(key)
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating",
		"body": "We are looking into failures of the EU control plane.", "publish": true,
		"components": map[string]string{"control-plane-eu": "major_outage"}}, 201)
	before := e.request("", "GET", "/", nil, nil)
	require.Equal(t, 200, before.status)
	require.Contains(t, string(before.body), "We are looking into failures of the EU control plane.")
	require.NotContains(t, string(before.body), `data-testid="delayed-notice"`)
	require.Contains(t, string(before.body), `data-testid="last-updated"`)
	summary := e.request("", "GET", "/api/v2/summary.json", nil, nil)
	require.Equal(t, 200, summary.status)

	restore := cutDatabase(t, e)
	e.app.StatusPage.Invalidate()
	for range 3 { // the failed rebuild, then answers within the retry interval
		page := e.request("", "GET", "/", nil, nil)
		require.Equal(t, 200, page.status, string(page.body))
		body := string(page.body)
		require.Contains(t, body, "We are looking into failures of the EU control plane.")
		require.Contains(t, body, `data-testid="delayed-notice"`)
		require.Contains(t, body, "Live updates are delayed; showing the status as of")
		require.NotContains(t, body, "ALLOW_CONNECTIONS")
		require.NotContains(t, body, "terminat")
		require.NotContains(t, body, "not currently accepting connections")

		again := e.request("", "GET", "/api/v2/summary.json", nil, nil)
		require.Equal(t, 200, again.status, string(again.body))
		require.Equal(t, string(summary.body), string(again.body), "the last good JSON, byte for byte")
		require.Equal(t, summary.header.Get("ETag"), again.header.Get("ETag"))
	}
	badge := e.request("", "GET", "/badge.svg", nil, nil)
	require.Equal(t, 200, badge.status)
	require.Equal(t, 503, e.request("", "GET", "/readyz", nil, nil).status, "the cut is real")

	// The database comes back. No one restarts anything: the next change (or the listener's reconnection, or
	// the next request after the retry interval) brings the page up to date.
	restore()
	require.Eventually(t, func() bool { return e.request("", "GET", "/readyz", nil, nil).status == 200 },
		20*time.Second, 50*time.Millisecond)
	e.publishUpdate(key, "The cause is identified: a faulty configuration push.", "outage-recovery-1")
	require.Eventually(t, func() bool {
		page := string(e.request("", "GET", "/", nil, nil).body)
		sum := string(e.request("", "GET", "/api/v2/summary.json", nil, nil).body)
		return strings.Contains(page, "The cause is identified") && !strings.Contains(page, `data-testid="delayed-notice"`) &&
			strings.Contains(sum, "The cause is identified")
	}, 20*time.Second, 50*time.Millisecond, "the page recovers by itself")
}

// Without any change published, the page recovers by itself too once the database is back: the listener's
// reconnection invalidates the snapshot, and the notice goes.
func TestDelayedNoticeGoesWhenTheDatabaseReturnsWithoutAChange(t *testing.T) {
	t.Parallel()
	e := setup(t)
	require.Equal(t, 200, e.request("", "GET", "/", nil, nil).status)
	restore := cutDatabase(t, e)
	require.Eventually(t, func() bool {
		return strings.Contains(string(e.request("", "GET", "/", nil, nil).body), `data-testid="delayed-notice"`)
	}, 20*time.Second, 50*time.Millisecond, "the lost listener connection marks the page as possibly behind")
	restore()
	require.Eventually(t, func() bool {
		r := e.request("", "GET", "/", nil, nil)
		return r.status == 200 && !strings.Contains(string(r.body), `data-testid="delayed-notice"`)
	}, 30*time.Second, 100*time.Millisecond, "the page recovers by itself")
}
