package config_test

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestInternalCommunicationSettingsHaveTheBriefsDefaults(t *testing.T) {
	t.Parallel()
	c, _, err := config.Load("serve", nil, getenv(nil), io.Discard, nil)
	require.NoError(t, err)
	require.Equal(t, workflow.DefaultCadence(), c.Cadence)
	require.Equal(t, 10*time.Minute, c.AckTimeout)
	require.Equal(t, domain.SeverityHigh, c.CSMMinSeverity)
	require.Empty(t, c.ChatWebhookURL)

	c, _, err = config.Load("serve", nil, getenv(map[string]string{"MIM_CADENCE_CRITICAL": "15m", "MIM_CADENCE_OTHER": "2h",
		"MIM_ACK_TIMEOUT": "5m", "MIM_CSM_MIN_SEVERITY": "Critical", "MIM_CHAT_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X"}),
		io.Discard, nil)
	require.NoError(t, err)
	require.Equal(t, workflow.Cadence{Critical: 15 * time.Minute, Other: 2 * time.Hour}, c.Cadence)
	require.Equal(t, 5*time.Minute, c.AckTimeout)
	require.Equal(t, domain.SeverityCritical, c.CSMMinSeverity)
	require.Equal(t, "https://hooks.slack.com/services/T/B/X", c.ChatWebhookURL)
}

func TestInternalCommunicationSettingsRefuseBadValues(t *testing.T) {
	t.Parallel()
	for k, v := range map[string]string{"MIM_CADENCE_CRITICAL": "soon", "MIM_CADENCE_OTHER": "-1m", "MIM_ACK_TIMEOUT": "0s",
		"MIM_CSM_MIN_SEVERITY": "sev1", "MIM_CHAT_WEBHOOK_URL": "hooks.slack.com/x"} {
		_, _, err := config.Load("serve", nil, getenv(map[string]string{k: v}), io.Discard, nil)
		require.ErrorContains(t, err, k, "%s=%s", k, v)
	}
}

// BC-32: the bounce webhook's secret is a Standard Webhooks one, or mim does not start.
func TestBC32BounceWebhookSecretMustBeAStandardWebhooksSecret(t *testing.T) {
	t.Parallel()
	c, _, err := config.Load("serve", nil, getenv(nil), io.Discard, nil)
	require.NoError(t, err)
	require.Empty(t, c.BounceWebhookSecret, "off by default")
	good := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	c, _, err = config.Load("serve", nil, getenv(map[string]string{"MIM_BOUNCE_WEBHOOK_SECRET": good}), io.Discard, nil)
	require.NoError(t, err)
	require.Equal(t, good, c.BounceWebhookSecret)
	for _, bad := range []string{"hunter2", "whsec_not base64!", "whsec_c2hvcnQ=", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		_, _, err := config.Load("serve", nil, getenv(map[string]string{"MIM_BOUNCE_WEBHOOK_SECRET": bad}), io.Discard, nil)
		require.ErrorContains(t, err, "MIM_BOUNCE_WEBHOOK_SECRET", bad)
	}
}

// A delivery setting in the environment that does not parse stops mim with its name, instead of quietly taking the
// default; a flag given on the command line still wins over it.
func TestDeliverySettingsThatDoNotParseAreRefused(t *testing.T) {
	t.Parallel()
	for k, v := range map[string]string{"MIM_DELIVERY_TIMEOUT": "soon", "MIM_DELIVERY_BACKOFF": "10", "MIM_DELIVERY_MAX_ATTEMPTS": "eight"} {
		_, _, err := config.Load("serve", nil, getenv(map[string]string{k: v}), io.Discard, nil)
		require.ErrorContains(t, err, k, "%s=%s", k, v)
	}
	c, _, err := config.Load("serve", []string{"--delivery-timeout", "3s"},
		getenv(map[string]string{"MIM_DELIVERY_TIMEOUT": "soon"}), io.Discard, nil)
	require.NoError(t, err)
	require.Equal(t, 3*time.Second, c.Delivery.Timeout)
	c, _, err = config.Load("serve", nil, getenv(map[string]string{"MIM_DELIVERY_TIMEOUT": "1s", "MIM_DELIVERY_MAX_ATTEMPTS": "3"}),
		io.Discard, nil)
	require.NoError(t, err)
	require.Equal(t, time.Second, c.Delivery.Timeout)
	require.Equal(t, 3, c.Delivery.MaxAttempts)
}
