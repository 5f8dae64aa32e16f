package statuspage

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHeadingsInAnUpdateBecomeBoldParagraphs(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"English text\n---\nDeutscher Text", "# Big title\nbody"} {
		out := RenderMarkdown(src)
		require.NotContains(t, out, "<h", src)
		require.True(t, strings.Contains(out, "<p><strong>"), out)
	}
	require.Contains(t, RenderMarkdown("Scans are **delayed**"), "<strong>delayed</strong>")
}
