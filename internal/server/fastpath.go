package server

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// The public status page is read the most exactly when everything else is on fire, so its path through the server
// costs as little as the rest of the surface allows; docs/performance.md has the measurements.

// router is mim's chi router with one shortcut: a GET of a route without parameters outside /api/v1 (the status
// page, its JSON, badges, feeds, health) goes straight to that route's handler, wrapped in the same middleware,
// without chi's per-request routing context (a copy of the request and a tree walk). Every other request, and HEAD,
// is routed by chi as before. It is a chi.Routes, so the route list stays chi's: routes.go is still the whole surface.
type router struct {
	*chi.Mux
	exact map[string]http.Handler // by path: the route's handler inside its middleware
}

// newRouter indexes the parameterless GET routes of mux. Call it once every route is registered.
func newRouter(mux *chi.Mux) *router {
	rt := &router{Mux: mux, exact: map[string]http.Handler{}}
	_ = chi.Walk(mux, func(method, route string, h http.Handler, mws ...func(http.Handler) http.Handler) error {
		if method != http.MethodGet || strings.ContainsAny(route, "{*") || strings.HasPrefix(route, "/api/v1/") {
			return nil
		}
		rt.exact[route] = chi.Chain(mws...).Handler(h)
		return nil
	}) // the walk function returns no error
	return rt
}

// ServeHTTP implements http.Handler. A path chi would route by its escaped form (RawPath set) takes chi's way.
func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.RawPath == "" {
		if h, ok := rt.exact[r.URL.Path]; ok {
			h.ServeHTTP(w, r)
			return
		}
	}
	rt.Mux.ServeHTTP(w, r)
}
