package statuspage

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/mimhq/mim/internal/domain"
)

// Status badges: a shields.io-style flat SVG, "label | status", for READMEs and dashboards. The status is always in
// words, never colour alone, and every text is XML-escaped, so a component named `<script>` stays text. Badges are
// rendered with the rest of a snapshot, never per request.

const contentTypeSVG = "image/svg+xml"

// badgeColours are the right-hand colours of the badges, shields' palette: by indicator for the page's badge, by
// component status for a component's.
var (
	indicatorColours = map[Indicator]string{
		IndicatorNone:        "#4c1",
		IndicatorMinor:       "#dfb317",
		IndicatorMajor:       "#fe7d37",
		IndicatorCritical:    "#e05d44",
		IndicatorMaintenance: "#007ec6",
	}
	componentColours = map[domain.ComponentStatus]string{
		domain.ComponentOperational:         "#4c1",
		domain.ComponentDegradedPerformance: "#dfb317",
		domain.ComponentPartialOutage:       "#fe7d37",
		domain.ComponentMajorOutage:         "#e05d44",
		domain.ComponentUnderMaintenance:    "#007ec6",
	}
)

// unknownColour is shields' grey, for a status this code does not know.
const unknownColour = "#9f9f9f"

// pageBadge is the page's badge: its name, and the overall status in words.
func pageBadge(name string, status Status) []byte {
	colour, ok := indicatorColours[status.Indicator]
	if !ok {
		colour = unknownColour
	}
	return renderBadge(name, status.Description, colour)
}

// componentBadgeSVG is a component's badge: its name, and its status in words as the page shows it.
func componentBadgeSVG(c Component) []byte {
	colour, ok := componentColours[c.Status]
	if !ok {
		colour = unknownColour
	}
	return renderBadge(c.Name, componentBadge(c.Status).Text, colour)
}

// renderBadge lays out a flat badge: 20 px high, each half 5 px of padding either side of its text, the text
// measured with Verdana 11 px widths and held to that length with textLength, so a viewer without Verdana still
// fits it in its half. Coordinates of text are in tenths of a pixel, as shields draws them.
func renderBadge(label, message, colour string) []byte {
	lw, mw := textWidth(label), textWidth(message)
	left, right := lw+10, mw+10
	total := left + right
	var b bytes.Buffer
	b.Grow(1024 + 4*(len(label)+len(message)))
	px := func(v int) string { return strconv.Itoa(v) }
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="` + px(total) + `" height="20" role="img" aria-label="`)
	escape(&b, label+": "+message)
	b.WriteString(`"><title>`)
	escape(&b, label+": "+message)
	b.WriteString(`</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>` +
		`<stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="` + px(total) +
		`" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="` + px(left) +
		`" height="20" fill="#555"/><rect x="` + px(left) + `" width="` + px(right) + `" height="20" fill="` + colour +
		`"/><rect width="` + px(total) + `" height="20" fill="url(#s)"/></g>` +
		`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" ` +
		`text-rendering="geometricPrecision" font-size="110">`)
	text := func(x, width int, s string) {
		// The shadow first, hidden from assistive technology; then the text itself.
		b.WriteString(`<text aria-hidden="true" x="` + px(x) + `" y="150" fill="#010101" fill-opacity=".3" ` +
			`transform="scale(.1)" textLength="` + px(width*10) + `">`)
		escape(&b, s)
		b.WriteString(`</text><text x="` + px(x) + `" y="140" transform="scale(.1)" fill="#fff" textLength="` +
			px(width*10) + `">`)
		escape(&b, s)
		b.WriteString(`</text>`)
	}
	text(left*10/2, lw, label)
	text(left*10+right*10/2, mw, message)
	b.WriteString(`</g></svg>`)
	return b.Bytes()
}

// escape writes s as XML character data, also fit for a quoted attribute: <, >, &, ' and " become references, and a
// character XML cannot hold becomes U+FFFD.
func escape(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) } // writes to a bytes.Buffer do not fail

// textWidth is the width of s in whole pixels in Verdana at 11 px, rounded up; characters outside printable ASCII
// count as a wide letter.
func textWidth(s string) int {
	var w float64
	for _, r := range s {
		if r >= ' ' && r <= '~' {
			w += verdana11[r-' ']
		} else if r != utf8.RuneError {
			w += 8.5
		}
	}
	return int(w + 0.999)
}

// verdana11 holds the advance widths of printable ASCII (from ' ' to '~') in Verdana at 11 px.
var verdana11 = [95]float64{
	3.87, 4.33, 5.05, 9.00, 6.99, 11.84, 7.99, 2.95, 4.99, 4.99, 6.99, 9.00, 4.00, 4.99, 4.00, 4.99, // space to /
	6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, // 0 to 9
	4.99, 4.99, 9.00, 9.00, 9.00, 6.00, 11.00, // : to @
	7.52, 7.54, 7.68, 8.48, 6.96, 6.32, 8.53, 8.27, 4.63, 5.00, 7.62, 6.12, 9.27, // A to M
	8.23, 8.66, 6.63, 8.66, 7.65, 7.52, 6.78, 8.05, 7.52, 10.88, 7.54, 6.77, 7.54, // N to Z
	4.99, 4.99, 4.99, 9.00, 6.99, 6.99, // [ to `
	6.61, 6.85, 5.73, 6.85, 6.55, 3.87, 6.85, 6.96, 3.02, 3.79, 6.51, 3.02, 10.66, // a to m
	6.96, 6.68, 6.85, 6.85, 4.69, 5.73, 4.33, 6.96, 6.51, 8.98, 6.51, 6.51, 5.78, // n to z
	6.98, 4.99, 6.98, 9.00, // { to ~
}

// componentBadges renders the badge of every component, with the status the page shows for it (maintenance
// applied), by slug.
func (v *view) componentBadges() map[string]Resource {
	out := make(map[string]Resource, len(v.bySlug))
	for slug, c := range v.bySlug {
		out[slug] = newResource(contentTypeSVG, componentBadgeSVG(c))
	}
	return out
}

// Badge serves /badge.svg: the page's name and its overall status in words.
func (s *Service) Badge(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(snap *Snapshot) *Resource { return &snap.Badge })
}

// ComponentBadge serves /components/{slug}/badge.svg: the component's name and its status in words; 404 for a slug
// no component has.
func (s *Service) ComponentBadge(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	s.serve(w, r, func(snap *Snapshot) *Resource {
		if res, ok := snap.ComponentBadges[slug]; ok {
			return &res
		}
		return nil
	})
}
