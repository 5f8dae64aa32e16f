package statuspage

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/feeds"
)

// Content types of the feeds.
const (
	contentTypeRSS  = "application/rss+xml; charset=utf-8"
	contentTypeAtom = "application/atom+xml; charset=utf-8"
)

// feedEntries is how many incidents the feeds hold: those updated most recently.
const feedEntries = 50

// HistoryRSS serves /history.rss: the 50 incidents updated most recently, each as one item in its latest state.
func (s *Service) HistoryRSS(w http.ResponseWriter, r *http.Request) {
	s.serveArchived(w, r, "rss", func(ctx context.Context, _ uint64) (*archivePage, error) { return s.buildFeed(ctx, false) })
}

// HistoryAtom serves /history.atom: the same entries as /history.rss, as Atom.
func (s *Service) HistoryAtom(w http.ResponseWriter, r *http.Request) {
	s.serveArchived(w, r, "atom", func(ctx context.Context, _ uint64) (*archivePage, error) { return s.buildFeed(ctx, true) })
}

// buildFeed renders the feed. Each incident is one entry whose id is its permalink, so a reader shows it once and
// updates it in place; its time is its latest published update's, and its content that update, rendered and
// sanitised like the page, after the incident's status.
func (s *Service) buildFeed(ctx context.Context, atom bool) (*archivePage, error) {
	incidents, err := s.src.PublicLatest(ctx, feedEntries)
	if err != nil {
		return nil, fmt.Errorf("load latest public incidents: %w", err)
	}
	v := s.archiveView(ctx)
	name := xmlText(v.page.Name)
	f := &feeds.Feed{
		Title:       name,
		Link:        &feeds.Link{Href: s.page.URL + "/history"},
		Description: "Incidents on " + name,
		Author:      &feeds.Author{Name: name},
	}
	for _, in := range incidents {
		f.Updated = later(f.Updated, in.UpdatedAt.UTC())
		link := s.page.URL + "/incidents/" + in.Key
		content := xmlText(v.feedContent(in))
		f.Items = append(f.Items, &feeds.Item{
			Title: xmlText(in.Name), Link: &feeds.Link{Href: link}, Id: link, IsPermaLink: "true",
			Updated: in.UpdatedAt.UTC(), Created: in.CreatedAt.UTC(), Description: content, Content: content,
		})
	}
	if f.Updated.IsZero() {
		f.Updated = s.now().UTC() // Atom requires a time; with no entries there is no better one
	}

	var out string
	if atom {
		doc := (&feeds.Atom{Feed: f}).AtomFeed()
		doc.Link.Rel = "alternate"
		for i, e := range doc.Entries {
			e.Summary = nil // the content says it all
			e.Published = f.Items[i].Created.Format(time.RFC3339)
		}
		out, err = feeds.ToXML(doc)
	} else {
		doc := (&feeds.Rss{Feed: f}).RssFeed()
		doc.ManagingEditor = "" // RSS wants an e-mail address there; the page has none
		doc.PubDate = doc.LastBuildDate
		for i, item := range doc.Items {
			// An item's date is when it last changed: readers show it as news again.
			item.PubDate = f.Items[i].Updated.Format(time.RFC1123Z)
		}
		out, err = feeds.ToXML(doc)
	}
	if err != nil {
		return nil, fmt.Errorf("render feed: %w", err)
	}
	contentType := contentTypeRSS
	if atom {
		contentType = contentTypeAtom
	}
	return &archivePage{status: http.StatusOK, res: newResource(contentType, []byte(out))}, nil
}

// feedContent is an entry's HTML: the incident's status, with the time of its latest update, and that update.
func (v *view) feedContent(in Incident) string {
	var b strings.Builder
	b.WriteString("<p><strong>" + html.EscapeString(updateBadge(in.Status).Text) + "</strong>")
	ups := newestUpdatesFirst(in.Updates)
	if len(ups) > 0 {
		t := v.displayTime(ups[0].PublishedAt)
		b.WriteString(` · <time datetime="` + html.EscapeString(t.Datetime) + `">` + html.EscapeString(t.Text) + `</time>`)
	}
	b.WriteString("</p>\n")
	if len(ups) > 0 {
		b.WriteString(RenderMarkdown(ups[0].Body))
	}
	return b.String()
}

// xmlText drops what XML 1.0 cannot carry (control characters other than tab and newlines, U+FFFE, U+FFFF), which
// encoding/xml would write as is into CDATA and so make the whole feed unreadable.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return -1
	}, s)
}
