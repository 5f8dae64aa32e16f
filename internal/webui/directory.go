package webui

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/comms"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/web"
)

// Directory is what the admin's pages of internal communication need (comms.Service): stakeholder lists,
// customers, resolver groups and ticket systems.
type Directory interface {
	Lists(ctx context.Context) ([]comms.StakeholderList, error)
	CreateList(ctx context.Context, l comms.StakeholderList) (comms.StakeholderList, error)
	DeleteList(ctx context.Context, id string) error
	Customers(ctx context.Context) ([]comms.Customer, error)
	CreateCustomer(ctx context.Context, c comms.Customer) (comms.Customer, error)
	DeleteCustomer(ctx context.Context, id string) error
	Groups(ctx context.Context) ([]comms.ResolverGroup, error)
	CreateGroup(ctx context.Context, g comms.ResolverGroup) (comms.ResolverGroup, error)
	DeleteGroup(ctx context.Context, id string) error
	TicketSystems(ctx context.Context) ([]comms.TicketSystem, error)
	CreateTicketSystem(ctx context.Context, ts comms.TicketSystem) (comms.TicketSystem, error)
	DeleteTicketSystem(ctx context.Context, id string) error
}

// directoryKind is one directory page: how it lists, adds and deletes its entries.
type directoryKind struct {
	path, heading, singular, intro string
	columns                        []string
	// fields is the add form, filled from form (nil: blank), with errs beside the fields.
	fields func(u *UI, ctx context.Context, form url.Values, errs map[string]string) ([]web.DirectoryField, error)
	rows   func(u *UI, ctx context.Context) ([]web.DirectoryRow, error)
	// create adds an entry from the form and names it, with its secret when it has one.
	create func(u *UI, ctx context.Context, form url.Values) (name, secret string, err error)
	remove func(u *UI, ctx context.Context, id string) error
}

