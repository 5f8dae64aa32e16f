package app_test

import (
	"fmt"
	"testing"
)

// BenchmarkDeclareThroughHTTP measures declaring a major incident through the API on real PostgreSQL: decode,
// classify, decide, one transaction with the timeline.
func BenchmarkDeclareThroughHTTP(b *testing.B) {
	e := setup(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.do("responder", "POST", "/api/v1/incidents", map[string]any{
			"title": fmt.Sprintf("bench %d", i), "components": []string{"control-plane-eu"},
			"severity": "critical", "urgency": "immediate",
		}, 201)
	}
}

// BenchmarkPublishThroughHTTP measures publishing an update on a major incident: the write, the component status
// recomputation and the NOTIFY.
func BenchmarkPublishThroughHTTP(b *testing.B) {
	e := setup(b)
	key := e.declareMajor()
	e.engage(key)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating",
			"body": "still looking", "publish": true, "components": map[string]string{"control-plane-eu": "major_outage"}}, 201)
	}
}

// BenchmarkSummaryJSON measures the public summary served from the snapshot.
func BenchmarkSummaryJSON(b *testing.B) {
	e := setup(b)
	e.do("", "GET", "/api/v2/summary.json", nil, 200)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.request("", "GET", "/api/v2/summary.json", nil, nil)
	}
}
