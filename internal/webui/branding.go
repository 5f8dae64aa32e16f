package webui

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/web"
)

// Branding is what the UI needs of the brand store (postgres.BrandStore).
type Branding interface {
	// Brand returns the stored brand, or a domain.ErrNotFound error when none is stored.
	Brand(ctx context.Context) (domain.Brand, error)
	// SaveBrand stores a brand made from the stored version (0: none stored); a stale version is ErrConflict.
	SaveBrand(ctx context.Context, b domain.Brand, version int, keepLogo bool) (domain.Brand, error)
	// ResetBrand deletes the stored brand of that version; a stale version is ErrConflict.
	ResetBrand(ctx context.Context, version int) error
}

// maxUpload bounds a form with a file (the logo): twice the largest logo, so a logo too large is refused on the
// form, with the rest of the input kept, rather than as an unreadable form.
const maxUpload = 2*domain.MaxLogoBytes + maxForm

func (u *UI) brandingPage(w http.ResponseWriter, r *http.Request) {
	u.renderBranding(w, r, http.StatusOK, nil, "")
}

// renderBranding renders the page: with form, the refused input as typed; without, the stored brand, or the
// configuration's when none is stored.
func (u *UI) renderBranding(w http.ResponseWriter, r *http.Request, status int, form *web.BrandingForm, errMsg string) {
	stored, err := u.Branding.Brand(r.Context())
	found := err == nil
	if err != nil && !domain.IsKind(err, domain.ErrNotFound) {
		u.serverError(w, r, err)
		return
	}
	v := web.BrandingPage{Stored: found, StoredLogo: found && stored.Logo != nil, ConfiguredLogo: u.BrandDefaults.Logo != nil}
	b := u.BrandDefaults
	if found {
		b = stored
		v.Updated = "Saved by " + cmp.Or(stored.UpdatedBy, "someone") + " at " + stored.UpdatedAt.In(u.zone()).Format("2 Jan 2006 15:04 MST")
	}
	if form != nil {
		v.Form = *form
	} else {
		v.Form = web.BrandingForm{Name: b.Name, Accent: b.Accent, Version: strconv.Itoa(stored.Version)}
		for _, l := range b.Links {
			v.Form.Links = append(v.Form.Links, web.BrandingLink{Label: l.Label, URL: l.URL})
		}
	}
	for len(v.Form.Links) < domain.MaxBrandLinks {
		v.Form.Links = append(v.Form.Links, web.BrandingLink{})
	}
	p := u.page(r, "Branding")
	p.Error = errMsg
	u.renderStatus(w, r, status, p, web.BrandingView(p, v))
}

func (u *UI) saveBranding(w http.ResponseWriter, r *http.Request) {
	f := web.BrandingForm{Name: r.PostFormValue("name"), Accent: strings.TrimSpace(r.PostFormValue("accent")),
		Version: r.PostFormValue("version"), RemoveLogo: r.PostFormValue("remove_logo") != ""}
	b := domain.Brand{Name: f.Name, Accent: f.Accent}
	if a, ok := ActorFrom(r.Context()); ok {
		b.UpdatedBy = cmp.Or(a.Name, a.Email)
	}
	// Every posted link row is read, so one more than allowed is refused, never silently dropped.
	rows := domain.MaxBrandLinks + 1
	for k := range r.PostForm {
		if n, ok := strings.CutPrefix(k, "link_label_"); ok {
			if i, err := strconv.Atoi(n); err == nil && i >= rows && i < 100 {
				rows = i + 1
			}
		}
	}
	for i := range rows {
		l := web.BrandingLink{Label: r.PostFormValue("link_label_" + strconv.Itoa(i)), URL: r.PostFormValue("link_url_" + strconv.Itoa(i))}
		if strings.TrimSpace(l.Label) == "" && strings.TrimSpace(l.URL) == "" {
			continue
		}
		f.Links = append(f.Links, l)
		b.Links = append(b.Links, domain.BrandLink{Label: l.Label, URL: l.URL})
	}
	version, verr := formVersion(f.Version)
	keepLogo := !f.RemoveLogo
	logo, logoType, err := uploadedLogo(r)
	if err == nil && logo != nil {
		b.Logo, b.LogoType, keepLogo = logo, logoType, false
	}
	if err == nil && (verr != nil || version < 0) {
		err = domain.Errorf(domain.ErrInvalid, "validation_failed", "the form is out of date: reload the page")
	}
	if err == nil {
		_, err = u.Branding.SaveBrand(r.Context(), b, version, keepLogo)
	}
	if err != nil {
		u.brandingRefused(w, r, &f, err)
		return
	}
	u.redirect(w, r, "/app/branding", "Brand saved: the public page shows it now")
}

func (u *UI) resetBranding(w http.ResponseWriter, r *http.Request) {
	version, err := formVersion(r.PostFormValue("version"))
	if err != nil || version <= 0 {
		err = domain.Errorf(domain.ErrConflict, "edit_conflict", "no brand is stored any more: nothing to reset")
	} else {
		err = u.Branding.ResetBrand(r.Context(), version)
	}
	if err != nil {
		u.brandingRefused(w, r, nil, err)
		return
	}
	u.redirect(w, r, "/app/branding", "Brand reset: the public page shows the configured one")
}

// brandingRefused shows why a save was refused: a validation error on the form as typed, an edit conflict with the
// fresh stored state.
func (u *UI) brandingRefused(w http.ResponseWriter, r *http.Request, f *web.BrandingForm, err error) {
	if !clientError(err) {
		u.serverError(w, r, err)
		return
	}
	if domain.IsKind(err, domain.ErrConflict) {
		u.renderBranding(w, r, http.StatusConflict, nil, describe(err))
		return
	}
	if f != nil {
		f.Errors = fieldErrors(err)
	}
	u.renderBranding(w, r, statusOf(err), f, describe(err))
}

// uploadedLogo reads the logo file of the form, if one was chosen: nil when none was.
func uploadedLogo(r *http.Request) ([]byte, string, error) {
	file, hdr, err := r.FormFile("logo")
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	defer file.Close()
	if hdr.Size == 0 {
		return nil, "", nil
	}
	invalid := func(msg string) error {
		return domain.Invalid(domain.FieldError{Field: "logo", Message: msg})
	}
	if hdr.Size > domain.MaxLogoBytes {
		return nil, "", invalid("must be at most 512 KiB")
	}
	body, err := io.ReadAll(io.LimitReader(file, domain.MaxLogoBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(body) > domain.MaxLogoBytes {
		return nil, "", invalid("must be at most 512 KiB")
	}
	ct := http.DetectContentType(body)
	if strings.EqualFold(filepath.Ext(hdr.Filename), ".svg") {
		// Served as image/svg+xml under a policy that runs no script and loads nothing (see statuspage.Logo).
		if !bytes.Contains(body[:min(len(body), 4096)], []byte("<svg")) {
			return nil, "", invalid("is not an SVG image")
		}
		ct = "image/svg+xml"
	}
	if !domain.LogoType(ct) {
		return nil, "", invalid("must be a PNG, SVG, JPEG, WebP or GIF image")
	}
	return body, ct, nil
}

// formVersion reads a form's version: a stored version is a PostgreSQL integer, so anything larger is out of date.
func formVersion(v string) (int, error) {
	n, err := strconv.ParseInt(v, 10, 32)
	return int(n), err
}
