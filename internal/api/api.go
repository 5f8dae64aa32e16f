package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/classify"
	"github.com/mimhq/mim/internal/comms"
	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/reports"
	"github.com/mimhq/mim/internal/subscription"
	"github.com/mimhq/mim/internal/workflow"
)

// Components is what the API needs of component storage.
type Components interface {
	Create(ctx context.Context, c domain.Component) (domain.Component, error)
	List(ctx context.Context) ([]domain.Component, error)
}

// Policies is what the API needs of the classification policy storage.
type Policies interface {
	Current(ctx context.Context) (classify.Policy, error)
	Save(ctx context.Context, p classify.Policy, by string) (classify.Policy, error)
}

// API holds the handlers' dependencies.
type API struct {
	Incidents   *incident.Service
	Accounts    *account.Service
	Components  Components
	Policies    Policies
	Idempotency IdempotencyStore
	// Maintenances stores scheduled maintenance.
	Maintenances Maintenances
	// Reports computes the numbers of a period.
	Reports *reports.Service
	// PostIncident stores PIRs, RCAs, corrective actions, problems and the holiday calendar.
	PostIncident PostIncident
	// Location is the organisation's zone (MIM_TIMEZONE); nil means UTC.
	Location *time.Location
	// Comms stores who hears about incidents internally (stakeholders, customers, resolver groups, ticket systems).
	Comms *comms.Service
	// Cadence decides when an incident's next update is due; the zero value means workflow.DefaultCadence.
	Cadence workflow.Cadence
	// Subscriptions are the public subscribers; SubscribeLimit is the per-client limit it shares with the public
	// form; Deliveries is the delivery log.
	Subscriptions  *subscription.Service
	SubscribeLimit *httprate.RateLimiter
	Deliveries     *delivery.Engine
	// Now is the clock maintenance phases, update and post-incident deadlines are evaluated with; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger

	// BounceWebhookKey verifies the email provider's signed bounce and complaint events (MIM_BOUNCE_WEBHOOK_SECRET,
	// decoded); empty turns POST /hooks/email-events off.
	BounceWebhookKey []byte
}

// Routes registers every /api/v1 route on r, behind bearer authentication.
func (a *API) Routes(r chi.Router) {
	r.Use(a.authenticate)
	r.Get("/me", a.me)

	r.Get("/components", a.listComponents)
	r.With(a.idempotent).Post("/components", a.createComponent)

	r.Get("/classification-policy", a.getPolicy)
	r.Put("/classification-policy", a.putPolicy)

	r.Get("/users", a.listUsers)
	r.Post("/users", a.createUser)
	r.Post("/tokens", a.createToken)
	r.Delete("/tokens/{tokenID}", a.revokeToken)

	r.Get("/maintenances", a.listMaintenances)
	r.With(a.idempotent).Post("/maintenances", a.createMaintenance)
	r.Route("/maintenances/{id}", func(r chi.Router) {
		r.Get("/", a.getMaintenance)
		r.Put("/", a.putMaintenance)
		r.Delete("/", a.deleteMaintenance)
		r.Get("/occurrences", a.maintenanceOccurrences)
	})

	r.Get("/reports/metrics", a.metrics)
	r.Get("/reports/metrics.csv", a.metricsCSV)
	a.commsRoutes(r)
	r.Get("/subscribers", a.listSubscribers)
	r.Post("/subscribers", a.createSubscriber)
	r.Delete("/subscribers/{subscriberID}", a.deleteSubscriber)
	r.Post("/subscribers/{subscriberID}/reactivate", a.reactivateSubscriber)
	r.Get("/deliveries", a.listDeliveries)
	r.Post("/deliveries/{deliveryID}/retry", a.retryDelivery)

	r.Get("/incidents", a.listIncidents)
	r.With(a.idempotent).Post("/incidents", a.declare)
	r.Route("/incidents/{id}", func(r chi.Router) {
		r.Get("/", a.getIncident)
		r.Get("/timeline", a.timeline)
		r.Post("/classification", a.reclassify)
		r.Put("/roles/{role}", a.putRole)
		r.Post("/roles/{role}", a.addRole)
		r.Delete("/roles/{role}/{member}", a.removeRole)
		r.Post("/roles/incident_commander/acknowledge", a.acknowledge)
		r.Put("/bridges/{kind}", a.openBridge)
		r.Delete("/bridges/{kind}", a.closeBridge)
		r.With(a.idempotent).Post("/actions", a.logAction)
		r.With(a.idempotent).Post("/updates", a.draftUpdate)
		r.Post("/updates/{updateID}/approve", a.approveUpdate)
		r.Post("/updates/{updateID}/publish", a.publishUpdate)
		r.Post("/restoration", a.restoration)
		r.Post("/verification", a.verification)
		r.Post("/stage", a.moveStage)
		r.Post("/status", a.setStatus)
		r.Put("/visibility", a.setVisibility)
		r.Post("/escalations", a.escalate)
		r.Post("/milestones", a.setMilestone)
		r.With(a.idempotent).Post("/tickets", a.linkTicket)
		a.incidentReportRoutes(r)
		r.Get("/tickets", a.incidentTickets)
	})
	a.postIncidentRoutes(r)
}

type actorKey struct{}

// actorFrom returns the authenticated actor of the request.
func actorFrom(ctx context.Context) domain.Actor {
	a, _ := ctx.Value(actorKey{}).(domain.Actor)
	return a
}

// authenticate requires a valid bearer token and puts its actor in the context.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			WriteError(w, r, a.Logger, &domain.Error{Kind: domain.ErrUnauthorized, Code: "unauthorized",
				Message: "a valid API token is required: Authorization: Bearer <token>"})
			return
		}
		actor, err := a.Accounts.Authenticate(r.Context(), strings.TrimSpace(token), domain.ChannelAPI)
		if err != nil {
			WriteError(w, r, a.Logger, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, actor)))
	})
}

func requireAdmin(ctx context.Context) error {
	if actorFrom(ctx).OrgRole != domain.OrgAdmin {
		return &domain.Error{Kind: domain.ErrForbidden, Code: "forbidden", Message: "this needs an admin"}
	}
	return nil
}

func requireWriter(ctx context.Context) error {
	if r := actorFrom(ctx).OrgRole; r != domain.OrgAdmin && r != domain.OrgResponder {
		return &domain.Error{Kind: domain.ErrForbidden, Code: "forbidden", Message: "viewers cannot change anything"}
	}
	return nil
}

// ifMatch reads an If-Match header holding an incident version ("3", or W/"3"). No header means no precondition.
func ifMatch(r *http.Request) (*int, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil, nil
	}
	h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	v, err := strconv.Atoi(h)
	if err != nil {
		return nil, &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_if_match",
			Message: `If-Match must hold the incident version as an entity tag, e.g. If-Match: "3"`}
	}
	return &v, nil
}

func (a *API) me(w http.ResponseWriter, r *http.Request) {
	act := actorFrom(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"id": act.UserID, "name": act.Name, "email": act.Email,
		"role": act.OrgRole})
}
