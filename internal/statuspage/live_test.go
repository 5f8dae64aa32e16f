package statuspage

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
)

// sseRecord is one block of a Server-Sent Events stream, up to its blank line.
type sseRecord struct {
	id, event, data, retry string
	comments               []string
}

// sseStream reads a live stream in the background, one record at a time.
type sseStream struct {
	resp    *http.Response
	records chan sseRecord
	ended   chan struct{}
}

func openStream(t *testing.T, url string, header ...string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	s := &sseStream{resp: resp, records: make(chan sseRecord, 64), ended: make(chan struct{})}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		close(s.ended)
		return s
	}
	go func() {
		defer close(s.ended)
		sc := bufio.NewScanner(resp.Body)
		var rec sseRecord
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				s.records <- rec
				rec = sseRecord{}
				continue
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "":
				rec.comments = append(rec.comments, value)
			case "id":
				rec.id = value
			case "event":
				rec.event = value
			case "data":
				rec.data = value
			case "retry":
				rec.retry = value
			}
		}
	}()
	return s
}

// next returns the next record, failing after a few seconds.
func (s *sseStream) next(t *testing.T) sseRecord {
	t.Helper()
	select {
	case rec := <-s.records:
		return rec
	case <-s.ended:
		select {
		case rec := <-s.records:
			return rec
		default:
		}
		t.Fatal("the stream ended")
	case <-time.After(5 * time.Second):
		t.Fatal("no record within 5 s")
	}
	return sseRecord{}
}

// nextEvent returns the next record that is an event, skipping comments and the retry hint.
func (s *sseStream) nextEvent(t *testing.T) sseRecord {
	t.Helper()
	for {
		if rec := s.next(t); rec.event != "" {
			return rec
		}
	}
}

// withUpdate is state with one more update published on its active incident.
func withUpdate(t *testing.T, state State, body string) State {
	t.Helper()
	state.Incidents = append([]Incident(nil), state.Incidents...)
	in := state.Incidents[0]
	in.Updates = append([]Update{{ID: "u-3", Status: domain.UpdateMonitoring, Body: body,
		PublishedAt: at(t, "2026-05-05T09:45:00Z")}}, in.Updates...)
	in.UpdatedAt = at(t, "2026-05-05T09:45:00Z")
	state.Incidents[0] = in
	return state
}

func liveServer(t *testing.T, b *bundle) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(b.svc.Events))
	t.Cleanup(srv.Close)
	return srv
}

func TestLiveStreamTellsTheCurrentPageThenEachChangeWithoutAPageRequest(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	srv := liveServer(t, b)
	s := openStream(t, srv.URL)
	h := s.resp.Header
	require.Equal(t, http.StatusOK, s.resp.StatusCode)
	require.Equal(t, "text/event-stream", h.Get("Content-Type"))
	require.Equal(t, "no-store", h.Get("Cache-Control"))
	require.Equal(t, "no", h.Get("X-Accel-Buffering"))

	first := s.next(t)
	retry, err := strconv.Atoi(first.retry)
	require.NoError(t, err, "the stream opens with a retry hint")
	require.GreaterOrEqual(t, retry, 2000)
	require.Less(t, retry, 7000)

	// On connecting, the client is told the page as it is: no request for the page came first.
	ev := s.nextEvent(t)
	snap, err := b.svc.Current(context.Background())
	require.NoError(t, err)
	require.Equal(t, "status", ev.event)
	require.Equal(t, snap.HTML.ETag, ev.id)
	var data map[string]any
	require.NoError(t, json.Unmarshal([]byte(ev.data), &data))
	require.Equal(t, map[string]any{"etag": snap.HTML.ETag, "updated_at": "2026-05-05T09:30:00Z", "indicator": "minor"},
		data, "only the page's tag, its time and the public indicator")

	// A publish invalidates; the live channel rebuilds by itself and tells the client.
	b.src.set(withUpdate(t, bc06State(t), "Error rates are back to normal"), nil)
	b.svc.Invalidate()
	ev = s.nextEvent(t)
	snap, err = b.svc.Current(context.Background())
	require.NoError(t, err)
	require.Contains(t, string(snap.HTML.Body), "Error rates are back to normal")
	require.Equal(t, snap.HTML.ETag, ev.id)
	require.Contains(t, ev.data, `"updated_at":"2026-05-05T09:45:00Z"`)
}

