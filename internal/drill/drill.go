// Package drill runs a complete major incident against a running mim through its REST API only, as an integration
// would: the process document's own example, a regional control plane failure that stops security policies being
// enforced for customers in one region. After each step it reads the public JSON and checks what customers see.
package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Options configure a drill.
type Options struct {
	// BaseURL of the running mim, e.g. http://127.0.0.1:8080.
	BaseURL string
	// Token of an admin: the drill creates its own cast of users (once, with fixed addresses, used again by later
	// runs) and components with it, and tokens for the cast that it revokes when it ends.
	Token string
	Out   io.Writer
	HTTP  *http.Client
	// OpenReports stops after checking that the conclusion opened the PIR and the RCA with their due dates,
	// leaving them drafts (for tests that take them further themselves).
	OpenReports bool
}

type drill struct {
	Options
	step                         int
	admin, monitor, ic, comms    string
	tech, sponsor                string
	icEmail, commsEmail, techEml string
	sponsorEmail                 string
	key                          string
	version                      int
	// tokens are the ids of the API tokens the drill made, revoked when it ends.
	tokens []string
}

// Run runs the drill; it returns an error at the first thing that is not as the process says it should be.
func Run(ctx context.Context, o Options) error {
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	d := &drill{Options: o, admin: o.Token}
	err := d.run(ctx)
	// The cast's tokens are revoked however the drill ended, with a context of their own so a cancelled drill
	// still cleans up; its users stay, to be used again by the next run.
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	return errors.Join(err, d.revokeTokens(cleanup))
}

// revokeTokens revokes every token the drill made.
func (d *drill) revokeTokens(ctx context.Context) error {
	var errs []error
	for _, id := range d.tokens {
		if _, err := d.call(ctx, d.admin, "DELETE", "/api/v1/tokens/"+id, nil, 204); err != nil {
			errs = append(errs, fmt.Errorf("revoking the drill's token %s: %w", id, err))
		}
	}
	d.tokens = nil
	if len(errs) == 0 && d.step > 0 {
		d.say("      the drill's API tokens are revoked; its users are kept for the next run")
	}
	return errors.Join(errs...)
}

const (
	cp  = "control-plane-eu"
	swg = "swg-eu"
)

