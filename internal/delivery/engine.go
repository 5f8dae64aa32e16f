package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// Config shapes the engine. Zero values take the defaults noted.
type Config struct {
	// SMTPURL is smtp://user:pass@host:port?tls=starttls|tls|none (MIM_SMTP_URL); empty leaves email undeliverable
	// (such deliveries are dead at once, with ErrEmailOff as the reason, so they can be retried once SMTP is
	// configured).
	SMTPURL string
	// MailFrom is the sender address (MIM_MAIL_FROM).
	MailFrom string
	// Guard decides which addresses webhooks may reach.
	Guard Guard
	// Timeout bounds one attempt at one target (default 10 s).
	Timeout time.Duration
	// MaxAttempts before a delivery is dead-lettered (default 8).
	MaxAttempts int
	// BackoffBase is the wait before the second attempt; each further one doubles it, with ±25 % jitter, up to
	// BackoffMax (defaults 10 s and 1 h).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Workers is how many deliveries run at once in this process (default 50: they mostly wait on the network).
	Workers int
	// PollInterval is how often an idle process looks for jobs besides being notified (default 1 s).
	PollInterval time.Duration
	// Retention is how long finished deliveries stay in the log (default 90 days); an hourly leader task prunes.
	Retention time.Duration
	Logger    *slog.Logger
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = 10 * time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = time.Hour
	}
	if c.Workers <= 0 {
		c.Workers = 50
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Retention <= 0 {
		c.Retention = 90 * 24 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Engine is mim's delivery queue on River: it implements Enqueuer, works the deliveries of this process and runs
// the Periodic tasks when this process is River's elected leader.
type Engine struct {
	cfg      Config
	pool     *pgxpool.Pool
	river    *river.Client[pgx.Tx]
	store    *Store
	mail     *mailer
	http     *httpSender
	periodic map[string]Periodic

	mu    sync.RWMutex
	hooks map[string][]ResultHook
	// OnGone deactivates a public subscriber whose target reported it no longer exists (410, a Slack URL gone, a
	// hard bounce). Set before Start.
	OnGone func(ctx context.Context, subscriberID, reason string) error
	// Suppressed reports whether a public subscriber may no longer be sent anything (bounced, complained, gone):
	// checked before each attempt, so what was queued before a bounce or complaint arrived is cancelled, not
	// sent (BC-32). Set before Start; nil checks nothing.
	Suppressed func(ctx context.Context, subscriberID string) (bool, error)
}

// deliverArgs is the River job of one delivery: only the id, the rest is in the deliveries row.
type deliverArgs struct {
	ID string `json:"id"`
}

func (deliverArgs) Kind() string { return "mim_deliver" }

// expandArgs is the River job that makes the delivery jobs of one large Enqueue.
type expandArgs struct {
	Batch string `json:"batch"`
}

func (expandArgs) Kind() string { return "mim_fanout" }

// fanOutThreshold is the size above which Enqueue leaves making the River jobs to a fan-out job: inserting 100,000
// River jobs (with River's indexes) would double the publishing transaction.
const fanOutThreshold = 2000

type expandWorker struct {
	river.WorkerDefaults[expandArgs]
	e *Engine
}

func (w *expandWorker) Work(ctx context.Context, job *river.Job[expandArgs]) error {
	return w.e.expandBatch(ctx, job.Args.Batch)
}

// periodicArgs is the River job of one run of a Periodic task.
type periodicArgs struct {
	Name string `json:"name"`
}

func (periodicArgs) Kind() string { return "mim_periodic" }

// riverLockKey serialises River's schema migration between processes starting together.
const riverLockKey = 0x6d696d7269766572 // "mimriver"

// New migrates River's schema (under an advisory lock) and builds an engine on pool with the given periodic tasks.
// Nothing runs until Start.
func New(ctx context.Context, pool *pgxpool.Pool, cfg Config, periodic ...Periodic) (*Engine, error) {
	cfg.defaults()
	if err := migrateRiver(ctx, pool); err != nil {
		return nil, err
	}
	m, err := newMailer(cfg.SMTPURL, cfg.MailFrom, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, pool: pool, store: &Store{pool: pool}, mail: m, hooks: map[string][]ResultHook{},
		http: &httpSender{client: cfg.Guard.Client(cfg.Timeout)}, periodic: map[string]Periodic{}}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliverWorker{e: e}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &periodicWorker{e: e}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &expandWorker{e: e}); err != nil {
		return nil, err
	}
	var jobs []*river.PeriodicJob
	periodic = append(periodic, Periodic{Name: "delivery-log-retention", Every: time.Hour,
		Run: func(ctx context.Context) error {
			_, err := e.store.Prune(ctx, time.Now().Add(-cfg.Retention))
			return err
		}})
	for _, p := range periodic {
		if p.Name == "" || p.Every <= 0 || p.Run == nil {
			return nil, fmt.Errorf("delivery: periodic task %q needs a name, an interval and a function", p.Name)
		}
		if _, dup := e.periodic[p.Name]; dup {
			return nil, fmt.Errorf("delivery: two periodic tasks are named %q", p.Name)
		}
		e.periodic[p.Name] = p
		name := p.Name
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(p.Every),
			func() (river.JobArgs, *river.InsertOpts) {
				return periodicArgs{Name: name}, &river.InsertOpts{Queue: "periodic", MaxAttempts: 1}
			}, &river.PeriodicJobOpts{ID: name, RunOnStart: true}))
	}
	e.river, err = river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: cfg.Workers},
			"periodic":         {MaxWorkers: 2},
			"fanout":           {MaxWorkers: 2},
		},
		Workers:           workers,
		PeriodicJobs:      jobs,
		FetchPollInterval: cfg.PollInterval,
		FetchCooldown:     min(cfg.PollInterval, 20*time.Millisecond),
		MaxAttempts:       cfg.MaxAttempts,
		// An attempt is bounded by cfg.Timeout; River cancels a job a little after that as a last resort.
		JobTimeout: cfg.Timeout + 5*time.Second,
		// A job still "running" well after its timeout belonged to a process that died (kill -9): run it again.
		RescueStuckJobsAfter: cfg.Timeout + 15*time.Second,
		Logger:               riverLogger(cfg.Logger),
	})
	if err != nil {
		return nil, fmt.Errorf("delivery: river client: %w", err)
	}
	return e, nil
}

