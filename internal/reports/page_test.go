package reports

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHumanSeconds(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{0: "0 s", 45: "45 s", 750: "12 min 30 s", 3600: "1 h", 11100: "3 h 5 min",
		187200: "2 d 4 h", 86400: "1 d"} {
		require.Equal(t, want, HumanSeconds(&in), in)
	}
	require.Equal(t, "none", HumanSeconds(nil))
}

// Pages wired without an actor function show nothing to anyone.
func TestPagesWithoutActorRefuse(t *testing.T) {
	t.Parallel()
	p := &Pages{Service: &Service{}}
	for _, h := range []http.HandlerFunc{p.Page, p.CSV} {
		w := httptest.NewRecorder()
		h(w, httptest.NewRequest(http.MethodGet, "/app/reports", nil))
		require.Equal(t, http.StatusUnauthorized, w.Code)
	}
}
