package statuspage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/mimhq/mim/internal/domain"
)

// renderedPage refreshes the service and parses its page.
func renderedPage(t *testing.T, b *bundle) *html.Node {
	t.Helper()
	require.NoError(t, b.svc.Refresh(context.Background()))
	rec := get(b.svc.Page)
	require.Equal(t, 200, rec.Code)
	return parseHTML(t, rec.Body.String())
}

func TestPageShowsTheOverallStatusInWords(t *testing.T) {
	t.Parallel()
	doc := renderedPage(t, setup(t, bc06State(t)))
	banner := one(t, doc, "overall-status")
	require.Equal(t, "Minor Service Outage", textOf(one(t, banner, "overall-status-text")))
	class, _ := attr(banner, "class")
	require.Contains(t, class, "banner--minor")
	require.Equal(t, "Acme", textOf(byTag(doc, "h1")[0]))
}

// BC-06: the time beside an update's text is that update's own publish time; the incident's start is labelled.
func TestPageShowsEachUpdateWithItsOwnTime(t *testing.T) {
	t.Parallel()
	doc := renderedPage(t, setup(t, bc06State(t)))
	incident := byTestID(one(t, doc, "active-incidents"), "incident")
	require.Len(t, incident, 1)
	updates := byTestID(incident[0], "update")
	require.Len(t, updates, 2, "every published update is shown")

	type shown struct{ body, datetime, text string }
	var got []shown
	for _, u := range updates {
		tm := one(t, u, "update-time")
		dt, _ := attr(tm, "datetime")
		got = append(got, shown{textOf(one(t, u, "update-body")), dt, textOf(tm)})
	}
	require.Equal(t, []shown{
		{"Fix deployed, monitoring", "2026-05-05T09:30:00Z", "5 May 2026, 09:30 UTC"},
		{"Investigating payment failures", "2026-05-04T23:10:00Z", "4 May 2026, 23:10 UTC"},
	}, got, "newest first, each with its own time")

	started := one(t, incident[0], "incident-started")
	require.Equal(t, "Started 4 May 2026, 23:10 UTC", textOf(started))
	tm := byTag(started, "time")
	require.Len(t, tm, 1)
	dt, _ := attr(tm[0], "datetime")
	require.Equal(t, "2026-05-04T23:10:00Z", dt)
}

func TestPageShowsTimesInThePageZoneWithTheZoneNamed(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	src := &testSource{state: bc06State(t)}
	page := testPage
	page.Location = berlin
	b := &bundle{src: src, svc: New(src, page, nil)}
	doc := renderedPage(t, b)
	tm := one(t, byTestID(doc, "update")[0], "update-time")
	dt, _ := attr(tm, "datetime")
	require.Equal(t, "2026-05-05T11:30:00+02:00", dt)
	require.Equal(t, "5 May 2026, 11:30 CEST", textOf(tm))
}

func TestPageGroupsComponentsWithStatusInWords(t *testing.T) {
	t.Parallel()
	doc := renderedPage(t, setup(t, bc06State(t)))
	section := one(t, doc, "components")

	var plain []string
	for _, c := range byTestID(section, "component") {
		plain = append(plain, textOf(c))
	}
	require.Equal(t, []string{
		"API Public REST API ✓ Operational",
		"Checkout ! Degraded performance",
		"Card processing ✓ Operational",
	}, plain)

	groups := byTestID(section, "component-group")
	require.Len(t, groups, 1)
	require.Equal(t, "Payments ! Degraded performance", textOf(byTag(groups[0], "h3")[0]))
	require.Len(t, byTestID(groups[0], "component"), 2)
}

// BC-07: a resolved incident is listed under recently resolved, and the banner says all is well.
func TestPageListsResolvedIncidentsBelow(t *testing.T) {
	t.Parallel()
	state := bc06State(t)
	state.Incidents = state.Incidents[1:] // only the resolved one
	for i := range state.Components {
		state.Components[i].Status = domain.ComponentOperational
	}
	doc := renderedPage(t, setup(t, state))
	require.Equal(t, "All Systems Operational", textOf(one(t, doc, "overall-status-text")))
	require.Empty(t, byTestID(doc, "active-incidents"))
	resolved := byTestID(one(t, doc, "resolved-incidents"), "incident")
	require.Len(t, resolved, 1)
	require.Equal(t, "Resolved 3 May 2026, 11:00 UTC", textOf(one(t, resolved[0], "incident-resolved")))
	require.Len(t, byTestID(resolved[0], "update"), 2)
}

func TestPageHasNoInlineStyleOrScript(t *testing.T) {
	t.Parallel()
	doc := renderedPage(t, setup(t, bc06State(t)))
	// One script, same-origin and deferred, with nothing inline: CSP script-src 'self' allows it, and the page is
	// complete before it runs.
	scripts := byTag(doc, "script")
	require.Len(t, scripts, 1)
	src, _ := attr(scripts[0], "src")
	require.Equal(t, "/static/status.js", src)
	_, deferred := attr(scripts[0], "defer")
	require.True(t, deferred)
	require.Nil(t, scripts[0].FirstChild, "no inline script")
	require.Empty(t, byTag(doc, "style"))
	walk(doc, func(n *html.Node) {
		_, ok := attr(n, "style")
		require.False(t, ok, "style attribute on <%s>", n.Data)
	})
	var sheets []string
	for _, l := range byTag(doc, "link") {
		if rel, _ := attr(l, "rel"); rel == "stylesheet" {
			href, _ := attr(l, "href")
			sheets = append(sheets, href)
		}
	}
	require.Equal(t, []string{"/static/status.css"}, sheets)

	skip := byTag(doc, "a")[0]
	href, _ := attr(skip, "href")
	require.Equal(t, "#main", href, "the first link skips to the content")
	main := byTag(doc, "main")
	require.Len(t, main, 1)
	id, _ := attr(main[0], "id")
	require.Equal(t, "main", id)
}

