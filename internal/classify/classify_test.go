package classify_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/classify"
	"github.com/mimhq/mim/internal/domain"
)

// quiet meets no criterion under the default policy: every test starts from it and changes what it is about.
func quiet() classify.Facts {
	return classify.Facts{Criteria: domain.Criteria{
		Severity: domain.SeverityMedium,
		Urgency:  domain.UrgencyNormal,
	}}
}

type criterion string

const (
	severity       criterion = "severity"
	scope          criterion = "scope"
	businessImpact criterion = "business_impact"
	urgency        criterion = "urgency"
)

func result(c domain.Classification, cr criterion) domain.CriterionResult {
	switch cr {
	case severity:
		return c.Severity
	case scope:
		return c.Scope
	case businessImpact:
		return c.BusinessImpact
	case urgency:
		return c.Urgency
	}
	panic("unknown criterion " + cr)
}

func TestEvaluateMeetsEachCriterionExactlyAtTheDefaultPolicyBoundary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		facts     func(f *classify.Facts)
		criterion criterion
		wantMet   bool
		// wantKind follows from the rule: severity alone makes a major incident, any other single criterion does not.
		wantKind domain.Kind
	}{
		{"severity critical is met and alone makes the incident major", func(f *classify.Facts) {
			f.Criteria.Severity = domain.SeverityCritical
		}, severity, true, domain.KindMajor},
		{"severity high is not met", func(f *classify.Facts) {
			f.Criteria.Severity = domain.SeverityHigh
		}, severity, false, domain.KindStandard},
		{"severity low is not met", func(f *classify.Facts) {
			f.Criteria.Severity = domain.SeverityLow
		}, severity, false, domain.KindStandard},

		{"a global scope is met", func(f *classify.Facts) {
			f.Criteria.Scope.Global = true
		}, scope, true, domain.KindStandard},
		{"exactly two regions meet scope", func(f *classify.Facts) {
			f.Criteria.Scope.Regions = []string{"eu-west", "us-east"}
		}, scope, true, domain.KindStandard},
		{"one region does not meet scope", func(f *classify.Facts) {
			f.Criteria.Scope.Regions = []string{"eu-west"}
		}, scope, false, domain.KindStandard},
		{"a region named twice in different case and spacing counts once", func(f *classify.Facts) {
			f.Criteria.Scope.Regions = []string{"eu-west", "EU-West", " eu-west ", ""}
		}, scope, false, domain.KindStandard},
		{"two distinct regions among duplicates meet scope", func(f *classify.Facts) {
			f.Criteria.Scope.Regions = []string{"eu-west", "EU-WEST", "us-east"}
		}, scope, true, domain.KindStandard},
		{"99 customers affected do not meet scope", func(f *classify.Facts) {
			f.Criteria.Scope.CustomersAffected = 99
		}, scope, false, domain.KindStandard},
		{"100 customers affected meet scope", func(f *classify.Facts) {
			f.Criteria.Scope.CustomersAffected = 100
		}, scope, true, domain.KindStandard},
		{"an affected control plane component meets scope", func(f *classify.Facts) {
			f.ControlPlane = []string{"auth"}
		}, scope, true, domain.KindStandard},
		{"an affected core component alone does not meet scope", func(f *classify.Facts) {
			f.Core = []string{"api"}
		}, scope, false, domain.KindStandard},

		{"no business impact is not met", func(f *classify.Facts) {
			f.Criteria.BusinessImpact = []domain.BusinessImpact{}
		}, businessImpact, false, domain.KindStandard},
		{"one business impact is met", func(f *classify.Facts) {
			f.Criteria.BusinessImpact = []domain.BusinessImpact{domain.ImpactRegulatory}
		}, businessImpact, true, domain.KindStandard},

		{"urgency immediate is met", func(f *classify.Facts) {
			f.Criteria.Urgency = domain.UrgencyImmediate
		}, urgency, true, domain.KindStandard},
		{"urgency high is not met", func(f *classify.Facts) {
			f.Criteria.Urgency = domain.UrgencyHigh
		}, urgency, false, domain.KindStandard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := quiet()
			tt.facts(&f)

			c := classify.Evaluate(classify.DefaultPolicy(), f)

			r := result(c, tt.criterion)
			require.Equal(t, tt.wantMet, r.Met, "reason: %s", r.Reason)
			require.NotEmpty(t, r.Reason)
			wantCount := 0
			if tt.wantMet {
				wantCount = 1
			}
			require.Equal(t, wantCount, c.CriteriaMet)
			require.Equal(t, tt.wantKind, c.Kind, "reason: %s", c.Reason)
			require.Equal(t, tt.wantKind, c.EffectiveKind())
		})
	}
}