func (d *drill) run(ctx context.Context) error {
	d.say("mim drill against %s: a regional control plane failure (EU) stops security policies being enforced", d.BaseURL)
	if err := d.setup(ctx); err != nil {
		return err
	}

	// 1. Detection & Declaration.
	d.title("Detection & Declaration")
	alert := map[string]any{
		"title":       "EU control plane failure: security policies not enforced",
		"description": "Policy distribution to EU enforcement points stalled; new and changed policies are not applied.",
		"components":  []string{cp, swg}, "severity": "high", "urgency": "immediate",
		"scope":           map[string]any{"regions": []string{"eu"}, "customers_affected": 40, "global": false},
		"business_impact": []string{"security_enforcement", "reputational"},
		"source":          "monitoring", "dedup_key": fmt.Sprintf("drill-eu-control-plane-%d", time.Now().UnixNano()),
		"impact_started_at": time.Now().Add(-4 * time.Minute).UTC().Format(time.RFC3339),
		"detected_at":       time.Now().Add(-2 * time.Minute).UTC().Format(time.RFC3339),
	}
	inc, err := d.call(ctx, d.monitor, "POST", "/api/v1/incidents", alert, 201)
	if err != nil {
		return err
	}
	d.key = str(inc, "key")
	cl := obj(inc, "classification")
	d.check(str(inc, "kind") == "major", "declared %s as %s, priority %s (%s)", d.key, str(inc, "kind"), str(inc, "priority"), str(cl, "reason"))
	for _, c := range []string{"severity", "scope", "business_impact", "urgency"} {
		d.say("      %-15s met=%-5v %s", c, obj(cl, c)["met"], str(obj(cl, c), "reason"))
	}
	if str(inc, "kind") != "major" {
		return fmt.Errorf("the incident was classified %s, not major", str(inc, "kind"))
	}
	again, err := d.call(ctx, d.monitor, "POST", "/api/v1/incidents", alert, 200)
	if err != nil {
		return err
	}
	if str(again, "key") != d.key || num(again, "alert_count") != 2 {
		return fmt.Errorf("a repeated alert was not folded into %s", d.key)
	}
	d.check(true, "the repeated alert folded into %s (alert_count 2), no new incident", d.key)
	if err := d.public(ctx, "nothing published yet", func(s summary) error {
		if s.incident(d.key) != nil {
			return fmt.Errorf("the incident is public before any update was published")
		}
		return nil
	}); err != nil {
		return err
	}
	if _, err := d.move(ctx, d.monitor, "mobilization", 403); err != nil {
		return err
	}
	if _, err := d.call(ctx, d.monitor, "PUT", d.path("/roles/incident_commander"), map[string]any{"user": d.icEmail}, 200); err != nil {
		return err
	}
	refused, err := d.move(ctx, d.ic, "mobilization", 409)
	if err != nil {
		return err
	}
	d.check(true, "leaving the stage before the IC acknowledges is refused: %s", guardCodes(refused))
	if _, err := d.call(ctx, d.ic, "POST", d.path("/roles/incident_commander/acknowledge"), nil, 200); err != nil {
		return err
	}
	d.check(true, "Incident Commander %s assigned and acknowledged", d.icEmail)
	if _, err := d.call(ctx, d.ic, "POST", d.path("/updates"), map[string]any{
		"status": "investigating", "publish": true,
		"body":       "We are investigating a failure of the **EU control plane**. Security policy changes are not being applied to EU enforcement points.",
		"components": map[string]string{cp: "major_outage", swg: "partial_outage"},
	}, 201); err != nil {
		return err
	}
	if err := d.public(ctx, "first update published", d.expect("investigating", "critical", map[string]string{cp: "major_outage", swg: "partial_outage"})); err != nil {
		return err
	}
	if _, err := d.move(ctx, d.ic, "mobilization", 200); err != nil {
		return err
	}

	// 2. Mobilization.
	d.title("Mobilization")
	bridge := "https://meet.example.com/mim-drill-technical-bridge"
	steps := []struct {
		method, path string
		body         any
		what         string
	}{
		{"PUT", "/bridges/technical", map[string]any{"url": bridge}, "internal technical bridge opened"},
		{"PUT", "/roles/communications_lead", map[string]any{"user": d.commsEmail}, "Communications Lead assigned"},
		{"POST", "/roles/technical_lead", map[string]any{"user": d.techEml}, "Technical Lead engaged"},
		{"POST", "/roles/technical_lead", map[string]any{"group": "policy-distribution-sre"}, "resolver group engaged"},
		{"POST", "/roles/executive_sponsor", map[string]any{"user": d.sponsorEmail}, "Executive Sponsor informed"},
	}
	for _, s := range steps {
		if _, err := d.call(ctx, d.ic, s.method, d.path(s.path), s.body, 200); err != nil {
			return err
		}
		d.check(true, "%s", s.what)
	}
	if _, err := d.call(ctx, d.sponsor, "POST", d.path("/actions"), map[string]any{"kind": "finding", "description": "sponsor note"}, 403); err != nil {
		return err
	}
	d.check(true, "the Executive Sponsor may read but not change the incident (403)")
	if _, err := d.move(ctx, d.ic, "diagnosis_action", 200); err != nil {
		return err
	}
	if err := d.public(ctx, "mobilized", d.noLeak(bridge)); err != nil {
		return err
	}

	// 3. Diagnosis & Action.
	d.title("Diagnosis & Action")
	for _, a := range []map[string]any{
		{"kind": "diagnosis", "description": "Policy distribution queue in EU stalled after a certificate rotation on the config store."},
		{"kind": "restart", "description": "Restarted the EU policy distributor; queue still stalled."},
	} {
		if _, err := d.call(ctx, d.tech, "POST", d.path("/actions"), a, 201); err != nil {
			return err
		}
		d.check(true, "action logged: %s", a["description"])
	}
	up, err := d.call(ctx, d.comms, "POST", d.path("/updates"), map[string]any{
		"status": "identified",
		"body":   "We have identified the cause: a certificate problem stopped policy distribution in the EU region. Enforcement points keep applying the last policies they received.",
	}, 201)
	if err != nil {
		return err
	}
	if _, err := d.call(ctx, d.comms, "POST", d.path("/updates/"+str(obj(up, "created"), "id")+"/approve"), nil, 403); err != nil {
		return err
	}
	d.check(true, "the Communications Lead drafted an update and may not approve it (403)")
	if _, err := d.call(ctx, d.ic, "POST", d.path("/updates/"+str(obj(up, "created"), "id")+"/approve"), nil, 200); err != nil {
		return err
	}
	if err := d.public(ctx, "identified, approved by the IC", d.expect("identified", "critical", nil)); err != nil {
		return err
	}
	if _, err := d.move(ctx, d.ic, "status_updates", 200); err != nil {
		return err
	}

	// 4. Status Updates.
	d.title("Status Updates")
	if _, err := d.call(ctx, d.comms, "POST", d.path("/tickets"), map[string]any{"system": "zendesk", "ref": "ZD-48213",
		"url": "https://support.example.com/tickets/48213"}, 201); err != nil {
		return err
	}
	d.check(true, "customer ticket ZD-48213 linked")
	if _, err := d.call(ctx, d.tech, "POST", d.path("/restoration"), map[string]any{"kind": "workaround",
		"description": "Re-issued the config store certificate by hand; distribution resumed from a standby distributor."}, 200); err != nil {
		return err
	}
	d.check(true, "workaround implemented")
	up, err = d.call(ctx, d.comms, "POST", d.path("/updates"), map[string]any{
		"status": "monitoring", "body": "A workaround is in place and policies are being applied again in the EU region. We are monitoring.",
		"components": map[string]string{cp: "degraded_performance", swg: "operational"},
	}, 201)
	if err != nil {
		return err
	}
	res, err := d.call(ctx, d.ic, "POST", d.path("/updates/"+str(obj(up, "created"), "id")+"/approve"), nil, 200)
	if err != nil {
		return err
	}
	tickets := arr(res, "tickets")
	if len(tickets) != 1 || len(arr(tickets[0].(map[string]any), "log")) != 1 {
		return fmt.Errorf("the published update was not logged on the linked ticket")
	}
	d.check(true, "the published update was logged on ticket ZD-48213")
	if err := d.public(ctx, "workaround, monitoring", d.expect("monitoring", "minor", map[string]string{cp: "degraded_performance", swg: "operational"})); err != nil {
		return err
	}
	if _, err := d.move(ctx, d.ic, "service_restoration", 200); err != nil {
		return err
	}

	// 5. Service Restoration.
	d.title("Service Restoration")
	if _, err := d.call(ctx, d.tech, "POST", d.path("/restoration"), map[string]any{"kind": "fix",
		"description": "Automated certificate rotation fixed and deployed; primary distributor back in service."}, 200); err != nil {
		return err
	}
	d.check(true, "permanent fix deployed")
	refused, err = d.move(ctx, d.ic, "concluded", 409)
	if err != nil {
		return err
	}
	d.check(true, "concluding before verification is refused: %s", guardCodes(refused))
	if _, err := d.call(ctx, d.tech, "POST", d.path("/verification"), map[string]any{
		"method": "synthetic policy-enforcement probes pass at every EU point of presence for 15 minutes"}, 200); err != nil {
		return err
	}
	d.check(true, "service verified operational")
	up, err = d.call(ctx, d.comms, "POST", d.path("/updates"), map[string]any{
		"status": "resolved", "body": "The issue is resolved: security policies are distributed and enforced normally in the EU region. A Post Incident Report will follow.",
		"components": map[string]string{cp: "operational", swg: "operational"},
	}, 201)
	if err != nil {
		return err
	}
	if _, err := d.call(ctx, d.ic, "POST", d.path("/updates/"+str(obj(up, "created"), "id")+"/approve"), nil, 200); err != nil {
		return err
	}
	if err := d.public(ctx, "resolved", d.expect("resolved", "none", map[string]string{cp: "operational", swg: "operational"})); err != nil {
		return err
	}

	// 6. MI Conclusion.
	d.title("MI Conclusion")
	if _, err := d.move(ctx, d.admin, "concluded", 403); err != nil {
		return err
	}
	d.check(true, "an admin may not conclude: only the Incident Commander does (403)")
	final, err := d.move(ctx, d.ic, "concluded", 200)
	if err != nil {
		return err
	}
	b := obj(obj(final, "bridges"), "technical")
	if b["closed_at"] == nil {
		return fmt.Errorf("conclusion did not close the technical bridge")
	}
	d.check(true, "concluded by the IC; technical bridge closed")
	tl, err := d.call(ctx, d.ic, "GET", d.path("/timeline"), nil, 200)
	if err != nil {
		return err
	}
	ms := obj(final, "milestones")
	d.say("    milestones:")
	for _, m := range []string{"impact_started", "detected", "declared", "ic_acknowledged", "mobilized", "identified",
		"first_public_update", "mitigated", "restored", "verified", "concluded"} {
		if ms[m] == nil {
			return fmt.Errorf("milestone %s was not recorded", m)
		}
		d.say("      %-20s %s", m, ms[m])
	}
	d.check(true, "timeline holds %d entries, each with actor, channel and time", len(arr(tl, "entries")))
	if err := d.public(ctx, "after conclusion", d.noLeak(bridge)); err != nil {
		return err
	}
	if err := d.afterIncident(ctx, str(ms, "concluded"), arr(tl, "entries"), bridge); err != nil {
		return err
	}
	d.say("\ndrill passed: %s went through all six stages in %d steps", d.key, d.step)
	return nil
}