func migrateRiver(ctx context.Context, pool *pgxpool.Pool) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	// River's migrations cannot share one transaction (they add enum values), so a session lock on one connection
	// serialises processes starting together.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(riverLockKey)); err != nil {
		return err
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(riverLockKey))
	}()
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("delivery: migrate river: %w", err)
	}
	return nil
}

// Start starts working jobs in the background.
func (e *Engine) Start(ctx context.Context) error { return e.river.Start(ctx) }

// Stop finishes the deliveries in flight (bounded by ctx) and stops.
func (e *Engine) Stop(ctx context.Context) error {
	err := e.river.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return e.river.StopAndCancel(context.Background())
	}
	return err
}

// Guard is the engine's outgoing-address guard, for checking URLs at subscribe time with the same rules.
func (e *Engine) Guard() *Guard { return &e.cfg.Guard }

// Store is the delivery log.
func (e *Engine) Store() *Store { return e.store }

// OnResult registers a hook for the results of one topic. Register before Start.
func (e *Engine) OnResult(topic string, h ResultHook) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hooks[topic] = append(e.hooks[topic], h)
}

// Enqueue implements Enqueuer: the deliveries and their River jobs are written in tx, in bulk.
func (e *Engine) Enqueue(ctx context.Context, tx pgx.Tx, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	rows, contents, err := e.prepare(msgs)
	if err != nil {
		return err
	}
	if len(rows) > fanOutThreshold {
		// A large fan-out writes only its rows here; one job makes their River jobs after commit, in chunks.
		batch := mustV7()
		if _, err := insertDeliveries(ctx, tx, rows, contents, &batch); err != nil {
			return err
		}
		if _, err := e.river.InsertTx(ctx, tx, expandArgs{Batch: batch.String()}, &river.InsertOpts{Queue: "fanout"}); err != nil {
			return fmt.Errorf("delivery: insert fan-out job: %w", err)
		}
		return nil
	}
	ids, err := insertDeliveries(ctx, tx, rows, contents, nil)
	if err != nil || len(ids) == 0 {
		return err // an error, or every message a duplicate of one enqueued before
	}
	// At most fanOutThreshold jobs: one bulk insert.
	if _, err := e.river.InsertManyFastTx(ctx, tx, e.deliverJobs(ids)); err != nil {
		return fmt.Errorf("delivery: insert jobs: %w", err)
	}
	return nil
}

