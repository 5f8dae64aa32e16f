package reports

import (
	"strconv"
	"testing"
	"time"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// BenchmarkCompute is a busy quarter: 1,000 major incidents with ten updates each, and their PIR and RCA deadlines.
func BenchmarkCompute(b *testing.B) {
	from := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	in := Input{From: from, To: from.AddDate(0, 3, 0), Now: from.AddDate(0, 4, 0), Cadence: workflow.DefaultCadence()}
	for i := range 1000 {
		t := from.Add(time.Duration(i) * 2 * time.Hour)
		inc := Incident{Key: "INC-" + strconv.Itoa(i), Kind: domain.KindMajor, Severity: domain.Severities[i%4],
			Components: []string{"api", "c" + strconv.Itoa(i%20)}, DetectedAt: t, DeclaredAt: t.Add(time.Minute),
			ICAcknowledgedAt: t.Add(3 * time.Minute), MobilizedAt: t.Add(9 * time.Minute), RestoredAt: t.Add(time.Hour),
			ConcludedAt: t.Add(90 * time.Minute)}
		for u := range 10 {
			inc.Updates = append(inc.Updates, PublishedUpdate{At: t.Add(time.Duration(u) * 25 * time.Minute), Resolved: u == 9})
		}
		in.Incidents = append(in.Incidents, inc)
		in.Deadlines = append(in.Deadlines, Deadline{Kind: DocumentPIR, IncidentKey: inc.Key, DueAt: t.Add(48 * time.Hour)},
			Deadline{Kind: DocumentRCA, IncidentKey: inc.Key, DueAt: t.Add(9 * 24 * time.Hour)})
	}
	b.ReportAllocs()
	for b.Loop() {
		if rep := Compute(in); rep.Major != 1000 {
			b.Fatal(rep.Major)
		}
	}
}
