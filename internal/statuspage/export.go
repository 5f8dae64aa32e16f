package statuspage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/net/html"

	"github.com/mimhq/mim/web"
)

// A static copy of the public site (`mim export static DIR`), for a separate host or CDN that stays up when mim's
// own host does not. It holds, from one snapshot: the page, every /api/v2 JSON, the badges and the static assets;
// and, rendered by their own handlers, the history, its feeds and every page those link to (permalinks). Each file
// holds exactly the bytes mim serves at its path, so a reader cannot tell the copy from the live page, and every
// same-site link of an exported page leads to an exported file when the directory is served at the root of a host.
//
// What a static host cannot serve is not written and is reported instead: a link with a query string (a static host
// serves one file per path), and a link to a path no exporter below knows.

// ExportResult is what an export wrote and what it could not.
type ExportResult struct {
	// Files are the paths written, relative to the directory, with forward slashes, in the order written.
	Files []string
	// Skipped are the same-site links of exported pages that were not written, each with the reason.
	Skipped []string
}

// snapshotFiles are the resources of a snapshot and the URL path each is served at. Add a resource of the snapshot
// here when it gets a route: TestStaticExportHoldsEveryPublicRoute (internal/app) fails until then.
func snapshotFiles(snap *Snapshot) map[string]*Resource {
	files := map[string]*Resource{
		"/":                                            &snap.HTML,
		"/api/v2/summary.json":                         &snap.SummaryJSON,
		"/api/v2/status.json":                          &snap.StatusJSON,
		"/api/v2/components.json":                      &snap.ComponentsJSON,
		"/api/v2/incidents.json":                       &snap.IncidentsJSON,
		"/api/v2/incidents/unresolved.json":            &snap.UnresolvedJSON,
		"/api/v2/scheduled-maintenances.json":          &snap.MaintenancesJSON,
		"/api/v2/scheduled-maintenances/upcoming.json": &snap.UpcomingMaintenancesJSON,
		"/api/v2/scheduled-maintenances/active.json":   &snap.ActiveMaintenancesJSON,
		"/badge.svg":                                   &snap.Badge,
	}
	for slug, res := range snap.ComponentBadges {
		files["/components/"+slug+"/badge.svg"] = &res
	}
	return files
}

// exportRoots are the pages served on demand that an export writes whether or not a page links to them.
var exportRoots = []string{"/history", "/history.rss", "/history.atom"}

// exportHandler returns the handler of a page served on demand and the path values it reads, or false when no
// exporter knows the path. Add a route here when it is added to routes.go and a static host can serve it.
func (s *Service) exportHandler(p string) (http.HandlerFunc, map[string]string, bool) {
	switch p {
	case "/history":
		return s.History, nil, true
	case "/history.rss":
		return s.HistoryRSS, nil, true
	case "/history.atom":
		return s.HistoryAtom, nil, true
	}
	if n, ok := strings.CutPrefix(p, "/history/"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		return s.HistoryPage, nil, true
	}
	if key, ok := strings.CutPrefix(p, "/incidents/"); ok && keyPattern.MatchString(key) {
		return s.Permalink, map[string]string{"key": key}, true
	}
	return nil, nil, false
}

// Export writes the static copy of the public site under dir, creating it when needed. Each file is written whole
// to a temporary file and renamed into place, so a host serving dir while it is refreshed never serves half a file;
// files of an earlier export that this one does not write are left alone.
func (s *Service) Export(ctx context.Context, dir string) (*ExportResult, error) {
	snap, err := s.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("build the status snapshot: %w", err)
	}
	x := &exporter{s: s, ctx: ctx, dir: dir, res: &ExportResult{}, seen: map[string]bool{}, skipped: map[string]bool{}}
	if pu, err := url.Parse(s.page.URL); err == nil && pu.Host != "" {
		x.pageURL = pu
		x.absolute = regexp.MustCompile(regexp.QuoteMeta(s.page.URL) + `(/[^\s"'<>&]*)`)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}

	files := snapshotFiles(snap)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		x.seen[p] = true
		if err := x.write(p, files[p].ContentType, files[p].Body); err != nil {
			return nil, err
		}
	}
	err = fs.WalkDir(web.Static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(web.Static, name)
		if err != nil {
			return err
		}
		x.seen["/static/"+name] = true
		return x.write("/static/"+name, "", body)
	})
	if err != nil {
		return nil, fmt.Errorf("export static assets: %w", err)
	}
	// The brand's stylesheet and logo, when set (stored or configured): the copy must look like the page.
	lk := snap.look
	if lk == nil {
		lk = s.baseLook()
	}
	for _, a := range []struct {
		path, contentType string
		body              []byte
	}{{"/brand.css", "text/css; charset=utf-8", lk.assets.css}, {"/brand/logo", lk.assets.logoType, lk.assets.logo}} {
		if len(a.body) > 0 {
			x.seen[a.path] = true
			if err := x.write(a.path, a.contentType, a.body); err != nil {
				return nil, err
			}
		}
	}
	// The page's links lead to the pages served on demand, which lead to more: follow them, breadth first.
	x.follow("/", contentTypeHTML, snap.HTML.Body)
	for _, p := range exportRoots {
		x.enqueue(p, "")
	}
	for len(x.queue) > 0 {
		p := x.queue[0]
		x.queue = x.queue[1:]
		if err := x.page(p); err != nil {
			return nil, err
		}
	}
	slices.Sort(x.res.Skipped)
	return x.res, nil
}

