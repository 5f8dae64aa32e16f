package statuspage

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
)

// svgDoc is what a badge is to an XML parser: its elements, in order, and the text of each <title> and <text>.
type svgDoc struct {
	elements []string
	titles   []string
	texts    []string
	attrs    []xml.Attr
}

func parseSVG(t *testing.T, body []byte) svgDoc {
	t.Helper()
	var doc svgDoc
	dec := xml.NewDecoder(bytes.NewReader(body))
	var stack []string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the badge is well-formed XML: %s", body)
		switch tok := tok.(type) {
		case xml.StartElement:
			require.Equal(t, "http://www.w3.org/2000/svg", tok.Name.Space, "every element is SVG")
			doc.elements = append(doc.elements, tok.Name.Local)
			doc.attrs = append(doc.attrs, tok.Attr...)
			stack = append(stack, tok.Name.Local)
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			switch tok.Name.Local {
			case "title":
				doc.titles = append(doc.titles, text.String())
			case "text":
				doc.texts = append(doc.texts, text.String())
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		case xml.ProcInst, xml.Directive:
			t.Fatalf("unexpected %T in a badge", tok)
		}
	}
	require.Empty(t, stack)
	require.NotEmpty(t, doc.elements)
	require.Equal(t, "svg", doc.elements[0])
	return doc
}

// badgeElements are the only elements a badge has: no script, no foreignObject, no link, whatever the names hold.
var badgeElements = []string{"svg", "title", "linearGradient", "stop", "clipPath", "rect", "g", "text"}

func requireOnlyBadgeMarkup(t *testing.T, doc svgDoc) {
	t.Helper()
	for _, e := range doc.elements {
		require.Contains(t, badgeElements, e, "element <%s>", e)
	}
	for _, a := range doc.attrs {
		require.False(t, strings.HasPrefix(strings.ToLower(a.Name.Local), "on"), "event handler attribute %s", a.Name.Local)
		require.NotEqual(t, "href", a.Name.Local, "a badge links nowhere")
	}
}

func getBadge(t *testing.T, svc *Service, slug string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	target, h := "/badge.svg", svc.Badge
	if slug != "" {
		target, h = "/components/"+slug+"/badge.svg", svc.ComponentBadge
	}
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.SetPathValue("slug", slug)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec
}

func TestPageBadgeNamesThePageAndItsStatusInWords(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	rec := getBadge(t, b.svc, "")
	require.Equal(t, http.StatusOK, rec.Code)
	doc := parseSVG(t, rec.Body.Bytes())
	requireOnlyBadgeMarkup(t, doc)
	// Each text is drawn twice, its shadow first.
	require.Equal(t, []string{"Acme", "Acme", "Minor Service Outage", "Minor Service Outage"}, doc.texts)
	require.Equal(t, []string{"Acme: Minor Service Outage"}, doc.titles)

	b.src.set(State{Components: []Component{{ID: "c", Slug: "api", Name: "API", Status: domain.ComponentOperational}}}, nil)
	require.NoError(t, b.svc.Refresh(context.Background()))
	doc = parseSVG(t, getBadge(t, b.svc, "").Body.Bytes())
	require.Equal(t, []string{"Acme: All Systems Operational"}, doc.titles)
}

func TestComponentBadgeShowsItsStatusInWords(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	for slug, want := range map[string]string{
		"checkout": "Checkout: Degraded performance",
		"card":     "Card processing: Operational",
		"api":      "API: Operational",
	} {
		rec := getBadge(t, b.svc, slug)
		require.Equal(t, http.StatusOK, rec.Code, slug)
		doc := parseSVG(t, rec.Body.Bytes())
		requireOnlyBadgeMarkup(t, doc)
		require.Equal(t, []string{want}, doc.titles, slug)
		label, message, _ := strings.Cut(want, ": ")
		require.Equal(t, []string{label, label, message, message}, doc.texts, slug)
	}
}

