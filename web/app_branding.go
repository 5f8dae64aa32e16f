package web

// BrandingPage is the admin's page of the public page's brand: its form, and whether a brand is stored.
type BrandingPage struct {
	Form BrandingForm
	// Stored is set when an admin stored a brand (it can be reset to the configuration's).
	Stored bool
	// StoredLogo is set when the stored brand has a logo; ConfiguredLogo when the configuration names one.
	StoredLogo, ConfiguredLogo bool
	// Updated says who saved the stored brand last, and when; empty when none is stored.
	Updated string
}

// BrandingForm is the brand as edited: the name, the accent colour, the header links (always MaxLinks rows, blank
// ones unused) and the version it was loaded at.
type BrandingForm struct {
	Name, Accent, Version string
	Links                 []BrandingLink
	RemoveLogo            bool
	// Errors are by field: name, accent, logo, links.N.label, links.N.url.
	Errors map[string]string
}

// BrandingLink is one header link as edited.
type BrandingLink struct{ Label, URL string }