// setup makes the cast (a monitoring integration, IC, comms lead, tech lead, sponsor) with tokens, and makes sure the
// components exist.
func (d *drill) setup(ctx context.Context) error {
	me, err := d.call(ctx, d.admin, "GET", "/api/v1/me", nil, 200)
	if err != nil {
		return fmt.Errorf("the drill needs an admin token of the mim at %s (MIM_TOKEN or --token; MIM_URL or --url): %w", d.BaseURL, err)
	}
	if str(me, "role") != "admin" {
		return fmt.Errorf("the drill needs an admin token; this one acts as %s", str(me, "role"))
	}
	comps, err := d.call(ctx, d.admin, "GET", "/api/v1/components", nil, 200)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, c := range arr(comps, "components") {
		have[str(c.(map[string]any), "slug")] = true
	}
	for _, c := range []map[string]any{
		{"slug": cp, "name": "Control Plane (Europe)", "group": "Europe", "core": true, "control_plane": true},
		{"slug": swg, "name": "Secure Web Gateway (Europe)", "group": "Europe", "core": true},
	} {
		if !have[str(c, "slug")] {
			if _, err := d.call(ctx, d.admin, "POST", "/api/v1/components", c, 201); err != nil {
				return err
			}
		}
	}
	users, err := d.call(ctx, d.admin, "GET", "/api/v1/users", nil, 200)
	if err != nil {
		return err
	}
	existing := map[string]bool{}
	for _, u := range arr(users, "users") {
		existing[str(u.(map[string]any), "email")] = true
	}
	cast := []struct {
		who   string
		name  string
		token *string
		email *string
	}{
		{"monitoring", "Monitoring integration", &d.monitor, new(string)},
		{"ic", "Drill Incident Commander", &d.ic, &d.icEmail},
		{"comms", "Drill Communications Lead", &d.comms, &d.commsEmail},
		{"tech", "Drill Technical Lead", &d.tech, &d.techEml},
		{"sponsor", "Drill Executive Sponsor", &d.sponsor, &d.sponsorEmail},
	}
	for _, c := range cast {
		// Fixed addresses: the cast is made once and used again by every later drill, not a new one per run.
		email := fmt.Sprintf("drill-%s@example.com", c.who)
		if !existing[email] {
			if _, err := d.call(ctx, d.admin, "POST", "/api/v1/users", map[string]any{"email": email, "name": c.name, "role": "responder"}, 201); err != nil {
				return err
			}
		}
		tok, err := d.call(ctx, d.admin, "POST", "/api/v1/tokens", map[string]any{"user": email, "name": "drill"}, 201)
		if err != nil {
			return err
		}
		d.tokens = append(d.tokens, str(tok, "id"))
		*c.token, *c.email = str(tok, "token"), email
	}
	d.check(true, "cast ready: monitoring integration, IC, Communications Lead, Technical Lead, Executive Sponsor")
	return nil
}

