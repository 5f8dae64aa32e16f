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
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/postgres"
	"github.com/mimhq/mim/internal/server"
	"github.com/mimhq/mim/internal/statuspage"
	"github.com/mimhq/mim/internal/subscription"
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
	// Delivery is the notification queue; Subscriptions the public subscribers; MaintenanceNotices announces
	// maintenance to them (its clock is injectable).
	Delivery           *delivery.Engine
	Subscriptions      *subscription.Service
	MaintenanceNotices *subscription.MaintenanceNotices
	Handler            http.Handler

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
	// Leader-run work. The maintenance sweep is safe on any process (each notice is recorded once), so a change
	// also sweeps at once, in the process that made it.
	periodic := []delivery.Periodic{{Name: "maintenance-notices", Every: 15 * time.Second,
		Run: func(ctx context.Context) error { return a.MaintenanceNotices.Sweep(ctx) }}}
	a.Delivery, err = delivery.New(ctx, db.Pool, delivery.Config{SMTPURL: cfg.SMTPURL, MailFrom: cfg.MailFrom,
		Guard:   delivery.Guard{AllowPrivate: cfg.AllowPrivateTargets, Allow: cfg.AllowTargets},
		Timeout: cfg.Delivery.Timeout, MaxAttempts: cfg.Delivery.MaxAttempts, BackoffBase: cfg.Delivery.Backoff,
		PollInterval: cfg.Delivery.PollInterval, Logger: logger}, periodic...)
	if err != nil {
		db.Close()
		return nil, err
	}
	subscribers := postgres.NewSubscriberStore(db)
	a.Subscriptions = &subscription.Service{Store: subscribers, Enqueuer: a.Delivery, Guard: a.Delivery.Guard(),
		BaseURL: cfg.BaseURL, PageName: cfg.PageName, Location: cfg.TimeZone}
	a.Delivery.OnGone = a.Subscriptions.Deactivate
	a.IncidentStore.AddReaction(a.Subscriptions.Reaction)
	a.MaintenanceNotices = &subscription.MaintenanceNotices{Service: a.Subscriptions, Maintenances: maintenances}
	limit := api.NewSubscribeLimiter(5)
	sweep := make(chan struct{}, 1)
	maintenances.OnChange = func() {
		a.StatusPage.Invalidate()
		select {
		case sweep <- struct{}{}:
		default: // a sweep is already due
		}
	}
	latest, err := postgres.LatestMigration()
	if err != nil {
		db.Close()
		return nil, err
	}
	a.Handler = server.New(server.Deps{
		API: &api.API{Incidents: a.Incidents, Accounts: a.Accounts, Components: a.Components,
			Policies: postgres.NewPolicyStore(db), Idempotency: postgres.NewIdempotencyStore(db),
			Maintenances: maintenances, Subscriptions: a.Subscriptions, SubscribeLimit: limit,
			Deliveries: a.Delivery, Logger: logger},
		StatusPage: a.StatusPage,
		Subscriptions: &subscription.Pages{Service: a.Subscriptions, Limit: limit, ClientIP: api.ClientIP,
			Components: a.Components.List, Brand: brandOf(cfg), Logger: logger,
			Secure: strings.HasPrefix(cfg.BaseURL, "https://")},
		Ready:  func(ctx context.Context) error { return db.Ready(ctx, latest) },
		Logger: logger,
	})
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	if err := a.Delivery.Start(bg); err != nil {
		cancel()
		db.Close()
		return nil, fmt.Errorf("start delivery: %w", err)
	}
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		db.ListenPublic(bg, logger, a.StatusPage.Invalidate)
	}()
	go func() {
		defer a.wg.Done()
		for {
			select {
			case <-bg.Done():
				return
			case <-sweep:
				if err := a.MaintenanceNotices.Sweep(bg); err != nil && bg.Err() == nil {
					logger.Warn("maintenance notices", "err", err)
				}
			}
		}
	}()
	return a, nil
}

// NewStatusPage returns the status page of cfg over db: the one `mim serve` serves, and the one `mim export static`
// writes as files, so both render the same bytes from the same state.
func NewStatusPage(cfg config.Config, db *postgres.DB, logger *slog.Logger) (*statuspage.Service, error) {
	page := statuspage.Page{ID: "mim", Name: cfg.PageName, URL: cfg.BaseURL, Location: cfg.TimeZone,
		Brand: brandOf(cfg)}
	if cfg.LogoFile != "" {
		var err error
		if page.Logo, page.LogoType, err = readLogo(cfg.LogoFile); err != nil {
			return nil, err
		}
	}
	return statuspage.New(postgres.NewPublicSource(db), page, logger), nil
}

// brandOf is the look of the public pages the configuration asks for.
func brandOf(cfg config.Config) web.Brand {
	b := web.Brand{Accent: cfg.Accent}
	for _, l := range cfg.Links {
		b.Links = append(b.Links, web.BrandLink{Label: l.Label, URL: l.URL})
	}
	return b
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
	stop, cancelStop := context.WithTimeout(context.Background(), 10*time.Second)
	if err := a.Delivery.Stop(stop); err != nil {
		slog.Default().Warn("stop delivery", "err", err)
	}
	cancelStop()
	a.cancel()
	a.wg.Wait()
	a.DB.Close()
}
