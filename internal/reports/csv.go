package reports

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSVHeader is the export's first row. Every row has these columns: "incident" rows hold one incident's figures,
// "aggregate" rows the period's (key count, median, p90 or mean for the durations; rate for the cadence, PIR and RCA
// rates, as fractions from 0 to 1).
var CSVHeader = []string{"record", "key", "title", "kind", "severity", "components", "open", "declared_at",
	"time_to_acknowledge_seconds", "time_to_declare_seconds", "time_to_mobilize_seconds", "time_to_restore_seconds",
	"updates_due", "updates_on_time", "pir", "rca"}

// WriteCSV writes rep as CSV (RFC 4180). Text a spreadsheet would run as a formula is defused.
func WriteCSV(w io.Writer, rep Report) error {
	cw := csv.NewWriter(w)
	rows := [][]string{CSVHeader}
	for _, r := range rep.Rows {
		rows = append(rows, []string{"incident", r.Key, r.Title, string(r.Kind), string(r.Severity),
			strings.Join(r.Components, " "), strconv.FormatBool(r.Open), r.DeclaredAt.UTC().Format(time.RFC3339),
			number(r.TimeToAcknowledgeSeconds), number(r.TimeToDeclareSeconds), number(r.TimeToMobilizeSeconds),
			number(r.TimeToRestoreSeconds), strconv.Itoa(r.UpdatesDue), strconv.Itoa(r.UpdatesOnTime), r.PIR, r.RCA})
	}
	durations := []Summary{rep.TimeToAcknowledge, rep.TimeToDeclare, rep.TimeToMobilize, rep.TimeToRestore}
	aggregate := func(key string, figure func(Summary) string, tail ...string) []string {
		row := []string{"aggregate", key, "", "", "", "", "", ""}
		for _, d := range durations {
			row = append(row, figure(d))
		}
		return append(row, tail...)
	}
	rows = append(rows,
		aggregate("count", func(s Summary) string { return strconv.Itoa(s.Count) },
			strconv.Itoa(rep.UpdateCadence.Due), strconv.Itoa(rep.UpdateCadence.OnTime),
			strconv.Itoa(rep.PIR.OnTime+rep.PIR.Late), strconv.Itoa(rep.RCA.OnTime+rep.RCA.Late)),
		aggregate("median", func(s Summary) string { return number(s.MedianSeconds) }, "", "", "", ""),
		aggregate("p90", func(s Summary) string { return number(s.P90Seconds) }, "", "", "", ""),
		aggregate("mean", func(s Summary) string { return number(s.MeanSeconds) }, "", "", "", ""),
		aggregate("rate", func(Summary) string { return "" },
			"", number(rep.UpdateCadence.Rate), number(rep.PIR.Rate), number(rep.RCA.Rate)),
	)
	for _, row := range rows {
		for i := range row {
			row[i] = defuse(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func number(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// defuse prefixes with an apostrophe a cell that starts as a spreadsheet formula would (=, +, -, @, or a tab or
// carriage return before one), so opening the export runs nothing. Figures are never negative, so no number is
// touched.
func defuse(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
