package statuspage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
)

// brandAssets are the stylesheet of the accent colour and the logo, built once: they change only with the
// configuration.
type brandAssets struct {
	css, logo         []byte
	cssETag, logoETag string
	logoType          string
}

func newBrandAssets(p Page) brandAssets {
	var b brandAssets
	if p.Brand.Accent != "" {
		// The accent marks the header and links; status colours stay as they are, so meaning never depends on it.
		b.css = fmt.Appendf(nil, ":root { --accent: %s; }\n.site { border-bottom: 4px solid var(--accent); }\n"+
			".site a, .site-name, h1 { color: var(--accent); }\n", p.Brand.Accent)
		b.cssETag = etagOf(b.css)
	}
	if len(p.Logo) > 0 {
		b.logo, b.logoType, b.logoETag = p.Logo, p.LogoType, etagOf(p.Logo)
	}
	return b
}

func etagOf(b []byte) string {
	h := sha256.Sum256(b)
	return `"` + hex.EncodeToString(h[:8]) + `"`
}

// BrandCSS serves /brand.css, the accent colour (404 when none is set).
func (s *Service) BrandCSS(w http.ResponseWriter, r *http.Request) {
	serveAsset(w, r, s.brand.css, s.brand.cssETag, "text/css; charset=utf-8")
}

// Logo serves /brand/logo, the organisation's logo (404 when none is set).
func (s *Service) Logo(w http.ResponseWriter, r *http.Request) {
	if s.brand.logoType == "image/svg+xml" {
		w.Header().Set("Content-Security-Policy", svgSecurityPolicy)
	}
	serveAsset(w, r, s.brand.logo, s.brand.logoETag, s.brand.logoType)
}

func serveAsset(w http.ResponseWriter, r *http.Request, body []byte, etag, contentType string) {
	h := w.Header()
	if len(body) == 0 {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("404 page not found\n"))
		return
	}
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	_, _ = w.Write(body)
}
