package statuspage

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Content types of the snapshot's resources.
const (
	contentTypeHTML = "text/html; charset=utf-8"
	contentTypeJSON = "application/json; charset=utf-8"
)

const (
	// retryInterval is the least time between two rebuild attempts after one failed.
	retryInterval = time.Second
	// maxWait bounds how long a request that has a previous snapshot to fall back on waits for a rebuild. A slow
	// database must not make the page slow when it is read the most.
	maxWait = 2 * time.Second
	// buildTimeout bounds one rebuild, Source read included.
	buildTimeout = 10 * time.Second
	// failingWait bounds how long a request waits for a retry while the Source is failing: the delayed snapshot
	// answers at once when the database does not, since a database that hangs would otherwise hold every reader.
	failingWait = 250 * time.Millisecond
)

// Resource is one rendered response of a snapshot: its body, the body gzip-compressed, and an entity tag for each.
type Resource struct {
	ContentType string
	Body        []byte
	ETag        string
	Gzip        []byte
	GzipETag    string

	// plain and gzipped are the headers of a 200 of each variant, made with the resource (see answerHeaders).
	plain, gzipped answerHeaders
}

// Snapshot is the public view built from one read of the Source: the state, the overall status, and every response
// rendered from them. A snapshot is never changed once built; readers share it.
type Snapshot struct {
	State   State
	Status  Status
	BuiltAt time.Time
	// UpdatedAt is when anything on the page last changed, as its footer says.
	UpdatedAt time.Time
	// ReadAt is when State was read from the Source. Delayed is set on a snapshot rendered again from an older
	// state because the Source could not be read: its page says that live updates are delayed and shows the
	// status as of ReadAt. The JSON of a delayed snapshot is the last good one, byte for byte.
	ReadAt  time.Time
	Delayed bool

	HTML           Resource // GET /
	SummaryJSON    Resource // /api/v2/summary.json
	StatusJSON     Resource // /api/v2/status.json
	ComponentsJSON Resource // /api/v2/components.json
	IncidentsJSON  Resource // /api/v2/incidents.json
	UnresolvedJSON Resource // /api/v2/incidents/unresolved.json

	MaintenancesJSON         Resource // /api/v2/scheduled-maintenances.json
	UpcomingMaintenancesJSON Resource // /api/v2/scheduled-maintenances/upcoming.json
	ActiveMaintenancesJSON   Resource // /api/v2/scheduled-maintenances/active.json

	Badge Resource // /badge.svg: the page's name and overall status
	// ComponentBadges are /components/{slug}/badge.svg, by slug.
	ComponentBadges map[string]Resource

	// NextChange is when a maintenance window next opens or closes, or the next midnight when the components have
	// uptime histories: the snapshot is stale from then on, and the Service rebuilds it then by itself. Zero when
	// nothing is to come.
	NextChange time.Time

	// gen is the generation of invalidations the snapshot was built for.
	gen uint64
	// look is the page's settings with the state's brand applied, and the brand's assets.
	look *look
}

// Service serves the public status page and JSON API from a snapshot. Invalidate marks the snapshot stale; the next
// request rebuilds it, once however many requests arrive meanwhile. A failed rebuild leaves the last good snapshot in
// service, and is retried by later requests at most once per retryInterval.
type Service struct {
	src Source
	// page is the configuration's; baseAssets are its brand's, in service while no Branding is stored.
	page       Page
	baseAssets brandAssets
	log        *slog.Logger

	// now is the clock for BuiltAt and the retry interval; tests replace it.
	now          func() time.Time
	maxWait      time.Duration
	buildTimeout time.Duration
	// onWait, when set, is called each time a request starts waiting for a rebuild; tests use it as a signal.
	onWait func()
	// afterFunc schedules the rebuild at a snapshot's NextChange; tests replace it.
	afterFunc func(d time.Duration, f func()) stopper

	cur atomic.Pointer[Snapshot]
	// archive caches the pages read from the Source on demand (permalinks, history, feeds) for the current gen.
	archive archive
	// live holds the clients of GET /events.
	live *live
	// gen counts invalidations. A snapshot whose gen is behind it is stale.
	gen atomic.Uint64

	mu       sync.Mutex
	flight   *rebuild  // the rebuild in progress, or nil
	failedAt time.Time // when the last rebuild failed, if lastErr is set
	lastErr  error     // the error of the last rebuild, nil after a success
	wake     stopper   // the pending rebuild at the current snapshot's NextChange, or nil
	wakeAt   time.Time // when wake fires
	closed   bool      // set by Close: nothing more is scheduled
}

// stopper is a pending call scheduled by afterFunc.
type stopper interface{ Stop() bool }

func realAfterFunc(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) }

// rebuild is one rebuild in flight; done is closed when snap or err is set.
type rebuild struct {
	gen     uint64
	started time.Time
	done    chan struct{}
	snap    *Snapshot
	err     error
}

