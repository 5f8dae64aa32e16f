package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/mimhq/mim/docs"
	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/api"
	"github.com/mimhq/mim/internal/classify"
	"github.com/mimhq/mim/internal/comms"
	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/postincident"
	"github.com/mimhq/mim/internal/reports"
	"github.com/mimhq/mim/internal/statuspage"
	"github.com/mimhq/mim/internal/subscription"
	"github.com/mimhq/mim/internal/workflow"
)

// TestOpenAPIDocumentsEveryRoute proves docs/openapi.yaml and the router agree: every registered (method, path) is
// documented, and every documented one is registered.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	registered := registeredRoutes(t)
	documented := documentedRoutes(t, parseOpenAPI(t))
	require.NotEmpty(t, registered)

	var undocumented, unregistered []string
	for path, methods := range registered {
		doc := documented[path]
		if methods.any {
			if len(doc.methods) == 0 {
				undocumented = append(undocumented, "ANY "+path)
			}
			continue
		}
		for m := range methods.methods {
			if !doc.methods[m] {
				undocumented = append(undocumented, m+" "+path)
			}
		}
	}
	for path, methods := range documented {
		reg, ok := registered[path]
		for m := range methods.methods {
			if !ok || (!reg.any && !reg.methods[m]) {
				unregistered = append(unregistered, m+" "+path)
			}
		}
	}
	slices.Sort(undocumented)
	slices.Sort(unregistered)
	var mismatches []string
	for _, r := range undocumented {
		mismatches = append(mismatches, "registered but not in docs/openapi.yaml: "+r)
	}
	for _, r := range unregistered {
		mismatches = append(mismatches, "in docs/openapi.yaml but not registered: "+r)
	}
	require.Empty(t, mismatches, "docs/openapi.yaml and the router (internal/server/routes.go, internal/api/api.go) disagree")
}

// TestOpenAPISchemasMatchTypes proves the documented schemas have exactly the JSON fields of the Go types the API
// encodes, so a field added to (or renamed in) a type cannot go undocumented.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	t.Parallel()
	schemas := asMap(t, nil, asMap(t, nil, parseOpenAPI(t)["components"])["schemas"])
	cases := []struct {
		schema string
		typ    any
		// extra are fields the handler adds around the type (api.incidentJSON around workflow.Incident).
		extra []string
	}{
		{"Incident", workflow.Incident{}, []string{"severity", "urgency", "priority", "public_status", "workflow",
			"update_due_at", "update_overdue", "version", "created_at", "updated_at", "folded", "created"}},
		{"StakeholderList", comms.StakeholderList{}, nil},
		{"Customer", comms.Customer{}, nil},
		{"ResolverGroup", comms.ResolverGroup{}, nil},
		{"TicketSystem", comms.TicketSystem{}, nil},
		{"TicketDelivery", comms.TicketDelivery{}, nil},
		{"Roles", workflow.Roles{}, nil},
		{"RoleHolder", workflow.RoleHolder{}, nil},
		{"Bridge", workflow.Bridge{}, nil},
		{"Action", workflow.Action{}, nil},
		{"Update", workflow.Update{}, nil},
		{"Restoration", workflow.Restoration{}, nil},
		{"Verification", workflow.Verification{}, nil},
		{"Ticket", workflow.Ticket{}, nil},
		{"TicketLog", workflow.TicketLog{}, nil},
		{"Escalation", workflow.Escalation{}, nil},
		{"Criteria", domain.Criteria{}, nil},
		{"Scope", domain.Scope{}, nil},
		{"Classification", domain.Classification{}, nil},
		{"CriterionResult", domain.CriterionResult{}, nil},
		{"Override", domain.Override{}, nil},
		{"Person", domain.Person{}, nil},
		{"Guard", domain.Guard{}, nil},
		{"FieldError", domain.FieldError{}, nil},
		{"Component", domain.Component{}, nil},
		{"User", domain.User{}, nil},
		{"Problem", api.Problem{}, nil},
		{"Token", account.Token{}, nil},
		{"ClassificationPolicy", classify.Policy{}, nil},
		{"TimelineEntry", incident.TimelineEntry{}, nil},
		{"MetricsReport", reports.Report{}, nil},
		{"DurationSummary", reports.Summary{}, nil},
		{"CadenceCompliance", reports.Compliance{}, nil},
		{"OnTimeRate", reports.OnTimeRate{}, nil},
		{"IncidentCount", reports.Count{}, nil},
		{"IncidentFigures", reports.RowFigure{}, nil},
		{"PIRContent", postincident.PIR{}, nil},
		{"PIRTimelineItem", postincident.TimelineItem{}, nil},
		{"RestorationStep", postincident.Step{}, nil},
		{"RCAContent", postincident.RCA{}, nil},
		{"PreventativeAction", postincident.PreventativeAction{}, nil},
		{"PublicReport", postincident.PublicReport{}, nil},
		{"PostIncidentDocument", postincident.Document{}, nil},
		{"CorrectiveAction", postincident.CorrectiveAction{}, nil},
		{"ProblemRecord", postincident.Problem{}, nil},
		{"Holiday", postincident.Holiday{}, nil},
		{"Deadline", postincident.Deadline{}, nil},
		{"Evidence", postincident.Evidence{}, nil},
		{"Subscriber", subscription.Subscriber{}, nil},
		{"SubscriptionOutcome", subscription.Outcome{}, nil},
		{"Delivery", delivery.Delivery{}, nil},
	}
	var problems []string
	for _, c := range cases {
		schema, ok := schemas[c.schema].(map[string]any)
		if !ok {
			problems = append(problems, "no schema "+c.schema)
			continue
		}
		props, _ := schema["properties"].(map[string]any)
		want := append(jsonFields(reflect.TypeOf(c.typ)), c.extra...)
		for _, f := range want {
			if _, ok := props[f]; !ok {
				problems = append(problems, fmt.Sprintf("%s: field %q of %T is not documented", c.schema, f, c.typ))
			}
		}
		for p := range props {
			if !slices.Contains(want, p) {
				problems = append(problems, fmt.Sprintf("%s: property %q is not a field of %T", c.schema, p, c.typ))
			}
		}
	}
	slices.Sort(problems)
	require.Empty(t, problems)
}

