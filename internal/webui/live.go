package webui

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/domain"
)

// Live fans out "this incident changed" to the war rooms open in this process. Its input is the incident listener
// (postgres.ListenIncidents), which hears the commits of every process, so two people on different replicas see
// each other's changes.
type Live struct {
	mu     sync.Mutex
	subs   map[string]map[chan struct{}]struct{}
	closed bool
	// Heartbeat is how often an idle stream sends a comment, so proxies keep it open.
	Heartbeat time.Duration
}

// anyIncident is what the incident list watches: every change.
const anyIncident = "*"

// NewLive returns an empty fan-out.
func NewLive() *Live {
	return &Live{subs: map[string]map[chan struct{}]struct{}{}, Heartbeat: 25 * time.Second}
}

// Changed tells the watchers of key, or of every incident when key is "" (after a reconnection, when changes may
// have been missed).
func (l *Live) Changed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, set := range l.subs {
		if key != "" && k != key && k != anyIncident {
			continue
		}
		for ch := range set {
			select {
			case ch <- struct{}{}:
			default: // one pending signal is enough: the page reloads what changed
			}
		}
	}
}

func (l *Live) subscribe(key string) (chan struct{}, func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{}, 1)
	if l.closed {
		close(ch)
		return ch, func() {}
	}
	if l.subs[key] == nil {
		l.subs[key] = map[chan struct{}]struct{}{}
	}
	l.subs[key][ch] = struct{}{}
	return ch, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if _, ok := l.subs[key][ch]; ok {
			delete(l.subs[key], ch)
			if len(l.subs[key]) == 0 {
				delete(l.subs, key)
			}
		}
	}
}

// Close ends every stream, so a server shutting down is not held open by browsers.
func (l *Live) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for k, set := range l.subs {
		for ch := range set {
			close(ch)
		}
		delete(l.subs, k)
	}
}

// Watchers counts the open streams of an incident (for tests).
func (l *Live) Watchers(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.subs[key])
}

// events streams Server-Sent Events: "changed" each time the incident changes.
func (u *UI) events(w http.ResponseWriter, r *http.Request) {
	key := chi.URLParam(r, "key")
	if _, err := u.Incidents.Get(r.Context(), key); err != nil {
		if !domain.IsKind(err, domain.ErrNotFound) {
			u.serverError(w, r, err)
			return
		}
		u.notFound(w, r, "no incident "+key)
		return
	}
	u.stream(w, r, key)
}

// listEvents streams "changed" each time any incident changes, for the incident list.
func (u *UI) listEvents(w http.ResponseWriter, r *http.Request) { u.stream(w, r, anyIncident) }

func (u *UI) stream(w http.ResponseWriter, r *http.Request, key string) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, cancel := u.Live.subscribe(key)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, "retry: 2000\n: connected\n\n")
	flusher.Flush()
	beat := time.NewTicker(u.Live.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case _, open := <-ch:
			if !open {
				return
			}
			if _, err := fmt.Fprintf(w, "event: changed\ndata: %s\n\n", key); err != nil {
				return
			}
			flusher.Flush()
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": beat\n\n"); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}
