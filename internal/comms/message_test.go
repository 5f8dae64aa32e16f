package comms

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
)

func TestSlackEscapeLeavesNoControlSequence(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"<!channel> hi":                  "&lt;!channel&gt; hi",
		"<https://evil.example|invoice>": "&lt;https://evil.example|invoice&gt;",
		"<@U123> & <#C1>":                "&lt;@\u200bU123&gt; &amp; &lt;#C1&gt;",
		"@here @channel":                 "@\u200bhere @\u200bchannel",
		"&lt; already":                   "&amp;lt; already",
		"plain *bold* text":              "plain *bold* text",
	} {
		require.Equal(t, want, slackEscape(in), in)
	}
}

func TestSeverityAtLeastFollowsWorstFirstOrder(t *testing.T) {
	t.Parallel()
	require.True(t, severityAtLeast(domain.SeverityCritical, domain.SeverityHigh))
	require.True(t, severityAtLeast(domain.SeverityHigh, domain.SeverityHigh))
	require.False(t, severityAtLeast(domain.SeverityMedium, domain.SeverityHigh))
	require.False(t, severityAtLeast(domain.SeverityHigh, domain.SeverityCritical))
	require.True(t, severityAtLeast(domain.SeverityLow, domain.SeverityLow))
}

func TestEmailMakesOneMessagePerDistinctRecipient(t *testing.T) {
	t.Parallel()
	msgs := email("stakeholder.update", "INC-1", []string{"A@example.com", " a@example.com", "", "b@example.com"},
		"subject", "one <b>\n\ntwo")
	require.Len(t, msgs, 2)
	require.Equal(t, "a@example.com", msgs[0].To)
	require.Equal(t, "<!doctype html><html><body><p>one &lt;b&gt;</p><p>two</p></body></html>", msgs[0].HTML)
}

func TestEmailSubjectIsOneLine(t *testing.T) {
	t.Parallel()
	msgs := email("escalation", "INC-1", []string{"a@example.com"}, "Down\r\nBcc: all@example.com\tnow", "text")
	require.Equal(t, "Down Bcc: all@example.com now", msgs[0].Subject)
}
