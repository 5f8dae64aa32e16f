package statuspage

import (
	"net/http"
	"strconv"
	"strings"
)

// Headers of every public response.
const (
	// cacheControl lets browsers and CDNs keep a response briefly, serve it while they revalidate, and keep serving
	// it for a day if mim cannot answer: the page must stay up when everything else is down.
	cacheControl = "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400"
	// cacheControlNotFound lets a cache keep a 404 as briefly, and no longer: the incident may be published next.
	cacheControlNotFound = "public, max-age=10"
	// contentSecurityPolicy allows same-origin styles, scripts and requests only: no inline script or style runs,
	// whatever an incident's text holds.
	contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	// svgSecurityPolicy is a badge's: opened on its own, the SVG may style itself and do nothing else.
	svgSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'"
)

// Page serves the HTML status page (GET /).
func (s *Service) Page(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(snap *Snapshot) *Resource { return &snap.HTML })
}

// Summary serves /api/v2/summary.json: page, components, unresolved incidents, scheduled maintenances and status.
func (s *Service) Summary(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(snap *Snapshot) *Resource { return &snap.SummaryJSON })
}

// Status serves /api/v2/status.json: page and overall status.
func (s *Service) Status(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(snap *Snapshot) *Resource { return &snap.StatusJSON })
}

// Components serves /api/v2/components.json: page and components, groups included.
func (s *Service) Components(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(snap *Snapshot) *Resource { return &snap.ComponentsJSON })
}

// Incidents serves /api/v2/incidents.json: page and every incident of the public state, newest first.
func (s *Service) Incidents(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(snap *Snapshot) *Resource { return &snap.IncidentsJSON })
}

// Unresolved serves /api/v2/incidents/unresolved.json: page and the unresolved incidents, newest first.
func (s *Service) Unresolved(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(snap *Snapshot) *Resource { return &snap.UnresolvedJSON })
}

// Maintenances serves /api/v2/scheduled-maintenances.json: page and the maintenances of the public state, latest
// window first, at most 50.
func (s *Service) Maintenances(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(snap *Snapshot) *Resource { return &snap.MaintenancesJSON })
}

// UpcomingMaintenances serves /api/v2/scheduled-maintenances/upcoming.json: page and the maintenances whose next
// window is still to come (status scheduled), soonest first.
func (s *Service) UpcomingMaintenances(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(snap *Snapshot) *Resource { return &snap.UpcomingMaintenancesJSON })
}

// ActiveMaintenances serves /api/v2/scheduled-maintenances/active.json: page and the maintenances whose window is
// open (status in_progress), soonest first.
func (s *Service) ActiveMaintenances(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(snap *Snapshot) *Resource { return &snap.ActiveMaintenancesJSON })
}

// serve answers with one resource of the current snapshot: conditional on its ETag, gzip-compressed when the client
// accepts it.
func (s *Service) serve(w http.ResponseWriter, r *http.Request, pick func(*Snapshot) *Resource) {
	h := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
		return
	}
	snap, err := s.Current(r.Context())
	if err != nil {
		unavailable(w)
		return
	}
	res := pick(snap)
	if res == nil { // a resource of a name the snapshot does not hold: a badge of an unknown component
		h.Set("Cache-Control", cacheControlNotFound)
		h.Set("X-Content-Type-Options", "nosniff")
		http.Error(w, "Not found.", http.StatusNotFound)
		return
	}
	writeResource(w, r, http.StatusOK, res)
}

// unavailable answers that the public state cannot be read now. The rebuild logs the cause; the client learns only
// that it may retry.
func unavailable(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", "5")
	h.Set("X-Content-Type-Options", "nosniff")
	http.Error(w, "The status page is temporarily unavailable. Please retry in a few seconds.",
		http.StatusServiceUnavailable)
}

