package app_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/drill"
)

// failStage is a transport that fails every stage change, so the drill stops part-way.
type failStage struct{}

func (failStage) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/stage") {
		return nil, errors.New("network down")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// The drill leaves its incident and its cast of users behind, nothing more: every token it made is revoked when it
// ends, failed or not, and a second run uses the same users again.
func TestTheDrillRevokesItsTokensAndReusesItsUsers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	count := func(q string) int {
		var n int
		require.NoError(t, e.app.DB.Pool.QueryRow(context.Background(), q).Scan(&n))
		return n
	}
	const live = `SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL`
	const users = `SELECT count(*) FROM users`
	tokens, people := count(live), count(users)

	var out bytes.Buffer
	require.NoError(t, drill.Run(context.Background(), drill.Options{BaseURL: e.srv.URL, Token: e.tokens["admin"],
		Out: &out, OpenReports: true}), out.String())
	require.Equal(t, tokens, count(live), "no live token left by the drill")
	require.Equal(t, people+5, count(users), "the drill's cast")
	require.Equal(t, 5, count(`SELECT count(*) FROM users WHERE email LIKE 'drill-%@example.com'`))

	out.Reset()
	require.NoError(t, drill.Run(context.Background(), drill.Options{BaseURL: e.srv.URL, Token: e.tokens["admin"],
		Out: &out, OpenReports: true}), out.String())
	require.Equal(t, tokens, count(live))
	require.Equal(t, people+5, count(users), "the second run reuses the cast")

	out.Reset()
	err := drill.Run(context.Background(), drill.Options{BaseURL: e.srv.URL, Token: e.tokens["admin"], Out: &out,
		HTTP: &http.Client{Transport: failStage{}}})
	require.Error(t, err)
	require.Equal(t, tokens, count(live), "a failed drill revokes its tokens too")
	require.Equal(t, people+5, count(users))
}
