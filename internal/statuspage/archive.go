package statuspage

import (
	"container/list"
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of the archive cache. A page is a few kilobytes to a few hundred (a history page of busy months), so the
// byte bound is the one that matters when someone walks every page and key.
const (
	maxArchiveEntries = 1024
	maxArchiveBytes   = 64 << 20
)

// archivePage is one rendered answer of the archive: a permalink, a history page, a feed, or the 404 page.
type archivePage struct {
	status int
	res    Resource
	// expires is when the page is stale whatever the generation: a history page when the month turns. Zero for never.
	expires time.Time
}

func (p *archivePage) size() int { return len(p.res.Body) + len(p.res.Gzip) }

// archive caches the pages that are read from the Source on demand, by key, for the generation of invalidations
// they were built in: a page is read from the database once per public change however many readers ask for it, and
// Invalidate (every publish, every change notification) makes them all stale at once, as it does the snapshot. It
// holds at most maxEntries pages and maxBytes of them, dropping the least recently used. The zero value is ready.
type archive struct {
	mu      sync.Mutex
	entries map[string]*archiveEntry
	lru     list.List // of *archiveEntry, the most recently used in front
	bytes   int
	// maxEntries and maxBytes override the bounds when set; tests set them.
	maxEntries, maxBytes int
	// builds counts the pages built; tests read it.
	builds atomic.Int64
}

// archiveEntry is one key's page and the state of its rebuild.
type archiveEntry struct {
	key  string
	elem *list.Element
	// page is the last page built, nil before the first; gen is the generation it was built for.
	page *archivePage
	gen  uint64
	// flight is the build in progress, or nil.
	flight *archiveBuild
	// failedAt and err are the last failed build's, until a build succeeds.
	failedAt time.Time
	err      error
}

// archiveBuild is one build in flight; done is closed when page or err is set.
type archiveBuild struct {
	gen     uint64
	started time.Time
	done    chan struct{}
	page    *archivePage
	err     error
}

// buildFunc renders one archive page for the generation gen, reading the Source as it needs: what it reads must be
// as new as gen, since the page is served as current until the generation moves on.
type buildFunc func(ctx context.Context, gen uint64) (*archivePage, error)

// archived returns the page cached under key when it is of the current generation and not expired. Otherwise it
// starts a build, or joins the one in flight — detached from the request, so a reader that leaves cancels it for no
// one — and waits for it. With an older page to fall back on it waits at most maxWait after the build began, and
// serves that page when the build is slow or fails; a failed build is retried at most once per retryInterval.
func (s *Service) archived(ctx context.Context, key string, build buildFunc) (*archivePage, error) {
	gen, now := s.gen.Load(), s.now()
	a := &s.archive
	a.mu.Lock()
	e := a.entryLocked(key)
	prev := e.page
	if prev != nil && e.gen == gen && (prev.expires.IsZero() || now.Before(prev.expires)) {
		a.mu.Unlock()
		return prev, nil
	}
	f := e.flight
	if f == nil {
		if e.err != nil && now.Sub(e.failedAt) < retryInterval {
			err := e.err
			a.mu.Unlock()
			if prev != nil {
				return prev, nil
			}
			return nil, err
		}
		f = &archiveBuild{gen: gen, started: time.Now(), done: make(chan struct{})}
		e.flight = f
		go s.runArchived(e, f, build)
	}
	a.mu.Unlock()

	var timeout <-chan time.Time
	if prev != nil {
		wait := s.maxWait - time.Since(f.started)
		if wait <= 0 {
			return prev, nil
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-f.done:
		if f.err == nil {
			return f.page, nil
		}
		if prev != nil {
			return prev, nil
		}
		return nil, f.err
	case <-timeout:
		return prev, nil
	case <-ctx.Done():
		if prev != nil {
			return prev, nil
		}
		return nil, ctx.Err()
	}
}

// runArchived performs one build and stores its page.
func (s *Service) runArchived(e *archiveEntry, f *archiveBuild, build buildFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), s.buildTimeout)
	defer cancel()
	page, err := func() (p *archivePage, err error) {
		defer func() {
			if r := recover(); r != nil { // a panic here would take the whole server down from a background goroutine
				p, err = nil, fmt.Errorf("build %s: panic: %v", e.key, r)
			}
		}()
		return build(ctx, f.gen)
	}()
	a := &s.archive
	a.builds.Add(1)
	a.mu.Lock()
	if err != nil {
		e.failedAt, e.err = s.now(), err
	} else {
		if e.elem != nil { // an entry dropped from the cache keeps its page only for those waiting on it
			if e.page != nil {
				a.bytes -= e.page.size()
			}
			a.bytes += page.size()
		}
		e.page, e.gen, e.err = page, f.gen, nil
	}
	e.flight = nil
	f.page, f.err = page, err
	a.evictLocked()
	a.mu.Unlock()
	if err != nil {
		s.log.Error("status page archive build failed", "key", e.key, "err", err)
	}
	close(f.done)
}

// entryLocked returns key's entry, made the most recently used, creating it when there is none. a.mu must be held.
func (a *archive) entryLocked(key string) *archiveEntry {
	if e, ok := a.entries[key]; ok {
		a.lru.MoveToFront(e.elem)
		return e
	}
	if a.entries == nil {
		a.entries = map[string]*archiveEntry{}
	}
	e := &archiveEntry{key: key}
	e.elem = a.lru.PushFront(e)
	a.entries[key] = e
	a.evictLocked()
	return e
}

// evictLocked drops the least recently used entries, but none with a build in flight, until the cache is within
// its bounds. a.mu must be held.
func (a *archive) evictLocked() {
	maxEntries, maxBytes := a.maxEntries, a.maxBytes
	if maxEntries <= 0 {
		maxEntries = maxArchiveEntries
	}
	if maxBytes <= 0 {
		maxBytes = maxArchiveBytes
	}
	for el := a.lru.Back(); el != nil && (a.lru.Len() > maxEntries || a.bytes > maxBytes); {
		e := el.Value.(*archiveEntry)
		prev := el.Prev()
		if e.flight == nil {
			a.lru.Remove(el)
			e.elem = nil
			delete(a.entries, e.key)
			if e.page != nil {
				a.bytes -= e.page.size()
			}
		}
		el = prev
	}
}

// len is the number of pages cached, for tests.
func (a *archive) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.entries)
}

// serveArchived answers with the archive page under key, built by build when it is not cached.
func (s *Service) serveArchived(w http.ResponseWriter, r *http.Request, key string, build buildFunc) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
		return
	}
	page, err := s.archived(r.Context(), key, build)
	if err != nil {
		unavailable(w)
		return
	}
	writeResource(w, r, page.status, &page.res)
}

// notFound answers with the public 404 page.
func (s *Service) notFound(w http.ResponseWriter, r *http.Request) {
	s.serveArchived(w, r, "404", func(ctx context.Context, _ uint64) (*archivePage, error) {
		return s.buildNotFound(ctx)
	})
}
