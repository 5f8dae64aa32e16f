package statuspage

import "github.com/mimhq/mim/internal/domain"

// Indicator is the overall status of the page, as Statuspage's status.indicator names it.
type Indicator string

// Indicators, from best to worst; maintenance stands apart.
const (
	IndicatorNone        Indicator = "none"
	IndicatorMinor       Indicator = "minor"
	IndicatorMajor       Indicator = "major"
	IndicatorCritical    Indicator = "critical"
	IndicatorMaintenance Indicator = "maintenance"
)

// Description is the sentence Statuspage shows for the indicator.
func (i Indicator) Description() string {
	switch i {
	case IndicatorMinor:
		return "Minor Service Outage"
	case IndicatorMajor:
		return "Partial System Outage"
	case IndicatorCritical:
		return "Major System Outage"
	case IndicatorMaintenance:
		return "Service Under Maintenance"
	}
	return "All Systems Operational"
}

// Status is the overall status of the page: the status object of /api/v2/status.json and the page's banner.
type Status struct {
	Indicator   Indicator
	Description string
}

// Overall computes the page's overall status. The precedence, first match wins:
//
//  1. The worst status among the components that are not under maintenance decides: major_outage → critical
//     ("Major System Outage"), partial_outage → major ("Partial System Outage"), degraded_performance → minor
//     ("Minor Service Outage"). Components under maintenance are left out, so planned work neither raises the
//     status nor dilutes a real outage elsewhere.
//  2. An unresolved incident makes it at least minor, even when it marked no component degraded: customers were told
//     something is wrong, and the banner must not contradict the incident below it.
//  3. A component under maintenance, with nothing degraded and no unresolved incident → maintenance.
//  4. Otherwise none ("All Systems Operational").
//
// Resolved incidents never count.
func Overall(components []Component, incidents []Incident) Status {
	worst := domain.ComponentOperational
	maintenance := false
	for _, c := range components {
		if c.Status == domain.ComponentUnderMaintenance {
			maintenance = true
			continue
		}
		worst = domain.Worse(worst, c.Status)
	}
	var ind Indicator
	switch {
	case worst == domain.ComponentMajorOutage:
		ind = IndicatorCritical
	case worst == domain.ComponentPartialOutage:
		ind = IndicatorMajor
	case worst == domain.ComponentDegradedPerformance:
		ind = IndicatorMinor
	case anyUnresolved(incidents):
		ind = IndicatorMinor
	case maintenance:
		ind = IndicatorMaintenance
	default:
		ind = IndicatorNone
	}
	return Status{Indicator: ind, Description: ind.Description()}
}

// unresolved reports whether an incident is still open to customers. Status is the status of the latest published
// update, so an incident reopened by a later update counts again even if an older resolution left ResolvedAt set.
func unresolved(in Incident) bool { return in.Status != domain.UpdateResolved }

func anyUnresolved(incidents []Incident) bool {
	for _, in := range incidents {
		if unresolved(in) {
			return true
		}
	}
	return false
}
