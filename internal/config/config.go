// Package config reads mim's configuration from flags and the environment (flags win), with no globals.
package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// ErrHelp is returned when the flags asked for help, which has been printed.
var ErrHelp = errors.New("help requested")

// Config is the configuration every mim command shares.
type Config struct {
	// DatabaseURL is the PostgreSQL to use; empty means the embedded cluster under DataDir.
	DatabaseURL string
	// Addr is where mim serves HTTP.
	Addr string
	// DataDir holds the embedded PostgreSQL cluster and other local state.
	DataDir string
	// BaseURL is the public URL of this mim, for links in the status page, feeds and notifications.
	BaseURL string
	// PageName is the status page's name.
	PageName string
	// TimeZone is the organisation's zone: the status page shows times in it when the viewer's is unknown.
	TimeZone *time.Location
	// Brand dresses the public pages: a logo file, an accent colour, header links.
	LogoFile string
	Accent   string
	Links    []Link
	// SMTPURL is the mail server for notifications (smtp://user:pass@host:port).
	SMTPURL string
	// MailFrom is the sender of notification emails.
	MailFrom string
	// BounceWebhookSecret verifies the email provider's bounce and complaint webhook (Standard Webhooks, whsec_...);
	// empty turns POST /hooks/email-events off.
	BounceWebhookSecret string
	// AllowPrivateTargets lets webhooks reach private and loopback addresses (development only).
	AllowPrivateTargets bool
	// MetricsToken is the bearer token Prometheus must send to read /metrics on Addr; empty means /metrics is not
	// served there.
	MetricsToken string
	// Cadence is how often a major incident must publish an update, by severity (critical, other).
	Cadence workflow.Cadence
	// CSMMinSeverity is the least severity whose published updates reach customer success managers.
	CSMMinSeverity domain.Severity
	// ChatWebhookURL is a Slack-compatible incoming webhook that hears about escalations.
	ChatWebhookURL string
	// AckTimeout is how long a major incident waits for an acknowledged Incident Commander before mim escalates it.
	AckTimeout time.Duration
	// MetricsAddr, when set, is a second listener serving only /metrics, to anyone who reaches it (a private
	// address), or only to MetricsToken when that is set too.
	MetricsAddr string
	// AllowTargets lists private targets webhooks may reach anyway: host:port entries and CIDR prefixes.
	AllowTargets []string
	// Delivery tunes the notification queue.
	Delivery Delivery
	// Demo seeds demo components and users into an empty database.
	Demo bool
	// LogLevel and LogFormat shape the logs.
	LogLevel  slog.Level
	LogFormat string
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration
}

