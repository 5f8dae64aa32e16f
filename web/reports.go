package web

import (
	"fmt"
	"strconv"
)

// ReportsPage is the reports page: the numbers of a period, as tables and server-rendered SVG charts. Every chart
// has a title and a description, and says each value in text beside its bar: nothing is told by colour alone.
type ReportsPage struct {
	// From and To are the period as the form shows it (YYYY-MM-DD, the organisation's dates; To inclusive).
	From, To   string
	PeriodText string
	// CSVURL downloads the same numbers as CSV.
	CSVURL string
	// Error says why the asked period was refused; the page then shows the default period.
	Error     string
	Totals    []ReportStat
	Durations []ReportDuration
	Rates     []ReportStat
	Months    BarChart
	Severity  BarChart
	Times     DurationChart
	Incidents []ReportIncident
	Method    string
}

// ReportStat is one labelled figure.
type ReportStat struct{ Label, Value string }

// ReportDuration is one duration's summary, in words.
type ReportDuration struct{ Label, Count, Median, P90, Mean string }

// ReportIncident is one incident's row.
type ReportIncident struct {
	Key, Title, Kind, Severity, Declared                       string
	Acknowledge, Declare, Mobilize, Restore, Cadence, PIR, RCA string
}

// BarChart is a stacked bar chart of major and standard incidents per bucket.
type BarChart struct {
	ID, Title, Desc string
	Width, Height   int
	// BaseY is the y of the axis; the labels are below it.
	BaseY int
	Bars  []Bar
}

// Bar is one bucket's bar: the major part on top of the standard part, the total above, the label below.
type Bar struct {
	Label, Text          string
	X, W, LabelX         int
	MajorY, MajorH       int
	StandardY, StandardH int
	TotalY               int
	Total                string
}

// BarItem is one bucket to chart.
type BarItem struct {
	Label, Text     string
	Major, Standard int
}

const (
	chartHeight = 200
	chartTop    = 24
	chartBottom = 40
	barGap      = 8
)

// NewBarChart lays out a stacked bar chart: bars share the width, heights scale to the largest total.
func NewBarChart(id, title, desc string, items []BarItem) BarChart {
	barW := 60 // room for a label like "Sep 2026" under each bar
	if len(items) > 12 {
		barW = 40 // and for "Sep 26" when the period is long
	}
	c := BarChart{ID: id, Title: title, Desc: desc, Height: chartHeight + chartTop + chartBottom,
		BaseY: chartTop + chartHeight}
	c.Width = max(len(items)*(barW+barGap)+barGap, 160)
	most := 1
	for _, it := range items {
		most = max(most, it.Major+it.Standard)
	}
	for i, it := range items {
		x := barGap + i*(barW+barGap)
		stdH := it.Standard * chartHeight / most
		majH := it.Major * chartHeight / most
		b := Bar{Label: it.Label, Text: it.Text, X: x, W: barW, LabelX: x + barW/2,
			StandardY: c.BaseY - stdH, StandardH: stdH, MajorY: c.BaseY - stdH - majH, MajorH: majH,
			Total: strconv.Itoa(it.Major + it.Standard)}
		b.TotalY = b.MajorY - 6
		c.Bars = append(c.Bars, b)
	}
	return c
}

// DurationChart draws, for each duration, its median and 90th percentile as two horizontal bars with their values.
type DurationChart struct {
	ID, Title, Desc string
	Width, Height   int
	Rows            []DurationBars
}

// DurationBars is one duration's two bars.
type DurationBars struct {
	Label                 string
	LabelY, MedianY, P90Y int
	MedianW, P90W         int
	MedianText, P90Text   string
	MedianTextX, P90TextX int
}

// DurationItem is one duration to chart, in seconds (negative when there is none).
type DurationItem struct {
	Label               string
	Median, P90         float64
	MedianText, P90Text string
}

const (
	durationLeft  = 0
	durationWidth = 360
	durationRow   = 64
)

// NewDurationChart lays out the duration bars, scaled to the longest p90.
func NewDurationChart(id, title, desc string, items []DurationItem) DurationChart {
	c := DurationChart{ID: id, Title: title, Desc: desc, Width: durationWidth + 240, Height: len(items)*durationRow + 8}
	longest := 1.0
	for _, it := range items {
		longest = max(longest, it.P90, it.Median)
	}
	scale := func(v float64) int {
		if v <= 0 {
			return 0
		}
		return max(int(v/longest*durationWidth), 1)
	}
	for i, it := range items {
		y := i * durationRow
		r := DurationBars{Label: it.Label, LabelY: y + 14, MedianY: y + 20, P90Y: y + 40,
			MedianW: scale(it.Median), P90W: scale(it.P90),
			MedianText: "median " + it.MedianText, P90Text: "p90 " + it.P90Text}
		r.MedianTextX = durationLeft + r.MedianW + 6
		r.P90TextX = durationLeft + r.P90W + 6
		c.Rows = append(c.Rows, r)
	}
	return c
}

// viewBox is an SVG viewBox of a width and height.
func viewBox(w, h int) string { return fmt.Sprintf("0 0 %d %d", w, h) }
