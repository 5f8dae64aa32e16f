package statuspage

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mimhq/mim/web"
)

const (
	// historyMonths is how many calendar months one page of the history covers.
	historyMonths = 3
	// maxHistoryPage is the last page that may be asked for: a century.
	maxHistoryPage = 100 * 12 / historyMonths
)

// History serves /history: every public incident, by the calendar month (in the page's zone) its first update was
// published in, newest month first, three months a page. ?page=1, the default, is this month and the two before;
// ?page=2 the three before those; and so on. The newer and older links skip pages with nothing on them. A page
// number that is not a whole number from 1 to 400, or a page past the oldest incident, is 404.
func (s *Service) History(w http.ResponseWriter, r *http.Request) {
	n := 1
	if q := r.URL.Query(); q.Has("page") {
		v, err := strconv.Atoi(q.Get("page"))
		if err != nil || v < 1 || v > maxHistoryPage {
			s.notFound(w, r)
			return
		}
		n = v
	}
	s.serveHistory(w, r, n)
}

// HistoryPage serves /history/{page}, the same pages as /history?page=N.
func (s *Service) HistoryPage(w http.ResponseWriter, r *http.Request) {
	raw := strings.TrimPrefix(r.URL.Path, "/history/")
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxHistoryPage || strconv.Itoa(n) != raw {
		s.notFound(w, r)
		return
	}
	s.serveHistory(w, r, n)
}

func (s *Service) serveHistory(w http.ResponseWriter, r *http.Request, n int) {
	s.serveArchived(w, r, "history "+strconv.Itoa(n), func(ctx context.Context, _ uint64) (*archivePage, error) {
		return s.buildHistory(ctx, n)
	})
}

// monthStart is the first instant of the month k months after t's, in loc.
func monthStart(t time.Time, k int, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month()+time.Month(k), 1, 0, 0, 0, 0, loc)
}

// historyPageOf is the page of the history that shows the month of t, when it is now.
func historyPageOf(t, now time.Time, loc *time.Location) int {
	t, now = t.In(loc), now.In(loc)
	back := (now.Year()-t.Year())*12 + int(now.Month()) - int(t.Month())
	return max(back, 0)/historyMonths + 1
}

func historyHref(page int) string {
	if page <= 1 {
		return "/history"
	}
	// A path, not a query, so a static copy of the page (mim export static) holds every page as a file.
	return "/history/" + strconv.Itoa(page)
}

func (s *Service) buildHistory(ctx context.Context, n int) (*archivePage, error) {
	loc, now := s.page.Location, s.now()
	newest := monthStart(now, -historyMonths*(n-1), loc)
	from, to := monthStart(newest, -(historyMonths-1), loc), monthStart(newest, 1, loc)
	// Page 1 shows this month: every page is stale when the month turns.
	expires := monthStart(now, 1, loc)

	h, err := s.src.PublicHistory(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("load public history: %w", err)
	}
	if n > 1 && len(h.Incidents) == 0 && h.Older.IsZero() {
		page, err := s.buildNotFound(ctx)
		if err != nil {
			return nil, err
		}
		page.expires = expires
		return page, nil
	}

	v := s.archiveView(ctx)
	p := web.HistoryPage{Name: v.page.Name, Span: monthSpan(from, newest), Truncated: h.Truncated}
	for i := range historyMonths {
		start := monthStart(newest, -i, loc)
		m := web.HistoryMonth{ID: start.Format("2006-01"), Name: start.Format("January 2006")}
		for _, in := range h.Incidents {
			if at := in.CreatedAt.In(loc); at.Year() == start.Year() && at.Month() == start.Month() {
				m.Incidents = append(m.Incidents, v.historyIncident(in))
			}
		}
		p.Months = append(p.Months, m)
	}
	if !h.Newer.IsZero() {
		if page := historyPageOf(h.Newer, now, loc); page < n {
			p.Newer = historyHref(page)
		}
	}
	if !h.Older.IsZero() {
		if page := historyPageOf(h.Older, now, loc); page > n && page <= maxHistoryPage {
			p.Older = historyHref(page)
		}
	}
	var buf bytes.Buffer
	if err := web.HistoryPageView(p).Render(web.WithBrand(ctx, v.page.Brand), &buf); err != nil {
		return nil, fmt.Errorf("render history page %d: %w", n, err)
	}
	return &archivePage{status: http.StatusOK, res: newResource(contentTypeHTML, buf.Bytes()), expires: expires}, nil
}

// monthSpan names the months from first to last: "March – May 2026", "November 2025 – January 2026".
func monthSpan(first, last time.Time) string {
	if first.Year() == last.Year() {
		return first.Format("January") + " – " + last.Format("January 2006")
	}
	return first.Format("January 2006") + " – " + last.Format("January 2006")
}

func (v *view) historyIncident(in Incident) web.HistoryIncident {
	out := web.HistoryIncident{
		Key:     in.Key,
		Name:    in.Name,
		Status:  updateBadge(in.Status),
		Impact:  impactText(in.Impact),
		Started: v.displayTime(startedAt(in)),
	}
	if !unresolved(in) {
		at := resolvedAt(in)
		t, d := v.displayTime(at), durationView(at.Sub(startedAt(in)))
		out.Resolved, out.Duration = &t, &d
	}
	return out
}