func (d *drill) path(p string) string { return "/api/v1/incidents/" + d.key + p }

// move asks for a stage change with the version last seen, expecting the given status.
func (d *drill) move(ctx context.Context, token, to string, want int) (map[string]any, error) {
	body := map[string]any{"to": to}
	res, err := d.call(ctx, token, "POST", d.path("/stage"), body, want)
	if err == nil && want == 200 {
		d.check(true, "moved to %s (version %d)", str(obj(res, "workflow"), "stage_title"), num(res, "version"))
	}
	return res, err
}

func (d *drill) call(ctx context.Context, token, method, path string, body any, want int) (map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.BaseURL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if strings.HasPrefix(path, "/api/v1/incidents/") && d.version > 0 && method == "POST" && strings.HasSuffix(path, "/stage") {
		req.Header.Set("If-Match", strconv.Quote(strconv.Itoa(d.version)))
	}
	resp, err := d.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: expected %d, got %d: %s", method, path, want, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("%s %s: answer is not JSON: %w", method, path, err)
		}
	}
	if v, ok := out["version"].(float64); ok && str(out, "key") == d.key {
		d.version = int(v)
	}
	return out, nil
}

type summary map[string]any

func (s summary) incident(key string) map[string]any {
	for _, i := range arr(s, "incidents") {
		m := i.(map[string]any)
		if strings.HasSuffix(str(m, "shortlink"), "/incidents/"+key) {
			return m
		}
	}
	return nil
}

