package importer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/importer"
)

func TestParseTellsTheDocumentKindByItsKeys(t *testing.T) {
	t.Parallel()
	page := `"page": {"id": "p1", "name": "Example", "url": "https://status.example.com"}`
	comp := `{"id": "c1", "name": "API", "status": "operational", "group": false}`
	inc := `{"id": "i1", "name": "Down", "status": "resolved", "created_at": "2024-01-02T10:00:00.000+01:00",
		"incident_updates": [{"id": "u1", "status": "resolved", "body": "ok", "created_at": "2024-01-02T11:00:00.000+01:00"}]}`
	for _, tc := range []struct {
		name, doc string
		kind      importer.DocumentKind
		comps     int
		incidents int
	}{
		{"summary", `{` + page + `, "components": [` + comp + `], "incidents": [], "scheduled_maintenances": [], "status": {}}`,
			importer.KindSummary, 1, 0},
		{"incidents", `{` + page + `, "incidents": [` + inc + `]}`, importer.KindIncidents, 0, 1},
		{"components", `{` + page + `, "components": [` + comp + `]}`, importer.KindComponents, 1, 0},
		{"one incident", `{` + page + `, "incident": ` + inc + `}`, importer.KindIncident, 0, 1},
		{"maintenances", `{` + page + `, "scheduled_maintenances": [{}, {}]}`, importer.KindMaintenances, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := importer.Parse([]byte(tc.doc))
			require.NoError(t, err)
			require.Equal(t, tc.kind, doc.Kind)
			require.Equal(t, "p1", doc.Page.ID)
			require.Len(t, doc.Components, tc.comps)
			require.Len(t, doc.Incidents, tc.incidents)
		})
	}
}

func TestParseKeepsTheInstantsOfTheExport(t *testing.T) {
	t.Parallel()
	doc, err := importer.Parse([]byte(`{"incidents": [{"id": "i1", "name": "Down", "page_id": "p1",
		"created_at": "2023-10-29T02:30:00.123+02:00", "incident_updates": [{"id": "u1", "status": "investigating",
		"body": "a\r\nb", "created_at": "2023-10-29T02:30:00.456+01:00"}]}]}`))
	require.NoError(t, err)
	require.Equal(t, "p1", doc.Page.ID, "the page id comes from the incident when the document has no page")
	in := doc.Incidents[0]
	require.Equal(t, int64(1698539400123), in.CreatedAt.UnixMilli())
	require.Equal(t, int64(1698543000456), in.Updates[0].CreatedAt.UnixMilli())
	require.Equal(t, "a\r\nb", in.Updates[0].Body)
	require.JSONEq(t, `{"id": "u1", "status": "investigating", "body": "a\r\nb", "created_at": "2023-10-29T02:30:00.456+01:00"}`,
		string(in.Updates[0].Raw))
	require.NotContains(t, string(in.Raw), "incident_updates", "each update keeps its own JSON")
}

func TestParseRefusesWhatIsNotAStatuspageExport(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		`[]`,
		`{"foo": 1}`,
		`{"incidents": [{"id": "i1", "name": "x", "created_at": "2024-01-01T00:00:00Z"}]}`, // no page id anywhere
		`{"page": {"id": "p"}, "incidents": [{"name": "no id", "created_at": "2024-01-01T00:00:00Z"}]}`,
		`{"page": {"id": "p"}, "incidents": [{"id": "i1", "name": "no time"}]}`,
	} {
		_, err := importer.Parse([]byte(doc))
		require.Error(t, err, doc)
	}
}

func TestParseRefusesWhatThePageCouldNotShow(t *testing.T) {
	t.Parallel()
	future := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	long := strings.Repeat("x", 301)
	for name, body := range map[string]string{
		"future incident": `{"page":{"id":"p"},"incidents":[{"id":"i","name":"n","status":"resolved","created_at":"` + future + `","incident_updates":[]}]}`,
		"long name":       `{"page":{"id":"p"},"incidents":[{"id":"i","name":"` + long + `","status":"resolved","created_at":"2024-01-01T00:00:00Z","incident_updates":[]}]}`,
	} {
		_, err := importer.Parse([]byte(body))
		require.Error(t, err, name)
	}
}