// jsonFields lists the JSON member names encoding/json gives a struct type, embedded structs flattened.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case name == "-":
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			out = append(out, jsonFields(f.Type)...)
		case !f.IsExported():
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	return out
}

// TestOpenAPIDocumentIsValid checks the document's structure: it parses, declares OpenAPI 3.1, every $ref points at
// something that exists, operation ids are unique, and every path template parameter is declared.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	doc := parseOpenAPI(t)

	version, _ := doc["openapi"].(string)
	require.Regexp(t, `^3\.1\.\d+$`, version, "openapi must be 3.1.x")
	info, _ := doc["info"].(map[string]any)
	require.NotEmpty(t, info["title"], "info.title")
	require.NotEmpty(t, info["version"], "info.version")

	var broken []string
	walkRefs(doc, "#", func(at, ref string) {
		if _, err := resolveRef(doc, ref); err != nil {
			broken = append(broken, fmt.Sprintf("%s: %v", at, err))
		}
	})
	slices.Sort(broken)
	require.Empty(t, broken, "unresolved $ref")

	paths, _ := doc["paths"].(map[string]any)
	require.NotEmpty(t, paths)
	ids := map[string]string{}
	var problems []string
	for path, item := range paths {
		item := asMap(t, doc, item)
		declared := pathParams(t, doc, item["parameters"])
		for method, op := range item {
			if !httpMethods[method] {
				continue
			}
			op := asMap(t, doc, op)
			where := strings.ToUpper(method) + " " + path
			id, _ := op["operationId"].(string)
			switch {
			case id == "":
				problems = append(problems, where+": no operationId")
			case ids[id] != "":
				problems = append(problems, fmt.Sprintf("%s: operationId %q is also used by %s", where, id, ids[id]))
			default:
				ids[id] = where
			}
			if rs, _ := op["responses"].(map[string]any); len(rs) == 0 {
				problems = append(problems, where+": no responses")
			}
			params := pathParams(t, doc, op["parameters"])
			for _, name := range templateParams(path) {
				if !declared[name] && !params[name] {
					problems = append(problems, fmt.Sprintf("%s: path parameter {%s} is not declared", where, name))
				}
			}
		}
	}
	slices.Sort(problems)
	require.Empty(t, problems)
}

