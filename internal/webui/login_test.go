package webui

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLimiterAllowsMaxAttemptsPerWindowPerClient(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	l := NewLimiter(3, time.Minute, func() time.Time { return now })
	for range 3 {
		require.True(t, l.Allow("10.0.0.1"))
		l.Fail("10.0.0.1")
	}
	require.False(t, l.Allow("10.0.0.1"))
	l.Fail("10.0.0.2")
	require.True(t, l.Allow("10.0.0.2"), "another client is not affected")
	now = now.Add(61 * time.Second)
	require.True(t, l.Allow("10.0.0.1"), "the window has passed")
	now = now.Add(10 * time.Minute)
	l.Allow("10.0.0.3")
	require.NotContains(t, l.seen, "10.0.0.2", "quiet clients are forgotten")
}

func TestSafeNextKeepsOnlyPathsInsideTheUI(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/app/incidents/INC-4":      "/app/incidents/INC-4",
		"/app/incidents?kind=major": "/app/incidents?kind=major",
		"https://evil.example":      "/app/incidents",
		"//evil.example/app/":       "/app/incidents",
		"/app/\\evil":               "/app/incidents",
		"/app/login?next=/app/x":    "/app/incidents",
		"":                          "/app/incidents",
		"/status":                   "/app/incidents",
	} {
		require.Equal(t, want, safeNext(in), in)
	}
}
