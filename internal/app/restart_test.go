package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postgrestest"
)

// BC-22: what was sent lives in the database. Two restarts send nothing again; an incident resolved while the
// service was down (by another instance that stopped at once) is announced exactly once after the start.
func TestBC22RestartsNeitherResendNorLose(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	rcv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, string(readBody(t, r)))
	}))
	t.Cleanup(rcv.Close)
	received := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), bodies...) }

	dbURL := postgrestest.NewDatabase(t)
	ctx := context.Background()
	cfg := config.Config{PageName: "Restart", BaseURL: "https://status.example.com", TimeZone: time.UTC,
		AllowTargets: []string{strings.TrimPrefix(rcv.URL, "http://")},
		Delivery:     config.Delivery{Timeout: 2 * time.Second, MaxAttempts: 3, Backoff: 20 * time.Millisecond, PollInterval: 20 * time.Millisecond}}
	start := func() (*app.App, func(method, path string, body any) int) {
		a, err := app.New(ctx, cfg, dbURL, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		srv := httptest.NewServer(a.Handler)
		return a, func(method, path string, body any) int {
			b, _ := json.Marshal(body)
			req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tokenFor(t, a))
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
	}
	a, call := start()
	_, err := a.Accounts.CreateUser(ctx, account.NewUser{Email: "admin@example.com", Name: "Admin", Role: domain.OrgAdmin})
	require.NoError(t, err)
	require.Equal(t, 201, call("POST", "/api/v1/components", map[string]any{"slug": "api", "name": "API"}))
	require.Equal(t, 201, call("POST", "/api/v1/subscribers", map[string]any{"channel": "webhook", "address": rcv.URL}))
	require.Equal(t, 201, call("POST", "/api/v1/incidents", map[string]any{"title": "API errors", "severity": "low",
		"urgency": "low", "components": []string{"api"}}))
	require.Equal(t, 201, call("POST", "/api/v1/incidents/INC-1/updates", map[string]any{"status": "investigating",
		"body": "Looking.", "publish": true, "components": map[string]string{"api": "partial_outage"}}))
	require.Eventually(t, func() bool { return len(received()) == 1 }, 10*time.Second, 10*time.Millisecond)
	a.Close()

	for range 2 { // two restarts
		a, _ = start()
		time.Sleep(200 * time.Millisecond) // ten poll intervals: time enough to (wrongly) resend
		a.Close()
	}
	require.Len(t, received(), 1, "restarts send nothing again")

	// While "the service" is down, another instance resolves INC-1 and stops at once.
	other, callOther := start()
	require.NoError(t, other.Delivery.Stop(ctx)) // it never delivers: only the publish and its queued notice commit
	require.Equal(t, 201, callOther("POST", "/api/v1/incidents/INC-1/updates", map[string]any{"status": "resolved",
		"body": "Fixed.", "publish": true, "components": map[string]string{"api": "operational"}}))
	other.Close()
	require.Len(t, received(), 1)

	a, _ = start()
	defer a.Close()
	require.Eventually(t, func() bool { return len(received()) == 2 }, 10*time.Second, 10*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	got := received()
	require.Len(t, got, 2, "the resolved notice, exactly once")
	require.Contains(t, got[1], `"status":"resolved"`)
}

var tokens sync.Map // one admin token per App

func tokenFor(t *testing.T, a *app.App) string {
	if tok, ok := tokens.Load(a); ok {
		return tok.(string)
	}
	tok, _, err := a.Accounts.CreateToken(context.Background(), "admin@example.com", "restart", nil)
	if err != nil {
		return "" // the user does not exist yet: the caller creates it first
	}
	tokens.Store(a, tok)
	return tok
}
