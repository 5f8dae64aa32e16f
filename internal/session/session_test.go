package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postgres"
	"github.com/mimhq/mim/internal/postgrestest"
	"github.com/mimhq/mim/internal/session"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T) (*session.Manager, *clock, *postgres.DB) {
	t.Helper()
	url := postgrestest.NewDatabase(t)
	ctx := context.Background()
	require.NoError(t, postgres.MigrateUp(ctx, url))
	db, err := postgres.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	accounts := account.NewService(postgres.NewAccountStore(db))
	_, err = accounts.CreateUser(ctx, account.NewUser{Email: "ic@example.com", Name: "Ic", Role: domain.OrgResponder,
		Password: "correct horse battery"})
	require.NoError(t, err)
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	return session.NewManager(postgres.NewSessionStore(db), accounts, session.DefaultPolicy(), c.now), c, db
}

func TestSessionEndsAfterItsIdleTimeoutAndItsLifetimeWhateverTheActivity(t *testing.T) {
	t.Parallel()
	m, c, _ := setup(t)
	ctx := t.Context()
	plain, s, err := m.SignIn(ctx, "ic@example.com", "correct horse battery", "test")
	require.NoError(t, err)
	require.Equal(t, c.t.Add(12*time.Hour), s.ExpiresAt)

	c.t = c.t.Add(59 * time.Minute)
	_, err = m.Lookup(ctx, plain)
	require.NoError(t, err, "active within the idle timeout")
	// Kept alive every 50 minutes, it still ends at 12 hours.
	for c.t.Before(s.ExpiresAt.Add(-50 * time.Minute)) {
		c.t = c.t.Add(50 * time.Minute)
		_, err = m.Lookup(ctx, plain)
		require.NoError(t, err)
	}
	c.t = s.ExpiresAt
	_, err = m.Lookup(ctx, plain)
	require.True(t, domain.IsKind(err, domain.ErrUnauthorized))
	_, err = m.Lookup(ctx, plain)
	require.True(t, domain.IsKind(err, domain.ErrUnauthorized), "and it stays gone")

	plain, _, err = m.SignIn(ctx, "ic@example.com", "correct horse battery", "test")
	require.NoError(t, err)
	c.t = c.t.Add(time.Hour)
	_, err = m.Lookup(ctx, plain)
	require.True(t, domain.IsKind(err, domain.ErrUnauthorized), "an hour idle ends it")
}

func TestLockoutEndsAfterItsTimeAndASuccessClearsTheCount(t *testing.T) {
	t.Parallel()
	m, c, _ := setup(t)
	ctx := t.Context()
	for range 4 {
		_, _, err := m.SignIn(ctx, "ic@example.com", "wrong", "")
		require.ErrorIs(t, err, account.ErrBadCredentials)
	}
	_, _, err := m.SignIn(ctx, "ic@example.com", "correct horse battery", "")
	require.NoError(t, err, "four failures do not lock")
	for range 4 {
		_, _, _ = m.SignIn(ctx, "ic@example.com", "wrong", "")
	}
	_, _, err = m.SignIn(ctx, "ic@example.com", "correct horse battery", "")
	require.NoError(t, err, "the success cleared the earlier count")

	for range 5 {
		_, _, _ = m.SignIn(ctx, "ic@example.com", "wrong", "")
	}
	_, _, err = m.SignIn(ctx, "ic@example.com", "correct horse battery", "")
	require.Equal(t, "locked", domain.AsError(err).Code)
	c.t = c.t.Add(15*time.Minute + time.Second)
	_, _, err = m.SignIn(ctx, "ic@example.com", "correct horse battery", "")
	require.NoError(t, err, "the lockout ends")

	// Failures spread beyond the window never lock.
	for range 6 {
		_, _, _ = m.SignIn(ctx, "ic@example.com", "wrong", "")
		c.t = c.t.Add(4 * time.Minute)
	}
	_, _, err = m.SignIn(ctx, "ic@example.com", "correct horse battery", "")
	require.NoError(t, err)
}
