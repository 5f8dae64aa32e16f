package statuspage

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
)

// The history part of testSource: every incident of its state is its whole history.

func (s *testSource) PublicIncident(_ context.Context, key string) (Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in, ok := findIncident(s.state.Incidents, key); ok {
		return in, nil
	}
	return Incident{}, domain.Errorf(domain.ErrNotFound, "not_found", "no public incident %q", key)
}

func (s *testSource) PublicHistory(_ context.Context, from, to time.Time) (History, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var h History
	for _, in := range s.state.Incidents {
		switch at := in.CreatedAt; {
		case at.Before(from):
			if at.After(h.Older) {
				h.Older = at
			}
		case !at.Before(to):
			if h.Newer.IsZero() || at.Before(h.Newer) {
				h.Newer = at
			}
		default:
			h.Incidents = append(h.Incidents, in)
		}
	}
	slices.SortFunc(h.Incidents, func(a, b Incident) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return h, s.err
}

func (s *testSource) PublicLatest(_ context.Context, n int) ([]Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.state.Incidents)
	slices.SortFunc(out, func(a, b Incident) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	return out[:min(n, len(out))], s.err
}

// archivedSource keeps its archive apart from the current state, as the database does: incidents resolved long ago
// are found by key but are not in the snapshot. It counts the reads of the archive.
type archivedSource struct {
	*testSource
	mu      sync.Mutex
	archive []Incident
	reads   int
	// release, when set, holds each read until it is closed.
	release chan struct{}
}

func (s *archivedSource) PublicIncident(_ context.Context, key string) (Incident, error) {
	if s.release != nil {
		<-s.release
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if in, ok := findIncident(s.archive, key); ok {
		return in, nil
	}
	return Incident{}, domain.Errorf(domain.ErrNotFound, "not_found", "no public incident %q", key)
}

func (s *archivedSource) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

func getPath(h http.HandlerFunc, pattern, path string) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pattern, h)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// oldIncident is an incident resolved in January, long out of the snapshot.
func oldIncident(t *testing.T) Incident {
	return Incident{
		ID: "inc-7", Key: "INC-7", Name: "Login errors", Status: domain.UpdateResolved, Impact: "critical",
		CreatedAt: at(t, "2026-01-20T08:00:00Z"), UpdatedAt: at(t, "2026-01-21T10:05:00Z"),
		ResolvedAt: ptr(at(t, "2026-01-21T10:05:00Z")), Components: []string{"api", "gone"},
		Updates: []Update{
			{ID: "u-7b", Status: domain.UpdateResolved, Body: "Fixed.", PublishedAt: at(t, "2026-01-21T10:05:00Z")},
			{ID: "u-7a", Status: domain.UpdateInvestigating, Body: "Logins fail.", PublishedAt: at(t, "2026-01-20T08:00:00Z")},
		},
	}
}

func TestPermalinkIsReadOncePerPublicChange(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	src := &archivedSource{testSource: b.src, archive: []Incident{oldIncident(t)}}
	b.svc.src = src

	for range 5 {
		rec := getPath(b.svc.Permalink, "/incidents/{key}", "/incidents/INC-7")
		require.Equal(t, http.StatusOK, rec.Code)
	}
	require.Equal(t, 1, src.readCount(), "five readers, one read")
	doc := parseHTML(t, getPath(b.svc.Permalink, "/incidents/{key}", "/incidents/INC-7").Body.String())
	require.Equal(t, "Login errors", textOf(one(t, doc, "incident-title")))
	require.Equal(t, "Affects: API, gone", textOf(one(t, doc, "incident-components")),
		"a component that no longer exists is named by its slug")
	require.Equal(t, "Lasted 1 day 2 hours 5 minutes", textOf(one(t, doc, "incident-duration")))

	b.svc.Invalidate()
	require.Equal(t, http.StatusOK, getPath(b.svc.Permalink, "/incidents/{key}", "/incidents/INC-7").Code)
	require.Equal(t, 2, src.readCount(), "an invalidation makes the page stale")

	// An incident of the snapshot needs no read at all.
	rec := getPath(b.svc.Permalink, "/incidents/{key}", "/incidents/INC-1")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, 2, src.readCount())
}