// exporter is one export in progress.
type exporter struct {
	s        *Service
	ctx      context.Context
	dir      string
	res      *ExportResult
	pageURL  *url.URL       // the page's public base URL, whose absolute links (in feeds) are same-site too
	absolute *regexp.Regexp // finds those links in text
	seen     map[string]bool
	skipped  map[string]bool
	queue    []string
}

// liveOnly are pages the public pages link to that only the live server can answer (a form that posts to it): the
// copy keeps the link and holds no file for it.
var liveOnly = map[string]bool{"/subscribe": true}

// enqueue schedules the page at path p for export, or reports why it cannot be; from is the page linking to it.
func (x *exporter) enqueue(p, from string) {
	if x.seen[p] || liveOnly[p] {
		return
	}
	if _, _, ok := x.s.exportHandler(p); !ok {
		x.skip(p, "linked from "+from+"; no exporter for this path")
		return
	}
	x.seen[p] = true
	x.queue = append(x.queue, p)
}

func (x *exporter) skip(link, why string) {
	if x.skipped[link] {
		return
	}
	x.skipped[link] = true
	x.res.Skipped = append(x.res.Skipped, link+" ("+why+")")
}

// page renders a page served on demand by calling its handler, as a client that asks for no compression, and
// writes the body when the answer is 200: a page that is not found (a permalink of an incident no longer public)
// is left out.
func (x *exporter) page(p string) error {
	h, values, _ := x.s.exportHandler(p)
	req, err := http.NewRequestWithContext(x.ctx, http.MethodGet, p, nil)
	if err != nil {
		return fmt.Errorf("export %s: %w", p, err)
	}
	for k, v := range values {
		req.SetPathValue(k, v)
	}
	w := &captureWriter{header: http.Header{}}
	h(w, req)
	switch w.status {
	case http.StatusOK:
	case http.StatusNotFound:
		x.skip(p, "not found")
		return nil
	default:
		return fmt.Errorf("export %s: the status page answered %d", p, w.status)
	}
	ct := w.header.Get("Content-Type")
	if err := x.write(p, ct, w.body.Bytes()); err != nil {
		return err
	}
	x.follow(p, ct, w.body.Bytes())
	return nil
}

// follow enqueues the same-site pages a document links to: the href and src of an HTML page, and the links in
// feeds, which are absolute under the page's base URL.
func (x *exporter) follow(from, contentType string, body []byte) {
	var refs []string
	if strings.HasPrefix(contentType, "text/html") {
		z := html.NewTokenizer(bytes.NewReader(body))
		for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			for _, a := range z.Token().Attr {
				if a.Key == "href" || a.Key == "src" {
					refs = append(refs, a.Val)
				}
			}
		}
	}
	if x.absolute != nil {
		for _, m := range x.absolute.FindAllSubmatch(body, -1) {
			refs = append(refs, x.s.page.URL+string(m[1]))
		}
	}
	base := &url.URL{Scheme: "http", Host: "export.invalid", Path: from}
	for _, ref := range refs {
		u, err := base.Parse(ref)
		if err != nil {
			continue
		}
		var p string
		switch {
		case u.Host == base.Host:
			p = u.Path
		case x.pageURL != nil && u.Scheme == x.pageURL.Scheme && u.Host == x.pageURL.Host &&
			strings.HasPrefix(u.Path, strings.TrimSuffix(x.pageURL.Path, "/")+"/"):
			p = strings.TrimPrefix(u.Path, strings.TrimSuffix(x.pageURL.Path, "/"))
		default:
			continue // another site, or a data: URL
		}
		if u.RawQuery != "" {
			x.skip(p+"?"+u.RawQuery, "linked from "+from+"; a static host serves one file per path, whatever the query")
			continue
		}
		x.enqueue(p, from)
	}
}

// write writes the body served at URL path p to its file: / is index.html, and a page whose path has no extension
// is written both as path/index.html, which every static host serves as HTML, and as path.html, for hosts that map
// /history to history.html.
func (x *exporter) write(p, contentType string, body []byte) error {
	names := []string{strings.TrimPrefix(p, "/")}
	switch {
	case p == "/":
		names = []string{"index.html"}
	case path.Ext(p) == "" && strings.HasPrefix(contentType, "text/html"):
		// As a folder's index.html, which any static host serves as HTML (and which leaves room for /history/2
		// beside /history), and as path.html for hosts that map /history to history.html.
		names = []string{names[0] + "/index.html", names[0] + ".html"}
	}
	for _, name := range names {
		if !fs.ValidPath(name) {
			return fmt.Errorf("export %s: not a file name", p)
		}
		if err := writeFileAtomic(filepath.Join(x.dir, filepath.FromSlash(name)), body); err != nil {
			return fmt.Errorf("export %s: %w", p, err)
		}
		x.res.Files = append(x.res.Files, name)
	}
	return nil
}

// writeFileAtomic writes body to a temporary file beside name and renames it into place.
func writeFileAtomic(name string, body []byte) (err error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	_, werr := f.Write(body)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

// captureWriter keeps an in-process answer.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *captureWriter) Header() http.Header { return w.header }

func (w *captureWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *captureWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}
