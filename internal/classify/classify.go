// Package classify decides whether an incident is major, from the four criteria of the process (severity, scope,
// business impact, urgency) under a versioned policy, and computes its ITIL priority. It does no I/O.
package classify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mimhq/mim/internal/domain"
)

// Policy holds the thresholds and the rule an admin may change. Each change is a new Version.
type Policy struct {
	Version int `json:"version"`
	// SeverityMet lists the severities that meet the severity criterion.
	SeverityMet []domain.Severity `json:"severity_met"`
	// MinRegions is the number of regions from which scope is met.
	MinRegions int `json:"min_regions"`
	// MinCustomers is the number of affected customers from which scope is met.
	MinCustomers int `json:"min_customers"`
	// ControlPlaneMeetsScope makes any affected control-plane component meet scope.
	ControlPlaneMeetsScope bool `json:"control_plane_meets_scope"`
	// UrgencyMet lists the urgencies that meet the urgency criterion.
	UrgencyMet []domain.Urgency `json:"urgency_met"`
	// MajorOnSeverity makes an incident major as soon as severity is met.
	MajorOnSeverity bool `json:"major_on_severity"`
	// MinCriteria is how many criteria make an incident major.
	MinCriteria int `json:"min_criteria"`
}

// DefaultPolicy is the policy of the brief: major when severity is met, or when at least two criteria are met.
func DefaultPolicy() Policy {
	return Policy{
		Version:                1,
		SeverityMet:            []domain.Severity{domain.SeverityCritical},
		MinRegions:             2,
		MinCustomers:           100,
		ControlPlaneMeetsScope: true,
		UrgencyMet:             []domain.Urgency{domain.UrgencyImmediate},
		MajorOnSeverity:        true,
		MinCriteria:            2,
	}
}

// Validate checks that a policy can decide anything.
func (p Policy) Validate() error {
	var v domain.Validator
	for i, s := range p.SeverityMet {
		domain.OneOf(&v, fmt.Sprintf("severity_met[%d]", i), s, domain.Severities)
	}
	for i, u := range p.UrgencyMet {
		domain.OneOf(&v, fmt.Sprintf("urgency_met[%d]", i), u, domain.Urgencies)
	}
	v.Check(p.MinRegions >= 1, "min_regions", "must be at least 1")
	v.Check(p.MinCustomers >= 1, "min_customers", "must be at least 1")
	v.Check(p.MinCriteria >= 1 && p.MinCriteria <= 4, "min_criteria", "must be between 1 and 4")
	return v.Err()
}

// Facts are what classification looks at: the declared criteria and the affected components' flags.
type Facts struct {
	Criteria domain.Criteria
	// ControlPlane names the affected components marked control_plane.
	ControlPlane []string
	// Core names the affected components marked core.
	Core []string
}

// FactsOf gathers the facts of criteria and the affected components.
func FactsOf(c domain.Criteria, comps []domain.Component) Facts {
	f := Facts{Criteria: c}
	for _, x := range comps {
		if x.ControlPlane {
			f.ControlPlane = append(f.ControlPlane, x.Slug)
		}
		if x.Core {
			f.Core = append(f.Core, x.Slug)
		}
	}
	return f
}