func TestConcurrentReadersOfAPermalinkShareOneRead(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	src := &archivedSource{testSource: b.src, archive: []Incident{oldIncident(t)}, release: make(chan struct{})}
	b.svc.src = src
	_, err := b.svc.Current(t.Context()) // the snapshot exists; the permalink is what is built
	require.NoError(t, err)

	codes := make(chan int, 50)
	var wg sync.WaitGroup
	for range cap(codes) {
		wg.Go(func() { codes <- getPath(b.svc.Permalink, "/incidents/{key}", "/incidents/INC-7").Code })
	}
	require.Eventually(t, func() bool {
		b.svc.archive.mu.Lock()
		defer b.svc.archive.mu.Unlock()
		e := b.svc.archive.entries["incident INC-7"]
		return e != nil && e.flight != nil
	}, time.Second, time.Millisecond)
	close(src.release)
	wg.Wait()
	close(codes)
	for code := range codes {
		require.Equal(t, http.StatusOK, code)
	}
	require.Equal(t, 1, src.readCount(), "fifty readers, one read")
}

func TestPermalinkOfUnknownOrMalformedKeyIsTheHTML404Page(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	src := &archivedSource{testSource: b.src}
	b.svc.src = src
	for _, path := range []string{"/incidents/INC-99", "/incidents/INC-1%3Cx%3E", "/incidents/%27%22", "/incidents/INC-",
		"/incidents/INC-1234567890123456789"} {
		rec := getPath(b.svc.Permalink, "/incidents/{key}", path)
		require.Equal(t, http.StatusNotFound, rec.Code, path)
		require.Equal(t, contentTypeHTML, rec.Header().Get("Content-Type"), path)
		require.Equal(t, contentSecurityPolicy, rec.Header().Get("Content-Security-Policy"), path)
		require.Empty(t, rec.Header().Get("ETag"), path)
		require.Equal(t, "Page not found", textOf(one(t, parseHTML(t, rec.Body.String()), "not-found")), path)
	}
	require.Equal(t, 1, src.readCount(), "only the well-formed key is looked up")
}

func TestArchiveCacheIsBounded(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	b.svc.archive.maxEntries = 4
	for i := range 20 {
		getPath(b.svc.Permalink, "/incidents/{key}", fmt.Sprintf("/incidents/INC-%d", 100+i))
	}
	require.LessOrEqual(t, b.svc.archive.len(), 4)

	b.svc.archive.maxEntries, b.svc.archive.maxBytes = 0, 1 // any page is over the byte bound
	getPath(b.svc.Permalink, "/incidents/{key}", "/incidents/INC-1")
	require.LessOrEqual(t, b.svc.archive.len(), 1)
}

func TestArchiveServesTheLastGoodPageWhenTheSourceFails(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	first := get(b.svc.History)
	require.Equal(t, http.StatusOK, first.Code)

	b.src.set(bc06State(t), fmt.Errorf("database down"))
	b.svc.Invalidate()
	again := get(b.svc.History)
	require.Equal(t, http.StatusOK, again.Code)
	require.Equal(t, first.Body.String(), again.Body.String())
}

// historyState has incidents in May, April, February and (a long gap) the previous June, with the clock in May.
func historyState(t *testing.T) State {
	st := bc06State(t) // INC-1 and INC-0 went public in May 2026
	for _, c := range []struct{ key, at string }{
		{"INC-5", "2026-04-30T22:30:00Z"}, // 00:30 on 1 May in Berlin
		{"INC-4", "2026-02-10T12:00:00Z"},
		{"INC-3", "2025-06-15T12:00:00Z"},
	} {
		started := at(t, c.at)
		st.Incidents = append(st.Incidents, Incident{ID: c.key, Key: c.key, Name: "Incident " + c.key,
			Status: domain.UpdateResolved, CreatedAt: started, UpdatedAt: started.Add(90 * time.Minute),
			Updates: []Update{
				{ID: c.key + "b", Status: domain.UpdateResolved, Body: "Fixed", PublishedAt: started.Add(90 * time.Minute)},
				{ID: c.key + "a", Status: domain.UpdateInvestigating, Body: "Broken", PublishedAt: started},
			}})
	}
	return st
}

func historyKeys(t *testing.T, body string) map[string][]string {
	doc := parseHTML(t, body)
	out := map[string][]string{}
	for _, m := range byTestID(doc, "history-month") {
		name := textOf(byTag(m, "h2")[0])
		out[name] = []string{}
		for _, a := range byTestID(m, "incident-link") {
			href, _ := attr(a, "href")
			out[name] = append(out[name], href)
		}
	}
	return out
}