func TestEvaluateMakesAnIncidentMajorOnSeverityOrTwoCriteria(t *testing.T) {
	t.Parallel()
	var (
		critical  = func(f *classify.Facts) { f.Criteria.Severity = domain.SeverityCritical }
		global    = func(f *classify.Facts) { f.Criteria.Scope.Global = true }
		financial = func(f *classify.Facts) {
			f.Criteria.BusinessImpact = []domain.BusinessImpact{domain.ImpactFinancial}
		}
		immediate = func(f *classify.Facts) { f.Criteria.Urgency = domain.UrgencyImmediate }
	)
	tests := []struct {
		name      string
		facts     []func(*classify.Facts)
		wantMet   int
		wantKind  domain.Kind
		wantCause string
	}{
		{"no criterion is standard", nil, 0, domain.KindStandard,
			"standard: 0 of 4 criteria are met (2 needed, or severity)"},
		{"severity alone is major", []func(*classify.Facts){critical}, 1, domain.KindMajor,
			"major: the severity criterion is met"},
		{"scope alone is standard", []func(*classify.Facts){global}, 1, domain.KindStandard,
			"standard: 1 of 4 criteria are met (2 needed, or severity)"},
		{"business impact alone is standard", []func(*classify.Facts){financial}, 1, domain.KindStandard,
			"standard: 1 of 4 criteria are met (2 needed, or severity)"},
		{"urgency alone is standard", []func(*classify.Facts){immediate}, 1, domain.KindStandard,
			"standard: 1 of 4 criteria are met (2 needed, or severity)"},
		{"scope and urgency are major", []func(*classify.Facts){global, immediate}, 2, domain.KindMajor,
			"major: 2 of 4 criteria are met (2 needed)"},
		{"scope and business impact are major", []func(*classify.Facts){global, financial}, 2, domain.KindMajor,
			"major: 2 of 4 criteria are met (2 needed)"},
		{"business impact and urgency are major", []func(*classify.Facts){financial, immediate}, 2, domain.KindMajor,
			"major: 2 of 4 criteria are met (2 needed)"},
		{"all four criteria are major on severity", []func(*classify.Facts){critical, global, financial, immediate},
			4, domain.KindMajor, "major: the severity criterion is met"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := quiet()
			for _, set := range tt.facts {
				set(&f)
			}

			c := classify.Evaluate(classify.DefaultPolicy(), f)

			require.Equal(t, tt.wantMet, c.CriteriaMet)
			require.Equal(t, tt.wantKind, c.Kind)
			require.Equal(t, tt.wantCause, c.Reason)
		})
	}
}

func TestEvaluateRecordsThePolicyVersionAndAReasonForEveryCriterion(t *testing.T) {
	t.Parallel()
	facts := []classify.Facts{
		quiet(),
		{Criteria: domain.Criteria{
			Severity:       domain.SeverityCritical,
			Scope:          domain.Scope{CustomersAffected: 5000, Regions: []string{"eu", "us"}, Global: true},
			BusinessImpact: []domain.BusinessImpact{domain.ImpactFinancial, domain.ImpactReputational},
			Urgency:        domain.UrgencyImmediate,
		}, ControlPlane: []string{"auth"}},
		{}, // nothing declared at all still explains itself
	}
	for _, version := range []int{1, 7} {
		p := classify.DefaultPolicy()
		p.Version = version
		for _, f := range facts {
			c := classify.Evaluate(p, f)

			require.Equal(t, version, c.PolicyVersion)
			require.NotEmpty(t, c.Reason)
			require.NotEmpty(t, c.Impact)
			require.NotEmpty(t, c.Priority)
			for _, cr := range []criterion{severity, scope, businessImpact, urgency} {
				require.NotEmpty(t, result(c, cr).Reason, "criterion %s", cr)
			}
			require.Nil(t, c.Override)
		}
	}
}

func TestEvaluateExplainsWhyScopeIsMet(t *testing.T) {
	t.Parallel()
	f := quiet()
	f.Criteria.Scope = domain.Scope{CustomersAffected: 150, Regions: []string{"EU", "us"}, Global: true}
	f.ControlPlane = []string{"auth"}

	c := classify.Evaluate(classify.DefaultPolicy(), f)

	require.True(t, c.Scope.Met)
	require.Equal(t, "global; 2 regions (eu, us); 150 customers affected; control plane component affected: auth",
		c.Scope.Reason)
}