func TestLiveStreamStaysQuietWhenARebuildChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	checked := make(chan *Snapshot, 16)
	b.svc.live.onCheck = func(snap *Snapshot) {
		select {
		case checked <- snap:
		default:
		}
	}
	srv := liveServer(t, b)
	s := openStream(t, srv.URL)
	before := s.nextEvent(t)

	// A rebuild that changes nothing public (a NOTIFY after a reconnection, say) is compared...
	require.NoError(t, b.svc.Refresh(context.Background()))
	rebuilt := b.svc.cur.Load()
	for got := (*Snapshot)(nil); got != rebuilt; {
		select {
		case got = <-checked:
		case <-time.After(5 * time.Second):
			t.Fatal("the rebuilt snapshot was never checked")
		}
	}
	// ...and told to no one: the next event is the next real change.
	b.src.set(withUpdate(t, bc06State(t), "Still monitoring"), nil)
	b.svc.Invalidate()
	ev := s.nextEvent(t)
	require.NotEqual(t, before.id, ev.id)
	snap, err := b.svc.Current(context.Background())
	require.NoError(t, err)
	require.Equal(t, snap.HTML.ETag, ev.id)
}

func TestLiveStreamDoesNotRepeatWhatAReconnectingClientKnows(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	snap, err := b.svc.Current(context.Background())
	require.NoError(t, err)
	srv := liveServer(t, b)
	s := openStream(t, srv.URL, "Last-Event-ID", snap.HTML.ETag)

	b.src.set(withUpdate(t, bc06State(t), "Monitoring the fix"), nil)
	b.svc.Invalidate()
	ev := s.nextEvent(t)
	require.NotEqual(t, snap.HTML.ETag, ev.id, "the first event is the change, not the page the client had")
}

func TestLiveStreamRefusesClientsBeyondTheLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	b.svc.live.max = 1
	srv := liveServer(t, b)
	s := openStream(t, srv.URL)
	require.Equal(t, http.StatusOK, s.resp.StatusCode)

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.NotEqual(t, "text/event-stream", resp.Header.Get("Content-Type"))
}

func TestLiveBroadcastDropsAClientThatFallsBehindAndNoOneElse(t *testing.T) {
	t.Parallel()
	l := newLive()
	slow, _, err := l.subscribe("")
	require.NoError(t, err)
	fast, _, err := l.subscribe("")
	require.NoError(t, err)
	for i := range liveBuffer + 2 {
		l.broadcast(liveEvent{ETag: `"` + strconv.Itoa(i) + `"`}) // never blocks, whoever does not read
		require.Equal(t, `"`+strconv.Itoa(i)+`"`, (<-fast.events).ETag)
	}
	select {
	case <-slow.gone:
	default:
		t.Fatal("the client that did not read is still subscribed")
	}
	select {
	case <-fast.gone:
		t.Fatal("the client that kept up was dropped")
	default:
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	require.Len(t, l.clients, 1)
}

func TestLiveStreamOutlivesTheServerTimeouts(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	b.svc.live.heartbeat = 20 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(b.svc.Events), ReadTimeout: 100 * time.Millisecond,
		WriteTimeout: 100 * time.Millisecond}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { b.svc.Close(); _ = srv.Close() })

	s := openStream(t, "http://"+ln.Addr().String())
	s.nextEvent(t)
	for range 20 { // 20 heartbeats: four times past both timeouts
		rec := s.next(t)
		require.Equal(t, []string{"heartbeat"}, rec.comments)
	}
	b.src.set(withUpdate(t, bc06State(t), "Monitoring"), nil)
	b.svc.Invalidate()
	require.Equal(t, "status", s.nextEvent(t).event)
}

func TestLiveStreamEndsWhenTheServiceCloses(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	srv := liveServer(t, b)
	s := openStream(t, srv.URL)
	s.nextEvent(t)
	b.svc.Close()
	select {
	case <-s.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived Close")
	}
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestLiveStreamAnswersHeadAndRefusesOtherMethods(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	srv := liveServer(t, b)
	resp, err := http.Head(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	b.svc.live.mu.Lock()
	require.Empty(t, b.svc.live.clients, "HEAD opens no stream")
	b.svc.live.mu.Unlock()

	resp, err = http.Post(srv.URL, "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
}