// BC-12 for badges: a component name that holds markup is text in the SVG, never markup.
func TestComponentBadgeEscapesTheName(t *testing.T) {
	t.Parallel()
	names := []string{
		`<script>alert("x")</script>`,
		`Tom & Jerry's "API"`,
		`]]><foreignObject><body onload="alert(1)"/></foreignObject>`,
		`<!-- --><?xml-stylesheet href="javascript:alert(1)"?>`,
		"Zürich ☁ API",
	}
	var comps []Component
	for i, n := range names {
		comps = append(comps, Component{ID: string(rune('a' + i)), Slug: string(rune('a' + i)), Name: n,
			Status: domain.ComponentMajorOutage, Position: i})
	}
	b := setup(t, State{Components: comps})
	require.NoError(t, b.svc.Refresh(context.Background()))
	for i, n := range names {
		rec := getBadge(t, b.svc, string(rune('a'+i)))
		require.Equal(t, http.StatusOK, rec.Code, n)
		doc := parseSVG(t, rec.Body.Bytes())
		requireOnlyBadgeMarkup(t, doc)
		require.Equal(t, []string{n, n, "Major outage", "Major outage"}, doc.texts, n)
		require.Equal(t, []string{n + ": Major outage"}, doc.titles, n)
	}
}

func TestBadgeIsWiderForLongerText(t *testing.T) {
	t.Parallel()
	width := func(body []byte) int {
		var svg struct {
			Width int `xml:"width,attr"`
		}
		require.NoError(t, xml.Unmarshal(body, &svg))
		return svg.Width
	}
	short := width(renderBadge("API", "Operational", "#4c1"))
	long := width(renderBadge("Application programming interface", "Operational", "#4c1"))
	require.Greater(t, long, short+100)
	require.Equal(t, textWidth("API")+textWidth("Operational")+20, short, "each half is its text and 10 px")
	require.Greater(t, textWidth("WWW"), textWidth("iii"))
}

func TestBadgeHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	for _, slug := range []string{"", "checkout"} {
		rec := getBadge(t, b.svc, slug)
		h := rec.Header()
		require.Equal(t, "image/svg+xml", h.Get("Content-Type"), slug)
		require.Equal(t, "default-src 'none'; style-src 'unsafe-inline'", h.Get("Content-Security-Policy"), slug)
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), slug)
		require.Equal(t, cacheControl, h.Get("Cache-Control"), slug)
		require.Equal(t, "Accept-Encoding", h.Get("Vary"), slug)
		require.Equal(t, "*", h.Get("Access-Control-Allow-Origin"), slug)
		etag := h.Get("ETag")
		require.Regexp(t, `^"[^"]+"$`, etag, slug)

		nm := getBadge(t, b.svc, slug, "If-None-Match", etag)
		require.Equal(t, http.StatusNotModified, nm.Code, slug)
		require.Empty(t, nm.Body.Bytes())

		gz := getBadge(t, b.svc, slug, "Accept-Encoding", "gzip")
		require.Equal(t, "gzip", gz.Header().Get("Content-Encoding"), slug)
		require.NotEqual(t, etag, gz.Header().Get("ETag"))
	}
}

func TestBadgeOfAnUnknownComponentIsNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	for _, slug := range []string{"nope", "<script>", "CHECKOUT"} {
		rec := getBadge(t, b.svc, slug)
		require.Equal(t, http.StatusNotFound, rec.Code, slug)
		require.NotContains(t, rec.Body.String(), "<script>")
		require.Equal(t, cacheControlNotFound, rec.Header().Get("Cache-Control"))
	}
}

func TestBadgesAreRenderedWithTheSnapshot(t *testing.T) {
	t.Parallel()
	b := setup(t, bc06State(t))
	require.NoError(t, b.svc.Refresh(context.Background()))
	snap, err := b.svc.Current(context.Background())
	require.NoError(t, err)
	slugs := make([]string, 0, len(snap.ComponentBadges))
	for slug := range snap.ComponentBadges {
		slugs = append(slugs, slug)
	}
	slices.Sort(slugs)
	require.Equal(t, []string{"api", "card", "checkout"}, slugs)
	require.Equal(t, snap.Badge.Body, getBadge(t, b.svc, "").Body.Bytes())
	calls := b.src.calls.Load()
	for range 3 {
		getBadge(t, b.svc, "card")
	}
	require.Equal(t, calls, b.src.calls.Load(), "a badge costs no Source read")
}