func TestPriorityFollowsTheImpactUrgencyMatrix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		criteria     domain.Criteria
		scopeMet     bool
		wantImpact   string
		wantPriority string
	}{
		// impact high: critical severity or a wide scope
		{"critical and immediate is P1", domain.Criteria{Severity: domain.SeverityCritical, Urgency: domain.UrgencyImmediate}, false, "high", "P1"},
		{"wide scope and immediate is P1", domain.Criteria{Severity: domain.SeverityLow, Urgency: domain.UrgencyImmediate}, true, "high", "P1"},
		{"critical and high urgency is P2", domain.Criteria{Severity: domain.SeverityCritical, Urgency: domain.UrgencyHigh}, false, "high", "P2"},
		{"critical and normal urgency is P2", domain.Criteria{Severity: domain.SeverityCritical, Urgency: domain.UrgencyNormal}, false, "high", "P2"},
		{"critical and low urgency is P3", domain.Criteria{Severity: domain.SeverityCritical, Urgency: domain.UrgencyLow}, false, "high", "P3"},
		// impact medium: high severity or any business impact
		{"high severity and immediate is P2", domain.Criteria{Severity: domain.SeverityHigh, Urgency: domain.UrgencyImmediate}, false, "medium", "P2"},
		{"business impact and immediate is P2", domain.Criteria{Severity: domain.SeverityLow, Urgency: domain.UrgencyImmediate,
			BusinessImpact: []domain.BusinessImpact{domain.ImpactSecurityEnforcement}}, false, "medium", "P2"},
		{"high severity and high urgency is P3", domain.Criteria{Severity: domain.SeverityHigh, Urgency: domain.UrgencyHigh}, false, "medium", "P3"},
		{"high severity and normal urgency is P3", domain.Criteria{Severity: domain.SeverityHigh, Urgency: domain.UrgencyNormal}, false, "medium", "P3"},
		{"high severity and low urgency is P4", domain.Criteria{Severity: domain.SeverityHigh, Urgency: domain.UrgencyLow}, false, "medium", "P4"},
		// impact low: everything else
		{"medium severity and immediate is P3", domain.Criteria{Severity: domain.SeverityMedium, Urgency: domain.UrgencyImmediate}, false, "low", "P3"},
		{"medium severity and high urgency is P4", domain.Criteria{Severity: domain.SeverityMedium, Urgency: domain.UrgencyHigh}, false, "low", "P4"},
		{"low severity and normal urgency is P4", domain.Criteria{Severity: domain.SeverityLow, Urgency: domain.UrgencyNormal}, false, "low", "P4"},
		{"low severity and low urgency is P5", domain.Criteria{Severity: domain.SeverityLow, Urgency: domain.UrgencyLow}, false, "low", "P5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			impact, priority := classify.Priority(tt.criteria, tt.scopeMet)

			require.Equal(t, tt.wantImpact, impact)
			require.Equal(t, tt.wantPriority, priority)
		})
	}
}

func TestEvaluateShowsThePriorityBesideTheVerdict(t *testing.T) {
	t.Parallel()
	f := quiet()
	f.Criteria.Urgency = domain.UrgencyImmediate
	f.Criteria.Scope.Regions = []string{"eu", "us"}

	c := classify.Evaluate(classify.DefaultPolicy(), f)

	require.Equal(t, domain.KindMajor, c.Kind)
	require.Equal(t, "high", c.Impact)
	require.Equal(t, "P1", c.Priority)
}

func TestEvaluateFollowsAnAdminsPolicyInsteadOfTheDefault(t *testing.T) {
	t.Parallel()
	critical := quiet()
	critical.Criteria.Severity = domain.SeverityCritical

	twoCriteria := quiet()
	twoCriteria.Criteria.Scope.Global = true
	twoCriteria.Criteria.Urgency = domain.UrgencyImmediate

	threeCriteria := twoCriteria
	threeCriteria.Criteria.BusinessImpact = []domain.BusinessImpact{domain.ImpactFinancial}

	high := quiet()
	high.Criteria.Severity = domain.SeverityHigh

	oneRegionControlPlane := quiet()
	oneRegionControlPlane.Criteria.Scope.Regions = []string{"eu"}
	oneRegionControlPlane.ControlPlane = []string{"auth"}
	oneRegionControlPlane.Criteria.Urgency = domain.UrgencyImmediate

	strict := func(p *classify.Policy) {
		p.Version = 2
		p.MinCriteria = 3
		p.MajorOnSeverity = false
	}
	tests := []struct {
		name        string
		facts       classify.Facts
		policy      func(*classify.Policy)
		wantDefault domain.Kind
		wantPolicy  domain.Kind
	}{
		{"severity alone no longer makes a major incident", critical, strict, domain.KindMajor, domain.KindStandard},
		{"two criteria no longer make a major incident", twoCriteria, strict, domain.KindMajor, domain.KindStandard},
		{"three criteria make a major incident under the stricter policy", threeCriteria, strict,
			domain.KindMajor, domain.KindMajor},
		{"high severity meets severity when the policy lists it", high, func(p *classify.Policy) {
			p.SeverityMet = []domain.Severity{domain.SeverityCritical, domain.SeverityHigh}
		}, domain.KindStandard, domain.KindMajor},
		{"one region with a control plane component no longer meets scope when that flag is off",
			oneRegionControlPlane, func(p *classify.Policy) {
				p.ControlPlaneMeetsScope = false
			}, domain.KindMajor, domain.KindStandard},
		{"a single region meets scope when one region is enough", func() classify.Facts {
			f := quiet()
			f.Criteria.Scope.Regions = []string{"eu"}
			f.Criteria.Urgency = domain.UrgencyImmediate
			return f
		}(), func(p *classify.Policy) { p.MinRegions = 1 }, domain.KindStandard, domain.KindMajor},
		{"a single criterion is enough when the policy says one", func() classify.Facts {
			f := quiet()
			f.Criteria.Scope.CustomersAffected = 20
			return f
		}(), func(p *classify.Policy) {
			p.MinCriteria = 1
			p.MinCustomers = 10
		}, domain.KindStandard, domain.KindMajor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := classify.DefaultPolicy()
			tt.policy(&p)
			require.NoError(t, p.Validate())

			require.Equal(t, tt.wantDefault, classify.Evaluate(classify.DefaultPolicy(), tt.facts).Kind)
			c := classify.Evaluate(p, tt.facts)
			require.Equal(t, tt.wantPolicy, c.Kind, "reason: %s", c.Reason)
			require.Equal(t, p.Version, c.PolicyVersion)
		})
	}
}