// New returns a Service that reads the public state from src. No snapshot exists until the first Refresh or request.
// A nil logger discards logs.
func New(src Source, page Page, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if page.Location == nil {
		page.Location = time.UTC
	}
	page.URL = strings.TrimRight(page.URL, "/")
	if len(page.Logo) > 0 {
		page.Brand.LogoURL = "/brand/logo"
	}
	return &Service{
		src: src, page: page, baseAssets: newBrandAssets(page), log: logger,
		now: time.Now, maxWait: maxWait, buildTimeout: buildTimeout, afterFunc: realAfterFunc, live: newLive(),
	}
}

// Invalidate marks the snapshot stale, so the next request rebuilds it, or the live channel does when anyone
// listens. It never blocks: call it after each publish and on every change notification.
func (s *Service) Invalidate() {
	s.gen.Add(1)
	s.liveChanged()
}

// Close cancels the rebuild scheduled for the next maintenance boundary and ends every live stream (call it when
// the server starts shutting down, since a stream never ends by itself); the Service still answers other requests.
func (s *Service) Close() {
	s.live.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.wake != nil {
		s.wake.Stop()
		s.wake = nil
	}
}

// scheduleLocked arranges for the snapshot to be invalidated and rebuilt at next, when a maintenance window opens
// or closes, so the page flips on time without a request having to come first and without polling the database:
// one pending timer, replaced whenever a rebuild finds a different next change. s.mu must be held.
func (s *Service) scheduleLocked(next time.Time) {
	if s.closed || (s.wake != nil && next.Equal(s.wakeAt)) {
		return
	}
	if s.wake != nil {
		s.wake.Stop()
		s.wake = nil
	}
	if next.IsZero() {
		return
	}
	s.wakeAt = next
	s.wake = s.afterFunc(max(next.Sub(s.now()), 0), func() {
		s.Invalidate()
		s.mu.Lock()
		defer s.mu.Unlock()
		if next.Equal(s.wakeAt) {
			s.wake = nil
		}
		if !s.closed && s.flight == nil {
			s.startLocked()
		}
	})
}

// Refresh rebuilds the snapshot from the Source now and waits for it. It returns the rebuild's error; the previous
// snapshot, if any, stays in service then. It is not subject to the retry interval.
func (s *Service) Refresh(ctx context.Context) error {
	want := s.gen.Add(1)
	for {
		s.mu.Lock()
		f := s.flight
		if f == nil {
			f = s.startLocked()
		}
		s.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if f.gen >= want { // a rebuild that began before this call may have read older data: wait for the next
			return f.err
		}
	}
}

// Current returns the snapshot to serve. A fresh snapshot is returned at once. A stale one starts a rebuild, or joins
// the one in flight, and waits for it at most maxWait after it began; past that, or if the rebuild fails, the stale
// snapshot is returned. With no snapshot at all, it waits for the rebuild and returns its error.
func (s *Service) Current(ctx context.Context) (*Snapshot, error) {
	if snap := s.cur.Load(); snap != nil && snap.gen == s.gen.Load() {
		return snap, nil
	}
	s.mu.Lock()
	prev := s.cur.Load()
	if prev != nil && prev.gen == s.gen.Load() {
		s.mu.Unlock()
		return prev, nil
	}
	f := s.flight
	if f == nil {
		if s.lastErr != nil && s.now().Sub(s.failedAt) < retryInterval {
			err := s.lastErr
			s.mu.Unlock()
			if prev != nil {
				return prev, nil
			}
			return nil, err
		}
		f = s.startLocked()
	}
	limit := s.maxWait
	if s.lastErr != nil {
		limit = min(limit, failingWait)
	}
	s.mu.Unlock()
	return s.await(ctx, f, prev, limit)
}