// Evaluate applies the policy to the facts. It never fails: invalid criteria are the caller's to refuse first.
func Evaluate(p Policy, f Facts) domain.Classification {
	c := domain.Classification{PolicyVersion: p.Version}
	cr := f.Criteria

	if slices.Contains(p.SeverityMet, cr.Severity) {
		c.Severity = met("severity %s", cr.Severity)
	} else {
		c.Severity = notMet("severity %s is below %s", cr.Severity, joinT(p.SeverityMet))
	}

	c.Scope = scope(p, cr.Scope, f.ControlPlane)

	if len(cr.BusinessImpact) > 0 {
		c.BusinessImpact = met("business impact: %s", joinT(cr.BusinessImpact))
	} else {
		c.BusinessImpact = notMet("no business impact declared")
	}

	if slices.Contains(p.UrgencyMet, cr.Urgency) {
		c.Urgency = met("urgency %s", cr.Urgency)
	} else {
		c.Urgency = notMet("urgency %s is below %s", cr.Urgency, joinT(p.UrgencyMet))
	}

	for _, r := range []domain.CriterionResult{c.Severity, c.Scope, c.BusinessImpact, c.Urgency} {
		if r.Met {
			c.CriteriaMet++
		}
	}
	switch {
	case p.MajorOnSeverity && c.Severity.Met:
		c.Kind = domain.KindMajor
		c.Reason = "major: the severity criterion is met"
	case c.CriteriaMet >= p.MinCriteria:
		c.Kind = domain.KindMajor
		c.Reason = fmt.Sprintf("major: %d of 4 criteria are met (%d needed)", c.CriteriaMet, p.MinCriteria)
	default:
		c.Kind = domain.KindStandard
		c.Reason = fmt.Sprintf("standard: %d of 4 criteria are met (%d needed, or severity)", c.CriteriaMet, p.MinCriteria)
	}
	c.Impact, c.Priority = Priority(cr, c.Scope.Met)
	return c
}

func scope(p Policy, s domain.Scope, controlPlane []string) domain.CriterionResult {
	var why []string
	if s.Global {
		why = append(why, "global")
	}
	if n := len(distinct(s.Regions)); n >= p.MinRegions {
		why = append(why, fmt.Sprintf("%d regions (%s)", n, strings.Join(distinct(s.Regions), ", ")))
	}
	if s.CustomersAffected >= p.MinCustomers {
		why = append(why, fmt.Sprintf("%d customers affected", s.CustomersAffected))
	}
	if p.ControlPlaneMeetsScope && len(controlPlane) > 0 {
		why = append(why, "control plane component affected: "+strings.Join(controlPlane, ", "))
	}
	if len(why) > 0 {
		return domain.CriterionResult{Met: true, Reason: strings.Join(why, "; ")}
	}
	cp := "no control plane component"
	if len(controlPlane) > 0 {
		// The policy does not count control plane components; say so rather than deny they are affected.
		cp = "control plane components do not count under this policy"
	}
	return notMet("not global, %d region(s) (%d needed), %d customers (%d needed), %s",
		len(distinct(s.Regions)), p.MinRegions, s.CustomersAffected, p.MinCustomers, cp)
}

// Priority follows the ITIL impact × urgency matrix. Impact is high for a critical severity or a wide scope, medium
// for a high severity or any business impact, low otherwise; urgency immediate is high, high and normal are medium,
// low is low.
//
//	            urgency high  medium  low
//	impact high         P1    P2      P3
//	       medium       P2    P3      P4
//	       low          P3    P4      P5
func Priority(cr domain.Criteria, scopeMet bool) (impact, priority string) {
	imp := 2 // low
	switch {
	case cr.Severity == domain.SeverityCritical || scopeMet:
		imp = 0
	case cr.Severity == domain.SeverityHigh || len(cr.BusinessImpact) > 0:
		imp = 1
	}
	urg := 1
	switch cr.Urgency {
	case domain.UrgencyImmediate:
		urg = 0
	case domain.UrgencyLow:
		urg = 2
	}
	return []string{"high", "medium", "low"}[imp], fmt.Sprintf("P%d", imp+urg+1)
}

func met(format string, args ...any) domain.CriterionResult {
	return domain.CriterionResult{Met: true, Reason: fmt.Sprintf(format, args...)}
}

func notMet(format string, args ...any) domain.CriterionResult {
	return domain.CriterionResult{Met: false, Reason: fmt.Sprintf(format, args...)}
}

func joinT[T ~string](v []T) string {
	if len(v) == 0 {
		return "none"
	}
	return strings.Join(domain.Strings(v), ", ")
}

func distinct(regions []string) []string {
	var out []string
	for _, r := range regions {
		r = strings.ToLower(strings.TrimSpace(r))
		if r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