// BC-12: markup in titles, bodies and component names is shown as text or sanitised, never executed.
func TestPageNeutralisesStoredXSS(t *testing.T) {
	t.Parallel()
	const (
		title     = `Outage <img src=x onerror=alert(1)>`
		component = `"><img src=x onerror=alert(5)>`
		body      = `Details: <a href="javascript:alert(2)">here</a> and [md link](javascript:alert(3)) and ` +
			`<svg onload=alert(4)>` + "\n\n" + `[docs](https://example.com/docs) <script>alert(6)</script> ` +
			`[mail](mailto:ops@example.com) [data](data:text/html;base64,PHNjcmlwdD5hbGVydCg3KTwvc2NyaXB0Pg==) ` +
			`[vb](vbscript:msgbox) [spaced]( JaVaScRiPt:alert(8)) ![img](javascript:alert(9)) <https://example.org>`
	)
	state := bc06State(t)
	state.Components[1].Name = component
	state.Components[1].Description = `<b onmouseover=alert(10)>desc</b>`
	state.Components[0].Group = `<svg onload=alert(11)>`
	state.Components[2].Group = `<svg onload=alert(11)>`
	state.Incidents[0].Name = title
	state.Incidents[0].Updates[0].Body = body
	state.Incidents[1].Name = title
	doc := renderedPage(t, setup(t, state))

	walk(doc, func(n *html.Node) {
		if src, _ := attr(n, "src"); n.Data == "script" && src == "/static/status.js" && n.FirstChild == nil {
			return // the page's own script, which the layout links
		}
		require.NotContains(t, []string{"svg", "script", "iframe", "object", "embed", "math", "form", "base"},
			n.Data, "element <%s> from user input", n.Data)
		for _, a := range n.Attr {
			require.False(t, strings.HasPrefix(strings.ToLower(a.Key), "on"), "<%s %s=%q>", n.Data, a.Key, a.Val)
			switch a.Key {
			case "href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "background":
				v := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= ' ' {
						return -1
					}
					return r
				}, a.Val))
				for _, bad := range []string{"javascript:", "vbscript:", "data:text"} {
					require.False(t, strings.HasPrefix(v, bad), "<%s %s=%q>", n.Data, a.Key, a.Val)
				}
			}
		}
	})

	// Titles and names are shown as the text they are.
	active := one(t, doc, "active-incidents")
	require.Equal(t, title, textOf(byTag(active, "h3")[0]))
	require.Equal(t, title, textOf(byTag(one(t, doc, "resolved-incidents"), "h3")[0]))
	var names []string
	for _, c := range byTestID(one(t, doc, "components"), "component") {
		names = append(names, textOf(c))
	}
	require.Contains(t, names[0], component)
	require.Contains(t, names[0], `<b onmouseover=alert(10)>desc</b>`)
	require.Contains(t, textOf(one(t, doc, "component-group")), `<svg onload=alert(11)>`)

	// Safe Markdown links survive, with rel="nofollow noopener"; the rest are gone.
	updateBody := byTestID(byTestID(active, "update")[0], "update-body")[0]
	hrefs := map[string]string{}
	for _, a := range byTag(updateBody, "a") {
		href, _ := attr(a, "href")
		rel, _ := attr(a, "rel")
		hrefs[href] = rel
	}
	require.Equal(t, map[string]string{
		"https://example.com/docs": "nofollow noopener",
		"mailto:ops@example.com":   "nofollow noopener",
		"https://example.org":      "nofollow noopener",
	}, hrefs)
}

func TestRenderMarkdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{"paragraph", "Fix deployed", "<p>Fix deployed</p>\n"},
		{"line breaks are kept", "one\ntwo", "<p>one<br>\ntwo</p>\n"},
		{"emphasis and lists", "**bold**\n\n- a\n- b", "<p><strong>bold</strong></p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"},
		{"link", "[x](https://example.com)", `<p><a href="https://example.com" rel="nofollow noopener">x</a></p>` + "\n"},
		{"bare URL", "see https://example.com", `<p>see <a href="https://example.com" rel="nofollow noopener">https://example.com</a></p>` + "\n"},
		{"javascript link", "[x](javascript:alert(1))", "<p>x</p>\n"},
		{"data link", "[x](data:text/html,hi)", "<p>x</p>\n"},
		{"relative link", "[x](/history)", `<p><a href="/history" rel="nofollow noopener">x</a></p>` + "\n"},
		{"raw HTML is dropped", `a <img src=x onerror=alert(1)> b`, "<p>a  b</p>\n"},
		{"raw HTML block is dropped", "<script>alert(1)</script>", "\n"},
		{"entities stay escaped", "1 < 2 & 3 > 2", "<p>1 &lt; 2 &amp; 3 &gt; 2</p>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, RenderMarkdown(tt.src))
		})
	}
}
