package web

import (
	"strconv"
	"strings"
)

// StatusPage is the public status page, shaped like the screen: banner, active incidents, components, recently
// resolved incidents.
type StatusPage struct {
	// Name is the page's name, its heading.
	Name string
	// SubscribeURL is the live server's subscription form: absolute, so a static copy elsewhere links to it too.
	SubscribeURL string
	Banner       StatusBanner
	// Active are the unresolved incidents, newest first.
	Active []StatusIncident
	// InProgress are the maintenances whose window is open, soonest first.
	InProgress []StatusMaintenance
	// Groups are the components in display order. A group with no Name holds components that belong to no group.
	Groups []StatusGroup
	// UptimeLegend explains the components' uptime histories; nil when none has one.
	UptimeLegend *StatusUptimeLegend
	// Upcoming are the maintenances whose next window is still to come, soonest first.
	Upcoming []StatusMaintenance
	// Resolved are the recently resolved incidents, most recently resolved first.
	Resolved []StatusIncident
	// UpdatedAt is when anything on the page last changed.
	UpdatedAt StatusTime
	// Delayed is set when the page could not be brought up to date (the database cannot be read): it shows the
	// status as of that time, and says so.
	Delayed *StatusTime
}

// StatusBanner is the overall status.
type StatusBanner struct {
	// Indicator is the Statuspage indicator: none, minor, major, critical or maintenance.
	Indicator string
	// Text is the status in words, e.g. "All Systems Operational".
	Text string
}

// StatusGroup is a group of components under its name.
type StatusGroup struct {
	Name string
	// Status is the worst status of the group's components.
	Status     StatusBadge
	Components []StatusComponent
}

// StatusComponent is one component and its current status.
type StatusComponent struct {
	Name        string
	Description string
	Status      StatusBadge
	// Uptime is the component's uptime history; nil when there is none to show.
	Uptime *StatusUptime
}

// StatusBadge is a status as a machine code (for the style and the icon) and in words (for the reader).
type StatusBadge struct {
	// Code is a component status (operational, degraded_performance, partial_outage, major_outage,
	// under_maintenance) or an update status (investigating, identified, monitoring, resolved).
	Code string
	Text string
}

// StatusIncident is an incident with its published updates.
type StatusIncident struct {
	Key    string
	Name   string
	Status StatusBadge
	// Impact is the incident's impact in words, e.g. "Major impact"; empty when none.
	Impact  string
	Started StatusTime
	// Resolved is when the incident was resolved; nil while it is not.
	Resolved *StatusTime
	// Components are the names of the components it affects.
	Components []string
	// Updates are all published updates, newest first.
	Updates []StatusUpdate
}

// StatusUpdate is one published update.
type StatusUpdate struct {
	ID     string
	Status StatusBadge
	// Body is the update's Markdown rendered to HTML and sanitised.
	Body SanitizedHTML
	// Published is when this update was published: the time shown next to its text.
	Published StatusTime
}

// StatusMaintenance is a scheduled maintenance with the window that concerns the reader: the one in progress, or
// the next.
type StatusMaintenance struct {
	ID   string
	Name string
	// Status is scheduled, in_progress or completed, in words.
	Status StatusBadge
	// Body is the maintenance's Markdown rendered to HTML and sanitised.
	Body SanitizedHTML
	// Starts and Ends bound the window, in the page's zone with the zone named.
	Starts StatusTime
	Ends   StatusTime
	// Recurrence says how a recurring maintenance repeats, in its own zone with the zone named; empty for a one-off.
	Recurrence string
	// Components are the names of the components the work covers.
	Components []string
}

// StatusTime is an instant as the page shows it.
type StatusTime struct {
	// Datetime is the machine-readable instant (RFC 3339), for the datetime attribute.
	Datetime string
	// Text is the instant for a reader, in the page's zone with the zone named, e.g. "5 May 2026, 09:30 UTC".
	Text string
}

// SanitizedHTML is HTML that has been through the Markdown sanitiser and may be written to a page unescaped. Nothing
// else may be converted to it.
type SanitizedHTML string

// statusIcon is the symbol shown beside a status, so it never rests on colour alone. The words always accompany it.
func statusIcon(code string) string {
	switch code {
	case "none", "operational", "resolved":
		return "✓"
	case "minor", "degraded_performance", "investigating", "identified", "monitoring":
		return "!"
	case "major", "partial_outage":
		return "◐"
	case "critical", "major_outage":
		return "✕"
	case "maintenance", "under_maintenance", "scheduled", "in_progress":
		return "⚙\uFE0E"
	case "completed":
		return "✓"
	}
	return "•"
}

// updateCount labels the collapsed list of a resolved incident's updates.
func updateCount(n int) string {
	if n == 1 {
		return "1 update"
	}
	return strconv.Itoa(n) + " updates"
}

// joinNames lists names for a reader: "API, Checkout".
func joinNames(names []string) string { return strings.Join(names, ", ") }
