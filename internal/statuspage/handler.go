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
	// contentSecurityPolicy allows same-origin styles, scripts and requests only: no inline script or style runs,
	// whatever an incident's text holds.
	contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
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
		// The rebuild logs the cause; the client learns only that it may retry.
		h.Set("Cache-Control", "no-store")
		h.Set("Retry-After", "5")
		h.Set("X-Content-Type-Options", "nosniff")
		http.Error(w, "The status page is temporarily unavailable. Please retry in a few seconds.",
			http.StatusServiceUnavailable)
		return
	}
	res := pick(snap)
	if res.ContentType == contentTypeHTML {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", cacheControl)
	h.Set("Vary", "Accept-Encoding")

	body, etag, gz := res.Body, res.ETag, acceptsGzip(r.Header.Values("Accept-Encoding"))
	if gz {
		body, etag = res.Gzip, res.GzipETag
	}
	h.Set("ETag", etag)
	if noneMatch(r.Header.Values("If-None-Match"), res.ETag, res.GzipETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Type", res.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // a failed write means the client left; there is no one to tell
	}
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
