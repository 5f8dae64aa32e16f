package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/mailtest"
	"github.com/mimhq/mim/internal/postgrestest"
)

// startChild runs this test binary as `mim serve` in its own process, and waits until it is ready.
func startChild(t *testing.T, env []string, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), append(env, "MIM_TEST_RUN_MAIN=1", "MIM_ADDR="+addr)...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 60*time.Second, 50*time.Millisecond)
	return cmd
}

// The crash test: a real `mim serve` is killed with SIGKILL in the middle of a fan-out to webhook and email
// subscribers and started again; every subscriber still receives the notification, and the only duplicates are
// deliveries that were in flight at the kill, carrying the same webhook-id.
func TestKillDuringFanOutLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs mim serve twice and waits for River's rescuer")
	}
	const hooks, mails = 2500, 100
	var mu sync.Mutex
	byID := map[string]int{}
	rcv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond) // a receiver with some latency, so the kill lands mid fan-out
		mu.Lock()
		byID[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	t.Cleanup(rcv.Close)
	distinct := func() int { mu.Lock(); defer mu.Unlock(); return len(byID) }
	sink := mailtest.New(t)

	// Prepare the database in-process: an admin token, a component, the subscribers.
	dbURL := postgrestest.NewDatabase(t)
	ctx := context.Background()
	cfg := config.Config{PageName: "Crash", BaseURL: "https://status.example.com", TimeZone: time.UTC}
	a, err := app.New(ctx, cfg, dbURL, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	_, err = a.Accounts.CreateUser(ctx, account.NewUser{Email: "admin@example.com", Name: "Admin", Role: domain.OrgAdmin})
	require.NoError(t, err)
	token, _, err := a.Accounts.CreateToken(ctx, "admin@example.com", "crash", nil)
	require.NoError(t, err)
	_, err = a.Components.Create(ctx, domain.Component{Slug: "api", Name: "API"})
	require.NoError(t, err)
	_, err = a.DB.Pool.Exec(ctx, `INSERT INTO subscribers (id, channel, address, secret, status)
		SELECT gen_random_uuid(), 'webhook', $1 || '/h/' || i, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'active'
		FROM generate_series(1, $2) i`, rcv.URL, hooks)
	require.NoError(t, err)
	_, err = a.DB.Pool.Exec(ctx, `INSERT INTO subscribers (id, channel, address, status)
		SELECT gen_random_uuid(), 'email', 'user' || i || '@example.com', 'active' FROM generate_series(1, $1) i`, mails)
	require.NoError(t, err)
	a.Close()

	env := []string{"MIM_DATABASE_URL=" + dbURL, "MIM_BASE_URL=https://status.example.com", "MIM_LOG_LEVEL=error",
		"MIM_SMTP_URL=" + sink.URL(), "MIM_MAIL_FROM=status@example.com",
		"MIM_ALLOW_TARGETS=" + strings.TrimPrefix(rcv.URL, "http://"),
		"MIM_DELIVERY_TIMEOUT=1s", "MIM_DELIVERY_BACKOFF=50ms"}
	addr := freeAddr(t)
	child := startChild(t, env, addr)

	call := func(method, path, body string) int {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, 201, call("POST", "/api/v1/incidents", `{"title":"API errors","severity":"low","urgency":"low",
		"components":["api"]}`))
	require.Equal(t, 201, call("POST", "/api/v1/incidents/INC-1/updates", `{"status":"investigating",
		"body":"Looking into it.","publish":true,"components":{"api":"partial_outage"}}`))

	require.Eventually(t, func() bool { return distinct() >= 200 }, 30*time.Second, time.Millisecond)
	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	killedAt := distinct()
	require.Less(t, killedAt, hooks, "the kill came before the fan-out finished")

	startChild(t, env, addr)
	require.Eventually(t, func() bool {
		emails := 0
		for i := 1; i <= mails; i++ {
			if len(sink.To(fmt.Sprintf("user%d@example.com", i))) > 0 {
				emails++
			}
		}
		return distinct() == hooks && emails == mails
	}, 120*time.Second, 50*time.Millisecond, "after the restart every subscriber receives it")
	mu.Lock()
	defer mu.Unlock()
	dups := 0
	for _, n := range byID {
		if n > 1 {
			dups++
		}
	}
	require.LessOrEqual(t, dups, 60, "only deliveries in flight at the kill may repeat (same webhook-id)")
	t.Logf("killed after %d of %d webhooks; %d repeated after the restart", killedAt, hooks, dups)
}
