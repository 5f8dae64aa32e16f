package statuspage

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/web"
)

// keyPattern is what an incident key looks like. Any other {key} is answered 404 at once: it is never looked up,
// and never becomes a cache key.
var keyPattern = regexp.MustCompile(`^INC-[0-9]{1,18}$`)

// Permalink serves /incidents/{key}: the incident's title, status, affected components and every published update,
// newest first. An incident that does not exist and one with nothing published are both answered with the same
// 404 page. The page is built from the snapshot when the incident is in it (it is, while it is unresolved or
// recently resolved: the incidents readers follow during an outage), and from the Source otherwise; either way
// once per public change.
func (s *Service) Permalink(w http.ResponseWriter, r *http.Request) {
	key := strings.ToUpper(r.PathValue("key"))
	if !keyPattern.MatchString(key) {
		s.notFound(w, r)
		return
	}
	s.serveArchived(w, r, "incident "+key, func(ctx context.Context, gen uint64) (*archivePage, error) {
		return s.buildPermalink(ctx, gen, key)
	})
}

func (s *Service) buildPermalink(ctx context.Context, gen uint64, key string) (*archivePage, error) {
	snap, err := s.Current(ctx)
	if err != nil {
		return nil, err
	}
	// A snapshot older than gen (its rebuild failed or is slow) may hold an older state of the incident: then the
	// incident is read from the Source, and a failure to read it keeps the last good page in service.
	in, ok := Incident{}, false
	if snap.gen >= gen {
		in, ok = findIncident(snap.State.Incidents, key)
	}
	if !ok {
		in, err = s.src.PublicIncident(ctx, key)
		if domain.IsKind(err, domain.ErrNotFound) {
			return s.buildNotFound(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("load public incident %s: %w", key, err)
		}
	}
	names := make(map[string]string, len(snap.State.Components))
	for _, c := range snap.State.Components {
		names[c.Slug] = c.Name
	}
	v := s.archiveView(ctx)
	page := v.permalinkPage(in, names)
	if rs, ok := s.src.(ReportSource); ok {
		reports, err := rs.PublicReports(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("load reports of %s: %w", key, err)
		}
		page.Reports = v.reportViews(reports)
	}
	var buf bytes.Buffer
	if err := web.IncidentPageView(page).Render(web.WithBrand(ctx, v.page.Brand), &buf); err != nil {
		return nil, fmt.Errorf("render permalink %s: %w", key, err)
	}
	return &archivePage{status: http.StatusOK, res: newResource(contentTypeHTML, buf.Bytes())}, nil
}

func (v *view) reportViews(reports []Report) []web.IncidentReport {
	var out []web.IncidentReport
	for _, r := range reports {
		heading := "Post Incident Report"
		if r.Kind == "rca" {
			heading = "Root Cause Analysis"
		}
		out = append(out, web.IncidentReport{Kind: r.Kind, Heading: heading,
			Body: web.SanitizedHTML(RenderMarkdown(r.Summary)), Published: v.displayTime(r.PublishedAt)})
	}
	return out
}

func findIncident(incidents []Incident, key string) (Incident, bool) {
	for _, in := range incidents {
		if in.Key == key {
			return in, true
		}
	}
	return Incident{}, false
}

// archiveView is a view for rendering single incidents in the page's zone, outside a snapshot's, with the brand
// of the current one.
func (s *Service) archiveView(ctx context.Context) *view {
	page := s.look(ctx).page
	return &view{page: page, loc: page.Location}
}

func (v *view) permalinkPage(in Incident, names map[string]string) web.IncidentPage {
	p := web.IncidentPage{Name: v.page.Name, Incident: v.incidentView(in)}
	for _, slug := range in.Components {
		p.Components = append(p.Components, cmp.Or(names[slug], slug))
	}
	if !unresolved(in) {
		d := durationView(resolvedAt(in).Sub(startedAt(in)))
		p.Duration = &d
	}
	return p
}

// durationView shows a duration to the minute: "1 day 2 hours 5 minutes", "less than a minute".
func durationView(d time.Duration) web.StatusDuration {
	d = max(d, 0)
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	minutes := int(d % time.Hour / time.Minute)
	if days == 0 && hours == 0 && minutes == 0 {
		return web.StatusDuration{Datetime: fmt.Sprintf("PT%dS", int(d/time.Second)), Text: "less than a minute"}
	}
	var iso strings.Builder
	iso.WriteString("P")
	var words []string
	if days > 0 {
		fmt.Fprintf(&iso, "%dD", days)
		words = append(words, plural(days, "day"))
	}
	if hours > 0 || minutes > 0 {
		iso.WriteString("T")
	}
	if hours > 0 {
		fmt.Fprintf(&iso, "%dH", hours)
		words = append(words, plural(hours, "hour"))
	}
	if minutes > 0 {
		fmt.Fprintf(&iso, "%dM", minutes)
		words = append(words, plural(minutes, "minute"))
	}
	return web.StatusDuration{Datetime: iso.String(), Text: strings.Join(words, " ")}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// buildNotFound renders the public 404 page.
func (s *Service) buildNotFound(ctx context.Context) (*archivePage, error) {
	var buf bytes.Buffer
	page := s.look(ctx).page
	if err := web.NotFoundPageView(page.Name).Render(web.WithBrand(ctx, page.Brand), &buf); err != nil {
		return nil, fmt.Errorf("render 404 page: %w", err)
	}
	return &archivePage{status: http.StatusNotFound, res: newResource(contentTypeHTML, buf.Bytes())}, nil
}
