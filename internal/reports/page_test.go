package reports

import (
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
