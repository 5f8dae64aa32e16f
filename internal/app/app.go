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

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/api"
	"github.com/mimhq/mim/internal/comms"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/demo"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/metrics"
	"github.com/mimhq/mim/internal/postgres"
	"github.com/mimhq/mim/internal/postincident"
	"github.com/mimhq/mim/internal/postincident/pages"
	"github.com/mimhq/mim/internal/reports"
	"github.com/mimhq/mim/internal/server"
	"github.com/mimhq/mim/internal/session"
	"github.com/mimhq/mim/internal/statuspage"
	"github.com/mimhq/mim/internal/subscription"
	"github.com/mimhq/mim/internal/webui"
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
	Reports       *reports.Service
	// Metrics is the Prometheus registry /metrics serves.
	Metrics *metrics.Metrics
	// PostIncident stores PIRs, RCAs, corrective actions, problems and holidays.
	PostIncident *postgres.PostIncidentStore
	// API is the /api/v1 surface (its Now is the clock of the deadlines it shows).
	API *api.API
	// Comms is the internal communication of the process.
	Comms *comms.Service
	// Delivery is the notification queue; Subscriptions the public subscribers; MaintenanceNotices announces
	// maintenance to them (its clock is injectable).
	Delivery           *delivery.Engine
	Subscriptions      *subscription.Service
	MaintenanceNotices *subscription.MaintenanceNotices
	// UI is the responders' web UI; its RequireRole, ActorFrom, CSRFToken and Page let other pages live behind its
	// sign-in.
	UI      *webui.UI
	Handler http.Handler

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Options are the parts a caller may supply instead of the defaults.
type Options struct {
	// Enqueue, when set, takes the internal messages (stakeholders, reminders, escalations, tickets) instead of the
	// delivery engine: tests read them back.
	Enqueue delivery.Enqueuer
	// Now is the clock of deadlines and cadence; nil means time.Now.
	Now func() time.Time
}

