// Package app wires mim's parts together over one database: the stores, the services, the status page and the HTTP
// handler. `mim serve` and the end-to-end tests build the same App.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/api"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/demo"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/postgres"
	"github.com/mimhq/mim/internal/server"
	"github.com/mimhq/mim/internal/statuspage"
)

// App is a running mim over one database.
type App struct {
	DB         *postgres.DB
	Accounts   *account.Service
	Incidents  *incident.Service
	Components *postgres.ComponentStore
	StatusPage *statuspage.Service
	Handler    http.Handler

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New migrates the database at databaseURL, seeds demo data when cfg.Demo, and builds the handler. Background work
// (the public-change listener) runs until Close.
func New(ctx context.Context, cfg config.Config, databaseURL string, logger *slog.Logger) (*App, error) {
	if err := postgres.MigrateUp(ctx, databaseURL); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	db, err := postgres.Open(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	a := &App{DB: db}
	a.Accounts = account.NewService(postgres.NewAccountStore(db))
	a.Components = postgres.NewComponentStore(db)
	a.StatusPage = NewStatusPage(cfg, db, logger)
	a.Incidents = incident.NewService(postgres.NewIncidentStore(db), nil, a.StatusPage.Invalidate)
	if cfg.Demo {
		seeded, err := demo.Seed(ctx, a.Components, a.Accounts)
		if err != nil {
			db.Close()
			return nil, err
		}
		if seeded {
			logger.Info("seeded demo data: components of a cloud security service and users; admin is " + demo.Admin)
		}
	}
	maintenances := postgres.NewMaintenanceStore(db)
	maintenances.OnChange = a.StatusPage.Invalidate
	latest, err := postgres.LatestMigration()
	if err != nil {
		db.Close()
		return nil, err
	}
	a.Handler = server.New(server.Deps{
		API: &api.API{Incidents: a.Incidents, Accounts: a.Accounts, Components: a.Components,
			Policies: postgres.NewPolicyStore(db), Idempotency: postgres.NewIdempotencyStore(db),
			Maintenances: maintenances, Logger: logger},
		StatusPage: a.StatusPage,
		Ready:      func(ctx context.Context) error { return db.Ready(ctx, latest) },
		Logger:     logger,
	})
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		db.ListenPublic(bg, logger, a.StatusPage.Invalidate)
	}()
	return a, nil
}

// NewStatusPage returns the status page of cfg over db: the one `mim serve` serves, and the one `mim export static`
// writes as files, so both render the same bytes from the same state.
func NewStatusPage(cfg config.Config, db *postgres.DB, logger *slog.Logger) *statuspage.Service {
	return statuspage.New(postgres.NewPublicSource(db),
		statuspage.Page{ID: "mim", Name: cfg.PageName, URL: cfg.BaseURL, Location: cfg.TimeZone}, logger)
}

// Close stops background work and closes the database.
func (a *App) Close() {
	a.StatusPage.Close()
	a.cancel()
	a.wg.Wait()
	a.DB.Close()
}