func TestDefaultPolicyIsValid(t *testing.T) {
	t.Parallel()
	require.NoError(t, classify.DefaultPolicy().Validate())
}

func TestPolicyValidateRejectsValuesThatCannotDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		change    func(*classify.Policy)
		wantField string
	}{
		{"an unknown severity", func(p *classify.Policy) {
			p.SeverityMet = []domain.Severity{domain.SeverityCritical, "catastrophic"}
		}, "severity_met[1]"},
		{"an empty severity", func(p *classify.Policy) { p.SeverityMet = []domain.Severity{""} }, "severity_met[0]"},
		{"an unknown urgency", func(p *classify.Policy) { p.UrgencyMet = []domain.Urgency{"asap"} }, "urgency_met[0]"},
		{"zero regions", func(p *classify.Policy) { p.MinRegions = 0 }, "min_regions"},
		{"negative regions", func(p *classify.Policy) { p.MinRegions = -2 }, "min_regions"},
		{"zero customers", func(p *classify.Policy) { p.MinCustomers = 0 }, "min_customers"},
		{"zero criteria", func(p *classify.Policy) { p.MinCriteria = 0 }, "min_criteria"},
		{"five criteria of four", func(p *classify.Policy) { p.MinCriteria = 5 }, "min_criteria"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := classify.DefaultPolicy()
			tt.change(&p)

			err := p.Validate()

			require.Error(t, err)
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			require.Equal(t, domain.ErrInvalid, de.Kind)
			require.Equal(t, "validation_failed", de.Code)
			require.Len(t, de.Fields, 1)
			require.Equal(t, tt.wantField, de.Fields[0].Field)
		})
	}
}

func TestPolicyValidateNamesEveryBadField(t *testing.T) {
	t.Parallel()
	p := classify.Policy{SeverityMet: []domain.Severity{"x"}, UrgencyMet: []domain.Urgency{"y"}}

	err := p.Validate()

	var de *domain.Error
	require.ErrorAs(t, err, &de)
	fields := make([]string, len(de.Fields))
	for i, f := range de.Fields {
		fields[i] = f.Field
	}
	require.Equal(t, []string{"severity_met[0]", "urgency_met[0]", "min_regions", "min_customers", "min_criteria"}, fields)
	require.Equal(t, domain.Strings(domain.Severities), de.Fields[0].Allowed)
}

func TestEvaluateExplainsWhyScopeIsNotMet(t *testing.T) {
	t.Parallel()
	noControlPlane := classify.DefaultPolicy()
	noControlPlane.ControlPlaneMeetsScope = false
	tests := []struct {
		name       string
		policy     classify.Policy
		facts      classify.Facts
		wantReason string
	}{
		{"nothing wide is affected", classify.DefaultPolicy(), classify.Facts{Criteria: domain.Criteria{
			Scope: domain.Scope{CustomersAffected: 99, Regions: []string{"eu", "EU"}},
		}}, "not global, 1 region(s) (2 needed), 99 customers (100 needed), no control plane component"},
		{"a control plane component the policy does not count", noControlPlane, classify.Facts{
			ControlPlane: []string{"auth"},
		}, "not global, 0 region(s) (2 needed), 0 customers (100 needed), " +
			"control plane components do not count under this policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			c := classify.Evaluate(tt.policy, tt.facts)

			require.False(t, c.Scope.Met)
			require.Equal(t, tt.wantReason, c.Scope.Reason)
		})
	}
}
