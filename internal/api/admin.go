package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/classify"
	"github.com/mimhq/mim/internal/domain"
)

type componentRequest struct {
	Name         string                 `json:"name"`
	Slug         string                 `json:"slug"`
	Group        string                 `json:"group"`
	Description  string                 `json:"description"`
	Core         bool                   `json:"core"`
	ControlPlane bool                   `json:"control_plane"`
	Status       domain.ComponentStatus `json:"status"`
	Position     int                    `json:"position"`
}

func (a *API) createComponent(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r.Context()); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	var req componentRequest
	if err := decode(w, r, &req); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	c, err := a.Components.Create(r.Context(), domain.Component{Name: req.Name, Slug: req.Slug, Group: req.Group,
		Description: req.Description, Core: req.Core, ControlPlane: req.ControlPlane, Status: req.Status,
		Position: req.Position})
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (a *API) listComponents(w http.ResponseWriter, r *http.Request) {
	cs, err := a.Components.List(r.Context())
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if cs == nil {
		cs = []domain.Component{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"components": cs})
}

func (a *API) getPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := a.Policies.Current(r.Context())
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *API) putPolicy(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r.Context()); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	var p classify.Policy
	if err := decode(w, r, &p); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	saved, err := a.Policies.Save(r.Context(), p, actorFrom(r.Context()).UserID)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, saved)
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := a.Accounts.Users(r.Context())
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if us == nil {
		us = []domain.User{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
}

type userRequest struct {
	Email    string         `json:"email"`
	Name     string         `json:"name"`
	Role     domain.OrgRole `json:"role"`
	Password string         `json:"password"`
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r.Context()); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	var req userRequest
	if err := decode(w, r, &req); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	u, err := a.Accounts.CreateUser(r.Context(), account.NewUser{Email: req.Email, Name: req.Name, Role: req.Role,
		Password: req.Password})
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

type tokenRequest struct {
	User   string   `json:"user"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// createToken makes a token for the caller, or (admins) for any user. The token is in this answer only.
func (a *API) createToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := decode(w, r, &req); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	act := actorFrom(r.Context())
	if req.User == "" {
		req.User = act.UserID
	}
	if _, err := a.Accounts.User(r.Context(), req.User); err != nil {
		WriteError(w, r, a.Logger, domain.Invalid(domain.FieldError{Field: "user", Message: "no such user"}))
		return
	}
	plain, t, err := a.Accounts.CreateTokenAs(r.Context(), act, req.User, req.Name, req.Scopes)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		account.Token
		Secret string `json:"token"`
	}{t, plain})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r.Context()); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	if err := a.Accounts.RevokeToken(r.Context(), chi.URLParam(r, "tokenID")); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
