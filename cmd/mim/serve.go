package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/demo"
	"github.com/mimhq/mim/internal/pgembed"
	"github.com/mimhq/mim/internal/postgres"
)

// database returns the URL of the database to use: the configured one, or the embedded cluster under the data
// directory (the running one, or one started for this process). close releases what this process started.
func database(ctx context.Context, cfg config.Config, logger *slog.Logger) (url string, close func(), err error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, func() {}, nil
	}
	cluster, err := pgembed.Open(ctx, cfg.DataDir, logger)
	if err != nil {
		return "", nil, fmt.Errorf("embedded PostgreSQL: %w", err)
	}
	return cluster.URL(pgembed.DefaultDatabase), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cluster.Close(ctx); err != nil {
			logger.Error("stop embedded PostgreSQL", "err", err)
		}
	}, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := config.Load("serve", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	// The heap is small (snapshots of the public state, pools) and the public page is served at tens of thousands of
	// requests a second during an outage: collecting less often cuts the tail latency that garbage collection adds
	// (docs/performance.md, "garbage collection tuned") for a few megabytes. GOGC, when set, still decides.
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	logger := cfg.Logger(stderr)
	url, closeDB, err := database(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeDB()
	a, err := app.New(ctx, cfg, url, logger)
	if err != nil {
		return err
	}
	defer a.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	// Live streams (GET /events) never end by themselves: end them when shutdown starts, or it waits them out.
	srv.RegisterOnShutdown(a.StatusPage.Close)
	srv.RegisterOnShutdown(a.UI.Live.Close) // end the war rooms' streams, so they do not hold shutdown open
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("mim is serving", "url", "http://"+ln.Addr().String(), "status_page", cfg.BaseURL+"/",
		"api", cfg.BaseURL+"/api/v1", "openapi", cfg.BaseURL+"/openapi.yaml", "web_ui", cfg.BaseURL+"/app/",
		"embedded_postgres", cfg.DatabaseURL == "")
	if cfg.Demo {
		logger.Info("demo: sign in to the web UI at " + cfg.BaseURL + "/app/login as " + demo.Admin +
			" with password " + demo.Password + " (every demo user has it)")
	}
	fmt.Fprintf(stdout, "mim serving on http://%s\n", ln.Addr())

	// Prometheus on a listener of its own, when asked: a private address the public never reaches.
	var metricsSrv *http.Server
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			_ = srv.Close()
			return fmt.Errorf("listen on %s: %w", cfg.MetricsAddr, err)
		}
		metricsSrv = &http.Server{Handler: a.Metrics.PrivateHandler(), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
		go func() { errc <- metricsSrv.Serve(mln) }()
		logger.Info("metrics are served", "url", "http://"+mln.Addr().String()+"/metrics")
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(sctx)
	}
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// withDatabase runs fn with a migrated database, for the administrative commands.
func withDatabase(ctx context.Context, cfg config.Config, stderr io.Writer, fn func(url string, db *postgres.DB) error) error {
	logger := cliLogger(cfg, stderr)
	url, closeDB, err := database(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := postgres.MigrateUp(ctx, url); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(url, db)
}

// cliLogger keeps administrative commands quiet unless something is wrong: their output is for scripts.
func cliLogger(cfg config.Config, stderr io.Writer) *slog.Logger {
	if cfg.LogLevel < slog.LevelWarn {
		cfg.LogLevel = slog.LevelWarn
	}
	return cfg.Logger(stderr)
}
