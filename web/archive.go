package web

// IncidentPage is an incident's public permalink: the incident with all its published updates.
type IncidentPage struct {
	// Name is the status page's name.
	Name     string
	Incident StatusIncident
	// Components are the names of the components the incident affects.
	Components []string
	// Duration is how long the incident lasted, from its first published update to its resolution; nil while it
	// is not resolved.
	Duration *StatusDuration
	// Reports are the customer-safe Post Incident Report and Root Cause Analysis, when published as such.
	Reports []IncidentReport
}

// IncidentReport is a customer-safe post-incident report on a permalink.
type IncidentReport struct {
	Kind    string // pir or rca
	Heading string
	// Body is the report's Markdown rendered to HTML and sanitised.
	Body      SanitizedHTML
	Published StatusTime
}

// HistoryPage is one page of the incident history: a few calendar months, newest first.
type HistoryPage struct {
	// Name is the status page's name.
	Name string
	// Span names the months of the page, e.g. "March – May 2026".
	Span   string
	Months []HistoryMonth
	// Truncated is set when the months held more incidents than the page shows.
	Truncated bool
	// Newer and Older link to the nearest pages with incidents, newer and older; empty when there is none.
	Newer, Older string
}

// HistoryMonth is one calendar month of the history, in the page's zone.
type HistoryMonth struct {
	// ID is the month as YYYY-MM, for its anchor.
	ID string
	// Name is the month for a reader, e.g. "May 2026".
	Name string
	// Incidents are those that went public in the month, newest first.
	Incidents []HistoryIncident
}

// HistoryIncident is an incident in the history: its final status and dates, linking to its permalink.
type HistoryIncident struct {
	Key  string
	Name string
	// Status is the status of the incident's latest published update.
	Status StatusBadge
	// Impact is the incident's impact in words; empty when none.
	Impact  string
	Started StatusTime
	// Resolved and Duration are set once the incident is resolved.
	Resolved *StatusTime
	Duration *StatusDuration
}

// StatusDuration is a length of time as the page shows it.
type StatusDuration struct {
	// Datetime is the duration in ISO 8601 (PT2H5M), for the datetime attribute.
	Datetime string
	// Text is the duration for a reader, e.g. "2 hours 5 minutes".
	Text string
}

// incidentHref is the path of an incident's permalink.
func incidentHref(key string) string { return "/incidents/" + key }