// deliverJobs are the River jobs of the deliveries ids.
func (e *Engine) deliverJobs(ids []string) []river.InsertManyParams {
	params := make([]river.InsertManyParams, len(ids))
	opts := &river.InsertOpts{MaxAttempts: e.cfg.MaxAttempts}
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: deliverArgs{ID: id}, InsertOpts: opts}
	}
	return params
}

// content is what messages of one Enqueue share.
type content struct {
	Channel Channel           `json:"channel"`
	Topic   string            `json:"topic"`
	Subject string            `json:"subject,omitempty"`
	Text    string            `json:"text,omitempty"`
	HTML    string            `json:"html,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

type deliveryRow struct {
	id, contentID uuid.UUID
	msg           Message
	vars          []byte
}

// contentKey identifies shared content without marshalling it: the strings of one fan-out are usually the very
// same strings, which compare in no time.
type contentKey struct {
	channel                                   Channel
	topic, subject, text, html, headers, body string
}

func (e *Engine) prepare(msgs []Message) ([]deliveryRow, map[uuid.UUID][]byte, error) {
	byKey := map[contentKey]uuid.UUID{}
	contents := map[uuid.UUID][]byte{}
	rows := make([]deliveryRow, len(msgs))
	for i, m := range msgs {
		if err := m.check(); err != nil {
			return nil, nil, err
		}
		k := contentKey{channel: m.Channel, topic: m.Topic, subject: m.Subject, text: m.Text, html: m.HTML,
			body: string(m.Body)}
		if len(m.Headers) > 0 {
			hs := make([]string, 0, len(m.Headers))
			for name, v := range m.Headers {
				hs = append(hs, name+"\x00"+v)
			}
			slices.Sort(hs)
			k.headers = strings.Join(hs, "\x00")
		}
		cid, ok := byKey[k]
		if !ok {
			b, err := MarshalBody(content{Channel: m.Channel, Topic: m.Topic, Subject: m.Subject, Text: m.Text,
				HTML: m.HTML, Headers: m.Headers, Body: m.Body})
			if err != nil {
				return nil, nil, fmt.Errorf("delivery: message %d: %w", i, err)
			}
			cid = uuid.New()
			byKey[k] = cid
			contents[cid] = b
		}
		var vars []byte
		if len(m.Vars) > 0 {
			vars, _ = json.Marshal(m.Vars)
		}
		rows[i] = deliveryRow{id: mustV7(), contentID: cid, msg: m, vars: vars}
	}
	return rows, contents, nil
}

func (m Message) check() error {
	switch m.Channel {
	case ChannelEmail:
		if !strings.Contains(m.To, "@") {
			return fmt.Errorf("delivery: email to %q is not an address", m.To)
		}
	case ChannelWebhook, ChannelSlack, ChannelTeams:
		if !strings.HasPrefix(m.To, "https://") && !strings.HasPrefix(m.To, "http://") {
			return fmt.Errorf("delivery: %s target is not an http(s) URL", m.Channel)
		}
	default:
		return fmt.Errorf("delivery: unknown channel %q", m.Channel)
	}
	if m.Topic == "" {
		return errors.New("delivery: a message needs a topic")
	}
	return nil
}

// backoff is the wait after failed attempt n (1-based): BackoffBase·2^(n-1), ±25 % jitter, capped at BackoffMax.
func (e *Engine) backoff(attempt int) time.Duration {
	d := e.cfg.BackoffBase
	for i := 1; i < attempt && d < e.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, e.cfg.BackoffMax)
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + jitter
}

func (e *Engine) runHooks(ctx context.Context, r Result) {
	e.mu.RLock()
	hooks := e.hooks[r.Message.Topic]
	e.mu.RUnlock()
	for _, h := range hooks {
		if err := h(ctx, r); err != nil {
			e.cfg.Logger.WarnContext(ctx, "delivery result hook failed", "topic", r.Message.Topic, "err", err)
		}
	}
}

// errGone marks a target that reported it no longer exists: no retry, and the subscriber is deactivated.
type errGone struct{ reason string }

func (g errGone) Error() string { return "target gone: " + g.reason }

// errPermanent marks a failure retrying cannot fix (a refused address, an invalid message).
type errPermanent struct{ err error }

func (p errPermanent) Error() string { return p.err.Error() }
func (p errPermanent) Unwrap() error { return p.err }

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	e *Engine
}

func (w *deliverWorker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	return time.Now().Add(w.e.backoff(job.Attempt))
}

func (w *deliverWorker) Timeout(*river.Job[deliverArgs]) time.Duration {
	return w.e.cfg.Timeout + 5*time.Second
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	e := w.e
	d, err := e.store.load(ctx, job.Args.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("delivery %s no longer exists", job.Args.ID))
	}
	if err != nil {
		return err
	}
	if d.Status == StatusDelivered || d.Status == StatusCancelled {
		return nil // a job run again after a crash: the receiver already has it
	}
	if d.SubscriberID != "" && e.Suppressed != nil {
		off, err := e.Suppressed(ctx, d.SubscriberID)
		if err != nil {
			return err
		}
		if off {
			return e.store.record(ctx, d.ID, StatusCancelled, job.Attempt-1,
				"not sent: the subscriber is suppressed (bounced, complained or gone)", time.Now())
		}
	}
	msg := d.message()
	sendCtx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	sendErr := e.send(sendCtx, d.ID, msg)
	cancel()
	now := time.Now()
	res := Result{Message: msg, Attempt: job.Attempt, At: now}
	var gone errGone
	var perm errPermanent
	switch {
	case sendErr == nil:
		res.Delivered, res.Final = true, true
		err = e.store.record(ctx, d.ID, StatusDelivered, job.Attempt, "", now)
	case errors.As(sendErr, &gone):
		res.Final, res.Error = true, sendErr.Error()
		// The subscriber first: once the log says dead, the subscriber already shows why.
		if msg.SubscriberID != "" && e.OnGone != nil {
			err = e.OnGone(ctx, msg.SubscriberID, gone.reason)
		}
		if err == nil {
			err = e.store.record(ctx, d.ID, StatusDead, job.Attempt, sendErr.Error(), now)
		}
	case errors.As(sendErr, &perm) || job.Attempt >= job.MaxAttempts:
		res.Final, res.Error = true, sendErr.Error()
		err = e.store.record(ctx, d.ID, StatusDead, job.Attempt, sendErr.Error(), now)
	default:
		res.Error = sendErr.Error()
		err = e.store.record(ctx, d.ID, StatusRetrying, job.Attempt, sendErr.Error(), now)
	}
	if err != nil {
		return err
	}
	e.runHooks(ctx, res)
	if sendErr != nil {
		e.cfg.Logger.InfoContext(ctx, "delivery attempt failed", "delivery", d.ID, "channel", msg.Channel,
			"topic", msg.Topic, "attempt", job.Attempt, "final", res.Final, "err", sendErr.Error())
		if res.Final {
			return river.JobCancel(sendErr)
		}
		return sendErr
	}
	return nil
}

func (e *Engine) send(ctx context.Context, id string, m Message) error {
	switch m.Channel {
	case ChannelEmail:
		return e.mail.send(ctx, id, m)
	default:
		return e.http.send(ctx, id, m)
	}
}

type periodicWorker struct {
	river.WorkerDefaults[periodicArgs]
	e *Engine
}

func (w *periodicWorker) Work(ctx context.Context, job *river.Job[periodicArgs]) error {
	p, ok := w.e.periodic[job.Args.Name]
	if !ok {
		return river.JobCancel(fmt.Errorf("no periodic task %q in this process", job.Args.Name))
	}
	if err := p.Run(ctx); err != nil {
		w.e.cfg.Logger.WarnContext(ctx, "periodic task failed", "task", p.Name, "err", err)
		return river.JobCancel(err) // the next interval runs it again
	}
	return nil
}

// isTimeout reports whether err is a network timeout, for the log's wording.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// mustV7 returns a time-ordered UUID: index inserts of a fan-out then append instead of landing at random pages.
func mustV7() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}

// riverLogger is the logger River gets: WARN and above only, so its routine INFO ("producer: Producer job counts"
// every 15 s) does not fill mim's log; mim's own logs keep the configured level.
func riverLogger(l *slog.Logger) *slog.Logger {
	return slog.New(warnOnly{l.Handler()}).With("component", "river")
}

// warnOnly passes on records at WARN and above.
type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn && h.Handler.Enabled(ctx, level)
}

func (h warnOnly) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{h.Handler.WithAttrs(attrs)}
}

func (h warnOnly) WithGroup(name string) slog.Handler { return warnOnly{h.Handler.WithGroup(name)} }
