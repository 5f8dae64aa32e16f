package statuspage

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
)

// components makes components with the given number of each status.
func components(counts map[domain.ComponentStatus]int) []Component {
	var out []Component
	for _, s := range domain.ComponentStatuses {
		for i := range counts[s] {
			out = append(out, Component{ID: fmt.Sprintf("%s-%d", s, i), Slug: fmt.Sprintf("%s-%d", s, i), Status: s})
		}
	}
	return out
}

// incidentThrough is an incident whose updates passed through statuses, oldest first; its Status is the last one.
func incidentThrough(statuses ...domain.UpdateStatus) Incident {
	in := Incident{ID: "inc", Key: "INC-1", Name: "Checkout slow"}
	for i, s := range statuses {
		in.Updates = append([]Update{{ID: fmt.Sprint(i), Status: s}}, in.Updates...)
		in.Status = s
	}
	return in
}

func TestOverallFollowsThePrecedenceTable(t *testing.T) {
	t.Parallel()
	const (
		op    = domain.ComponentOperational
		maint = domain.ComponentUnderMaintenance
		deg   = domain.ComponentDegradedPerformance
		part  = domain.ComponentPartialOutage
		major = domain.ComponentMajorOutage
	)
	active := incidentThrough(domain.UpdateInvestigating, domain.UpdateMonitoring)
	intermediates := func(n int) Incident {
		s := []domain.UpdateStatus{domain.UpdateInvestigating}
		for range n {
			s = append(s, domain.UpdateIdentified)
		}
		return incidentThrough(append(s, domain.UpdateResolved)...)
	}

	tests := []struct {
		name       string
		components map[domain.ComponentStatus]int
		incidents  []Incident
		want       Indicator
	}{
		{"nothing at all", nil, nil, IndicatorNone},
		{"all operational", map[domain.ComponentStatus]int{op: 5}, nil, IndicatorNone},
		{"degraded is minor", map[domain.ComponentStatus]int{op: 5, deg: 1}, nil, IndicatorMinor},
		{"partial outage is major", map[domain.ComponentStatus]int{deg: 3, part: 1}, nil, IndicatorMajor},
		{"major outage is critical", map[domain.ComponentStatus]int{deg: 1, part: 1, major: 1}, nil, IndicatorCritical},

		// BC-09 A: maintenance is never counted as degradation or outage.
		{"BC-09 A: 11 under maintenance, 20 operational", map[domain.ComponentStatus]int{maint: 11, op: 20}, nil,
			IndicatorMaintenance},
		// BC-09 B: maintenance never hides a real outage, nor dilutes it.
		{"BC-09 B: 25 under maintenance, 5 major outage, 1 operational",
			map[domain.ComponentStatus]int{maint: 25, major: 5, op: 1}, nil, IndicatorCritical},
		{"partial outage beside maintenance", map[domain.ComponentStatus]int{maint: 3, part: 1}, nil, IndicatorMajor},
		{"degraded beside maintenance", map[domain.ComponentStatus]int{maint: 3, deg: 1}, nil, IndicatorMinor},
		{"everything under maintenance", map[domain.ComponentStatus]int{maint: 4}, nil, IndicatorMaintenance},
		// BC-09 C: the maintenance label does not override an active incident.
		{"BC-09 C: 30 operational, 1 under maintenance, an active incident in monitoring",
			map[domain.ComponentStatus]int{op: 30, maint: 1}, []Incident{active}, IndicatorMinor},
		{"an active incident with no degraded component", map[domain.ComponentStatus]int{op: 3}, []Incident{active},
			IndicatorMinor},
		{"an active incident does not lower a worse component status",
			map[domain.ComponentStatus]int{major: 1}, []Incident{active}, IndicatorCritical},

		// BC-07: a resolved incident never counts, whatever the number of intermediate updates.
		{"BC-07: resolved with 0 intermediate updates", map[domain.ComponentStatus]int{op: 1},
			[]Incident{intermediates(0)}, IndicatorNone},
		{"BC-07: resolved with 1 intermediate update", map[domain.ComponentStatus]int{op: 1},
			[]Incident{intermediates(1)}, IndicatorNone},
		{"BC-07: resolved with 5 intermediate updates", map[domain.ComponentStatus]int{op: 1},
			[]Incident{intermediates(5)}, IndicatorNone},
		{"BC-07: resolved incident beside maintenance", map[domain.ComponentStatus]int{op: 1, maint: 1},
			[]Incident{intermediates(1)}, IndicatorMaintenance},
		{"a reopened incident counts again", map[domain.ComponentStatus]int{op: 1},
			[]Incident{incidentThrough(domain.UpdateInvestigating, domain.UpdateResolved, domain.UpdateInvestigating)},
			IndicatorMinor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Overall(components(tt.components), tt.incidents)
			require.Equal(t, tt.want, got.Indicator)
			require.Equal(t, tt.want.Description(), got.Description)
		})
	}
}

func TestIndicatorDescriptionsAreStatuspages(t *testing.T) {
	t.Parallel()
	want := map[Indicator]string{
		IndicatorNone:        "All Systems Operational",
		IndicatorMinor:       "Minor Service Outage",
		IndicatorMajor:       "Partial System Outage",
		IndicatorCritical:    "Major System Outage",
		IndicatorMaintenance: "Service Under Maintenance",
	}
	for ind, desc := range want {
		require.Equal(t, desc, ind.Description(), ind)
	}
}
