// Package app wires mim's parts together over one database: the stores, the services, the status page and the HTTP
// handler. `mim serve` and the end-to-end tests build the same App.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/api"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/demo"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/postgres"
	"github.com/mimhq/mim/internal/postincident/pages"
	"github.com/mimhq/mim/internal/server"
	"github.com/mimhq/mim/internal/statuspage"
	"github.com/mimhq/mim/web"
)

// App is a running mim over one database.
type App struct {
	DB        *postgres.DB
	Accounts  *account.Service
	Incidents *incident.Service
	// IncidentStore runs the reactions that commit with each incident command.
	IncidentStore *postgres.IncidentStore
	Components    *postgres.ComponentStore
	StatusPage    *statuspage.Service
	// PostIncident stores PIRs, RCAs, corrective actions, problems and holidays; its Enqueuer (reminders) and
	// OnPublished (subscriber notification) are left for the delivery engine to fill in.
	PostIncident *postgres.PostIncidentStore
	// API is the /api/v1 surface (its Now is the clock of the deadlines it shows).
	API     *api.API
	Handler http.Handler

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
	if a.StatusPage, err = NewStatusPage(cfg, db, logger); err != nil {
		db.Close()
		return nil, err
	}
	a.IncidentStore = postgres.NewIncidentStore(db)
	a.PostIncident = postgres.NewPostIncidentStore(db, cfg.TimeZone)
	a.PostIncident.BaseURL, a.PostIncident.OnPublicChange = cfg.BaseURL, a.StatusPage.Invalidate
	a.IncidentStore.AddReaction(a.PostIncident.React)
	a.Incidents = incident.NewService(a.IncidentStore, nil, a.StatusPage.Invalidate)
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
	a.API = &api.API{Incidents: a.Incidents, Accounts: a.Accounts, Components: a.Components,
		Policies: postgres.NewPolicyStore(db), Idempotency: postgres.NewIdempotencyStore(db),
		Maintenances: maintenances, PostIncident: a.PostIncident, Location: cfg.TimeZone,
		Logger: logger}
	a.Handler = server.New(server.Deps{
		API:        a.API,
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

// Periodics is the leader-run periodic work of this App, for the scheduler: the post-incident deadline reminders.
func (a *App) Periodics() []delivery.Periodic {
	return []delivery.Periodic{a.PostIncident.Periodic(5 * time.Minute)}
}

// PostIncidentPages returns the post-incident pages over this App's store, for mounting under prefix (/app) behind
// the responder sign-in, which gives the signed-in actor and the session's CSRF token and check.
func (a *App) PostIncidentPages(prefix string, loc *time.Location, actor func(*http.Request) (domain.Actor, bool),
	csrfToken func(*http.Request) string, checkCSRF func(*http.Request) bool, logger *slog.Logger) *pages.Handler {
	return pages.New(pages.Deps{Store: a.PostIncident, Actor: actor, CSRFToken: csrfToken, CheckCSRF: checkCSRF,
		Prefix: prefix, Location: loc, Now: a.API.Now, Logger: logger})
}

// NewStatusPage returns the status page of cfg over db: the one `mim serve` serves, and the one `mim export static`
// writes as files, so both render the same bytes from the same state.
func NewStatusPage(cfg config.Config, db *postgres.DB, logger *slog.Logger) (*statuspage.Service, error) {
	page := statuspage.Page{ID: "mim", Name: cfg.PageName, URL: cfg.BaseURL, Location: cfg.TimeZone,
		Brand: web.Brand{Accent: cfg.Accent}}
	for _, l := range cfg.Links {
		page.Brand.Links = append(page.Brand.Links, web.BrandLink{Label: l.Label, URL: l.URL})
	}
	if cfg.LogoFile != "" {
		var err error
		if page.Logo, page.LogoType, err = readLogo(cfg.LogoFile); err != nil {
			return nil, err
		}
	}
	return statuspage.New(postgres.NewPublicSource(db), page, logger), nil
}

// readLogo reads the status page's logo: an image of a kind browsers show, small enough to serve from memory.
func readLogo(path string) ([]byte, string, error) {
	const maxLogo = 512 << 10
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("page logo: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxLogo+1))
	if err != nil {
		return nil, "", fmt.Errorf("page logo: %w", err)
	}
	if len(b) > maxLogo {
		return nil, "", fmt.Errorf("page logo %s is larger than 512 KiB", path)
	}
	if strings.EqualFold(filepath.Ext(path), ".svg") {
		return b, "image/svg+xml", nil
	}
	switch ct := http.DetectContentType(b); ct {
	case "image/png", "image/jpeg", "image/webp", "image/gif":
		return b, ct, nil
	default:
		return nil, "", fmt.Errorf("page logo %s is %s, not a PNG, SVG, JPEG, WebP or GIF image", path, ct)
	}
}

// Close stops background work and closes the database.
func (a *App) Close() {
	a.StatusPage.Close()
	a.cancel()
	a.wg.Wait()
	a.DB.Close()
}