func TestHistoryPagesByThreeCalendarMonthsOfThePageZone(t *testing.T) {
	t.Parallel()
	b := setup(t, historyState(t))
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	b.svc.page.Location = berlin

	rec := getPath(b.svc.History, "/history", "/history")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, map[string][]string{
		"May 2026":   {"/incidents/INC-1", "/incidents/INC-0", "/incidents/INC-5"},
		"April 2026": {},
		"March 2026": {},
	}, historyKeys(t, rec.Body.String()))
	doc := parseHTML(t, rec.Body.String())
	require.Equal(t, "March – May 2026", textOf(one(t, doc, "history-span")))
	require.Empty(t, byTestID(doc, "history-newer"))
	older, _ := attr(one(t, doc, "history-older"), "href")
	require.Equal(t, "/history/2", older)

	rec = getPath(b.svc.History, "/history", "/history?page=2")
	doc = parseHTML(t, rec.Body.String())
	require.Equal(t, map[string][]string{"February 2026": {"/incidents/INC-4"}, "January 2026": {}, "December 2025": {}},
		historyKeys(t, rec.Body.String()))
	require.Equal(t, "December 2025 – February 2026", textOf(one(t, doc, "history-span")))
	older, _ = attr(one(t, doc, "history-older"), "href")
	require.Equal(t, "/history/4", older, "the empty page 3 is skipped")
	newer, _ := attr(one(t, doc, "history-newer"), "href")
	require.Equal(t, "/history", newer)

	rec = getPath(b.svc.History, "/history", "/history?page=4")
	require.Equal(t, http.StatusOK, rec.Code)
	doc = parseHTML(t, rec.Body.String())
	require.Empty(t, byTestID(doc, "history-older"))
	newer, _ = attr(one(t, doc, "history-newer"), "href")
	require.Equal(t, "/history/2", newer)
	started := byTestID(doc, "incident-started")
	require.Len(t, started, 1)
	require.Equal(t, "Started 15 June 2025, 14:00 CEST", textOf(started[0]))
	require.Equal(t, "Lasted 1 hour 30 minutes", textOf(one(t, doc, "incident-duration")))

	for _, path := range []string{"/history?page=5", "/history?page=0", "/history?page=-1", "/history?page=x",
		"/history?page=", "/history?page=401"} {
		rec := getPath(b.svc.History, "/history", path)
		require.Equal(t, http.StatusNotFound, rec.Code, path)
		require.Equal(t, contentTypeHTML, rec.Header().Get("Content-Type"), path)
	}
}

func TestHistoryPageTurnsWithTheMonth(t *testing.T) {
	t.Parallel()
	b := setup(t, historyState(t))
	b.clock.now = at(t, "2026-05-31T23:59:00Z")
	require.Contains(t, historyKeys(t, get(b.svc.History).Body.String()), "May 2026")
	b.clock.Advance(2 * time.Minute)
	keys := historyKeys(t, get(b.svc.History).Body.String())
	require.Contains(t, keys, "June 2026")
	require.NotContains(t, keys, "March 2026")
}

func TestDurationView(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d          time.Duration
		iso, words string
	}{
		{0, "PT0S", "less than a minute"},
		{59 * time.Second, "PT59S", "less than a minute"},
		{time.Minute, "PT1M", "1 minute"},
		{2*time.Hour + 5*time.Minute + 30*time.Second, "PT2H5M", "2 hours 5 minutes"},
		{24 * time.Hour, "P1D", "1 day"},
		{49*time.Hour + time.Minute, "P2DT1H1M", "2 days 1 hour 1 minute"},
		{-time.Hour, "PT0S", "less than a minute"},
	} {
		got := durationView(c.d)
		require.Equal(t, c.iso, got.Datetime, c.d)
		require.Equal(t, c.words, got.Text, c.d)
	}
}

func TestFeedsHoldLatestIncidentsAsWellFormedXML(t *testing.T) {
	t.Parallel()
	st := historyState(t)
	st.Incidents[0].Name = "Payments & \"billing\" <down> — 支付失败"
	st.Incidents[0].Updates[0].Body = "Fix **deployed**\x01 for 支付失败 & <refunds>"
	b := setup(t, st)
	for _, h := range []http.HandlerFunc{b.svc.HistoryRSS, b.svc.HistoryAtom} {
		rec := get(h)
		require.Equal(t, http.StatusOK, rec.Code)
		require.NotEmpty(t, rec.Header().Get("ETag"))
		require.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))
		var doc struct {
			XMLName xml.Name
			Titles  []string `xml:"channel>item>title"`
			Entries []string `xml:"entry>title"`
		}
		require.NoError(t, xml.Unmarshal(rec.Body.Bytes(), &doc), rec.Body.String())
		titles := append(doc.Titles, doc.Entries...)
		require.Len(t, titles, len(st.Incidents))
		require.Equal(t, st.Incidents[0].Name, titles[0], "the latest updated first, its title intact")
	}
	require.Equal(t, contentTypeRSS, get(b.svc.HistoryRSS).Header().Get("Content-Type"))
	require.Equal(t, contentTypeAtom, get(b.svc.HistoryAtom).Header().Get("Content-Type"))
}