// lines splits a textarea or a comma-separated field into its trimmed, non-empty entries.
func lines(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// baseField is the field an error names, without an index: emails[2] → emails.
func baseField(f string) string {
	if i := strings.IndexByte(f, '['); i > 0 {
		return f[:i]
	}
	return f
}

func fieldErrorsByBase(err error) map[string]string {
	out := map[string]string{}
	for _, f := range domain.AsError(err).Fields {
		b := baseField(f.Field)
		if out[b] == "" {
			out[b] = f.Message
		}
	}
	return out
}

func (u *UI) componentSlugs(ctx context.Context) ([]string, error) {
	comps, err := u.Components.List(ctx)
	var out []string
	for _, c := range comps {
		out = append(out, c.Slug)
	}
	return out, err
}

var directoryKinds = []directoryKind{
	{path: "/admin/stakeholders", heading: "Stakeholder lists", singular: "stakeholder list",
		intro:   "Internal staff who are emailed about major incidents of the severities each list covers.",
		columns: []string{"Name", "Addresses", "Severities"},
		fields: func(_ *UI, _ context.Context, f url.Values, errs map[string]string) ([]web.DirectoryField, error) {
			return []web.DirectoryField{
				{Name: "name", Label: "Name", Type: "text", Value: f.Get("name"), Required: true, Error: errs["name"]},
				{Name: "emails", Label: "Addresses", Hint: "One per line, or separated by commas.", Type: "textarea",
					Value: f.Get("emails"), Required: true, Error: errs["emails"]},
				{Name: "severities", Label: "Severities", Type: "checks", Options: domain.Strings(domain.Severities), Checked: f["severities"],
					Error: errs["severities"]},
			}, nil
		},
		rows: func(u *UI, ctx context.Context) ([]web.DirectoryRow, error) {
			ls, err := u.Directory.Lists(ctx)
			var out []web.DirectoryRow
			for _, l := range ls {
				out = append(out, web.DirectoryRow{ID: l.ID, Cells: []string{l.Name, strings.Join(l.Emails, ", "),
					strings.Join(domain.Strings(l.Severities), ", ")}})
			}
			return out, err
		},
		create: func(u *UI, ctx context.Context, f url.Values) (string, string, error) {
			l := comms.StakeholderList{Name: f.Get("name"), Emails: lines(f.Get("emails"))}
			for _, s := range f["severities"] {
				l.Severities = append(l.Severities, domain.Severity(s))
			}
			l, err := u.Directory.CreateList(ctx, l)
			return l.Name, "", err
		},
		remove: func(u *UI, ctx context.Context, id string) error { return u.Directory.DeleteList(ctx, id) },
	},
	{path: "/admin/customers", heading: "Customers", singular: "customer",
		intro:   "Customer accounts whose CSM and TCSM are emailed about incidents on the components the account uses.",
		columns: []string{"Name", "CSM", "TCSM", "Components"},
		fields: func(u *UI, ctx context.Context, f url.Values, errs map[string]string) ([]web.DirectoryField, error) {
			slugs, err := u.componentSlugs(ctx)
			return []web.DirectoryField{
				{Name: "name", Label: "Name", Type: "text", Value: f.Get("name"), Required: true, Error: errs["name"]},
				{Name: "csm_email", Label: "CSM address", Type: "email", Value: f.Get("csm_email"), Error: errs["csm_email"]},
				{Name: "tcsm_email", Label: "TCSM address", Type: "email", Value: f.Get("tcsm_email"), Error: errs["tcsm_email"]},
				{Name: "components", Label: "Components the account uses", Type: "checks", Options: slugs,
					Checked: f["components"], Error: errs["components"]},
			}, err
		},
		rows: func(u *UI, ctx context.Context) ([]web.DirectoryRow, error) {
			cs, err := u.Directory.Customers(ctx)
			var out []web.DirectoryRow
			for _, c := range cs {
				out = append(out, web.DirectoryRow{ID: c.ID, Cells: []string{c.Name, c.CSMEmail, c.TCSMEmail,
					strings.Join(c.Components, ", ")}})
			}
			return out, err
		},
		create: func(u *UI, ctx context.Context, f url.Values) (string, string, error) {
			c, err := u.Directory.CreateCustomer(ctx, comms.Customer{Name: f.Get("name"), CSMEmail: f.Get("csm_email"),
				TCSMEmail: f.Get("tcsm_email"), Components: f["components"]})
			return c.Name, "", err
		},
		remove: func(u *UI, ctx context.Context, id string) error { return u.Directory.DeleteCustomer(ctx, id) },
	},
	{path: "/admin/resolver-groups", heading: "Resolver groups", singular: "resolver group",
		intro:   "Teams a functional escalation engages, each reached at one address.",
		columns: []string{"Name", "Address"},
		fields: func(_ *UI, _ context.Context, f url.Values, errs map[string]string) ([]web.DirectoryField, error) {
			return []web.DirectoryField{
				{Name: "name", Label: "Name", Type: "text", Value: f.Get("name"), Required: true, Error: errs["name"]},
				{Name: "email", Label: "Address", Type: "email", Value: f.Get("email"), Required: true, Error: errs["email"]},
			}, nil
		},
		rows: func(u *UI, ctx context.Context) ([]web.DirectoryRow, error) {
			gs, err := u.Directory.Groups(ctx)
			var out []web.DirectoryRow
			for _, g := range gs {
				out = append(out, web.DirectoryRow{ID: g.ID, Cells: []string{g.Name, g.Email}})
			}
			return out, err
		},
		create: func(u *UI, ctx context.Context, f url.Values) (string, string, error) {
			g, err := u.Directory.CreateGroup(ctx, comms.ResolverGroup{Name: f.Get("name"), Email: f.Get("email")})
			return g.Name, "", err
		},
		remove: func(u *UI, ctx context.Context, id string) error { return u.Directory.DeleteGroup(ctx, id) },
	},
	{path: "/admin/ticket-systems", heading: "Ticket systems", singular: "ticket system",
		intro: "Support-ticket systems whose linked tickets receive each published update through a signed webhook. " +
			"The tickets linked in a war room name the system.",
		columns: []string{"Name", "URL"},
		fields: func(_ *UI, _ context.Context, f url.Values, errs map[string]string) ([]web.DirectoryField, error) {
			return []web.DirectoryField{
				{Name: "name", Label: "Name (as tickets name it)", Type: "text", Value: f.Get("name"), Required: true,
					Error: errs["name"]},
				{Name: "url", Label: "Webhook URL", Type: "url", Value: f.Get("url"), Required: true, Error: errs["url"]},
			}, nil
		},
		rows: func(u *UI, ctx context.Context) ([]web.DirectoryRow, error) {
			ts, err := u.Directory.TicketSystems(ctx)
			var out []web.DirectoryRow
			for _, t := range ts {
				out = append(out, web.DirectoryRow{ID: t.ID, Cells: []string{t.Name, maskURL(t.URL)}})
			}
			return out, err
		},
		create: func(u *UI, ctx context.Context, f url.Values) (string, string, error) {
			ts, err := u.Directory.CreateTicketSystem(ctx, comms.TicketSystem{Name: f.Get("name"), URL: f.Get("url")})
			return ts.Name, ts.Secret, err
		},
		remove: func(u *UI, ctx context.Context, id string) error { return u.Directory.DeleteTicketSystem(ctx, id) },
	},
}

// directoryRoutes registers each directory page (inside the admin group).
func (u *UI) directoryRoutes(r chi.Router) {
	for _, k := range directoryKinds {
		r.Get(k.path, func(w http.ResponseWriter, r *http.Request) {
			u.renderDirectory(w, r, k, http.StatusOK, web.DirectoryPage{}, nil, nil)
		})
		r.Post(k.path, func(w http.ResponseWriter, r *http.Request) {
			name, secret, err := k.create(u, r.Context(), r.PostForm)
			if err != nil {
				if !clientError(err) {
					u.serverError(w, r, err)
					return
				}
				u.renderDirectory(w, r, k, statusOf(err), web.DirectoryPage{}, r.PostForm, err)
				return
			}
			if secret != "" { // shown once, in this answer: no redirect that would need to carry it
				u.renderDirectory(w, r, k, http.StatusCreated, web.DirectoryPage{Created: name, Secret: secret}, nil, nil)
				return
			}
			u.redirect(w, r, "/app"+k.path, "Added "+name)
		})
		r.Post(k.path+"/{id}/delete", func(w http.ResponseWriter, r *http.Request) {
			if err := k.remove(u, r.Context(), chi.URLParam(r, "id")); err != nil {
				if !clientError(err) {
					u.serverError(w, r, err)
					return
				}
				u.renderDirectory(w, r, k, statusOf(err), web.DirectoryPage{}, nil, err)
				return
			}
			u.redirect(w, r, "/app"+k.path, "Deleted the "+k.singular)
		})
	}
}

func (u *UI) renderDirectory(w http.ResponseWriter, r *http.Request, k directoryKind, status int, v web.DirectoryPage,
	form url.Values, problem error) {
	ctx := r.Context()
	var err error
	if v.Fields, err = k.fields(u, ctx, form, fieldErrorsByBase(problem)); err != nil {
		u.serverError(w, r, err)
		return
	}
	if v.Rows, err = k.rows(u, ctx); err != nil {
		u.serverError(w, r, err)
		return
	}
	v.Base, v.Heading, v.Intro, v.Singular, v.Columns = "/app"+k.path, k.heading, k.intro, k.singular, k.columns
	p := u.page(r, k.heading)
	if problem != nil {
		p.Error = describe(problem)
	}
	u.renderStatus(w, r, status, p, web.DirectoryView(p, v))
}
