package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkEvidenceMarkdown measures exporting the drill incident's evidence as Markdown through the API: the
// incident, its timeline, PIR, RCA, actions and problems read, and the document rendered.
func BenchmarkEvidenceMarkdown(b *testing.B) {
	e, key, _ := drilled(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := e.request("viewer", "GET", "/api/v1/incidents/"+key+"/evidence?format=md", nil, nil)
		if r.status != 200 {
			b.Fatal(r.status)
		}
	}
}

// BenchmarkDeadlinesWithTenThousandActions measures the deadline dashboard over 10 000 pending corrective actions,
// 2 000 of them late or due within the window.
func BenchmarkDeadlinesWithTenThousandActions(b *testing.B) {
	e, key, _ := drilled(b)
	_, err := e.app.DB.Pool.Exec(context.Background(), `
		INSERT INTO corrective_actions (id, incident_id, kind, title, owner_id, due_at, status, created_at, updated_at)
		SELECT gen_random_uuid(), i.id, 'other', 'action ' || n, u.id,
		       now() + CASE WHEN n % 5 = 0 THEN interval '-1 day' ELSE interval '30 days' END, 'open', now(), now()
		FROM generate_series(1, 10000) n, incidents i, users u WHERE i.key = $1 AND u.email = 'tech@example.com'`, key)
	require.NoError(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := e.request("viewer", "GET", "/api/v1/deadlines", nil, nil)
		if r.status != 200 {
			b.Fatal(r.status)
		}
	}
}
