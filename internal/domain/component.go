package domain

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Slugify makes a URL-safe slug from a name: lower-case ASCII letters and digits joined by dashes.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(name)) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		case unicode.Is(unicode.Mn, r):
			// accents fall away: "Zürich" → "zurich"
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// ValidateComponent checks a component to create, filling its slug from its name when empty.
func ValidateComponent(c *Component) error {
	var v Validator
	c.Name = strings.TrimSpace(c.Name)
	c.Group = strings.TrimSpace(c.Group)
	c.Description = strings.TrimSpace(c.Description)
	if c.Slug == "" {
		c.Slug = Slugify(c.Name)
	}
	v.Check(c.Name != "", "name", "is required")
	v.Check(len(c.Name) <= 200, "name", "must be at most 200 characters")
	v.Check(len(c.Group) <= 200, "group", "must be at most 200 characters")
	v.Check(len(c.Description) <= 2000, "description", "must be at most 2000 characters")
	if c.Name != "" {
		v.Check(slugPattern.MatchString(c.Slug) && len(c.Slug) <= 100, "slug",
			"must be 1–100 lower-case letters, digits and single dashes")
	}
	v.Check(c.Position >= 0 && c.Position <= 100000, "position", "must be from 0 to 100000")
	if c.Status == "" {
		c.Status = ComponentOperational
	}
	OneOf(&v, "status", c.Status, ComponentStatuses)
	return v.Err()
}
