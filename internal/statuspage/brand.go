package statuspage

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"

	"github.com/mimhq/mim/web"
)

// brandAssets are the stylesheet of the accent colour and the logo, built when the brand changes.
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
	b := s.look(r.Context()).assets
	serveAsset(w, r, b.css, b.cssETag, "text/css; charset=utf-8")
}

// Logo serves /brand/logo, the organisation's logo (404 when none is set).
func (s *Service) Logo(w http.ResponseWriter, r *http.Request) {
	b := s.look(r.Context()).assets
	if b.logoType == "image/svg+xml" {
		w.Header().Set("Content-Security-Policy", svgSecurityPolicy)
	}
	serveAsset(w, r, b.logo, b.logoETag, b.logoType)
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

// look is the page's settings with a brand applied, and that brand's assets.
type look struct {
	page   Page
	assets brandAssets
	// from is the stored brand it was made from; nil for the configuration's.
	from *Branding
}

// lookOf is the look of the page with the stored brand b (nil: the configuration's). The current snapshot's is
// reused when the brand is the same, so a rebuild hashes no logo.
func (s *Service) lookOf(b *Branding) *look {
	if b == nil {
		return s.baseLook()
	}
	if cur := s.cur.Load(); cur != nil && cur.look != nil && sameBranding(cur.look.from, b) {
		return cur.look
	}
	page := s.page
	page.Name = cmp.Or(b.Name, page.Name)
	page.Brand = web.Brand{Accent: b.Accent, Links: b.Links, LogoURL: page.Brand.LogoURL}
	if len(b.Logo) > 0 {
		page.Logo, page.LogoType, page.Brand.LogoURL = b.Logo, b.LogoType, "/brand/logo"
	}
	return &look{page: page, assets: newBrandAssets(page), from: b}
}

func sameBranding(a, b *Branding) bool {
	return a != nil && b != nil && a.Name == b.Name && a.Accent == b.Accent && slices.Equal(a.Links, b.Links) &&
		a.LogoType == b.LogoType && bytes.Equal(a.Logo, b.Logo)
}

// look returns the look of the snapshot in service, rebuilding it first when it is stale, as a request for the page
// would: the pages served on demand wear the same brand as the page.
func (s *Service) look(ctx context.Context) *look {
	if snap, err := s.Current(ctx); err == nil && snap.look != nil {
		return snap.look
	}
	if snap := s.cur.Load(); snap != nil && snap.look != nil {
		return snap.look
	}
	return s.baseLook()
}

// Brand returns the name and brand the public pages show now, for other public pages (the subscription pages) to
// wear the same.
func (s *Service) Brand(ctx context.Context) (string, web.Brand) {
	p := s.look(ctx).page
	return p.Name, p.Brand
}

// baseLook is the configuration's look.
func (s *Service) baseLook() *look { return &look{page: s.page, assets: s.baseAssets} }
