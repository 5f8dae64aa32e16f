// Package server assembles mim's HTTP surface: every route in routes.go, and the middleware around them.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/mimhq/mim/docs"
	"github.com/mimhq/mim/internal/api"
	"github.com/mimhq/mim/internal/statuspage"
	"github.com/mimhq/mim/internal/subscription"
	"github.com/mimhq/mim/internal/webui"
	"github.com/mimhq/mim/web"
)

// Readiness reports whether the server can do its work: the database answers and its schema is current.
type Readiness func(ctx context.Context) error

// Deps are what the server needs.
type Deps struct {
	API        *api.API
	StatusPage *statuspage.Service
	UI         *webui.UI
	Ready      Readiness
	Logger     *slog.Logger
	// HTTPMetrics records every request; nil records nothing.
	HTTPMetrics *HTTPMetrics
	// Metrics serves /metrics (it checks its own token); nil answers 404 there.
	Metrics http.Handler
	// Subscriptions are the public subscription pages.
	Subscriptions *subscription.Pages
}

// New returns mim's whole HTTP handler.
func New(d Deps) http.Handler {
	r := chi.NewRouter()
	r.Use(requests(d.Logger))
	if d.HTTPMetrics != nil {
		r.Use(d.HTTPMetrics.instrument)
	}
	r.Use(recoverer(d.Logger), cleanRequest, publicPreflight, middleware.GetHead)
	r.NotFound(notFound)
	r.MethodNotAllowed(methodNotAllowed)

	// Operations.
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { writePlain(w, http.StatusOK, "ok") })
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.Ready(ctx); err != nil {
			d.Logger.WarnContext(ctx, "not ready", "err", err)
			writePlain(w, http.StatusServiceUnavailable, "not ready")
			return
		}
		writePlain(w, http.StatusOK, "ready")
	})
	metricsHandler := http.HandlerFunc(notFound)
	if d.Metrics != nil {
		metricsHandler = d.Metrics.ServeHTTP // Prometheus; bearer MIM_METRICS_TOKEN, else 404
	}
	r.Get("/metrics", metricsHandler)
	r.Get("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(docs.OpenAPI)
	})

	// Public: no authentication, nothing internal.
	r.Get("/static/*", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(web.Static))).ServeHTTP)
	sp := d.StatusPage
	r.Get("/", sp.Page)
	r.Get("/brand.css", sp.BrandCSS)
	r.Get("/brand/logo", sp.Logo)
	r.Get("/events", sp.Events) // Server-Sent Events: the page changed
	r.Get("/incidents/{key}", sp.Permalink)
	r.Get("/history", sp.History)
	r.Get("/history/{page}", sp.HistoryPage)
	r.Get("/history.rss", sp.HistoryRSS)
	r.Get("/history.atom", sp.HistoryAtom)
	r.Get("/badge.svg", sp.Badge)
	r.Get("/components/{slug}/badge.svg", sp.ComponentBadge)
	r.Get("/api/v2/summary.json", sp.Summary)
	r.Get("/api/v2/status.json", sp.Status)
	r.Get("/api/v2/components.json", sp.Components)
	r.Get("/api/v2/incidents.json", sp.Incidents)
	r.Get("/api/v2/incidents/unresolved.json", sp.Unresolved)
	r.Get("/api/v2/scheduled-maintenances.json", sp.Maintenances)
	r.Get("/api/v2/scheduled-maintenances/upcoming.json", sp.UpcomingMaintenances)
	r.Get("/api/v2/scheduled-maintenances/active.json", sp.ActiveMaintenances)

	// The responders' web UI, behind sign-in.
	if d.UI != nil {
		r.Get("/app", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/app/incidents", http.StatusSeeOther)
		})
		r.Route("/app", d.UI.Routes)
	}
	if sub := d.Subscriptions; sub != nil {
		r.Get("/subscribe", sub.Form)
		r.Post("/subscribe", sub.Submit)
		r.Get("/subscriptions/confirm/{token}", sub.Confirm)
		r.Get("/subscriptions/{token}", sub.Manage)
		r.Post("/subscriptions/{token}", sub.SaveComponents)
		r.Get("/subscriptions/{token}/unsubscribe", sub.UnsubscribePage)
		r.Post("/subscriptions/{token}/unsubscribe", sub.Unsubscribe)
	}

	// The email provider's bounce and complaint webhook: signed (Standard Webhooks), no bearer token.
	r.Post("/hooks/email-events", d.API.EmailEvents)

	// The REST API, behind bearer tokens.
	r.Route("/api/v1", d.API.Routes)
	return newRouter(r)
}

// publicPreflight answers CORS preflights for the public JSON, so a browser on another origin may send
// If-None-Match; everything there is public, so any origin may read it.
func publicPreflight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions || !strings.HasPrefix(r.URL.Path, "/api/v2/") {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "If-None-Match, Accept-Encoding")
		h.Set("Access-Control-Max-Age", "86400")
		h.Set("Allow", "GET, HEAD, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
	})
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			notFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func notFound(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		api.WriteProblem(w, api.NewProblem(r, http.StatusNotFound, "not_found", "no such path: "+r.URL.Path))
		return
	}
	writePlain(w, http.StatusNotFound, "404 page not found")
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		api.WriteProblem(w, api.NewProblem(r, http.StatusMethodNotAllowed, "method_not_allowed",
			r.Method+" is not allowed on "+r.URL.Path))
		return
	}
	writePlain(w, http.StatusMethodNotAllowed, "405 method not allowed")
}

func writePlain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body + "\n"))
}

// recoverer turns a panic into a logged 500 with the request id, so no panic kills the process or reaches a client
// as a broken connection.
func recoverer(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					logger.ErrorContext(r.Context(), "panic", "panic", v, "method", r.Method, "path", r.URL.Path,
						"request_id", middleware.GetReqID(r.Context()), "stack", string(stack()))
					api.WriteProblem(w, api.NewProblem(r, http.StatusInternalServerError, "internal",
						"internal error; quote the request id when reporting it"))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

func stack() []byte { return debug.Stack() }

// cleanRequest refuses paths and query strings that are not valid UTF-8 or hold control characters: no route or
// value of mim takes them, and the database could not store them.
func cleanRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := cleanText(r.URL.Path)
		if r.URL.RawQuery != "" { // most requests have none: parse nothing for them
			for k, vs := range r.URL.Query() {
				ok = ok && cleanText(k)
				for _, v := range vs {
					ok = ok && cleanText(v)
				}
			}
		}
		if !ok {
			if isAPI(r) {
				api.WriteProblem(w, api.NewProblem(r, http.StatusBadRequest, "invalid_request",
					"the path or query is not valid UTF-8 text or holds control characters"))
				return
			}
			writePlain(w, http.StatusBadRequest, "400 bad request")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func cleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