// methodSet is the methods registered or documented for one path; any means a route that takes every method
// (chi's Handle), which the document describes by the methods that make sense for it.
type methodSet struct {
	methods map[string]bool
	any     bool
}

// chiMethods are the methods chi registers for a route added with Handle.
var chiMethods = []string{
	http.MethodConnect, http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPatch,
	http.MethodPost, http.MethodPut, http.MethodTrace,
}

var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true,
}

func newTestRouter(t *testing.T) chi.Routes {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	sp := statuspage.New(nil, statuspage.Page{ID: "t", Name: "t", URL: "http://x", Location: time.UTC}, logger)
	h := New(Deps{API: &api.API{Logger: logger}, StatusPage: sp, Ready: nil, Logger: logger})
	routes, ok := h.(chi.Routes)
	require.True(t, ok, "server.New must return a chi router, got %T", h)
	return routes
}

func registeredRoutes(t *testing.T) map[string]methodSet {
	t.Helper()
	out := map[string]methodSet{}
	err := chi.Walk(newTestRouter(t), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		path := normalizeRoute(route)
		s, ok := out[path]
		if !ok {
			s = methodSet{methods: map[string]bool{}}
		}
		s.methods[method] = true
		out[path] = s
		return nil
	})
	require.NoError(t, err)
	for path, s := range out {
		s.any = true
		for _, m := range chiMethods {
			s.any = s.any && s.methods[m]
		}
		out[path] = s
	}
	return out
}

var chiParam = regexp.MustCompile(`\{([^}:]+):[^}]*\}`)

// normalizeRoute turns a chi pattern into an OpenAPI path: a subrouter root's trailing slash goes, a trailing
// wildcard becomes {path}, and a regexp parameter {id:[0-9]+} becomes {id}.
func normalizeRoute(route string) string {
	route = chiParam.ReplaceAllString(route, "{$1}")
	if strings.HasSuffix(route, "/*") {
		route = strings.TrimSuffix(route, "*") + "{path}"
	}
	if len(route) > 1 {
		route = strings.TrimSuffix(route, "/")
	}
	return route
}

func parseOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	require.NotEmpty(t, docs.OpenAPI, "docs.OpenAPI is empty")
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(docs.OpenAPI, &doc), "docs/openapi.yaml does not parse")
	require.NotNil(t, doc)
	return doc
}

func documentedRoutes(t *testing.T, doc map[string]any) map[string]methodSet {
	t.Helper()
	paths, _ := doc["paths"].(map[string]any)
	out := map[string]methodSet{}
	for path, item := range paths {
		s := methodSet{methods: map[string]bool{}}
		for method := range asMap(t, doc, item) {
			if httpMethods[method] {
				s.methods[strings.ToUpper(method)] = true
			}
		}
		out[path] = s
	}
	return out
}

// asMap returns v as a mapping, following a $ref.
func asMap(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		target, err := resolveRef(doc, ref)
		require.NoError(t, err)
		m, _ = target.(map[string]any)
	}
	return m
}

// pathParams names the path parameters declared in a parameters list.
func pathParams(t *testing.T, doc map[string]any, v any) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	list, _ := v.([]any)
	for _, p := range list {
		p := asMap(t, doc, p)
		if p["in"] == "path" {
			name, _ := p["name"].(string)
			out[name] = true
		}
	}
	return out
}

var templateParam = regexp.MustCompile(`\{([^}]+)\}`)

func templateParams(path string) []string {
	var out []string
	for _, m := range templateParam.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	return out
}

// walkRefs calls fn for every $ref in v, with the JSON pointer of where it is.
func walkRefs(v any, at string, fn func(at, ref string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if ref, ok := child.(string); ok && k == "$ref" {
				fn(at, ref)
				continue
			}
			walkRefs(child, at+"/"+escapePointer(k), fn)
		}
	case []any:
		for i, child := range x {
			walkRefs(child, fmt.Sprintf("%s/%d", at, i), fn)
		}
	}
}

// resolveRef follows a local reference ("#/components/schemas/Incident") into the document.
func resolveRef(doc map[string]any, ref string) (any, error) {
	pointer, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("%q is not a local reference", ref)
	}
	var cur any = doc
	for _, part := range strings.Split(pointer, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q: %q is not inside an object", ref, part)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("%q: no %q", ref, part)
		}
	}
	return cur, nil
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
