package app_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/subscription"
)

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func readBody(t testing.TB, r *http.Request) []byte {
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return b
}

func newJar() http.CookieJar {
	j, _ := cookiejar.New(nil)
	return j
}

type subscriptionReq = subscription.Request