// await waits for a rebuild: with a snapshot to fall back on, until limit after the rebuild began.
func (s *Service) await(ctx context.Context, f *rebuild, prev *Snapshot, limit time.Duration) (*Snapshot, error) {
	var timeout <-chan time.Time
	if prev != nil {
		wait := limit - time.Since(f.started)
		if wait <= 0 {
			return prev, nil
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	if s.onWait != nil {
		s.onWait()
	}
	select {
	case <-f.done:
		if f.err == nil {
			return f.snap, nil
		}
	case <-timeout:
	case <-ctx.Done():
		if prev == nil {
			return nil, ctx.Err()
		}
	}
	if prev != nil {
		// The rebuild failed or is slow: serve the newest snapshot there is, which a failed rebuild may have
		// rendered again for a maintenance window that opened or closed.
		if cur := s.cur.Load(); cur != nil {
			return cur, nil
		}
		return prev, nil
	}
	return nil, f.err
}

// startLocked starts a rebuild for the current generation. s.mu must be held.
func (s *Service) startLocked() *rebuild {
	f := &rebuild{gen: s.gen.Load(), started: time.Now(), done: make(chan struct{})}
	s.flight = f
	go s.run(f)
	return f
}

// run performs a rebuild, detached from any request: a reader that gives up does not cancel it for the others.
func (s *Service) run(f *rebuild) {
	ctx, cancel := context.WithTimeout(context.Background(), s.buildTimeout)
	defer cancel()
	snap, err := s.build(ctx, f.gen)
	// When the Source cannot be read, the last good state is rendered again, marked delayed, so the page says it
	// may be behind and since when; and again whenever a maintenance window opens or closes, so the page flips on
	// time. It keeps that state's generation and ReadAt, so it stays stale and the Source is still retried, at most
	// once per retryInterval; the first good read replaces it.
	var rerendered *Snapshot
	if prev := s.cur.Load(); err != nil && prev != nil {
		boundary := !prev.NextChange.IsZero() && !s.now().Before(prev.NextChange)
		if boundary || !prev.Delayed {
			// The failed read may have used up ctx; rendering reads nothing.
			rctx, rcancel := context.WithTimeout(context.Background(), s.buildTimeout)
			if re, rerr := s.render(rctx, prev.State, prev.gen, prev.ReadAt, true); rerr == nil {
				rerendered = re
			}
			rcancel()
		}
	}

	s.mu.Lock()
	if err != nil {
		s.failedAt, s.lastErr = s.now(), err
		if rerendered != nil {
			s.cur.Store(rerendered)
			s.scheduleLocked(rerendered.NextChange)
		}
	} else {
		s.cur.Store(snap)
		s.lastErr = nil
		s.scheduleLocked(snap.NextChange)
	}
	f.snap, f.err = snap, err
	s.flight = nil
	have := s.cur.Load() != nil
	s.mu.Unlock()
	s.liveChanged()

	if err != nil {
		if have {
			s.log.Error("status page rebuild failed; serving the last good snapshot", "err", err)
		} else {
			s.log.Error("status page rebuild failed; no snapshot to serve yet", "err", err)
		}
	}
	close(f.done)
}

// build reads the Source and renders every resource.
func (s *Service) build(ctx context.Context, gen uint64) (snap *Snapshot, err error) {
	defer func() {
		if r := recover(); r != nil { // a panic here would take the whole server down from a background goroutine
			snap, err = nil, fmt.Errorf("build status snapshot: panic: %v", r)
		}
	}()
	state, err := s.src.PublicState(ctx)
	if err != nil {
		return nil, fmt.Errorf("load public state: %w", err)
	}
	return s.render(ctx, state, gen, s.now(), false)
}

// render renders every resource of a state read at readAt, as it stands now; delayed says the state is the last good
// one and the Source is failing.
func (s *Service) render(ctx context.Context, state State, gen uint64, readAt time.Time, delayed bool) (snap *Snapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			snap, err = nil, fmt.Errorf("render status snapshot: panic: %v", r)
		}
	}()
	builtAt := s.now()
	lk := s.lookOf(state.Branding)
	v := newView(lk.page, state, builtAt)
	if delayed {
		v.asOf = readAt
	}
	docs, err := v.apiDocs()
	if err != nil {
		return nil, fmt.Errorf("render status JSON: %w", err)
	}
	page, err := v.renderPage(ctx)
	if err != nil {
		return nil, fmt.Errorf("render status page: %w", err)
	}
	return &Snapshot{
		State:          state,
		Status:         v.status,
		BuiltAt:        builtAt,
		UpdatedAt:      v.updatedAt,
		ReadAt:         readAt,
		Delayed:        delayed,
		HTML:           newResource(contentTypeHTML, page),
		SummaryJSON:    newResource(contentTypeJSON, docs.summary),
		StatusJSON:     newResource(contentTypeJSON, docs.status),
		ComponentsJSON: newResource(contentTypeJSON, docs.components),
		IncidentsJSON:  newResource(contentTypeJSON, docs.incidents),
		UnresolvedJSON: newResource(contentTypeJSON, docs.unresolved),

		MaintenancesJSON:         newResource(contentTypeJSON, docs.maintenances),
		UpcomingMaintenancesJSON: newResource(contentTypeJSON, docs.upcoming),
		ActiveMaintenancesJSON:   newResource(contentTypeJSON, docs.activeMaintenances),
		Badge:                    newResource(contentTypeSVG, pageBadge(lk.page.Name, v.status)),
		ComponentBadges:          v.componentBadges(),
		NextChange:               v.nextChange,

		gen:  gen,
		look: lk,
	}, nil
}

// newResource compresses body once and tags both variants. The tag derives from the content only, so a rebuild
// that changes nothing keeps every client's cached copy valid.
func newResource(contentType string, body []byte) Resource {
	sum := sha256.Sum256(body)
	tag := base64.RawURLEncoding.EncodeToString(sum[:18])
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression) // the level is valid: no error
	_, _ = w.Write(body)                                   // writes to a bytes.Buffer do not fail
	_ = w.Close()
	res := Resource{
		ContentType: contentType,
		Body:        body,
		ETag:        `"` + tag + `"`,
		Gzip:        gz.Bytes(),
		GzipETag:    `"` + tag + `-gz"`,
	}
	res.plain = newAnswerHeaders(contentType, res.ETag, len(res.Body), false)
	res.gzipped = newAnswerHeaders(contentType, res.GzipETag, len(res.Gzip), true)
	return res
}
