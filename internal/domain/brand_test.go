package domain_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
)

func TestValidateBrandRefusesWhatThePublicPageMustNotShow(t *testing.T) {
	t.Parallel()
	link := func(label, url string) []domain.BrandLink { return []domain.BrandLink{{Label: label, URL: url}} }
	for _, tc := range []struct {
		name  string
		brand domain.Brand
		field string // "" when valid
	}{
		{"plain", domain.Brand{Name: "Acme", Accent: "#0B6E4F", Links: link("Help", "https://help.example.com")}, ""},
		{"markup is text, not refused", domain.Brand{Name: "<b>Acme</b>", Links: link("<i>x</i>", "https://e.com")}, ""},
		{"no name", domain.Brand{Name: " "}, "name"},
		{"two lines", domain.Brand{Name: "Acme\nEvil"}, "name"},
		{"long name", domain.Brand{Name: strings.Repeat("a", 81)}, "name"},
		{"css injection", domain.Brand{Name: "Acme", Accent: "red; } body { display:none"}, "accent"},
		{"javascript link", domain.Brand{Name: "Acme", Links: link("x", "javascript:alert(1)")}, "links.0.url"},
		{"data link", domain.Brand{Name: "Acme", Links: link("x", "data:text/html,<script>")}, "links.0.url"},
		{"http link", domain.Brand{Name: "Acme", Links: link("x", "http://example.com")}, "links.0.url"},
		{"credentials in link", domain.Brand{Name: "Acme", Links: link("x", "https://u:p@example.com")}, "links.0.url"},
		{"no label", domain.Brand{Name: "Acme", Links: link("", "https://example.com")}, "links.0.label"},
		{"six links", domain.Brand{Name: "Acme", Links: make([]domain.BrandLink, 6)}, "links"},
		{"html as logo", domain.Brand{Name: "Acme", Logo: []byte("<html>"), LogoType: "text/html"}, "logo"},
		{"large logo", domain.Brand{Name: "Acme", Logo: make([]byte, domain.MaxLogoBytes+1), LogoType: "image/png"}, "logo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := domain.ValidateBrand(&tc.brand)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.True(t, domain.IsKind(err, domain.ErrInvalid), "%v", err)
			var fields []string
			for _, f := range domain.AsError(err).Fields {
				fields = append(fields, f.Field)
			}
			require.Contains(t, fields, tc.field)
		})
	}
	b := domain.Brand{Name: "  Acme ", Accent: "#0B6E4F"}
	require.NoError(t, domain.ValidateBrand(&b))
	require.Equal(t, "Acme", b.Name)
	require.Equal(t, "#0b6e4f", b.Accent)
}

func TestBrandNameMustBeVisibleText(t *testing.T) {
	for _, name := range []string{"\u202e\u200b", "\u200b \u2060", "Acme \u202e status"} {
		b := domain.Brand{Name: name}
		if err := domain.ValidateBrand(&b); err == nil {
			t.Errorf("%q: want refused", name)
		}
	}
	b := domain.Brand{Name: "Acme status"}
	if err := domain.ValidateBrand(&b); err != nil {
		t.Errorf("a plain name is refused: %v", err)
	}
}
