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
	"github.com/mimhq/mim/internal/demo"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/postgres"
	"github.com/mimhq/mim/internal/server"
	"github.com/mimhq/mim/internal/session"
	"github.com/mimhq/mim/internal/statuspage"
	"github.com/mimhq/mim/internal/webui"
	"github.com/mimhq/mim/internal/workflow"
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
	// UI is the responders' web UI; its RequireRole, ActorFrom, CSRFToken and Page let other pages live behind its
	// sign-in.
	UI      *webui.UI
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
	// Every committed incident change is announced to every process, for the war rooms watching it.
	a.IncidentStore.AddReaction(postgres.NotifyIncident)
	a.Incidents = incident.NewService(a.IncidentStore, nil, a.StatusPage.Invalidate)
	if cfg.Demo {
		seeded, err := demo.Seed(ctx, a.Components, a.Accounts)
		if err != nil {
			db.Close()
			return nil, err
		}
		if seeded {
			logger.Info("seeded demo data: components of a cloud security service and users; sign in at " +
				strings.TrimSuffix(cfg.BaseURL, "/") + "/app/login as " + demo.Admin + " with password " + demo.Password)
		}
	}
	maintenances := postgres.NewMaintenanceStore(db)
	maintenances.OnChange = a.StatusPage.Invalidate
	latest, err := postgres.LatestMigration()
	if err != nil {
		db.Close()
		return nil, err
	}
	policies := postgres.NewPolicyStore(db)
	a.UI = &webui.UI{
		Sessions: session.NewManager(postgres.NewSessionStore(db), a.Accounts, session.DefaultPolicy(), nil),
		Accounts: a.Accounts, Incidents: a.Incidents, Components: a.Components, Policies: policies,
		Live:          webui.NewLive(),
		Cadence:       workflow.DefaultCadence(),
		Zone:          cfg.TimeZone,
		Markdown:      statuspage.RenderMarkdown,
		Logger:        logger,
		LoginLimiter:  webui.NewLimiter(30, time.Minute, nil),
		SecureCookies: strings.HasPrefix(cfg.BaseURL, "https://"),
	}
	a.Handler = server.New(server.Deps{
		API: &api.API{Incidents: a.Incidents, Accounts: a.Accounts, Components: a.Components,
			Policies: policies, Idempotency: postgres.NewIdempotencyStore(db),
			Maintenances: maintenances, Logger: logger},
		StatusPage: a.StatusPage,
		UI:         a.UI,
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
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		db.ListenIncidents(bg, logger, a.UI.Live.Changed)
	}()
	return a, nil
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
	a.UI.Live.Close()
	a.cancel()
	a.wg.Wait()
	a.DB.Close()
}
