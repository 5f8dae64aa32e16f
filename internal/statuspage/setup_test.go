package statuspage

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/mimhq/mim/internal/domain"
)

// testSource is an in-memory Source. Calls counts PublicState calls; when gate is set, each call waits for it.
type testSource struct {
	mu    sync.Mutex
	state State
	err   error
	gate  chan struct{}
	calls atomic.Int32
}

func (s *testSource) PublicState(ctx context.Context) (State, error) {
	s.calls.Add(1)
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return State{}, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.err
}

func (s *testSource) set(state State, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state, s.err = state, err
}

func (s *testSource) setGate(gate chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = gate
}

// testPage is the page of every test unless one says otherwise.
var testPage = Page{ID: "mimtestpage1", Name: "Acme", URL: "https://status.example.com", Location: time.UTC}

// at parses an RFC 3339 instant.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return v
}

func ptr[T any](v T) *T { return &v }

// bc06State is BC-06's multi-day incident: first reported 4 May 23:10 UTC, latest update 5 May 09:30 UTC. Its
// components are one ungrouped component and a group of two, and a resolved incident sits below.
func bc06State(t testing.TB) State {
	t.Helper()
	created := at(t, "2026-01-10T08:00:00.123Z")
	return State{
		Components: []Component{
			{ID: "c-card", Slug: "card", Name: "Card processing", Group: "Payments", Status: domain.ComponentOperational,
				Position: 3, CreatedAt: created, UpdatedAt: at(t, "2026-05-05T09:30:00Z")},
			{ID: "c-api", Slug: "api", Name: "API", Description: "Public REST API", Status: domain.ComponentOperational,
				Position: 1, CreatedAt: created, UpdatedAt: created},
			{ID: "c-checkout", Slug: "checkout", Name: "Checkout", Group: "Payments",
				Status: domain.ComponentDegradedPerformance, Position: 2, CreatedAt: created,
				UpdatedAt: at(t, "2026-05-05T09:30:00Z")},
		},
		Incidents: []Incident{
			{
				ID: "inc-1", Key: "INC-1", Name: "Payment failures", Status: domain.UpdateMonitoring, Impact: "major",
				CreatedAt: at(t, "2026-05-04T23:10:00Z"), UpdatedAt: at(t, "2026-05-05T09:30:00Z"),
				Components: []string{"checkout", "card"},
				Updates: []Update{
					{ID: "u-2", Status: domain.UpdateMonitoring, Body: "Fix deployed, monitoring",
						PublishedAt: at(t, "2026-05-05T09:30:00Z"),
						Components: map[string]domain.ComponentStatus{
							"card": domain.ComponentOperational, "checkout": domain.ComponentDegradedPerformance,
						}},
					{ID: "u-1", Status: domain.UpdateInvestigating, Body: "Investigating payment failures",
						PublishedAt: at(t, "2026-05-04T23:10:00Z"),
						Components: map[string]domain.ComponentStatus{
							"card": domain.ComponentMajorOutage, "checkout": domain.ComponentPartialOutage,
						}},
				},
			},
			{
				ID: "inc-0", Key: "INC-0", Name: "Slow API", Status: domain.UpdateResolved, Impact: "minor",
				CreatedAt: at(t, "2026-05-03T10:00:00Z"), UpdatedAt: at(t, "2026-05-03T11:00:00Z"),
				ResolvedAt: ptr(at(t, "2026-05-03T11:00:00Z")), Components: []string{"api"},
				Updates: []Update{
					{ID: "u-0b", Status: domain.UpdateResolved, Body: "Fixed.", PublishedAt: at(t, "2026-05-03T11:00:00Z"),
						Components: map[string]domain.ComponentStatus{"api": domain.ComponentOperational}},
					{ID: "u-0a", Status: domain.UpdateInvestigating, Body: "Looking into slow responses.",
						PublishedAt: at(t, "2026-05-03T10:00:00Z")},
				},
			},
		},
	}
}

// bundle is what most tests need: a Service over a testSource, with a clock the test moves.
type bundle struct {
	src   *testSource
	svc   *Service
	clock *testClock
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func setup(t *testing.T, state State) *bundle {
	t.Helper()
	src := &testSource{state: state}
	clock := &testClock{now: at(t, "2026-05-05T10:00:00Z")}
	svc := New(src, testPage, nil)
	svc.now = clock.Now
	return &bundle{src: src, svc: svc, clock: clock}
}

// get calls a handler as a client would.
func get(h http.HandlerFunc, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec
}

// parseHTML parses a page as a browser would.
func parseHTML(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	require.NoError(t, err)
	return doc
}

// walk visits every element under n.
func walk(n *html.Node, visit func(*html.Node)) {
	if n.Type == html.ElementNode {
		visit(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, visit)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// byTestID lists the elements under n with data-testid=id, in document order.
func byTestID(n *html.Node, id string) []*html.Node {
	var out []*html.Node
	walk(n, func(e *html.Node) {
		if v, ok := attr(e, "data-testid"); ok && v == id {
			out = append(out, e)
		}
	})
	return out
}

// one is the single element under n with data-testid=id.
func one(t *testing.T, n *html.Node, id string) *html.Node {
	t.Helper()
	found := byTestID(n, id)
	require.Len(t, found, 1, "elements with data-testid=%q", id)
	return found[0]
}

// byTag lists the elements under n with the tag name.
func byTag(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	walk(n, func(e *html.Node) {
		if e.Data == tag {
			out = append(out, e)
		}
	})
	return out
}

// textOf is the text content of n with whitespace runs collapsed, as a reader sees it.
func textOf(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return strings.Join(strings.Fields(b.String()), " ")
}
