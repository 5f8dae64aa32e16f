package api

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/mimhq/mim/internal/comms"
	"github.com/mimhq/mim/internal/domain"
)

// commsRoutes registers who hears about incidents internally: every authenticated user reads, admins write.
func (a *API) commsRoutes(r chi.Router) {
	routeDirectory(a, r, "/stakeholder-lists", "stakeholder_lists", directory[stakeholderListRequest, comms.StakeholderList]{
		list: a.Comms.Lists, create: a.Comms.CreateList, update: a.Comms.UpdateList, remove: a.Comms.DeleteList,
		build: func(q stakeholderListRequest, id string) comms.StakeholderList {
			return comms.StakeholderList{ID: id, Name: q.Name, Emails: q.Emails, Severities: q.Severities}
		}})
	routeDirectory(a, r, "/customers", "customers", directory[customerRequest, comms.Customer]{
		list: a.Comms.Customers, create: a.Comms.CreateCustomer, update: a.Comms.UpdateCustomer, remove: a.Comms.DeleteCustomer,
		build: func(q customerRequest, id string) comms.Customer {
			return comms.Customer{ID: id, Name: q.Name, CSMEmail: q.CSMEmail, TCSMEmail: q.TCSMEmail, Components: q.Components}
		}})
	routeDirectory(a, r, "/resolver-groups", "resolver_groups", directory[resolverGroupRequest, comms.ResolverGroup]{
		list: a.Comms.Groups, create: a.Comms.CreateGroup, update: a.Comms.UpdateGroup, remove: a.Comms.DeleteGroup,
		build: func(q resolverGroupRequest, id string) comms.ResolverGroup {
			return comms.ResolverGroup{ID: id, Name: q.Name, Email: q.Email}
		}})
	routeDirectory(a, r, "/ticket-systems", "ticket_systems", directory[ticketSystemRequest, comms.TicketSystem]{
		list: a.Comms.TicketSystems, create: a.Comms.CreateTicketSystem, update: a.Comms.UpdateTicketSystem,
		remove: a.Comms.DeleteTicketSystem,
		build: func(q ticketSystemRequest, id string) comms.TicketSystem {
			return comms.TicketSystem{ID: id, Name: q.Name, URL: q.URL}
		},
		// A ticket system's URL path may be its credential: only admins see it whole.
		view: func(ctx context.Context, items []comms.TicketSystem) []comms.TicketSystem {
			if requireAdmin(ctx) == nil {
				return items
			}
			for i := range items {
				items[i].URL = comms.MaskURL(items[i].URL)
			}
			return items
		}})
}

type stakeholderListRequest struct {
	Name       string            `json:"name"`
	Emails     []string          `json:"emails"`
	Severities []domain.Severity `json:"severities"`
}

type customerRequest struct {
	Name       string   `json:"name"`
	CSMEmail   string   `json:"csm_email"`
	TCSMEmail  string   `json:"tcsm_email"`
	Components []string `json:"components"`
}

type resolverGroupRequest struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

type ticketSystemRequest struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// directory is one list of recipients the API manages the same way: list, create, replace, delete.
type directory[Req, T any] struct {
	list   func(context.Context) ([]T, error)
	create func(context.Context, T) (T, error)
	update func(context.Context, T) (T, error)
	remove func(context.Context, string) error
	build  func(req Req, id string) T
	// view, when set, shapes the listed items for the reader.
	view func(context.Context, []T) []T
}

func routeDirectory[Req, T any](a *API, r chi.Router, path, key string, d directory[Req, T]) {
	r.Get(path, func(w http.ResponseWriter, r *http.Request) {
		items, err := d.list(r.Context())
		if err != nil {
			WriteError(w, r, a.Logger, err)
			return
		}
		if d.view != nil {
			items = d.view(r.Context(), items)
		}
		writeJSON(w, http.StatusOK, map[string]any{key: items})
	})
	write := func(status int, save func(context.Context, T) (T, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := requireAdmin(r.Context()); err != nil {
				WriteError(w, r, a.Logger, err)
				return
			}
			var req Req
			if err := decode(w, r, &req); err != nil {
				WriteError(w, r, a.Logger, err)
				return
			}
			item, err := save(r.Context(), d.build(req, chi.URLParam(r, "id")))
			if err != nil {
				WriteError(w, r, a.Logger, err)
				return
			}
			writeJSON(w, status, item)
		}
	}
	r.With(a.idempotent).Post(path, write(http.StatusCreated, d.create))
	r.Put(path+"/{id}", write(http.StatusOK, d.update))
	r.Delete(path+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := requireAdmin(r.Context()); err != nil {
			WriteError(w, r, a.Logger, err)
			return
		}
		if err := d.remove(r.Context(), chi.URLParam(r, "id")); err != nil {
			WriteError(w, r, a.Logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// ticketJSON is a linked ticket with what was sent to it through its ticket system's integration.
type ticketJSON struct {
	ID         string                 `json:"id"`
	System     string                 `json:"system"`
	Ref        string                 `json:"ref"`
	URL        string                 `json:"url,omitempty"`
	LinkedAt   time.Time              `json:"linked_at"`
	LinkedBy   string                 `json:"linked_by"`
	Deliveries []comms.TicketDelivery `json:"deliveries"`
}

func (a *API) incidentTickets(w http.ResponseWriter, r *http.Request) {
	rec, err := a.Incidents.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	ds, err := a.Comms.TicketDeliveries(r.Context(), rec.State.ID)
	if err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	out := []ticketJSON{}
	for _, t := range rec.State.Tickets {
		tj := ticketJSON{ID: t.ID, System: t.System, Ref: t.Ref, URL: t.URL, LinkedAt: t.LinkedAt,
			LinkedBy: t.LinkedBy, Deliveries: []comms.TicketDelivery{}}
		for _, d := range ds {
			if d.TicketID == t.ID {
				tj.Deliveries = append(tj.Deliveries, d)
			}
		}
		out = append(out, tj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tickets": out})
}
