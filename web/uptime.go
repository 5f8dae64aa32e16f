package web

// StatusUptime is a component's uptime history: one mark per day, oldest first, and the percentage over them.
type StatusUptime struct {
	// Label names the list of days for assistive technology, e.g. "API: uptime by day, last 90 days, oldest first".
	Label string
	// Percent is the uptime in words, e.g. "99.95 % uptime", or "No uptime data yet".
	Percent string
	// Summary says what the days held, e.g. "Partial or major outage on 2 of the last 90 days".
	Summary string
	Days    []StatusDay
	// From labels the bar's first day, e.g. "90 days ago".
	From string
}

// StatusDay is one day's mark.
type StatusDay struct {
	// Code is the day's worst status (a component status), or no_data before the component existed: the mark's
	// style.
	Code string
	// Date is the date, YYYY-MM-DD, and DateText the same for a reader, e.g. "6 May 2026 (UTC)".
	Date     string
	DateText string
	// Text says what happened, in words: the worst status, the time in partial and major outage, the incidents.
	Text string
}

// StatusUptimeLegend explains the marks and the percentage, once for the page.
type StatusUptimeLegend struct {
	// Rule is the percentage's rule in words.
	Rule string
}

// uptimeLegendItems are the marks a day can have, worst last, each with its symbol and words.
var uptimeLegendItems = []StatusBadge{
	{Code: "no_data", Text: "No data (before the component existed)"},
	{Code: "operational", Text: "Operational"},
	{Code: "under_maintenance", Text: "Under maintenance (counts as up)"},
	{Code: "degraded_performance", Text: "Degraded performance (counts as up)"},
	{Code: "partial_outage", Text: "Partial outage"},
	{Code: "major_outage", Text: "Major outage"},
}

// uptimeIcon is the symbol of a kind of day in the legend.
func uptimeIcon(code string) string {
	if code == "no_data" {
		return "–"
	}
	return statusIcon(code)
}
