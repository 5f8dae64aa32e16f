package app_test

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkPublishWithInternalCommunication measures publishing an update on a major incident that 20 stakeholder
// lists of 25 addresses, 500 customers' CSM and TCSM and 10 linked tickets hear about: the reaction's queries and the
// 1,510 messages enqueued in the publish's transaction (by the test's recording enqueuer, one INSERT each).
func BenchmarkPublishWithInternalCommunication(b *testing.B) {
	e := setupComms(b, nil, nil)
	for l := 0; l < 20; l++ {
		var emails []string
		for i := 0; i < 25; i++ {
			emails = append(emails, fmt.Sprintf("staff-%d-%d@example.com", l, i))
		}
		e.do("admin", "POST", "/api/v1/stakeholder-lists", map[string]any{"name": fmt.Sprintf("list %d", l),
			"emails": emails, "severities": []string{"critical"}}, 201)
	}
	for c := 0; c < 500; c++ {
		e.do("admin", "POST", "/api/v1/customers", map[string]any{"name": fmt.Sprintf("customer %d", c),
			"csm_email": fmt.Sprintf("csm-%d@example.com", c), "tcsm_email": fmt.Sprintf("tcsm-%d@example.com", c),
			"components": []string{"control-plane-eu"}}, 201)
	}
	e.do("admin", "POST", "/api/v1/ticket-systems", map[string]any{"name": "zendesk", "url": "https://hooks.example.com/zd"}, 201)
	key := e.declareMajor()
	e.engage(key)
	for i := 0; i < 10; i++ {
		e.do("ic", "POST", "/api/v1/incidents/"+key+"/tickets", map[string]any{"system": "zendesk", "ref": fmt.Sprint(i)}, 201)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.do("ic", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": "investigating",
			"body": "still looking", "publish": true, "components": map[string]string{"control-plane-eu": "major_outage"}}, 201)
	}
	b.StopTimer()
	if got := len(e.newMessages()); got < 1510*b.N {
		b.Fatalf("%d messages for %d publishes", got, b.N)
	}
}

// BenchmarkCadenceCheck measures one run of the cadence task over 200 open major incidents with nothing due: the
// listing, and per incident one transaction that locks and re-reads it.
func BenchmarkCadenceCheck(b *testing.B) {
	clock := &testClock{t: t0}
	e := setupComms(b, clock, nil)
	for i := 0; i < 200; i++ {
		e.declareMajor()
	}
	clock.Set(t0.Add(10 * time.Minute))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.app.Comms.RunCadence(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
