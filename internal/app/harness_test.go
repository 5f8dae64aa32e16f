package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/postgrestest"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// env is one test's running mim on its own database, with a cast of users and their tokens.
type env struct {
	t      testing.TB
	app    *app.App
	srv    *httptest.Server
	url    string            // the database's
	tokens map[string]string // by role name: admin, ic, comms, tech, sponsor, responder, viewer
	emails map[string]string
}

// setupWith is setup with the configuration changed by configure first (nil: none).
func setupWith(t testing.TB, configure func(*config.Config)) *env {
	t.Helper()
	return setup(t, func(c *config.Config, _ *app.Options) {
		if configure != nil {
			configure(c)
		}
	})
}

// setup starts mim on a fresh database; each option may change its configuration and the parts it is given.
func setup(t testing.TB, options ...func(*config.Config, *app.Options)) *env {
	t.Helper()
	url := postgrestest.NewDatabase(t)
	ctx := context.Background()
	cfg := config.Config{PageName: "Test status", BaseURL: "http://status.test", TimeZone: time.UTC}
	var opts app.Options
	for _, o := range options {
		o(&cfg, &opts)
	}
	a, err := app.New(ctx, cfg, url, slog.New(slog.DiscardHandler), opts)
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() { srv.Close(); a.Close() })
	e := &env{t: t, app: a, srv: srv, url: url, tokens: map[string]string{}, emails: map[string]string{}}
	for name, role := range map[string]domain.OrgRole{"admin": domain.OrgAdmin, "ic": domain.OrgResponder,
		"comms": domain.OrgResponder, "tech": domain.OrgResponder, "sponsor": domain.OrgResponder,
		"responder": domain.OrgResponder, "ic2": domain.OrgResponder, "viewer": domain.OrgViewer} {
		email := name + "@example.com"
		_, err := a.Accounts.CreateUser(ctx, account.NewUser{Email: email, Name: strings.ToUpper(name[:1]) + name[1:], Role: role})
		require.NoError(t, err)
		tok, _, err := a.Accounts.CreateToken(ctx, email, "test", nil)
		require.NoError(t, err)
		e.tokens[name], e.emails[name] = tok, email
	}
	for _, c := range []map[string]any{
		{"slug": "control-plane-eu", "name": "Control Plane (Europe)", "group": "Europe", "control_plane": true, "core": true},
		{"slug": "swg-eu", "name": "Secure Web Gateway (Europe)", "group": "Europe", "core": true},
		{"slug": "api", "name": "API"},
	} {
		e.do("admin", "POST", "/api/v1/components", c, 201)
	}
	return e
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

// request sends a request as the named user ("" for none) with a body that is JSON-encoded unless it is a string.
func (e *env) request(who, method, path string, body any, header map[string]string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[who])
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.srv.Client().Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// do sends a request and requires the status.
func (e *env) do(who, method, path string, body any, want int) map[string]any {
	e.t.Helper()
	r := e.request(who, method, path, body, nil)
	require.Equal(e.t, want, r.status, "%s %s: %s", method, path, r.body)
	if len(r.body) == 0 {
		return nil
	}
	return r.json(e.t)
}

// declareMajor declares the process document's example incident and returns its key.
func (e *env) declareMajor() string {
	e.t.Helper()
	inc := e.do("responder", "POST", "/api/v1/incidents", map[string]any{
		"title": "EU control plane failure", "components": []string{"control-plane-eu", "swg-eu"},
		"severity": "critical", "urgency": "immediate", "scope": map[string]any{"regions": []string{"eu"}},
		"business_impact": []string{"security_enforcement"},
	}, 201)
	require.Equal(e.t, "major", inc["kind"])
	return inc["key"].(string)
}

// engage assigns and acknowledges the IC, so the incident can leave Detection & Declaration.
func (e *env) engage(key string) {
	e.t.Helper()
	e.do("responder", "PUT", "/api/v1/incidents/"+key+"/roles/incident_commander", map[string]any{"user": e.emails["ic"]}, 200)
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/roles/incident_commander/acknowledge", nil, 200)
}

func (e *env) incidentCount() int {
	e.t.Helper()
	return len(e.do("admin", "GET", "/api/v1/incidents?limit=200", nil, 200)["incidents"].([]any))
}
