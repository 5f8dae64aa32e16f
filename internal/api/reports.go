package api

import (
	"bytes"
	"net/http"

	"github.com/mimhq/mim/internal/reports"
)

// metrics answers the numbers of a period (?from=&to=, RFC 3339 times or dates; the last 90 days by default) to any
// signed-in user: they are internal, but nobody's secret inside the organisation.
func (a *API) metrics(w http.ResponseWriter, r *http.Request) {
	rep, ok := a.report(w, r)
	if ok {
		writeJSON(w, http.StatusOK, rep)
	}
}

// metricsCSV answers the same numbers as CSV: one row per incident, then the aggregate rows.
func (a *API) metricsCSV(w http.ResponseWriter, r *http.Request) {
	rep, ok := a.report(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := reports.WriteCSV(&buf, rep); err != nil {
		WriteError(w, r, a.Logger, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="mim-metrics-`+rep.From.Format("20060102")+"-"+
		rep.To.Format("20060102")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(buf.Bytes())
}

func (a *API) report(w http.ResponseWriter, r *http.Request) (reports.Report, bool) {
	q := r.URL.Query()
	from, to, err := a.Reports.Period(q.Get("from"), q.Get("to"))
	if err == nil {
		var rep reports.Report
		if rep, err = a.Reports.Metrics(r.Context(), from, to); err == nil {
			return rep, true
		}
	}
	WriteError(w, r, a.Logger, err)
	return reports.Report{}, false
}
