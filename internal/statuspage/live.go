package statuspage

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Live updates: GET /events is a Server-Sent Events stream that tells every connected reader when the page changed,
// so the page's script can fetch it again and swap it in place. An event carries the page's entity tag and when its
// public state last changed, never the state itself: what a reader sees still comes from the snapshot, through the
// page's own caching. See docs/adr/0006-live-status-page-over-sse.md.
const (
	// liveDebounce is how long after a change the live channel rebuilds the snapshot and compares it: rebuilds stay
	// lazy, but a burst of changes (a publish and its NOTIFY, several updates at once) costs one rebuild per window.
	liveDebounce = 100 * time.Millisecond
	// liveHeartbeat is the interval of the comment line that keeps idle proxies and load balancers from closing a
	// quiet stream, and lets a dead client be noticed.
	liveHeartbeat = 25 * time.Second
	// liveMaxClients bounds the streams one process holds open; past it a client is refused with 503 and its script
	// falls back to reconnecting later.
	liveMaxClients = 10_000
	// liveBuffer is how many events a client may have waiting. A client that falls this far behind is dropped; its
	// EventSource reconnects and is told the current state, which is all an event says.
	liveBuffer = 8
	// liveWriteTimeout bounds one write to a client, so a client that stopped reading ends its stream.
	liveWriteTimeout = 15 * time.Second
	// liveRetryMin and liveRetrySpread make the reconnection delay each stream suggests, drawn per stream so that
	// clients dropped together (a restart, a deploy) come back spread out.
	liveRetryMin    = 2 * time.Second
	liveRetrySpread = 5 * time.Second
)

// Errors of subscribe.
var (
	errLiveFull   = errors.New("too many live clients")
	errLiveClosed = errors.New("status page closed")
)

// liveEvent is what a live client is told of a snapshot.
type liveEvent struct {
	// ETag is the entity tag of the page (its identity encoding), as GET / sends it.
	ETag string `json:"etag"`
	// UpdatedAt is when anything on the page last changed.
	UpdatedAt time.Time `json:"updated_at"`
	// Indicator is the overall status, as /api/v2/status.json gives it.
	Indicator Indicator `json:"indicator"`
}

func liveEventOf(snap *Snapshot) liveEvent {
	return liveEvent{ETag: snap.HTML.ETag, UpdatedAt: snap.UpdatedAt.UTC(), Indicator: snap.Status.Indicator}
}

// live is the set of live clients and what they were last told.
type live struct {
	max       int
	debounce  time.Duration
	heartbeat time.Duration
	// onCheck, when set, is called after each check with the snapshot it compared; tests use it as a signal.
	onCheck func(*Snapshot)

	mu      sync.Mutex
	clients map[*liveClient]struct{}
	last    liveEvent // the last event broadcast; zero when no client has been told anything since the last left
	armed   bool      // a check is scheduled
	closed  bool

	// checkMu serialises checks, so that events go out in the order of the snapshots they describe.
	checkMu sync.Mutex
}

// liveClient is one open stream.
type liveClient struct {
	events chan liveEvent
	// gone is closed when the hub drops the client: it fell behind, or the Service closed.
	gone chan struct{}
	// seen is the ETag the client last heard of, so it is not told the same thing twice.
	seen string
}

func newLive() *live {
	return &live{max: liveMaxClients, debounce: liveDebounce, heartbeat: liveHeartbeat,
		clients: map[*liveClient]struct{}{}}
}

// subscribe adds a client that last heard of lastID (the Last-Event-ID of a reconnection, or ""). It is told the
// last event at once unless that is what it already knows. check reports that nothing was broadcast yet, so the
// caller must schedule a check for the client to learn the current state.
func (l *live) subscribe(lastID string) (c *liveClient, check bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, false, errLiveClosed
	}
	if len(l.clients) >= l.max {
		return nil, false, errLiveFull
	}
	c = &liveClient{events: make(chan liveEvent, liveBuffer), gone: make(chan struct{}), seen: lastID}
	l.clients[c] = struct{}{}
	if l.last.ETag == "" {
		return c, true, nil
	}
	if l.last.ETag != lastID {
		c.events <- l.last
		c.seen = l.last.ETag
	}
	return c, false, nil
}

