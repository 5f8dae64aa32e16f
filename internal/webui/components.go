package webui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/web"
)

func (u *UI) componentsPage(w http.ResponseWriter, r *http.Request) {
	u.renderComponents(w, r, http.StatusOK, web.ComponentForm{}, "")
}

func (u *UI) renderComponents(w http.ResponseWriter, r *http.Request, status int, form web.ComponentForm, errMsg string) {
	comps, err := u.Components.List(r.Context())
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	v := web.ComponentsPage{New: form}
	groups := map[string]bool{}
	for _, c := range comps {
		f := web.ComponentForm{Slug: c.Slug, Name: c.Name, Group: c.Group, Description: c.Description, Core: c.Core,
			ControlPlane: c.ControlPlane, Position: strconv.Itoa(c.Position), Status: string(c.Status)}
		if form.Slug == c.Slug && form.Editing { // the refused edit, as typed
			f = form
		}
		v.Components = append(v.Components, f)
		if c.Group != "" && !groups[c.Group] {
			groups[c.Group] = true
			v.Groups = append(v.Groups, c.Group)
		}
	}
	if form.Editing {
		v.New = web.ComponentForm{}
	}
	p := u.page(r, "Components")
	p.Error = errMsg
	u.renderStatus(w, r, status, p, web.ComponentsView(p, v))
}

func componentForm(r *http.Request) (web.ComponentForm, domain.Component, error) {
	f := web.ComponentForm{Slug: strings.TrimSpace(r.PostFormValue("slug")), Name: r.PostFormValue("name"),
		Group: r.PostFormValue("group"), Description: r.PostFormValue("description"),
		Core: r.PostFormValue("core") != "", ControlPlane: r.PostFormValue("control_plane") != "",
		Position: strings.TrimSpace(r.PostFormValue("position"))}
	c := domain.Component{Slug: f.Slug, Name: f.Name, Group: f.Group, Description: f.Description, Core: f.Core,
		ControlPlane: f.ControlPlane}
	if f.Position != "" {
		n, err := strconv.Atoi(f.Position)
		if err != nil {
			return f, c, domain.Invalid(domain.FieldError{Field: "position", Message: "must be a whole number"})
		}
		c.Position = n
	}
	return f, c, nil
}

func (u *UI) createComponent(w http.ResponseWriter, r *http.Request) {
	f, c, err := componentForm(r)
	if err == nil {
		_, err = u.Components.Create(r.Context(), c)
	}
	if err != nil {
		if !clientError(err) {
			u.serverError(w, r, err)
			return
		}
		f.Errors = fieldErrors(err)
		u.renderComponents(w, r, statusOf(err), f, describe(err))
		return
	}
	u.redirect(w, r, "/app/components", "Component "+c.Name+" created")
}

func (u *UI) updateComponent(w http.ResponseWriter, r *http.Request) {
	f, c, err := componentForm(r)
	slug := chi.URLParam(r, "slug")
	f.Slug, f.Editing = slug, true
	if err == nil {
		_, err = u.Components.Update(r.Context(), slug, c)
	}
	if err != nil {
		if !clientError(err) {
			u.serverError(w, r, err)
			return
		}
		f.Errors = fieldErrors(err)
		u.renderComponents(w, r, statusOf(err), f, describe(err))
		return
	}
	u.redirect(w, r, "/app/components", "Component "+slug+" saved")
}
