package web

import "context"

// Brand is how an organisation dresses its public pages: a logo, an accent colour and a few links.
type Brand struct {
	// LogoURL is an https URL or a path on this site; empty for none.
	LogoURL string
	// Accent is a #rrggbb colour, served in /brand.css; empty for the default look.
	Accent string
	Links  []BrandLink
}

// BrandLink is a link in the page header, e.g. to support or the main site.
type BrandLink struct {
	Label string
	URL   string
}

type brandKey struct{}

// WithBrand returns a context whose renderings of the public pages carry the brand.
func WithBrand(ctx context.Context, b Brand) context.Context {
	return context.WithValue(ctx, brandKey{}, b)
}

func brandFrom(ctx context.Context) Brand {
	b, _ := ctx.Value(brandKey{}).(Brand)
	return b
}