// unsubscribe removes a client whose stream ended.
func (l *live) unsubscribe(c *liveClient) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.clients, c)
	if len(l.clients) == 0 {
		l.last = liveEvent{} // unwatched changes are not followed: the next client starts with a check
	}
}

// broadcast tells every client of ev unless it is what they were last told. It never blocks: a client whose buffer
// is full is dropped.
func (l *live) broadcast(ev liveEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ev.ETag == l.last.ETag || len(l.clients) == 0 { // unwatched, it would be stale by the next subscribe
		return
	}
	l.last = ev
	for c := range l.clients {
		if c.seen == ev.ETag {
			continue
		}
		select {
		case c.events <- ev:
			c.seen = ev.ETag
		default:
			delete(l.clients, c)
			close(c.gone)
		}
	}
}

// close ends every stream and refuses new ones.
func (l *live) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for c := range l.clients {
		delete(l.clients, c)
		close(c.gone)
	}
}

// liveChanged schedules a check within the debounce interval, when anyone is listening: the snapshot may have
// changed (an invalidation, a rebuild that just finished). Without listeners nothing is rebuilt eagerly.
func (s *Service) liveChanged() {
	l := s.live
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.armed || len(l.clients) == 0 {
		return
	}
	l.armed = true
	time.AfterFunc(l.debounce, s.liveCheck)
}

// liveCheck gets the current snapshot, rebuilding it if it is stale, and tells the clients when the page differs
// from what they were last told. A rebuild slower than maxWait finishes later and calls liveChanged again.
func (s *Service) liveCheck() {
	l := s.live
	l.mu.Lock()
	l.armed = false
	l.mu.Unlock()
	l.checkMu.Lock()
	defer l.checkMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), s.buildTimeout)
	defer cancel()
	snap, err := s.Current(ctx)
	if err == nil { // else the rebuild logged why; the next change or rebuild checks again
		l.broadcast(liveEventOf(snap))
	}
	if l.onCheck != nil {
		l.onCheck(snap)
	}
}

// Events serves GET /events: a Server-Sent Events stream of the page's changes. A client is told the current state
// when it connects (unless its Last-Event-ID says it knows it), then an event each time the page changes:
//
//	id: "<etag>"
//	event: status
//	data: {"etag":"\"<etag>\"","updated_at":"2026-05-05T09:30:00Z","indicator":"critical"}
//
// with a comment line every liveHeartbeat. A client beyond liveMaxClients is answered 503 with Retry-After.
func (s *Service) Events(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
		return
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodHead {
		h.Set("Content-Type", "text/event-stream")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		return
	}
	c, check, err := s.live.subscribe(r.Header.Get("Last-Event-ID"))
	if err != nil {
		h.Set("Retry-After", strconv.Itoa(30+rand.IntN(60)))
		http.Error(w, "Live updates are not available right now; the page itself is.", http.StatusServiceUnavailable)
		return
	}
	defer s.live.unsubscribe(c)
	if check {
		s.liveChanged()
	}

	h.Set("Content-Type", "text/event-stream")
	// Proxies must pass each event on as it is written; nginx buffers unless told not to.
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(b []byte) error {
		// Each write gets its own deadline, in place of the server's WriteTimeout, which a stream outlives.
		_ = rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	retry := liveRetryMin + rand.N(liveRetrySpread)
	if send([]byte("retry: "+strconv.FormatInt(retry.Milliseconds(), 10)+"\n: live\n\n")) != nil {
		return
	}
	beat := time.NewTicker(s.live.heartbeat)
	defer beat.Stop()
	for {
		var msg []byte
		select {
		case ev := <-c.events:
			msg = encodeLiveEvent(ev)
		case <-beat.C:
			msg = []byte(": heartbeat\n\n")
		case <-c.gone:
			return
		case <-r.Context().Done():
			return
		}
		if send(msg) != nil {
			return
		}
	}
}

func encodeLiveEvent(ev liveEvent) []byte {
	data, _ := json.Marshal(ev) // strings and a time: cannot fail
	b := make([]byte, 0, len(data)+2*len(ev.ETag)+48)
	b = append(b, "id: "...)
	b = append(b, ev.ETag...)
	b = append(b, "\nevent: status\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}