// Load parses args (the command's flags, after the subcommand) over the environment read through getenv. It returns
// the remaining positional arguments.
func Load(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (Config, []string, error) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c Config
	var tz, level, demo, allowPrivate string
	envErrs := map[string]string{} // by flag name: an environment value that does not parse
	fs.StringVar(&c.DatabaseURL, "database-url", env("MIM_DATABASE_URL", ""), "PostgreSQL URL; empty: embedded PostgreSQL under the data directory (MIM_DATABASE_URL)")
	fs.StringVar(&c.Addr, "addr", env("MIM_ADDR", "127.0.0.1:8080"), "HTTP listen address (MIM_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("MIM_DATA_DIR", "./mim-data"), "data directory for the embedded PostgreSQL (MIM_DATA_DIR)")
	fs.StringVar(&c.BaseURL, "base-url", env("MIM_BASE_URL", ""), "public base URL; default http://ADDR (MIM_BASE_URL)")
	fs.StringVar(&c.PageName, "page-name", env("MIM_PAGE_NAME", "mim status"), "status page name (MIM_PAGE_NAME)")
	var links string
	fs.StringVar(&c.LogoFile, "page-logo", env("MIM_PAGE_LOGO", ""), "image file (PNG, SVG, JPEG or WebP) shown as the status page's logo (MIM_PAGE_LOGO)")
	fs.StringVar(&c.Accent, "page-accent", env("MIM_PAGE_ACCENT", ""), "accent colour of the status page, #rrggbb (MIM_PAGE_ACCENT)")
	fs.StringVar(&links, "page-links", env("MIM_PAGE_LINKS", ""), "header links of the status page: Label=https://url,Label=https://url (MIM_PAGE_LINKS)")
	fs.StringVar(&tz, "timezone", env("MIM_TIMEZONE", "UTC"), "organisation time zone, IANA name (MIM_TIMEZONE)")
	fs.StringVar(&c.SMTPURL, "smtp-url", env("MIM_SMTP_URL", ""), "SMTP server URL for notifications (MIM_SMTP_URL)")
	fs.StringVar(&c.MetricsToken, "metrics-token", env("MIM_METRICS_TOKEN", ""), "bearer token that Prometheus sends to scrape /metrics; empty: /metrics is off (MIM_METRICS_TOKEN)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("MIM_METRICS_ADDR", ""), "separate listen address serving only /metrics, e.g. 10.0.0.5:9090 (MIM_METRICS_ADDR)")
	fs.StringVar(&c.MailFrom, "mail-from", env("MIM_MAIL_FROM", ""), "sender address of notification emails, e.g. status@example.com (MIM_MAIL_FROM)")
	fs.StringVar(&c.BounceWebhookSecret, "bounce-webhook-secret", env("MIM_BOUNCE_WEBHOOK_SECRET", ""), "Standard Webhooks secret (whsec_...) the email provider signs bounce and complaint events with; empty: POST /hooks/email-events is off (MIM_BOUNCE_WEBHOOK_SECRET)")
	var allowTargets string
	fs.StringVar(&allowTargets, "allow-targets", env("MIM_ALLOW_TARGETS", ""), "private webhook targets allowed anyway: host:port or CIDR, comma-separated (MIM_ALLOW_TARGETS)")
	fs.DurationVar(&c.Delivery.Timeout, "delivery-timeout", envDuration(getenv, envErrs, "MIM_DELIVERY_TIMEOUT", 10*time.Second), "time one delivery attempt may take (MIM_DELIVERY_TIMEOUT)")
	fs.IntVar(&c.Delivery.MaxAttempts, "delivery-max-attempts", envInt(getenv, envErrs, "MIM_DELIVERY_MAX_ATTEMPTS", 8), "attempts before a delivery is dead-lettered (MIM_DELIVERY_MAX_ATTEMPTS)")
	fs.DurationVar(&c.Delivery.Backoff, "delivery-backoff", envDuration(getenv, envErrs, "MIM_DELIVERY_BACKOFF", 10*time.Second), "wait before the second attempt, doubled for each further one (MIM_DELIVERY_BACKOFF)")
	fs.StringVar(&allowPrivate, "allow-private-targets", env("MIM_ALLOW_PRIVATE_TARGETS", "false"), "let webhooks reach private addresses (MIM_ALLOW_PRIVATE_TARGETS)")
	var cadenceCritical, cadenceOther, ackTimeout, csmSeverity string
	fs.StringVar(&cadenceCritical, "cadence-critical", env("MIM_CADENCE_CRITICAL", "30m"), "update cadence of a critical major incident (MIM_CADENCE_CRITICAL)")
	fs.StringVar(&cadenceOther, "cadence-other", env("MIM_CADENCE_OTHER", "60m"), "update cadence of other major incidents (MIM_CADENCE_OTHER)")
	fs.StringVar(&csmSeverity, "csm-min-severity", env("MIM_CSM_MIN_SEVERITY", "high"), "least severity whose updates reach customer success managers (MIM_CSM_MIN_SEVERITY)")
	fs.StringVar(&c.ChatWebhookURL, "chat-webhook-url", env("MIM_CHAT_WEBHOOK_URL", ""), "Slack-compatible incoming webhook for escalations (MIM_CHAT_WEBHOOK_URL)")
	fs.StringVar(&ackTimeout, "ack-timeout", env("MIM_ACK_TIMEOUT", "10m"), "escalate a major incident no IC acknowledged within this (MIM_ACK_TIMEOUT)")
	fs.StringVar(&demo, "demo", env("MIM_DEMO", ""), "seed demo data into an empty database; default: true with the embedded PostgreSQL (MIM_DEMO)")
	fs.StringVar(&level, "log-level", env("MIM_LOG_LEVEL", "info"), "debug, info, warn or error (MIM_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("MIM_LOG_FORMAT", "text"), "text or json (MIM_LOG_FORMAT)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long graceful shutdown may take")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, nil, ErrHelp
		}
		return c, nil, err
	}
	var errs []string
	for flagName, msg := range envErrs {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == flagName })
		if !set { // a flag given on the command line wins over the environment
			errs = append(errs, msg)
		}
	}
	sort.Strings(errs)
	loc, err := time.LoadLocation(tz)
	if err != nil {
		errs = append(errs, fmt.Sprintf("timezone %q is not an IANA zone name", tz))
	}
	c.TimeZone = loc
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		errs = append(errs, fmt.Sprintf("log level %q: use debug, info, warn or error", level))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Sprintf("log format %q: use text or json", c.LogFormat))
	}
	if c.AllowPrivateTargets, err = strconv.ParseBool(allowPrivate); err != nil {
		errs = append(errs, "MIM_ALLOW_PRIVATE_TARGETS must be true or false")
	}
	positive := func(name, v string) time.Duration {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Sprintf("%s %q must be a positive duration like 30m", name, v))
		}
		return d
	}
	c.Cadence = workflow.Cadence{Critical: positive("MIM_CADENCE_CRITICAL", cadenceCritical),
		Other: positive("MIM_CADENCE_OTHER", cadenceOther)}
	c.AckTimeout = positive("MIM_ACK_TIMEOUT", ackTimeout)
	if c.CSMMinSeverity = domain.Severity(strings.ToLower(strings.TrimSpace(csmSeverity))); !c.CSMMinSeverity.Valid() {
		errs = append(errs, fmt.Sprintf("MIM_CSM_MIN_SEVERITY %q must be critical, high, medium or low", csmSeverity))
	}
	if c.ChatWebhookURL != "" {
		if u, err := url.Parse(c.ChatWebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, "MIM_CHAT_WEBHOOK_URL must be an absolute http(s) URL")
		}
	}
	for _, t := range strings.Split(allowTargets, ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.AllowTargets = append(c.AllowTargets, t)
		}
	}
	if c.Delivery.Timeout <= 0 || c.Delivery.MaxAttempts <= 0 || c.Delivery.Backoff <= 0 {
		errs = append(errs, "delivery timeout, max attempts and backoff must be positive")
	}
	if c.SMTPURL != "" && c.MailFrom == "" {
		errs = append(errs, "MIM_MAIL_FROM is needed with MIM_SMTP_URL")
	}
	if c.BounceWebhookSecret != "" {
		if key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(c.BounceWebhookSecret, "whsec_")); err != nil ||
			!strings.HasPrefix(c.BounceWebhookSecret, "whsec_") || len(key) < 24 {
			errs = append(errs, "MIM_BOUNCE_WEBHOOK_SECRET must be whsec_ followed by the base64 of at least 24 random bytes (e.g. whsec_$(openssl rand -base64 32))")
		}
	}
	if demo == "" {
		c.Demo = c.DatabaseURL == ""
	} else if c.Demo, err = strconv.ParseBool(demo); err != nil {
		errs = append(errs, "MIM_DEMO must be true or false")
	}
	if c.MetricsToken != "" && (len(c.MetricsToken) < 16 || !visibleASCII(c.MetricsToken)) {
		errs = append(errs, "MIM_METRICS_TOKEN must be at least 16 visible ASCII characters (e.g. openssl rand -hex 32)")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Sprintf("addr %q must be host:port", c.Addr))
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Sprintf("metrics addr %q must be host:port", c.MetricsAddr))
		} else if c.MetricsAddr == c.Addr {
			errs = append(errs, "MIM_METRICS_ADDR must differ from MIM_ADDR: the public port serves /metrics only with MIM_METRICS_TOKEN")
		}
	}
	if c.Accent != "" && !accentPattern.MatchString(c.Accent) {
		errs = append(errs, fmt.Sprintf("page accent %q must be a colour like #0b6e4f", c.Accent))
	}
	for _, item := range strings.Split(links, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		label, target, ok := strings.Cut(item, "=")
		u, err := url.Parse(strings.TrimSpace(target))
		if !ok || strings.TrimSpace(label) == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Sprintf("page link %q must be Label=https://url", item))
			continue
		}
		c.Links = append(c.Links, Link{Label: strings.TrimSpace(label), URL: u.String()})
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Sprintf("base URL %q must be an absolute http(s) URL", c.BaseURL))
	}
	if len(errs) > 0 {
		return c, nil, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, fs.Args(), nil
}

