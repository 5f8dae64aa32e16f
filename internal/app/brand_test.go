package app_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/postgrestest"
)

// A 1×1 PNG.
const pixelPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

func TestBrandingDressesThePublicPages(t *testing.T) {
	t.Parallel()
	logo := filepath.Join(t.TempDir(), "logo.png")
	raw, _ := base64.StdEncoding.DecodeString(pixelPNG)
	require.NoError(t, os.WriteFile(logo, raw, 0o600))
	cfg, _, err := config.Load("serve", []string{"--page-name", "Acme status", "--page-accent", "#0b6e4f",
		"--page-logo", logo, "--page-links", "Support=https://support.example.com,Docs=https://docs.example.com"},
		func(string) string { return "" }, io.Discard, nil)
	require.NoError(t, err)
	cfg.TimeZone = time.UTC
	a, err := app.New(context.Background(), cfg, postgrestest.NewDatabase(t), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() { srv.Close(); a.Close() })

	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	_, page := get("/")
	require.Contains(t, page, `src="/brand/logo"`)
	require.Contains(t, page, `href="/brand.css"`)
	require.Contains(t, page, `href="https://support.example.com"`)
	require.Contains(t, page, ">Docs</a>")
	require.Contains(t, page, "<title>Acme status</title>")
	resp, css := get("/brand.css")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, css, "#0b6e4f")
	resp, img := get("/brand/logo")
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	require.Equal(t, string(raw), img)

	// The static copy carries the brand too.
	dir := t.TempDir()
	_, err = a.StatusPage.Export(context.Background(), dir)
	require.NoError(t, err)
	exported, err := os.ReadFile(filepath.Join(dir, "brand.css"))
	require.NoError(t, err)
	require.Equal(t, css, string(exported))
	exported, err = os.ReadFile(filepath.Join(dir, "brand", "logo"))
	require.NoError(t, err)
	require.Equal(t, string(raw), string(exported))

	for _, bad := range [][]string{{"--page-accent", "red; } body { display:none"}, {"--page-links", "x=javascript:alert(1)"}} {
		_, _, err := config.Load("serve", bad, func(string) string { return "" }, io.Discard, nil)
		require.Error(t, err, strings.Join(bad, " "))
	}
	notImage := filepath.Join(t.TempDir(), "logo.png")
	require.NoError(t, os.WriteFile(notImage, []byte("<script>alert(1)</script>"), 0o600))
	cfg.LogoFile = notImage
	_, err = app.New(context.Background(), cfg, postgrestest.NewDatabase(t), slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "not a PNG")
}

func TestPagesWithoutBrandingHaveNoBrandAssets(t *testing.T) {
	t.Parallel()
	e := setup(t)
	page := string(e.request("", "GET", "/", nil, nil).body)
	require.NotContains(t, page, "/brand.css")
	require.Equal(t, 404, e.request("", "GET", "/brand.css", nil, nil).status)
	require.Equal(t, 404, e.request("", "GET", "/brand/logo", nil, nil).status)
}