// New migrates the database at databaseURL, seeds demo data when cfg.Demo, and builds the handler. Background work
// (the public-change listener) runs until Close.
func New(ctx context.Context, cfg config.Config, databaseURL string, logger *slog.Logger, opts ...Options) (*App, error) {
	var opt Options
	for _, o := range opts {
		opt = o
	}
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
	a.Incidents = incident.NewService(a.IncidentStore, opt.Now, a.StatusPage.Invalidate)
	a.PostIncident = postgres.NewPostIncidentStore(db, cfg.TimeZone)
	a.PostIncident.BaseURL, a.PostIncident.OnPublicChange = cfg.BaseURL, a.StatusPage.Invalidate
	a.PostIncident.Now = opt.Now
	a.IncidentStore.AddReaction(a.PostIncident.React)
	cadence := cfg.Cadence.OrDefault()
	a.Comms = comms.New(comms.Deps{Pool: db.Pool, Incidents: a.Incidents, Now: opt.Now,
		Cadence: cadence, BaseURL: cfg.BaseURL, ChatWebhookURL: cfg.ChatWebhookURL,
		CSMMinSeverity: cfg.CSMMinSeverity, AckTimeout: cfg.AckTimeout, Logger: logger,
		Guard: &delivery.Guard{AllowPrivate: cfg.AllowPrivateTargets, Allow: cfg.AllowTargets}})
	a.IncidentStore.AddReaction(a.Comms.React)
	// Every committed incident change is announced to every process, for the war rooms watching it.
	a.IncidentStore.AddReaction(postgres.NotifyIncident)
	if cfg.Demo {
		seeded, err := demo.Seed(ctx, a.Components, a.Accounts)
		if err != nil {
			db.Close()
			return nil, err
		}
		if seeded { // `mim serve` says how to sign in, at every start with demo data
			logger.Info("seeded demo data: components of a cloud security service and users")
		}
	}
	reportStore := postgres.NewReportStore(db)
	a.Reports = &reports.Service{Incidents: reportStore, Deadlines: a.PostIncident,
		Cadence: cadence, Location: cfg.TimeZone, Now: opt.Now}
	maintenances := postgres.NewMaintenanceStore(db)

	// Delivery: leader-run periodic work is given to the engine when it is built. The maintenance sweep is safe on
	// any process (each notice is recorded once), so a change also sweeps at once, in the process that made it.
	periodic := append([]delivery.Periodic{{Name: "maintenance-notices", Every: 15 * time.Second,
		Run: func(ctx context.Context) error { return a.MaintenanceNotices.Sweep(ctx) }}},
		a.Periodics()...)
	a.Delivery, err = delivery.New(ctx, db.Pool, delivery.Config{SMTPURL: cfg.SMTPURL, MailFrom: cfg.MailFrom,
		Guard:   delivery.Guard{AllowPrivate: cfg.AllowPrivateTargets, Allow: cfg.AllowTargets},
		Timeout: cfg.Delivery.Timeout, MaxAttempts: cfg.Delivery.MaxAttempts, BackoffBase: cfg.Delivery.Backoff,
		PollInterval: cfg.Delivery.PollInterval, Logger: logger}, periodic...)
	if err != nil {
		db.Close()
		return nil, err
	}
	var internal delivery.Enqueuer = a.Delivery
	if opt.Enqueue != nil {
		internal = opt.Enqueue
	}
	a.Comms.SetEnqueuer(internal)
	a.PostIncident.Enqueuer = internal
	for topic, hook := range a.Comms.ResultHooks() {
		a.Delivery.OnResult(topic, hook)
	}
	subscribers, brands := postgres.NewSubscriberStore(db), postgres.NewBrandStore(db)
	brands.OnChange = a.StatusPage.Invalidate
	a.Subscriptions = &subscription.Service{Store: subscribers, Enqueuer: a.Delivery, Guard: a.Delivery.Guard(),
		Maintenances: maintenances, BaseURL: cfg.BaseURL, PageName: cfg.PageName, Location: cfg.TimeZone,
		StoredName: brands.NameIn, EmailOff: cfg.SMTPURL == ""}
	if cfg.SMTPURL == "" {
		logger.WarnContext(ctx, "email notifications are off: set MIM_SMTP_URL and MIM_MAIL_FROM")
	}
	a.Delivery.OnGone = a.Subscriptions.Deactivate
	a.Delivery.Suppressed = a.Subscriptions.Suppressed
	a.IncidentStore.AddReaction(a.Subscriptions.Reaction)
	a.PostIncident.OnPublished = a.notifyReport
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
	a.Metrics = metrics.New(reportStore, cadence, opt.Now, cfg.MetricsToken, logger)
	a.API = &api.API{Incidents: a.Incidents, Accounts: a.Accounts, Components: a.Components,
		Policies: postgres.NewPolicyStore(db), Idempotency: postgres.NewIdempotencyStore(db),
		Maintenances: maintenances, PostIncident: a.PostIncident, Reports: a.Reports, Comms: a.Comms,
		Subscriptions: a.Subscriptions, SubscribeLimit: limit, Deliveries: a.Delivery,
		Cadence: cadence, Location: cfg.TimeZone, Now: opt.Now, Logger: logger}
	if cfg.BounceWebhookSecret != "" {
		if a.API.BounceWebhookKey, err = api.DecodeWebhookSecret(cfg.BounceWebhookSecret); err != nil {
			db.Close()
			return nil, fmt.Errorf("MIM_BOUNCE_WEBHOOK_SECRET %w", err)
		}
	}
	a.UI = &webui.UI{
		Sessions: session.NewManager(postgres.NewSessionStore(db), a.Accounts, session.DefaultPolicy(), nil),
		Accounts: a.Accounts, Incidents: a.Incidents, Components: a.Components, Policies: a.API.Policies,
		Live:          webui.NewLive(),
		Cadence:       cadence,
		Zone:          cfg.TimeZone,
		Markdown:      statuspage.RenderMarkdown,
		Logger:        logger,
		LoginLimiter:  webui.NewLimiter(30, time.Minute, nil),
		SecureCookies: strings.HasPrefix(cfg.BaseURL, "https://"),
		Subscriptions: subscriptionAdmin{a.Subscriptions},
		Deliveries:    deliveryAdmin{a.Delivery},
		Directory:     a.Comms,
		Branding:      brands,
		BrandDefaults: configuredBrand(cfg),
	}
	a.mountPages(logger)
	a.Handler = server.New(server.Deps{
		API:         a.API,
		StatusPage:  a.StatusPage,
		Ready:       func(ctx context.Context) error { return db.Ready(ctx, latest) },
		Logger:      logger,
		HTTPMetrics: server.NewHTTPMetrics(a.Metrics.Registry),
		Metrics:     a.Metrics.Handler(),
		UI:          a.UI,
		Subscriptions: &subscription.Pages{Service: a.Subscriptions, Limit: limit, ClientIP: api.ClientIP,
			Components: a.Components.List, Brand: brandOf(cfg), Look: a.StatusPage.Brand, Logger: logger,
			Secure: strings.HasPrefix(cfg.BaseURL, "https://")},
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
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		db.ListenIncidents(bg, logger, a.UI.Live.Changed)
	}()
	return a, nil
}

// Periodics is the leader-run periodic work of this App, for the scheduler: the update cadence, the IC
// acknowledgement timeout and the post-incident deadline reminders.
func (a *App) Periodics() []delivery.Periodic {
	return append(a.Comms.Periodic(), a.PostIncident.Periodic(5*time.Minute))
}

// PostIncidentPages returns the post-incident pages over this App's store, for mounting under prefix (/app) behind
// the responder sign-in, which gives the signed-in actor and the session's CSRF token and check.
func (a *App) PostIncidentPages(prefix string, loc *time.Location, actor func(*http.Request) (domain.Actor, bool),
	csrfToken func(*http.Request) string, checkCSRF func(*http.Request) bool, logger *slog.Logger) *pages.Handler {
	return pages.New(pages.Deps{Store: a.PostIncident, Actor: actor, CSRFToken: csrfToken, CheckCSRF: checkCSRF,
		Prefix: prefix, Location: loc, Now: a.API.Now, Logger: logger})
}

// mountPages puts the reports page and the post-incident pages behind the UI's sign-in, inside its layout, for
// every signed-in person; the pages themselves refuse viewers' writes (and holidays to all but admins), and
// LoadSession has already refused any non-GET without the session's CSRF token.
func (a *App) mountPages(logger *slog.Logger) {
	actor := func(r *http.Request) (domain.Actor, bool) { return webui.ActorFrom(r.Context()) }
	layout := func(r *http.Request, title string) templ.Component { return web.AppLayout(a.UI.Page(r, title)) }
	reportsPages := a.ReportsPages(actor, logger)
	reportsPages.Layout = layout
	postIncident := a.PostIncidentPages("/app", a.UI.Zone, actor,
		func(r *http.Request) string { return webui.CSRFToken(r.Context()) },
		func(*http.Request) bool { return true }, logger).InLayout(layout)
	a.UI.Mount = append(a.UI.Mount, func(r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(a.UI.RequireRole(domain.OrgViewer))
			r.Get("/reports", reportsPages.Page)
			r.Get("/reports.csv", reportsPages.CSV)
			postIncident.Routes(r)
		})
	})
	a.UI.ExtraNav = append(a.UI.ExtraNav, web.NavLink{Label: "Post-incident", Href: "/app/post-incident"},
		web.NavLink{Label: "Actions", Href: "/app/corrective-actions"}, web.NavLink{Label: "Problems", Href: "/app/problems"},
		web.NavLink{Label: "Holidays", Href: "/app/holidays"}, web.NavLink{Label: "Reports", Href: "/app/reports"})
}

