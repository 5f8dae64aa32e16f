package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/drill"
	"github.com/mimhq/mim/internal/postgrestest"
)

// `mim export static DIR` beside a running mim writes the files that mim serves: served from a plain file server
// they are the same bytes as the live answers.
func TestExportStaticCommandWritesWhatServeServes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := map[string]string{"MIM_DATABASE_URL": postgrestest.NewDatabase(t), "MIM_DEMO": "true",
		"MIM_BASE_URL": "https://status.example.com", "MIM_PAGE_NAME": `Example & "Co" status`, "MIM_LOG_LEVEL": "warn"}
	cfg, _, err := config.Load("serve", nil, getenv(env), io.Discard, nil)
	require.NoError(t, err)
	a, err := app.New(ctx, cfg, env["MIM_DATABASE_URL"], slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	live := httptest.NewServer(a.Handler)
	t.Cleanup(func() { live.Close(); a.Close() })

	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"export", "static", dir}, getenv(env), nil, &out, io.Discard))
	require.Regexp(t, `^wrote \d+ files to `, out.String())
	require.NotContains(t, out.String(), "not exported")

	files := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(files.Close)
	get := func(base, path string) (int, string) {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	// The demo's components have had no incident, so the page is the same whenever it is built.
	for _, path := range []string{"/", "/api/v2/summary.json", "/api/v2/status.json", "/api/v2/components.json",
		"/api/v2/incidents.json", "/api/v2/incidents/unresolved.json", "/api/v2/scheduled-maintenances.json",
		"/badge.svg", "/components/control-plane-eu/badge.svg", "/history", "/static/status.css"} {
		liveStatus, liveBody := get(live.URL, path)
		require.Equal(t, 200, liveStatus, path)
		status, body := get(files.URL, path)
		require.Equal(t, 200, status, path)
		require.Equal(t, liveBody, body, path)
	}
	for _, path := range []string{"/history.rss", "/history.atom", "/index.html", "/history.html"} {
		status, _ := get(files.URL, path)
		require.Equal(t, 200, status, path)
	}
}

func TestExportCommandNeedsStaticAndOneDirectory(t *testing.T) {
	t.Parallel()
	env := getenv(map[string]string{"MIM_DATABASE_URL": "postgres://unused.invalid/mim"})
	require.ErrorContains(t, run(context.Background(), []string{"export"}, env, nil, io.Discard, io.Discard), exportUsage)
	require.ErrorContains(t, run(context.Background(), []string{"export", "html", "x"}, env, nil, io.Discard, io.Discard), exportUsage)
	require.ErrorContains(t, run(context.Background(), []string{"export", "static"}, env, nil, io.Discard, io.Discard), "one directory")
	require.ErrorContains(t, run(context.Background(), []string{"export", "static", "a", "b"}, env, nil, io.Discard, io.Discard), "one directory")
}

// `mim export evidence KEY` prints the drill incident's evidence, every timeline event included.
func TestExportEvidenceCommandPrintsTheIncident(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := map[string]string{"MIM_DATABASE_URL": postgrestest.NewDatabase(t), "MIM_DEMO": "false", "MIM_LOG_LEVEL": "warn"}
	cfg, _, err := config.Load("serve", nil, getenv(env), io.Discard, nil)
	require.NoError(t, err)
	a, err := app.New(ctx, cfg, env["MIM_DATABASE_URL"], slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	live := httptest.NewServer(a.Handler)
	t.Cleanup(func() { live.Close(); a.Close() })
	_, err = a.Accounts.CreateUser(ctx, account.NewUser{Email: "admin@example.com", Name: "Admin", Role: domain.OrgAdmin})
	require.NoError(t, err)
	tok, _, err := a.Accounts.CreateToken(ctx, "admin@example.com", "drill", nil)
	require.NoError(t, err)
	var drillOut bytes.Buffer
	require.NoError(t, drill.Run(ctx, drill.Options{BaseURL: live.URL, Token: tok, Out: &drillOut}), drillOut.String())
	timeline, err := a.Incidents.Timeline(ctx, "INC-1")
	require.NoError(t, err)

	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"export", "evidence", "INC-1"}, getenv(env), nil, &out, io.Discard))
	require.Contains(t, out.String(), "# Evidence: INC-1")
	require.Contains(t, out.String(), fmt.Sprintf("## Timeline (%d events)", len(timeline)))

	out.Reset()
	require.NoError(t, run(ctx, []string{"export", "evidence", "--format", "json", "INC-1"}, getenv(env), nil, &out, io.Discard))
	var ev struct {
		Timeline []json.RawMessage `json:"timeline"`
		PIR      struct {
			Status string `json:"status"`
		} `json:"pir"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &ev))
	require.Len(t, ev.Timeline, len(timeline))
	require.Equal(t, "published", ev.PIR.Status)

	require.Error(t, run(ctx, []string{"export", "evidence", "INC-404"}, getenv(env), nil, io.Discard, io.Discard))
	require.ErrorContains(t, run(ctx, []string{"export", "evidence", "--format", "pdf", "INC-1"}, getenv(env), nil,
		io.Discard, io.Discard), exportUsage)
}
