package reports

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/web"
)

// Pages serves the reports page and its CSV download to signed-in users. The responder UI mounts them (at
// /app/reports and /app/reports.csv) behind its sign-in; Actor is how they learn who is signed in, and they refuse
// anyone else themselves, so a mistake in mounting shows nothing.
type Pages struct {
	Service *Service
	Actor   func(*http.Request) (domain.Actor, bool)
	// CSVPath is where the CSV handler is mounted, for the page's download link.
	CSVPath string
	Logger  *slog.Logger
	// Layout, when set, puts the page's content inside the caller's layout (the responder UI's web.AppLayout, whose
	// CSP and stylesheet then apply) instead of the page's own document.
	Layout func(r *http.Request, title string) templ.Component
}

// Page renders the reports page for ?from=&to= (the default period when absent; a bad one is said, and the
// default shown).
func (p *Pages) Page(w http.ResponseWriter, r *http.Request) {
	if !p.signedIn(r) {
		http.Error(w, "401 unauthorized: sign in to see reports", http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	var periodErr string
	from, to, err := p.Service.Period(q.Get("from"), q.Get("to"))
	if err != nil {
		periodErr = domain.AsError(err).Message
		from, to, _ = p.Service.Period("", "")
	}
	rep, err := p.Service.Metrics(r.Context(), from, to)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	view := p.view(rep)
	view.Error = periodErr
	var buf bytes.Buffer
	page, ctx := web.ReportsView(view), r.Context()
	if p.Layout != nil {
		page, ctx = p.Layout(r, "Reports"), templ.WithChildren(ctx, web.ReportsContent(view))
	}
	if err := page.Render(ctx, &buf); err != nil {
		p.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if p.Layout == nil {
		// Inside a layout, the layout's own policy (which allows its script) stays.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	}
	if periodErr != "" {
		w.WriteHeader(http.StatusBadRequest)
	}
	_, _ = w.Write(buf.Bytes())
}

// CSV answers the numbers of ?from=&to= as CSV, as GET /api/v1/reports/metrics.csv does for API tokens.
func (p *Pages) CSV(w http.ResponseWriter, r *http.Request) {
	if !p.signedIn(r) {
		http.Error(w, "401 unauthorized: sign in to see reports", http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	from, to, err := p.Service.Period(q.Get("from"), q.Get("to"))
	if err != nil {
		http.Error(w, "400 bad request: "+domain.AsError(err).Message, http.StatusBadRequest)
		return
	}
	rep, err := p.Service.Metrics(r.Context(), from, to)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rep); err != nil {
		p.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+CSVFilename(rep)+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(buf.Bytes())
}

// signedIn reports whether a user is signed in; with no Actor wired, nobody is.
func (p *Pages) signedIn(r *http.Request) bool {
	if p.Actor == nil {
		return false
	}
	_, ok := p.Actor(r)
	return ok
}

// CSVFilename names a report's CSV download by its period.
func CSVFilename(rep Report) string {
	return "mim-metrics-" + rep.From.Format("20060102") + "-" + rep.To.Format("20060102") + ".csv"
}

func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	if p.Logger != nil {
		p.Logger.ErrorContext(r.Context(), "reports page", "err", err)
	}
	http.Error(w, "500 internal error", http.StatusInternalServerError)
}

func (p *Pages) view(rep Report) web.ReportsPage {
	loc := p.Service.location()
	from, to := rep.From.In(loc), rep.To.In(loc)
	// The form's To is inclusive: the last date inside the period.
	lastDay := to.Add(-time.Nanosecond)
	v := web.ReportsPage{From: from.Format(time.DateOnly), To: lastDay.Format(time.DateOnly),
		PeriodText: fmt.Sprintf("Incidents declared from %s to %s (%s).", from.Format("2 Jan 2006 15:04"),
			to.Format("2 Jan 2006 15:04"), loc.String()),
		Method: "Median: the middle value. 90th percentile: nearest rank, the value at rank ⌈0.9 n⌉ of the sorted " +
			"values. Mean: the average, shown beside them because one long outage pulls it."}
	csvQuery := url.Values{"from": {rep.From.Format(time.RFC3339Nano)}, "to": {rep.To.Format(time.RFC3339Nano)}}
	v.CSVURL = p.CSVPath + "?" + csvQuery.Encode()
	v.Totals = []web.ReportStat{
		{Label: "Declared", Value: strconv.Itoa(rep.Incidents)},
		{Label: "Major", Value: strconv.Itoa(rep.Major)},
		{Label: "Standard", Value: strconv.Itoa(rep.Standard)},
		{Label: "Still open", Value: strconv.Itoa(rep.Open)},
	}
	durations := []struct {
		label string
		s     Summary
	}{
		{"Time to acknowledge (detected → IC acknowledged)", rep.TimeToAcknowledge},
		{"Time to declare (detected → declared)", rep.TimeToDeclare},
		{"Time to mobilize (declared → diagnosis)", rep.TimeToMobilize},
		{"Time to restore, MTTR (impact → restored)", rep.TimeToRestore},
	}
	var items []web.DurationItem
	for _, d := range durations {
		v.Durations = append(v.Durations, web.ReportDuration{Label: d.label, Count: strconv.Itoa(d.s.Count),
			Median: HumanSeconds(d.s.MedianSeconds), P90: HumanSeconds(d.s.P90Seconds), Mean: HumanSeconds(d.s.MeanSeconds)})
		items = append(items, web.DurationItem{Label: d.label, Median: orZero(d.s.MedianSeconds), P90: orZero(d.s.P90Seconds),
			MedianText: HumanSeconds(d.s.MedianSeconds), P90Text: HumanSeconds(d.s.P90Seconds)})
	}
	v.Times = web.NewDurationChart("chart-durations", "Median and 90th percentile of each response time",
		"Four measures, each with two bars: the median above, the 90th percentile below, with their values.", items)
	v.Rates = []web.ReportStat{
		{Label: "Updates on cadence", Value: rateText(rep.UpdateCadence.Rate, rep.UpdateCadence.OnTime, rep.UpdateCadence.Due)},
		{Label: "PIRs on time", Value: rateText(rep.PIR.Rate, rep.PIR.OnTime, rep.PIR.OnTime+rep.PIR.Late) + pending(rep.PIR.Pending)},
		{Label: "RCAs on time", Value: rateText(rep.RCA.Rate, rep.RCA.OnTime, rep.RCA.OnTime+rep.RCA.Late) + pending(rep.RCA.Pending)},
	}
	var months []web.BarItem
	monthFormat := "Jan 2006"
	if len(rep.ByMonth) > 12 {
		monthFormat = "Jan 06"
	}
	for _, c := range rep.ByMonth {
		label := c.Key
		if t, err := time.Parse("2006-01", c.Key); err == nil {
			label = t.Format(monthFormat)
		}
		months = append(months, barItem(label, c))
	}
	v.Months = web.NewBarChart("chart-months", "Incidents by month", "Incidents declared in each month of the period, "+
		"major and standard stacked, with each month's total.", months)
	var sev []web.BarItem
	for _, c := range rep.BySeverity {
		sev = append(sev, barItem(c.Key, c))
	}
	v.Severity = web.NewBarChart("chart-severity", "Incidents by severity", "Incidents of each severity, worst "+
		"first, major and standard stacked, with each severity's total.", sev)
	for _, row := range rep.Rows {
		v.Incidents = append(v.Incidents, web.ReportIncident{Key: row.Key, Title: row.Title, Kind: string(row.Kind),
			Severity: string(row.Severity), Declared: row.DeclaredAt.In(loc).Format("2 Jan 2006 15:04"),
			Acknowledge: HumanSeconds(row.TimeToAcknowledgeSeconds), Declare: HumanSeconds(row.TimeToDeclareSeconds),
			Mobilize: HumanSeconds(row.TimeToMobilizeSeconds), Restore: HumanSeconds(row.TimeToRestoreSeconds),
			Cadence: cadenceText(row), PIR: docText(row.PIR), RCA: docText(row.RCA)})
	}
	return v
}

func barItem(label string, c Count) web.BarItem {
	noun := "incidents"
	if c.Total == 1 {
		noun = "incident"
	}
	return web.BarItem{Label: label, Major: c.Major, Standard: c.Standard,
		Text: fmt.Sprintf("%s: %d %s, %d major and %d standard", label, c.Total, noun, c.Major, c.Standard)}
}

func orZero(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

func rateText(rate *float64, n, d int) string {
	if rate == nil {
		return "none due"
	}
	return fmt.Sprintf("%d %% (%d of %d)", int(math.Round(*rate*100)), n, d)
}

func pending(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d not yet due", n)
}

func cadenceText(r RowFigure) string {
	if r.UpdatesDue == 0 {
		return "none due"
	}
	return fmt.Sprintf("%d of %d", r.UpdatesOnTime, r.UpdatesDue)
}

func docText(state string) string {
	switch state {
	case StateOnTime:
		return "on time"
	case StateLate:
		return "late"
	case StatePending:
		return "not yet due"
	}
	return "none"
}

// HumanSeconds says a duration in words for people: "45 s", "12 min 30 s", "3 h 5 min", "2 d 4 h"; "none" when
// there is no figure.
func HumanSeconds(s *float64) string {
	if s == nil {
		return "none"
	}
	d := time.Duration(math.Round(*s)) * time.Second
	parts := func(a int64, ua string, b int64, ub string) string {
		if b == 0 {
			return strconv.FormatInt(a, 10) + " " + ua
		}
		return strconv.FormatInt(a, 10) + " " + ua + " " + strconv.FormatInt(b, 10) + " " + ub
	}
	sec := int64(d / time.Second)
	switch {
	case sec < 60:
		return strconv.FormatInt(sec, 10) + " s"
	case sec < 3600:
		return parts(sec/60, "min", sec%60, "s")
	case sec < 86400:
		return parts(sec/3600, "h", sec%3600/60, "min")
	default:
		return strings.TrimSpace(parts(sec/86400, "d", sec%86400/3600, "h"))
	}
}