func (s summary) component(slug string) map[string]any {
	for _, c := range arr(s, "components") {
		m := c.(map[string]any)
		if strings.Contains(strings.ToLower(str(m, "name")), map[string]string{cp: "control plane (europe)", swg: "secure web gateway (europe)"}[slug]) {
			return m
		}
	}
	return nil
}

// public reads the public JSON (and page) and checks it. The snapshot is rebuilt on change, so a short wait is allowed.
func (d *drill) public(ctx context.Context, label string, check func(summary) error) error {
	var last error
	for i := 0; i < 50; i++ {
		s, raw, err := d.summary(ctx)
		if err == nil {
			if last = check(s); last == nil {
				st := obj(s, "status")
				line := fmt.Sprintf("public after %q: status %s (%s)", label, str(st, "indicator"), str(st, "description"))
				if inc := s.incident(d.key); inc != nil {
					line += fmt.Sprintf("; %s is %s with %d update(s)", d.key, str(inc, "status"), len(arr(inc, "incident_updates")))
				}
				d.say("    %s", line)
				_ = raw
				return nil
			}
		} else {
			last = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("public JSON after %q: %w", label, last)
}

func (d *drill) summary(ctx context.Context) (summary, []byte, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", d.BaseURL+"/api/v2/summary.json", nil)
	resp, err := d.HTTP.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, raw, fmt.Errorf("summary.json answered %d", resp.StatusCode)
	}
	var s summary
	return s, raw, json.Unmarshal(raw, &s)
}

func (d *drill) expect(status, indicator string, comps map[string]string) func(summary) error {
	return func(s summary) error {
		inc := s.incident(d.key)
		if status == "resolved" {
			// summary.json lists unresolved incidents only; a resolved one has left it.
			if inc != nil {
				return fmt.Errorf("resolved incident still listed as unresolved")
			}
		} else if inc == nil || str(inc, "status") != status {
			return fmt.Errorf("expected %s public with status %s", d.key, status)
		}
		if got := str(obj(s, "status"), "indicator"); got != indicator {
			return fmt.Errorf("expected status indicator %s, got %s", indicator, got)
		}
		for slug, want := range comps {
			if c := s.component(slug); c == nil || str(c, "status") != want {
				return fmt.Errorf("expected component %s %s, got %v", slug, want, c["status"])
			}
		}
		return nil
	}
}

// noLeak checks that nothing internal reached the public JSON or page.
func (d *drill) noLeak(secrets ...string) func(summary) error {
	return func(s summary) error {
		_, raw, err := d.summary(context.Background())
		if err != nil {
			return err
		}
		page, err := d.get("/")
		if err != nil {
			return err
		}
		for _, sec := range append(secrets, d.icEmail, d.techEml, "policy-distribution-sre", "ZD-48213") {
			if bytes.Contains(raw, []byte(sec)) || bytes.Contains(page, []byte(sec)) {
				return fmt.Errorf("internal detail %q is visible publicly", sec)
			}
		}
		return nil
	}
}

// getAuthorized reads a non-JSON answer of the API (an export) as the admin.
func (d *drill) getAuthorized(ctx context.Context, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", d.BaseURL+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+d.admin)
	resp, err := d.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: expected 200, got %d: %s", path, resp.StatusCode, raw)
	}
	return string(raw), err
}

func (d *drill) get(path string) ([]byte, error) {
	resp, err := d.HTTP.Get(d.BaseURL + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func (d *drill) title(s string) {
	d.say("\n== %s", s)
}

func (d *drill) check(ok bool, format string, args ...any) {
	d.step++
	mark := "ok"
	if !ok {
		mark = "FAIL"
	}
	d.say("  %2d %-4s %s", d.step, mark, fmt.Sprintf(format, args...))
}

func (d *drill) say(format string, args ...any) { fmt.Fprintf(d.Out, format+"\n", args...) }

func guardCodes(problem map[string]any) string {
	var codes []string
	for _, g := range arr(problem, "unmet_guards") {
		codes = append(codes, str(g.(map[string]any), "code"))
	}
	return strings.Join(codes, ", ")
}

func str(m map[string]any, k string) string {
	if m == nil {
		return ""
	}
	s, _ := m[k].(string)
	return s
}

func num(m map[string]any, k string) int {
	f, _ := m[k].(float64)
	return int(f)
}

func obj(m map[string]any, k string) map[string]any {
	if m == nil {
		return nil
	}
	o, _ := m[k].(map[string]any)
	return o
}

func arr(m map[string]any, k string) []any {
	if m == nil {
		return nil
	}
	a, _ := m[k].([]any)
	return a
}
