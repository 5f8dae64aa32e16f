package domain

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of a stored brand.
const (
	// MaxBrandLinks is how many header links the public page shows at most.
	MaxBrandLinks = 5
	// MaxLogoBytes bounds the logo image: it is served from memory.
	MaxLogoBytes = 512 << 10
	maxBrandName = 80
	maxLinkLabel = 40
	maxLinkURL   = 500
)

// Brand is how an organisation dresses its public pages, as an admin stored it: it replaces the configuration's
// (MIM_PAGE_NAME, MIM_PAGE_ACCENT, MIM_PAGE_LINKS) as a whole; a brand without a logo keeps the configured logo.
type Brand struct {
	// Name is the status page's name.
	Name string
	// Accent is a #rrggbb colour; empty for the default look.
	Accent string
	Links  []BrandLink
	// Logo is the logo image, LogoType its content type (a PNG, SVG, JPEG, WebP or GIF image); nil for none.
	Logo     []byte
	LogoType string
	// Version counts the saves, for optimistic concurrency: a save names the version it was made from.
	Version   int
	UpdatedAt time.Time
	UpdatedBy string
}

// BrandLink is a labelled https link in the public page's header.
type BrandLink struct {
	Label string
	URL   string
}

var accentPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// ValidAccent reports whether s is a #rrggbb colour.
func ValidAccent(s string) bool { return accentPattern.MatchString(s) }

// ValidateBrand checks a brand to store and normalises it (trims, lower-case accent, canonical URLs). Link field
// errors are named links.N.label and links.N.url, N counting from 0.
func ValidateBrand(b *Brand) error {
	var v Validator
	b.Name = strings.TrimSpace(b.Name)
	// A name of nothing but invisible format characters (bidi overrides, zero-width spaces) shows as a blank page.
	v.Check(strings.TrimSpace(strings.Map(dropFormat, b.Name)) != "", "name", "is required")
	v.Check(!strings.ContainsAny(b.Name, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), "name",
		"must not hold text-direction controls")
	v.Check(utf8.RuneCountInString(b.Name) <= maxBrandName, "name", "must be at most 80 characters")
	v.Check(!strings.ContainsAny(b.Name, "\r\n"), "name", "must be one line")
	b.Accent = strings.ToLower(strings.TrimSpace(b.Accent))
	v.Check(b.Accent == "" || ValidAccent(b.Accent), "accent", "must be a colour like #0b6e4f")
	v.Check(len(b.Links) <= MaxBrandLinks, "links", "at most 5 links")
	for i := range b.Links {
		l := &b.Links[i]
		field := "links." + strconv.Itoa(i)
		l.Label, l.URL = strings.TrimSpace(l.Label), strings.TrimSpace(l.URL)
		v.Check(l.Label != "", field+".label", "is required")
		v.Check(utf8.RuneCountInString(l.Label) <= maxLinkLabel, field+".label", "must be at most 40 characters")
		u, err := url.Parse(l.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(l.URL) > maxLinkURL {
			v.Add(field+".url", "must be an https:// address")
			continue
		}
		l.URL = u.String()
	}
	if b.Logo != nil {
		v.Check(len(b.Logo) <= MaxLogoBytes, "logo", "must be at most 512 KiB")
		v.Check(LogoType(b.LogoType), "logo", "must be a PNG, SVG, JPEG, WebP or GIF image")
	}
	return v.Err()
}

// LogoType reports whether a logo of that content type may be shown.
func LogoType(ct string) bool {
	switch ct {
	case "image/png", "image/svg+xml", "image/jpeg", "image/webp", "image/gif":
		return true
	}
	return false
}

func dropFormat(r rune) rune {
	if unicode.Is(unicode.Cf, r) {
		return -1
	}
	return r
}