func visibleASCII(s string) bool {
	for i := range len(s) {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// Delivery tunes the notification queue. Zero values take the queue's defaults.
type Delivery struct {
	Timeout     time.Duration
	MaxAttempts int
	Backoff     time.Duration
	// PollInterval is how often an idle process looks for jobs besides being notified (tests shorten it).
	PollInterval time.Duration
}

// envDuration is the duration in the environment variable k, def when it is unset; a value that is not a duration
// is named in bad (mim refuses to start rather than quietly use the default).
func envDuration(getenv func(string) string, bad map[string]string, k string, def time.Duration) time.Duration {
	v := getenv(k)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		bad[flagOf(k)] = fmt.Sprintf("%s %q must be a duration like 10s", k, v)
		return def
	}
	return d
}

// flagOf is the flag of an environment variable: MIM_DELIVERY_TIMEOUT → delivery-timeout.
func flagOf(k string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, "MIM_"), "_", "-"))
}

// envInt is envDuration for a whole number.
func envInt(getenv func(string) string, bad map[string]string, k string, def int) int {
	v := getenv(k)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		bad[flagOf(k)] = fmt.Sprintf("%s %q must be a whole number", k, v)
		return def
	}
	return n
}

// Link is a labelled link in the status page's header.
type Link struct{ Label, URL string }

var accentPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Logger makes the process logger the configuration asks for.
func (c Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
