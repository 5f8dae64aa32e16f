package webui

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/web"
)

func (u *UI) usersPage(w http.ResponseWriter, r *http.Request) {
	u.renderUsers(w, r, http.StatusOK, web.NewUserForm{Role: string(domain.OrgResponder)}, "")
}

func (u *UI) renderUsers(w http.ResponseWriter, r *http.Request, status int, form web.NewUserForm, errMsg string) {
	users, err := u.Accounts.Users(r.Context())
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	p := u.page(r, "Users")
	p.Error = errMsg
	v := web.Users{Form: form, Roles: domain.Strings(domain.OrgRoles)}
	for _, us := range users {
		v.Users = append(v.Users, web.UserRow{ID: us.ID, Email: us.Email, Name: us.Name, Role: string(us.Role)})
	}
	u.renderStatus(w, r, status, p, web.UsersView(p, v))
}

func (u *UI) createUser(w http.ResponseWriter, r *http.Request) {
	form := web.NewUserForm{Email: strings.TrimSpace(r.PostFormValue("email")), Name: r.PostFormValue("name"),
		Role: r.PostFormValue("role")}
	_, err := u.Accounts.CreateUser(r.Context(), account.NewUser{Email: form.Email, Name: form.Name,
		Role: domain.OrgRole(form.Role), Password: r.PostFormValue("password")})
	if err != nil {
		if !clientError(err) {
			u.serverError(w, r, err)
			return
		}
		form.Errors = fieldErrors(err)
		u.renderUsers(w, r, statusOf(err), form, describe(err))
		return
	}
	u.redirect(w, r, "/app/admin/users", "Created "+account.NormalizeEmail(form.Email))
}

func (u *UI) setRole(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if err := u.Accounts.SetRole(r.Context(), id, domain.OrgRole(r.PostFormValue("role"))); err != nil {
		u.usersRefused(w, r, err)
		return
	}
	u.redirect(w, r, "/app/admin/users", "Role changed to "+r.PostFormValue("role"))
}

func (u *UI) resetPassword(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if err := u.Accounts.SetPassword(r.Context(), id, r.PostFormValue("password")); err != nil {
		u.usersRefused(w, r, err)
		return
	}
	u.redirect(w, r, "/app/admin/users", "Password set; the user's sessions were signed out")
}

// usersRefused shows the users page again with why a change to one user was refused.
func (u *UI) usersRefused(w http.ResponseWriter, r *http.Request, err error) {
	if !clientError(err) {
		u.serverError(w, r, err)
		return
	}
	u.renderUsers(w, r, statusOf(err), web.NewUserForm{Role: string(domain.OrgResponder)}, describe(err))
}

func (u *UI) tokensPage(w http.ResponseWriter, r *http.Request) {
	u.renderTokens(w, r, http.StatusOK, web.Tokens{}, "")
}

func (u *UI) renderTokens(w http.ResponseWriter, r *http.Request, status int, v web.Tokens, errMsg string) {
	ctx := r.Context()
	users, err := u.Accounts.Users(ctx)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	tokens, err := u.Accounts.Tokens(ctx)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	emails := map[string]string{}
	for _, us := range users {
		emails[us.ID] = us.Email
		v.Users = append(v.Users, us.Email)
	}
	zone := u.zone()
	for _, t := range tokens {
		row := web.TokenRow{ID: t.ID, Name: t.Name, Prefix: t.Prefix, User: emails[t.UserID],
			Scopes: strings.Join(t.Scopes, ", "), Created: stamp(t.CreatedAt, zone), Revoked: t.RevokedAt != nil}
		if t.LastUsedAt != nil {
			row.LastUsed = stamp(*t.LastUsedAt, zone)
		}
		v.Tokens = append(v.Tokens, row)
	}
	v.Scopes = account.AllScopes
	p := u.page(r, "API tokens")
	p.Error = errMsg
	u.renderStatus(w, r, status, p, web.TokensView(p, v))
}

func (u *UI) createToken(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	v := web.Tokens{FormUser: r.PostFormValue("user"), FormName: r.PostFormValue("name")}
	plain, _, err := u.Accounts.CreateTokenAs(r.Context(), a, v.FormUser, v.FormName, r.PostForm["scopes"])
	if err != nil {
		if !clientError(err) {
			u.serverError(w, r, err)
			return
		}
		u.renderTokens(w, r, statusOf(err), v, describe(err))
		return
	}
	// Shown once, in this answer, never stored: no redirect that would need to carry it.
	u.renderTokens(w, r, http.StatusCreated, web.Tokens{Created: plain}, "")
}

func (u *UI) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := u.Accounts.RevokeToken(r.Context(), chi.URLParam(r, "id")); err != nil {
		if !clientError(err) {
			u.serverError(w, r, err)
			return
		}
		u.renderTokens(w, r, statusOf(err), web.Tokens{}, describe(err))
		return
	}
	u.redirect(w, r, "/app/admin/tokens", "Token revoked")
}
