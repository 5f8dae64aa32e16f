package drill

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/postincident"
)

// afterIncident checks what the conclusion opened — a PIR drafted from the record and an RCA, with their due
// dates — then takes them through review and publication, and tracks the RCA's corrective action to done.
func (d *drill) afterIncident(ctx context.Context, concludedAt string, timeline []any, bridge string) error {
	d.title("After the incident")
	concluded, err := time.Parse(time.RFC3339Nano, concludedAt)
	if err != nil {
		return fmt.Errorf("conclusion time %q: %w", concludedAt, err)
	}
	pir, err := d.call(ctx, d.ic, "GET", d.path("/pir"), nil, 200)
	if err != nil {
		return fmt.Errorf("the conclusion opened no PIR: %w", err)
	}
	if err := sameInstant("PIR target_at", str(pir, "target_at"), concluded.Add(postincident.PIRTargetAfter)); err != nil {
		return err
	}
	if err := sameInstant("PIR due_at", str(pir, "due_at"), concluded.Add(postincident.PIRDueAfter)); err != nil {
		return err
	}
	seqs := map[int]bool{}
	for _, e := range timeline {
		seqs[num(e.(map[string]any), "seq")] = true
	}
	facts := arr(pir, "timeline")
	for _, f := range facts {
		if !seqs[num(f.(map[string]any), "seq")] {
			return fmt.Errorf("PIR timeline fact %v names no timeline entry", f)
		}
	}
	if str(pir, "status") != "draft" || len(facts) == 0 || len(arr(pir, "restoration_steps")) == 0 ||
		!strings.Contains(str(pir, "summary"), d.key) {
		return fmt.Errorf("the PIR was not drafted from the incident's record: %v", pir)
	}
	d.check(true, "PIR drafted: %d timeline facts traceable to their events, %d restoration steps; target %s, due %s",
		len(facts), len(arr(pir, "restoration_steps")), str(pir, "target_at"), str(pir, "due_at"))

	rca, err := d.call(ctx, d.ic, "GET", d.path("/rca"), nil, 200)
	if err != nil {
		return fmt.Errorf("the conclusion opened no RCA: %w", err)
	}
	loc, err := time.LoadLocation(str(rca, "zone"))
	if err != nil {
		return fmt.Errorf("RCA zone %q: %w", str(rca, "zone"), err)
	}
	holidays, err := d.call(ctx, d.ic, "GET", "/api/v1/holidays", nil, 200)
	if err != nil {
		return err
	}
	cal := postincident.Calendar{}
	for _, h := range arr(holidays, "holidays") {
		cal[str(h.(map[string]any), "date")] = true
	}
	if err := sameInstant("RCA due_at", str(rca, "due_at"), postincident.RCADue(concluded, loc, cal)); err != nil {
		return err
	}
	d.check(true, "RCA opened, due %s: 7 business days in %s, %d holiday(s) in the calendar",
		parseOr(str(rca, "due_at")).In(loc).Format("Mon 2 Jan 2006 15:04 MST"), loc, len(cal))

	if d.OpenReports {
		return nil
	}
	return d.finishReports(ctx, concluded, pir, rca, len(timeline), bridge)
}

// finishReports writes and publishes the RCA, tracks its corrective action to done, publishes the PIR with its
// customer-safe version and checks the permalink and the evidence export.
func (d *drill) finishReports(ctx context.Context, concluded time.Time, pir, rca map[string]any, events int, bridge string) error {
	var err error
	rca["root_cause"] = "The config store certificate expired because the automated rotation job failed without alerting."
	rca["contributing_factors"] = []string{"no alert on rotation failure", "a single policy distributor per region"}
	rca["preventative_actions"] = []map[string]any{{"kind": "code_fix", "title": "Make the rotation job fail loudly",
		"owner": d.techEml, "due_at": concluded.Add(14 * 24 * time.Hour).Format(time.RFC3339)}}
	rca["customer_summary"] = "An expired certificate stopped security policies reaching the EU region; its renewal is now monitored."
	rca, err = d.call(ctx, d.ic, "PUT", d.path("/rca"), rca, 200)
	if err != nil {
		return err
	}
	actions := arr(rca, "preventative_actions")
	if len(actions) != 1 || str(actions[0].(map[string]any), "action_id") == "" {
		return fmt.Errorf("the preventative action did not become a corrective action: %v", actions)
	}
	actionPath := "/api/v1/corrective-actions/" + str(actions[0].(map[string]any), "action_id")
	d.check(true, "RCA written; its preventative action is a corrective action owned by the Technical Lead")
	for _, st := range []string{"in_progress", "done"} {
		a, err := d.call(ctx, d.tech, "PATCH", actionPath, map[string]any{"status": st}, 200)
		if err != nil {
			return err
		}
		if str(a, "status") != st {
			return fmt.Errorf("the action is %s, not %s", str(a, "status"), st)
		}
	}
	d.check(true, "the corrective action was tracked to done")

	if _, err := d.call(ctx, d.ic, "POST", d.path("/rca/publish"), nil, 409); err != nil {
		return err
	}
	if _, err := d.call(ctx, d.comms, "POST", d.path("/rca/review"), nil, 200); err != nil {
		return err
	}
	if _, err := d.call(ctx, d.ic, "POST", d.path("/rca/publish"), nil, 200); err != nil {
		return err
	}
	d.check(true, "RCA reviewed and published internally (publishing unreviewed is refused, 409)")

	pir["customer_summary"] = "On this day security policy changes did not reach our EU enforcement points for a while; " +
		"a certificate had expired. We renewed it and now monitor its renewal."
	if _, err := d.call(ctx, d.ic, "PUT", d.path("/pir"), pir, 200); err != nil {
		return err
	}
	if _, err := d.call(ctx, d.comms, "POST", d.path("/pir/review"), nil, 200); err != nil {
		return err
	}
	if _, err := d.call(ctx, d.ic, "POST", d.path("/pir/publish"), map[string]any{"public": true}, 200); err != nil {
		return err
	}
	page, err := d.get("/incidents/" + d.key)
	if err != nil {
		return err
	}
	if !strings.Contains(string(page), "now monitor its renewal") {
		return fmt.Errorf("the customer-safe PIR is not on the permalink /incidents/%s", d.key)
	}
	for _, secret := range []string{bridge, "ZD-48213", d.icEmail, d.commsEmail, d.techEml, "Drill Incident Commander"} {
		if strings.Contains(string(page), secret) {
			return fmt.Errorf("the permalink shows internal detail %q", secret)
		}
	}
	d.check(true, "PIR reviewed and published; its customer-safe version is on the permalink, with nothing internal")

	md, err := d.getAuthorized(ctx, d.path("/evidence?format=md"))
	if err != nil {
		return err
	}
	if n := strings.Count(md, "\n| "); n < events {
		return fmt.Errorf("the evidence export has %d table rows for %d timeline events", n, events)
	}
	d.check(true, "evidence export (Markdown) holds all %d timeline events", events)
	return nil
}

func sameInstant(what, got string, want time.Time) error {
	at, err := time.Parse(time.RFC3339Nano, got)
	if err != nil || !at.Equal(want) {
		return fmt.Errorf("%s is %q, want %s", what, got, want.UTC().Format(time.RFC3339))
	}
	return nil
}

func parseOr(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
