package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/demo"
	"github.com/mimhq/mim/internal/postgres"
)

// lockedBuffer is an io.Writer safe to read while the server writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// serveInBackground runs `mim serve` on the data directory until the returned stop is called.
func serveInBackground(t *testing.T, env map[string]string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var logs lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv(env), strings.NewReader(""), io.Discard, &logs) }()
	url := "http://" + env["MIM_ADDR"]
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			t.Fatalf("mim serve exited: %v\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 60*time.Second, 100*time.Millisecond, "mim did not become ready: %s", logs.String())
	return func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, logs.String())
		case <-time.After(60 * time.Second):
			t.Fatal("mim did not shut down")
		}
	}
}

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// The embedded mode end to end: first start creates the cluster and seeds demo data, the CLI creates a token beside
// the running server, an incident is declared, and after a stop and a start on the same data directory everything is
// still there.
func TestServeEmbeddedSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	dir, err := os.MkdirTemp("", "mim-serve-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755)) // PostgreSQL runs as another user when the tests run as root
	env := map[string]string{"MIM_DATA_DIR": filepath.Join(dir, "data"), "MIM_ADDR": freeAddr(t), "MIM_LOG_LEVEL": "warn"}
	base := "http://" + env["MIM_ADDR"]

	stop := serveInBackground(t, env)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"token", "create", "--user", "admin@example.com"}, getenv(env),
		nil, &out, io.Discard))
	token := strings.TrimSpace(out.String())
	require.True(t, strings.HasPrefix(token, "mim_"), token)

	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	status, comps := call("GET", "/api/v1/components", "")
	require.Equal(t, 200, status)
	require.Len(t, comps["components"], 15, "demo data: five services in three regions")
	status, inc := call("POST", "/api/v1/incidents", `{"title":"Restart me","severity":"critical","urgency":"immediate",
		"components":["control-plane-eu"],"scope":{"regions":["eu"]},"business_impact":["security_enforcement"]}`)
	require.Equal(t, 201, status, fmt.Sprint(inc))
	key := inc["key"].(string)

	// `mim token revoke` ends every live token of a user with a name, as `make drill` does with its own.
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"token", "create", "--user", "admin@example.com", "--name", "drill"},
		getenv(env), nil, &out, io.Discard))
	drillToken := strings.TrimSpace(out.String())
	me := func(tok string) int {
		req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, 200, me(drillToken))
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"token", "revoke", "--user", "admin@example.com", "--name", "drill"},
		getenv(env), nil, &out, io.Discard))
	require.Contains(t, out.String(), "revoked 1 token")
	require.Equal(t, 401, me(drillToken))
	require.Equal(t, 200, me(token), "tokens of another name stay")
	stop()

	// Restarted with a private metrics listener: Prometheus reads it there, the public port still says nothing.
	env["MIM_METRICS_ADDR"] = freeAddr(t)
	stop = serveInBackground(t, env)
	defer stop()
	resp, err := http.Get("http://" + env["MIM_METRICS_ADDR"] + "/metrics")
	require.NoError(t, err)
	metricsText, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, string(metricsText), `mim_incidents_open{kind="major",severity="critical"} 1`)
	require.Contains(t, string(metricsText), "process_resident_memory_bytes")
	resp, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 404, resp.StatusCode, "no token: no metrics on the public port")
	resp, err = http.Get("http://" + env["MIM_METRICS_ADDR"] + "/api/v1/components")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 404, resp.StatusCode, "the metrics listener serves nothing else")

	status, again := call("GET", "/api/v1/incidents/"+key, "")
	require.Equal(t, 200, status)
	require.Equal(t, "Restart me", again["title"])
	require.Equal(t, inc["version"], again["version"])
	status, comps = call("GET", "/api/v1/components", "")
	require.Equal(t, 200, status)
	require.Len(t, comps["components"], 15, "demo data is seeded once")

	// The demo admin signs in to the web UI with the password the README and the start-up log give; a user made
	// with the CLI signs in with theirs, and `mim user password` changes it.
	signIn := func(email, password string) int {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(base + "/app/login")
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(raw)
		require.NotNil(t, m, "the sign-in form carries a CSRF token")
		resp, err = c.PostForm(base+"/app/login", url.Values{"email": {email}, "password": {password},
			"csrf_token": {string(m[1])}})
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusSeeOther, signIn("admin@example.com", demo.Password))
	require.NoError(t, run(context.Background(), []string{"user", "create", "--email", "new@example.com", "--name", "New",
		"--role", "responder", "--password-stdin"}, getenv(env), strings.NewReader("first password!\n"), io.Discard, io.Discard))
	require.Equal(t, http.StatusSeeOther, signIn("new@example.com", "first password!"))
	require.NoError(t, run(context.Background(), []string{"user", "password", "--email", "new@example.com"}, getenv(env),
		strings.NewReader("second password!\n"), io.Discard, io.Discard))
	require.Equal(t, http.StatusUnauthorized, signIn("new@example.com", "first password!"))
	require.Equal(t, http.StatusSeeOther, signIn("new@example.com", "second password!"))

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"migrate", "version"}, getenv(env), nil, &out, io.Discard))
	latest, err := postgres.LatestMigration()
	require.NoError(t, err)
	require.Contains(t, out.String(), fmt.Sprintf("schema version %d (latest %d)", latest, latest))
}

func TestUnknownCommandAndBadConfigurationFailClearly(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	require.ErrorContains(t, run(context.Background(), []string{"frobnicate"}, getenv(nil), nil, io.Discard, &stderr), "unknown command")
	require.ErrorContains(t, run(context.Background(), []string{"serve", "--timezone", "Mars/Olympus"}, getenv(nil), nil, io.Discard, &stderr), "IANA")
	require.ErrorContains(t, run(context.Background(), []string{"serve"}, getenv(map[string]string{"MIM_ADDR": "nonsense"}), nil, io.Discard, &stderr), "host:port")
	require.ErrorContains(t, run(context.Background(), []string{"serve"}, getenv(map[string]string{"MIM_METRICS_TOKEN": "short"}), nil, io.Discard, &stderr), "MIM_METRICS_TOKEN")
	require.ErrorContains(t, run(context.Background(), []string{"serve"}, getenv(map[string]string{"MIM_METRICS_ADDR": "nowhere"}), nil, io.Discard, &stderr), "metrics addr")
	require.ErrorContains(t, run(context.Background(), []string{"serve"}, getenv(map[string]string{"MIM_ADDR": "127.0.0.1:8080", "MIM_METRICS_ADDR": "127.0.0.1:8080"}), nil, io.Discard, &stderr), "must differ")
}
