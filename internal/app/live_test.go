package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
)

// liveEvent is one event of GET /events.
type liveEvent struct {
	ID   string
	Data struct {
		ETag      string `json:"etag"`
		UpdatedAt string `json:"updated_at"`
		Indicator string `json:"indicator"`
	}
	Raw string    // the data line
	At  time.Time // when it arrived
}

// openLive opens GET /events on a server and reads its events in the background until the test ends.
func openLive(t *testing.T, baseURL string) (<-chan liveEvent, http.Header) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { cancel(); resp.Body.Close() }) // before the server closes: it waits for open requests
	require.Equal(t, http.StatusOK, resp.StatusCode)
	events := make(chan liveEvent, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var ev liveEvent
		var isStatus bool
		for sc.Scan() {
			field, value, _ := strings.Cut(sc.Text(), ": ")
			switch field {
			case "id":
				ev.ID = value
			case "event":
				isStatus = value == "status"
			case "data":
				ev.Raw = value
				_ = json.Unmarshal([]byte(value), &ev.Data)
			case "":
				if isStatus {
					ev.At = time.Now()
					events <- ev
				}
				ev, isStatus = liveEvent{}, false
			}
		}
	}()
	return events, resp.Header
}

// nextLive waits for the next event until deadline.
func nextLive(t *testing.T, events <-chan liveEvent, deadline time.Time) liveEvent {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(time.Until(deadline)):
		t.Fatal("no live event in time")
	}
	return liveEvent{}
}

// pageOf gets GET / uncompressed, with its entity tag.
func pageOf(t *testing.T, baseURL string) (body, etag string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, baseURL+"/", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(raw), resp.Header.Get("ETag")
}

// Two mim processes over one database: an update published through A's API reaches the live viewers of B, whose
// snapshot is invalidated by LISTEN/NOTIFY and rebuilt by its live channel, with no request for B's page.
func TestPublishOnOneProcessReachesLiveViewersOfAnother(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cfg := config.Config{PageName: "Test status", BaseURL: "http://status.test", TimeZone: time.UTC}
	b, err := app.New(context.Background(), cfg, e.app.DB.Pool.Config().ConnString(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	srvB := httptest.NewServer(b.Handler)
	t.Cleanup(func() { srvB.Close(); b.Close() })

	events, header := openLive(t, srvB.URL)
	require.Equal(t, "text/event-stream", header.Get("Content-Type"))
	require.Equal(t, "no-store", header.Get("Cache-Control"))
	require.Equal(t, "no", header.Get("X-Accel-Buffering"))
	first := nextLive(t, events, time.Now().Add(5*time.Second))
	require.Equal(t, "none", first.Data.Indicator)

	key := e.declareMajor()
	e.engage(key)
	const text = "We are rolling back the configuration change in every region"
	published := time.Now()
	e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "identified", "body": text,
		"publish": true, "components": map[string]string{"control-plane-eu": "major_outage"}}, 201)

	deadline := published.Add(5 * time.Second)
	for {
		ev := nextLive(t, events, deadline)
		require.Equal(t, ev.ID, ev.Data.ETag)
		if ev.Data.Indicator != "critical" {
			continue // an earlier change (the declaration) may be told first
		}
		body, etag := pageOf(t, srvB.URL)
		require.Contains(t, body, text, "B's page has the update A published")
		require.Equal(t, etag, ev.Data.ETag, "the event names the page B serves")
		_, err := time.Parse(time.RFC3339, ev.Data.UpdatedAt)
		require.NoError(t, err)
		var fields map[string]any
		require.NoError(t, json.Unmarshal([]byte(ev.Raw), &fields))
		require.Len(t, fields, 3, "an event carries the page's tag, its time and the indicator, nothing else: %s", ev.Raw)
		t.Logf("a publish on process A reached a live viewer of process B in %v", ev.At.Sub(published).Round(time.Millisecond))
		break
	}
}
