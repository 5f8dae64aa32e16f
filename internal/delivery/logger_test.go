package delivery

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

// River's routine INFO ("producer: Producer job counts") stays out of the log; its warnings come through, and
// mim's own logger keeps its INFO.
func TestRiverLoggerKeepsOnlyWarnings(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	mim := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	river := riverLogger(mim)
	river.Info("producer: Producer job counts", "queue", "default")
	river.Debug("debug chatter")
	river.With("x", 1).WithGroup("g").Info("grouped info")
	require.Empty(t, buf.String())
	river.Warn("jobs stuck")
	require.Contains(t, buf.String(), "jobs stuck")
	require.Contains(t, buf.String(), "component=river")
	mim.Info("mim info")
	require.Contains(t, buf.String(), "mim info")
}