// writeResource answers with a rendered resource and the public headers. A 200 is conditional on the resource's
// ETag; any other status (a rendered 404 page) is sent whole, to be cached only briefly.
//
// This is the path every reader of the page takes during an outage, so a 200 or 304 allocates nothing: the headers
// were made with the resource, and the request's headers are read by their canonical keys, without canonicalising.
func writeResource(w http.ResponseWriter, r *http.Request, status int, res *Resource) {
	h := w.Header()
	gz := acceptsGzip(r.Header["Accept-Encoding"])
	if status == http.StatusOK && res.plain.all != nil {
		answer, body := &res.plain, res.Body
		if gz {
			answer, body = &res.gzipped, res.Gzip
		}
		if noneMatch(r.Header["If-None-Match"], res.ETag, res.GzipETag) {
			answer.notModified.set(h)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		answer.all.set(h)
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body) // a failed write means the client left; there is no one to tell
		}
		return
	}

	body, etag := res.Body, res.ETag
	if gz {
		body, etag = res.Gzip, res.GzipETag
	}
	headers := newAnswerHeaders(res.ContentType, etag, len(body), gz)
	if status != http.StatusOK {
		headers.all.set(h)
		h.Set("Cache-Control", cacheControlNotFound)
		h.Del("ETag")
	} else {
		if noneMatch(r.Header["If-None-Match"], res.ETag, res.GzipETag) {
			headers.notModified.set(h)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		headers.all.set(h)
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// answerHeaders are the headers of a 200 answer with one variant of a resource, and the part of them a 304 repeats
// (everything but the Content- headers), made once with the resource.
type answerHeaders struct {
	all, notModified headerList
}

// headerList is header fields by canonical name. Each value slice is full to capacity, so the response maps that
// share it cannot write into it: an Add appends to a copy.
type headerList []headerField

type headerField struct {
	key   string
	value []string
}

func (l headerList) set(h http.Header) {
	for _, f := range l {
		h[f.key] = f.value
	}
}

// newAnswerHeaders makes the headers of a resource variant: the security headers of its content type, the caching
// headers, its entity tag, then its Content- headers.
func newAnswerHeaders(contentType, etag string, length int, gzipped bool) answerHeaders {
	var l headerList
	add := func(k, v string) { l = append(l, headerField{k, []string{v}[:1:1]}) }
	switch contentType {
	case contentTypeHTML:
		add("Content-Security-Policy", contentSecurityPolicy)
		add("Referrer-Policy", "strict-origin-when-cross-origin")
		add("X-Frame-Options", "DENY")
	case contentTypeSVG:
		add("Content-Security-Policy", svgSecurityPolicy)
		add("Access-Control-Allow-Origin", "*")
	default:
		add("Access-Control-Allow-Origin", "*")
		add("Access-Control-Expose-Headers", "ETag")
	}
	add("X-Content-Type-Options", "nosniff")
	add("Cache-Control", cacheControl)
	add("Vary", "Accept-Encoding")
	add("Etag", etag)
	n := len(l)
	if gzipped {
		add("Content-Encoding", "gzip")
	}
	add("Content-Type", contentType)
	add("Content-Length", strconv.Itoa(length))
	return answerHeaders{all: l, notModified: l[:n:n]}
}

// noneMatch reports whether an If-None-Match header matches either variant's tag, by the weak comparison RFC 9110
// prescribes for it: a proxy that recompressed the body may have weakened the tag.
func noneMatch(headers []string, tags ...string) bool {
	for _, header := range headers {
		for candidate := range strings.SplitSeq(header, ",") {
			candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
			if candidate == "*" {
				return true
			}
			for _, tag := range tags {
				if candidate == tag {
					return true
				}
			}
		}
	}
	return false
}

// acceptsGzip reports whether Accept-Encoding allows gzip: listed (or x-gzip) with a non-zero quality, or, when not
// listed, allowed through "*".
func acceptsGzip(headers []string) bool {
	explicit, wildcard := -1.0, -1.0
	for _, header := range headers {
		for part := range strings.SplitSeq(header, ",") {
			name, params, _ := strings.Cut(part, ";")
			q := 1.0
			for param := range strings.SplitSeq(params, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(param), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "gzip", "x-gzip":
				explicit = max(explicit, q)
			case "*":
				wildcard = max(wildcard, q)
			}
		}
	}
	if explicit >= 0 {
		return explicit > 0
	}
	return wildcard > 0
}