// subscriptionAdmin is the subscription service and its store, as the UI's subscriber page uses them.
type subscriptionAdmin struct{ *subscription.Service }

func (s subscriptionAdmin) List(ctx context.Context, st subscription.Status) ([]subscription.Subscriber, error) {
	return s.Store.List(ctx, st)
}

func (s subscriptionAdmin) Delete(ctx context.Context, id string) error {
	return s.Store.Delete(ctx, id)
}

// deliveryAdmin is the delivery engine and its log, as the UI's delivery log page uses them.
type deliveryAdmin struct{ *delivery.Engine }

func (d deliveryAdmin) List(ctx context.Context, f delivery.Filter) ([]delivery.Delivery, string, error) {
	return d.Store().List(ctx, f)
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

// configuredBrand is the configuration's brand, as the branding page shows it while none is stored; its Logo is
// non-nil (and empty) when a logo file is configured.
func configuredBrand(cfg config.Config) domain.Brand {
	b := domain.Brand{Name: cfg.PageName, Accent: cfg.Accent}
	for _, l := range cfg.Links {
		b.Links = append(b.Links, domain.BrandLink{Label: l.Label, URL: l.URL})
	}
	if cfg.LogoFile != "" {
		b.Logo = []byte{}
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

// Close stops background work and closes the database; closing again does nothing.
func (a *App) Close() { a.closeOnce.Do(a.close) }

func (a *App) close() {
	a.StatusPage.Close()
	a.UI.Live.Close()
	stop, cancelStop := context.WithTimeout(context.Background(), 10*time.Second)
	if err := a.Delivery.Stop(stop); err != nil {
		slog.Default().Warn("stop delivery", "err", err)
	}
	cancelStop()
	a.cancel()
	a.wg.Wait()
	a.DB.Close()
}

// ReportsPages returns the reports page and its CSV download for the responder UI to mount (at /app/reports and
// /app/reports.csv) behind its sign-in; actor tells who is signed in.
func (a *App) ReportsPages(actor func(*http.Request) (domain.Actor, bool), logger *slog.Logger) *reports.Pages {
	return &reports.Pages{Service: a.Reports, Actor: actor, CSVPath: "/app/reports.csv", Logger: logger}
}

// notifyReport tells the subscribers following the incident's components about the customer-safe version of its
// PIR or RCA, in the transaction that publishes it.
func (a *App) notifyReport(ctx context.Context, tx pgx.Tx, r postincident.PublicReport) error {
	rec, err := a.Incidents.Get(ctx, r.IncidentKey)
	if err != nil {
		return err
	}
	return a.Subscriptions.NotifyReport(ctx, tx, rec.State, string(r.Kind), r.Summary, r.PublishedAt)
}
