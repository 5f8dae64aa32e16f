package importer

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/mimhq/mim/internal/domain"
)

// maxSlug is the longest slug domain.ValidateComponent accepts.
const maxSlug = 100

// importComponents creates the document's components that are not imported yet — those it lists, and those its
// incidents name — refreshes those imported before from a newer export, and returns the slug of every component of
// the page that mim knows, by Statuspage id.
//
// Group components become the group names of their members; they are not components in mim. New components are
// placed after the existing ones in the export's display order: top-level entries by position, a group's members
// by their position within it.
func importComponents(ctx context.Context, tx Tx, doc *Document, r *Result) (map[string]string, error) {
	refs, err := tx.Refs(ctx, r.Source, RefComponent)
	if err != nil {
		return nil, err
	}
	existing, err := tx.AllComponents(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]domain.Component{}
	taken := map[string]bool{}
	maxPos := 0
	for _, c := range existing {
		byID[c.ID] = c
		taken[c.Slug] = true
		maxPos = max(maxPos, c.Position)
	}
	slugs := map[string]string{} // Statuspage id → mim slug
	for ext, local := range refs {
		if c, ok := byID[local]; ok {
			slugs[ext] = c.Slug
		}
	}

	// Every component the document mentions, the document's own list first: it is the current one.
	groups := map[string]Component{}
	var all []Component
	seen := map[string]bool{}
	consider := func(c Component) {
		if c.Group {
			if _, ok := groups[c.ID]; !ok {
				groups[c.ID] = c
			}
			return
		}
		if !seen[c.ID] {
			seen[c.ID] = true
			all = append(all, c)
		}
	}
	for _, c := range doc.Components {
		consider(c)
	}
	for _, in := range doc.Incidents {
		for _, c := range in.Components {
			consider(c)
		}
	}

	var fresh []planned
	for _, c := range all {
		p := planned{src: c, top: c.Position, inner: -1}
		groupKnown := true
		if c.GroupID != nil && *c.GroupID != "" {
			g, ok := groups[*c.GroupID]
			groupKnown = ok
			if ok {
				p.group, p.top, p.inner = strings.TrimSpace(g.Name), g.Position, c.Position
			}
		}
		if local, ok := refs[c.ID]; ok {
			updated := false
			if cur, ok := byID[local]; ok {
				if updated, err = refreshComponent(ctx, tx, cur, p, groupKnown); err != nil {
					return nil, err
				}
			}
			if updated {
				r.ComponentsUpdated++
			} else {
				r.ComponentsSkipped++
			}
			continue
		}
		if !groupKnown {
			r.Warnings = append(r.Warnings, fmt.Sprintf("component %q (%s): its group %s is not in this export; "+
				"it is created without a group", c.Name, c.ID, *c.GroupID))
		}
		fresh = append(fresh, p)
	}
	slices.SortFunc(fresh, func(a, b planned) int {
		return cmp.Or(cmp.Compare(a.top, b.top), cmp.Compare(a.inner, b.inner), cmp.Compare(a.src.Name, b.src.Name),
			cmp.Compare(a.src.ID, b.src.ID))
	})
	assignSlugs(fresh, taken)

	now := utc(time.Now())
	for i, p := range fresh {
		c := p.src
		comp := domain.Component{ID: uuid.NewString(), Slug: p.slug, Name: c.Name, Group: p.group,
			Description: descriptionOf(c), Status: statusOf(c), Position: maxPos + 1 + i,
			CreatedAt: timeOr(c.CreatedAt, now), UpdatedAt: timeOr(c.UpdatedAt, now)}
		if err := domain.ValidateComponent(&comp); err != nil {
			return nil, fmt.Errorf("component %q (%s): %w", c.Name, c.ID, err)
		}
		if err := tx.CreateComponent(ctx, comp); err != nil {
			return nil, fmt.Errorf("component %q (%s): %w", c.Name, c.ID, err)
		}
		if err := tx.AddRef(ctx, Ref{Source: r.Source, Kind: RefComponent, ExternalID: c.ID, LocalID: comp.ID,
			Data: c.Raw}); err != nil {
			return nil, err
		}
		slugs[c.ID] = comp.Slug
		r.ComponentsCreated++
	}
	return slugs, nil
}

// refreshComponent brings a component imported before up to date with an export in which the component changed
// since (its updated_at is later than the component's): its name, description, status and, where the export holds
// the group, group. An older export, the same one again, or a component that changed in mim since, changes nothing;
// the slug never changes.
func refreshComponent(ctx context.Context, tx Tx, cur domain.Component, p planned, groupKnown bool) (bool, error) {
	c := p.src
	if c.UpdatedAt.IsZero() || !utc(c.UpdatedAt).After(cur.UpdatedAt) {
		return false, nil
	}
	next := cur
	next.Name, next.Description, next.Status, next.UpdatedAt = c.Name, descriptionOf(c), statusOf(c), utc(c.UpdatedAt)
	if groupKnown {
		next.Group = p.group
	}
	if err := domain.ValidateComponent(&next); err != nil {
		return false, fmt.Errorf("component %q (%s): %w", c.Name, c.ID, err)
	}
	if next.Name == cur.Name && next.Description == cur.Description && next.Status == cur.Status &&
		next.Group == cur.Group {
		return false, nil
	}
	if err := tx.UpdateComponent(ctx, next); err != nil {
		return false, fmt.Errorf("component %q (%s): %w", c.Name, c.ID, err)
	}
	return true, nil
}

func descriptionOf(c Component) string {
	if c.Description == nil {
		return ""
	}
	return truncate(strings.TrimSpace(*c.Description), 2000)
}

func statusOf(c Component) domain.ComponentStatus {
	if c.Status == "" {
		return domain.ComponentOperational
	}
	return domain.ComponentStatus(c.Status)
}

// planned is a component about to be created.
type planned struct {
	src   Component
	group string
	// top and inner are its place in the export's display order.
	top, inner int
	slug       string
}

// assignSlugs gives each planned component a slug no other component has, the same every time for the same export
// over the same database: ungrouped components claim the slug of their name first; a grouped one whose name's slug
// is shared (Intercom lists "Intercom APIs" alone and in its Europe and Australia groups) or taken is named by group
// and name ("intercom-europe-intercom-apis"); what still collides gets -2, -3, … in display order.
func assignSlugs(ps []planned, taken map[string]bool) {
	count := map[string]int{}
	for _, p := range ps {
		count[slugOf(p.src.Name)]++
	}
	for _, grouped := range []bool{false, true} {
		for i := range ps {
			p := &ps[i]
			if (p.group != "") != grouped {
				continue
			}
			base := slugOf(p.src.Name)
			if grouped && (count[base] > 1 || taken[base]) {
				base = slugOf(p.group + " " + p.src.Name)
			}
			p.slug = uniqueSlug(base, taken)
			taken[p.slug] = true
		}
	}
}

// slugOf is domain.Slugify within the length a slug may have; a name with no ASCII letter or digit gives "component".
func slugOf(name string) string {
	s := domain.Slugify(name)
	if s == "" {
		s = "component"
	}
	return cutSlug(s, maxSlug)
}

func uniqueSlug(base string, taken map[string]bool) string {
	if !taken[base] {
		return base
	}
	for n := 2; ; n++ {
		suffix := "-" + strconv.Itoa(n)
		if s := cutSlug(base, maxSlug-len(suffix)) + suffix; !taken[s] {
			return s
		}
	}
}

func cutSlug(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.TrimRight(s[:n], "-")
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func timeOr(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return utc(t)
}
