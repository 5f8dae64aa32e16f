package app_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/domain"
)

// Escalations reach whom they engage: a functional one the resolver group it names, a hierarchical one the
// executive sponsors too; both the chat channel, with user text escaped so it can neither mention a channel nor
// forge a link.
func TestEscalationsReachTheirGroupAndTheChatChannelEscaped(t *testing.T) {
	t.Parallel()
	hook := "https://hooks.slack.test/services/T/B/X"
	e := setupComms(t, nil, func(c *config.Config) { c.ChatWebhookURL = hook })
	e.do("admin", "POST", "/api/v1/resolver-groups", map[string]any{"name": "dba", "email": "dba-oncall@example.com"}, 201)
	key := e.declareMajor()
	path := "/api/v1/incidents/" + key
	e.engage(key)
	e.do("ic", "POST", path+"/roles/executive_sponsor", map[string]any{"user": e.emails["sponsor"]}, 200)
	e.newMessages()

	e.do("ic", "POST", path+"/escalations", map[string]any{"kind": "functional", "target": "DBA",
		"reason": "<!channel> see <https://evil.example|the logs> @here & <@U123>"}, 200)
	msgs := e.newMessages()
	require.Equal(t, []string{"dba-oncall@example.com", hook}, recipients(msgs, "escalation"),
		"a functional escalation engages the group, not the sponsors")
	mail := msgs[0]
	require.Equal(t, delivery.ChannelEmail, mail.Channel)
	require.Contains(t, mail.Subject, "Escalated to DBA")
	require.Contains(t, mail.Text, "<!channel> see <https://evil.example|the logs>", "email keeps the text as written")
	require.NotContains(t, mail.HTML, "<https://evil.example", "HTML mail escapes it")

	chat := msgs[1]
	require.Equal(t, delivery.ChannelSlack, chat.Channel)
	var body struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct{ Type, Text string }
		} `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal(chat.Body, &body))
	require.Len(t, body.Blocks, 1)
	require.Equal(t, "mrkdwn", body.Blocks[0].Text.Type)
	for _, text := range []string{body.Text, body.Blocks[0].Text.Text} {
		require.Contains(t, text, "&lt;!channel&gt; see &lt;https://evil.example|the logs&gt;")
		require.Contains(t, text, "&amp;")
		require.NotContains(t, text, "<!channel>")
		require.NotContains(t, text, "<https://evil")
		require.NotContains(t, text, "<@U123>")
		require.NotContains(t, text, "@here", "no Mattermost mention either")
		require.NotContains(t, text, "meet.example.com")
		require.Contains(t, text, "http://status.test/incidents/"+key)
	}

	e.do("ic", "POST", path+"/escalations", map[string]any{"kind": "hierarchical", "target": "VP Engineering",
		"reason": "customer impact grows"}, 200)
	require.Equal(t, []string{"sponsor@example.com", hook}, recipients(e.newMessages(), "escalation"),
		"a hierarchical escalation reaches the executive sponsors; no group is named VP Engineering")
}

// Customer success managers get each published update of a severe enough major incident touching their customer's
// components, worded for forwarding and free of internal facts; the customer bridge goes to its invitees only, and
// the technical bridge to no one.
func TestCustomerSuccessAndCustomerBridgeInvitees(t *testing.T) {
	t.Parallel()
	e := setupComms(t, nil, func(c *config.Config) { c.CSMMinSeverity = domain.SeverityCritical })
	e.do("admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "csm_email": "acme-csm@example.com",
		"tcsm_email": "acme-tcsm@example.com", "components": []string{"control-plane-eu"}}, 201)
	e.do("admin", "POST", "/api/v1/customers", map[string]any{"name": "Beta", "csm_email": "beta-csm@example.com",
		"components": []string{"api"}}, 201)
	key := e.declareMajor()
	path := "/api/v1/incidents/" + key
	e.engage(key)
	e.do("ic", "POST", path+"/stage", map[string]any{"to": "mobilization"}, 200)
	e.newMessages()

	e.do("ic", "PUT", path+"/bridges/technical", map[string]any{"url": "https://meet.example.com/secret-bridge",
		"invitees": []string{e.emails["tech"]}}, 200)
	require.Empty(t, e.newMessages(), "the technical bridge is never mailed")
	customerCall := "https://meet.example.com/customer-call"
	e.do("ic", "PUT", path+"/bridges/customer", map[string]any{"url": customerCall,
		"invitees": []string{"ops@acme.example", "it@acme.example"}}, 200)
	msgs := e.newMessages()
	require.Equal(t, []string{"ops@acme.example", "it@acme.example"}, recipients(msgs, "bridge.invitation"))
	require.Len(t, msgs, 2)
	for _, m := range msgs {
		require.Contains(t, m.Text, customerCall)
		require.Contains(t, m.HTML, customerCall)
		require.NotContains(t, m.Text+m.HTML, "secret-bridge")
		require.NotContains(t, m.Text, "Incident Commander")
	}
	e.do("ic", "PUT", path+"/bridges/customer", map[string]any{"url": customerCall,
		"invitees": []string{"ops@acme.example", "it@acme.example", "cio@acme.example"}}, 200)
	require.Equal(t, []string{"cio@acme.example"}, recipients(e.newMessages(), "bridge.invitation"),
		"only the newly invited hear of the same bridge again")

	e.do("ic", "POST", path+"/updates", map[string]any{"status": "investigating", "publish": true,
		"body":       "Policies are not enforced in the EU; we are failing over.",
		"components": map[string]string{"control-plane-eu": "major_outage"}}, 201)
	csm := ofTopic(e.newMessages(), "csm.update")
	require.Equal(t, []string{"acme-csm@example.com", "acme-tcsm@example.com"}, recipients(csm, "csm.update"),
		"Beta uses none of the affected components")
	for _, m := range csm {
		require.Contains(t, m.Subject, "For Acme")
		require.Contains(t, m.Text, "You can forward the text below the line")
		require.Contains(t, m.Text, "Policies are not enforced in the EU; we are failing over.")
		require.Contains(t, m.Text, "Control Plane (Europe)")
		require.Contains(t, m.Text, "http://status.test/incidents/"+key)
		for _, internal := range []string{"meet.example.com", "Incident Commander", e.emails["ic"], "Severity", "priority", "Stage"} {
			require.NotContains(t, m.Text+m.HTML, internal)
		}
	}

	// Below the configured severity, CSMs are not engaged.
	e.do("ic", "POST", path+"/classification", map[string]any{"severity": "high", "urgency": "immediate",
		"scope": map[string]any{"regions": []string{"eu", "us"}}, "reason": "contained"}, 200)
	e.do("ic", "POST", path+"/updates", map[string]any{"status": "identified", "publish": true, "body": "Found it."}, 201)
	require.Empty(t, ofTopic(e.newMessages(), "csm.update"))
}

// Each published update reaches each linked ticket whose system has an integration, as one signed webhook; the
// delivery engine's result is logged on the ticket link, a late report never undoing a delivery.
func TestTicketSystemsReceiveEachPublishedUpdateAndLogTheResult(t *testing.T) {
	t.Parallel()
	e := setupComms(t, nil, nil)
	created := e.do("admin", "POST", "/api/v1/ticket-systems", map[string]any{"name": "Zendesk",
		"url": "https://hooks.example.com/zendesk"}, 201)
	secret := created["secret"].(string)
	require.True(t, strings.HasPrefix(secret, "whsec_"), secret)
	listed := e.do("viewer", "GET", "/api/v1/ticket-systems", nil, 200)["ticket_systems"].([]any)
	require.Len(t, listed, 1)
	require.NotContains(t, listed[0], "secret", "the secret is shown once")
	updated := e.do("admin", "PUT", "/api/v1/ticket-systems/"+created["id"].(string), map[string]any{"name": "zendesk",
		"url": "https://hooks.example.com/zd"}, 200)
	require.NotContains(t, updated, "secret")

	key := e.declareMajor()
	path := "/api/v1/incidents/" + key
	e.engage(key)
	zd := e.do("ic", "POST", path+"/tickets", map[string]any{"system": "zendesk", "ref": "ZD-1"}, 201)["created"].(map[string]any)["id"]
	e.do("ic", "POST", path+"/tickets", map[string]any{"system": "jira", "ref": "OPS-9"}, 201)
	e.newMessages()

	e.do("ic", "POST", path+"/updates", map[string]any{"status": "investigating", "publish": true, "body": "Looking into it."}, 201)
	hooks := ofTopic(e.newMessages(), "ticket.update")
	require.Len(t, hooks, 1, "jira has no integration")
	m := hooks[0]
	require.Equal(t, delivery.ChannelWebhook, m.Channel)
	require.Equal(t, "https://hooks.example.com/zd", m.To)
	require.Equal(t, secret, m.Secret)
	require.NotEmpty(t, m.Ref)
	var body map[string]any
	require.NoError(t, json.Unmarshal(m.Body, &body))
	require.Equal(t, "ZD-1", body["ticket_ref"])
	require.Equal(t, key, body["incident_key"])
	require.Equal(t, "investigating", body["status"])
	require.Equal(t, "Looking into it.", body["body"])

	ticketDeliveries := func() map[string][]any {
		out := map[string][]any{}
		for _, tk := range e.do("viewer", "GET", path+"/tickets", nil, 200)["tickets"].([]any) {
			tk := tk.(map[string]any)
			out[tk["ref"].(string)] = tk["deliveries"].([]any)
		}
		return out
	}
	ds := ticketDeliveries()
	require.Empty(t, ds["OPS-9"])
	require.Len(t, ds["ZD-1"], 1)
	require.Equal(t, "pending", ds["ZD-1"][0].(map[string]any)["status"])
	require.Equal(t, zd, ds["ZD-1"][0].(map[string]any)["ticket_id"])

	// The delivery engine hands each attempt's outcome to the hook registered for the topic.
	ticketHook := e.app.Comms.ResultHooks()["ticket.update"]
	require.NotNil(t, ticketHook)
	at := time.Now().UTC()
	require.NoError(t, ticketHook(t.Context(), delivery.Result{Message: m, Attempt: 1, Error: "HTTP 503", At: at}))
	d := ticketDeliveries()["ZD-1"][0].(map[string]any)
	require.Equal(t, "pending", d["status"])
	require.Equal(t, "HTTP 503", d["last_error"])
	require.EqualValues(t, 1, d["attempts"])
	require.NoError(t, ticketHook(t.Context(), delivery.Result{Message: m, Attempt: 2, Delivered: true, Final: true, At: at}))
	require.NoError(t, ticketHook(t.Context(), delivery.Result{Message: m, Attempt: 1, Final: true, Error: "late", At: at}))
	d = ticketDeliveries()["ZD-1"][0].(map[string]any)
	require.Equal(t, "delivered", d["status"])
	require.EqualValues(t, 2, d["attempts"])

	// A final failure is logged as such.
	e.do("ic", "POST", path+"/updates", map[string]any{"status": "identified", "publish": true, "body": "Found it."}, 201)
	second := ofTopic(e.newMessages(), "ticket.update")
	require.Len(t, second, 1)
	require.NoError(t, ticketHook(t.Context(), delivery.Result{Message: second[0], Attempt: 5, Final: true,
		Error: "HTTP 500 after 5 attempts", At: at}))
	ds = ticketDeliveries()
	require.Len(t, ds["ZD-1"], 2)
	require.Equal(t, "failed", ds["ZD-1"][1].(map[string]any)["status"])
	require.Equal(t, "HTTP 500 after 5 attempts", ds["ZD-1"][1].(map[string]any)["last_error"])

	// A standard incident's tickets hear its updates too, unless an admin keeps the incident private.
	for _, private := range []bool{false, true} {
		std := e.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "slow search", "severity": "low",
			"urgency": "low"}, 201)["key"].(string)
		if private {
			e.do("admin", "PUT", "/api/v1/incidents/"+std+"/visibility", map[string]any{"private": true, "reason": "internal only"}, 200)
		}
		e.do("responder", "POST", "/api/v1/incidents/"+std+"/tickets", map[string]any{"system": "Zendesk", "ref": "ZD-2"}, 201)
		e.do("responder", "POST", "/api/v1/incidents/"+std+"/updates", map[string]any{"status": "investigating",
			"publish": true, "body": "Search is slow."}, 201)
		msgs := e.newMessages()
		if private {
			require.Empty(t, msgs, "a private incident stays inside mim")
			continue
		}
		require.Len(t, msgs, 1, "only the ticket: stakeholders follow major incidents")
		require.Equal(t, "ticket.update", msgs[0].Topic)
		var body map[string]any
		require.NoError(t, json.Unmarshal(msgs[0].Body, &body))
		require.Equal(t, "ZD-2", body["ticket_ref"])
		require.Equal(t, std, body["incident_key"])
	}
}

// Every input of the internal-communication API is validated: a problem with a stable code, nothing stored.
func TestCommsDirectoryRefusesBadInputAndStoresNothing(t *testing.T) {
	t.Parallel()
	e := setupComms(t, nil, nil)
	cases := []struct {
		name, who, path string
		body            any
		status          int
		code, field     string
	}{
		{"a responder", "responder", "/api/v1/stakeholder-lists", map[string]any{"name": "x", "emails": []string{"a@example.com"}, "severities": []string{"low"}}, 403, "forbidden", ""},
		{"an unknown field", "admin", "/api/v1/stakeholder-lists", map[string]any{"name": "x", "emails": []string{"a@example.com"}, "severities": []string{"low"}, "cc": "b"}, 422, "validation_failed", "cc"},
		{"not JSON", "admin", "/api/v1/customers", "{", 400, "", ""},
		{"no name", "admin", "/api/v1/stakeholder-lists", map[string]any{"emails": []string{"a@example.com"}, "severities": []string{"low"}}, 422, "validation_failed", "name"},
		{"a bad address", "admin", "/api/v1/stakeholder-lists", map[string]any{"name": "x", "emails": []string{"Ann <a@example.com>"}, "severities": []string{"low"}}, 422, "validation_failed", "emails[0]"},
		{"an unknown severity", "admin", "/api/v1/stakeholder-lists", map[string]any{"name": "x", "emails": []string{"a@example.com"}, "severities": []string{"sev1"}}, 422, "validation_failed", "severities[0]"},
		{"no severity", "admin", "/api/v1/stakeholder-lists", map[string]any{"name": "x", "emails": []string{"a@example.com"}, "severities": []string{}}, 422, "validation_failed", "severities"},
		{"no CSM nor TCSM", "admin", "/api/v1/customers", map[string]any{"name": "x", "components": []string{"api"}}, 422, "validation_failed", "csm_email"},
		{"an unknown component", "admin", "/api/v1/customers", map[string]any{"name": "x", "csm_email": "c@example.com", "components": []string{"billing"}}, 422, "validation_failed", "components"},
		{"a group without address", "admin", "/api/v1/resolver-groups", map[string]any{"name": "dba", "email": "dba"}, 422, "validation_failed", "email"},
		{"a relative URL", "admin", "/api/v1/ticket-systems", map[string]any{"name": "zd", "url": "/hook"}, 422, "validation_failed", "url"},
		{"a URL with credentials", "admin", "/api/v1/ticket-systems", map[string]any{"name": "zd", "url": "https://u:p@hooks.example.com"}, 422, "validation_failed", "url"},
		{"a ticket system by a viewer", "viewer", "/api/v1/ticket-systems", map[string]any{"name": "zd", "url": "https://hooks.example.com"}, 403, "forbidden", ""},
	}
	for _, c := range cases {
		r := e.request(c.who, "POST", c.path, c.body, nil)
		require.Equal(t, c.status, r.status, "%s: %s", c.name, r.body)
		require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), c.name)
		p := r.json(t)
		if c.code != "" {
			require.Equal(t, c.code, p["code"], c.name)
		}
		if c.field != "" {
			require.Equal(t, c.field, p["errors"].([]any)[0].(map[string]any)["field"], "%s: %s", c.name, r.body)
		}
	}
	for path, key := range map[string]string{"/api/v1/stakeholder-lists": "stakeholder_lists", "/api/v1/customers": "customers",
		"/api/v1/resolver-groups": "resolver_groups", "/api/v1/ticket-systems": "ticket_systems"} {
		require.Empty(t, e.do("viewer", "GET", path, nil, 200)[key], "nothing stored in %s", path)
	}

	// Names are unique (groups and ticket systems regardless of case); an unknown id is 404; a delete is final.
	g := e.do("admin", "POST", "/api/v1/resolver-groups", map[string]any{"name": "DBA", "email": "dba@example.com"}, 201)
	dup := e.do("admin", "POST", "/api/v1/resolver-groups", map[string]any{"name": "dba", "email": "x@example.com"}, 422)
	require.Equal(t, "name", dup["errors"].([]any)[0].(map[string]any)["field"])
	e.do("admin", "PUT", "/api/v1/resolver-groups/not-an-id", map[string]any{"name": "x", "email": "x@example.com"}, 404)
	e.do("admin", "PUT", "/api/v1/resolver-groups/00000000-0000-0000-0000-000000000000", map[string]any{"name": "x", "email": "x@example.com"}, 404)
	bad := e.do("admin", "PUT", "/api/v1/resolver-groups/"+g["id"].(string), map[string]any{"name": "DBA", "email": "nope"}, 422)
	require.Equal(t, "email", bad["errors"].([]any)[0].(map[string]any)["field"])
	groups := e.do("viewer", "GET", "/api/v1/resolver-groups", nil, 200)["resolver_groups"].([]any)
	require.Equal(t, "dba@example.com", groups[0].(map[string]any)["email"], "a refused edit changes nothing")
	e.do("responder", "DELETE", "/api/v1/resolver-groups/"+g["id"].(string), nil, 403)
	e.do("admin", "DELETE", "/api/v1/resolver-groups/"+g["id"].(string), nil, 204)
	e.do("admin", "DELETE", "/api/v1/resolver-groups/"+g["id"].(string), nil, 404)

	l := e.do("admin", "POST", "/api/v1/stakeholder-lists", map[string]any{"name": "Exec", "emails": []string{" CEO@Example.com", "ceo@example.com"},
		"severities": []string{"critical", "critical"}}, 201)
	require.Equal(t, []any{"ceo@example.com"}, l["emails"], "one address once, normalised")
	require.Equal(t, []any{"critical"}, l["severities"])
	l = e.do("admin", "PUT", "/api/v1/stakeholder-lists/"+l["id"].(string), map[string]any{"name": "Exec",
		"emails": []string{"ceo@example.com", "cfo@example.com"}, "severities": []string{"critical", "high"}}, 200)
	require.Len(t, l["emails"], 2)
}
