package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
)

// bc11 is the scene of BC-11: a component mail, a webhook subscriber following only mail, and one fake clock for
// the incident commands and the maintenance sweep. Each notice the receiver gets is kept with the fake time of the
// step that caused it (every step settles the delivery queue before the clock moves on).
type bc11 struct {
	*notifyEnv
	cfg  config.Config
	opts app.Options

	clockMu sync.Mutex
	now     time.Time

	mu      sync.Mutex
	notices []bc11Notice
}

// bc11Notice is one webhook notice as received: its delivery id, the step's time and the Statuspage-shaped body.
type bc11Notice struct {
	id   string
	at   time.Time
	body struct {
		Incident *struct {
			ID      string `json:"id"`
			Status  string `json:"status"`
			Updates []struct {
				Body     string `json:"body"`
				Affected []struct {
					Code string `json:"code"`
					Old  string `json:"old_status"`
					New  string `json:"new_status"`
				} `json:"affected_components"`
			} `json:"incident_updates"`
			Components []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"components"`
		} `json:"incident"`
		ComponentUpdate *struct {
			Component string `json:"component_id"`
			Old       string `json:"old_status"`
			New       string `json:"new_status"`
		} `json:"component_update"`
	}
}

// mentionsMail reports whether the notice tells any status of mail.
func (n bc11Notice) mentionsMail() bool {
	if cu := n.body.ComponentUpdate; cu != nil && cu.Component == "mail" {
		return true
	}
	if inc := n.body.Incident; inc != nil {
		for _, c := range inc.Components {
			if c.ID == "mail" {
				return true
			}
		}
		for _, u := range inc.Updates {
			for _, a := range u.Affected {
				if a.Code == "mail" {
					return true
				}
			}
		}
	}
	return false
}

// mailChange returns the change of mail's status the notice announces ("" when none): "major_outage" for a
// notice that mail went down, "operational" for one that it recovered.
func (n bc11Notice) mailChange() string {
	if cu := n.body.ComponentUpdate; cu != nil && cu.Component == "mail" && cu.Old != cu.New {
		return cu.New
	}
	if inc := n.body.Incident; inc != nil {
		for _, u := range inc.Updates {
			for _, a := range u.Affected {
				if a.Code == "mail" && a.Old != a.New {
					return a.New
				}
			}
		}
	}
	return ""
}

func (s *bc11) clock() time.Time { s.clockMu.Lock(); defer s.clockMu.Unlock(); return s.now }

// at moves the fake clock.
func (s *bc11) at(t time.Time) { s.clockMu.Lock(); defer s.clockMu.Unlock(); s.now = t }

func setupBC11(t *testing.T, start time.Time) *bc11 {
	s := &bc11{now: start}
	rcv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		var n bc11Notice
		raw := readBody(t, r)
		if err := json.Unmarshal(raw, &n.body); err != nil {
			t.Errorf("webhook body: %v: %s", err, raw)
		}
		n.id, n.at = r.Header.Get("webhook-id"), s.clock()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.notices = append(s.notices, n)
	}))
	t.Cleanup(rcv.Close)
	e := setup(t, func(c *config.Config, o *app.Options) {
		c.BaseURL = "https://status.example.com"
		c.AllowTargets = []string{strings.TrimPrefix(rcv.URL, "http://")}
		c.Delivery = config.Delivery{Timeout: 3 * time.Second, MaxAttempts: 3, Backoff: 20 * time.Millisecond,
			PollInterval: 20 * time.Millisecond}
		o.Now = s.clock
		s.cfg, s.opts = *c, *o
	})
	e.app.MaintenanceNotices.SetClock(s.clock)
	s.notifyEnv = &notifyEnv{env: e}
	s.do("admin", "POST", "/api/v1/components", map[string]any{"slug": "mail", "name": "Mail"}, 201)
	s.do("admin", "POST", "/api/v1/subscribers", map[string]any{"channel": "webhook", "address": rcv.URL + "/hook",
		"components": []string{"mail"}}, 201)
	return s
}

// sweep runs the maintenance sweep at t, four at once as if on four processes, and lets the queue settle.
func (s *bc11) sweep(t time.Time) {
	s.t.Helper()
	s.at(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.app.MaintenanceNotices.Sweep(context.Background()) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(s.t, err)
	}
	s.settle()
}

// publish publishes an update on the incident at t with mail's status, and lets the queue settle.
func (s *bc11) publish(t time.Time, key, status, body, mail string) {
	s.t.Helper()
	s.at(t)
	s.do("responder", "POST", "/api/v1/incidents/"+key+"/updates", map[string]any{"status": status, "body": body,
		"publish": true, "components": map[string]string{"mail": mail}}, 201)
	s.settle()
}

// restart stops this mim and starts another on the same database, as after a deploy in the window.
func (s *bc11) restart() {
	s.t.Helper()
	s.app.Close()
	a, err := app.New(context.Background(), s.cfg, s.url, slog.New(slog.DiscardHandler), s.opts)
	require.NoError(s.t, err)
	a.MaintenanceNotices.SetClock(s.clock)
	srv := httptest.NewServer(a.Handler)
	s.t.Cleanup(func() { srv.Close(); a.Close() })
	s.app, s.srv = a, srv
}

// between returns the notices received from from (inclusive) to to (exclusive), with each one's topic from the
// delivery log.
func (s *bc11) between(from, to time.Time) (out []bc11Notice, topics []string) {
	s.t.Helper()
	topic := map[string]string{}
	for _, d := range s.deliveries("limit=500") {
		topic[d["id"].(string)] = d["topic"].(string)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.notices {
		if !n.at.Before(from) && n.at.Before(to) {
			out = append(out, n)
			topics = append(topics, topic[n.id])
		}
	}
	return out, topics
}

// holds counts the component holds left in the database.
func (s *bc11) holds() int {
	s.t.Helper()
	var n int
	require.NoError(s.t, s.app.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM component_holds`).Scan(&n))
	return n
}

// bc11Scene starts the reproduction: mail goes major_outage at 01:00 (subscribers told once), and a maintenance
// scheduled at 00:30 covers mail from 02:00 to 02:30. It returns the incident key and the day's midnight.
func bc11Scene(t *testing.T) (*bc11, string, time.Time) {
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 2)
	s := setupBC11(t, day)
	s.at(day.Add(30 * time.Minute))
	s.do("admin", "POST", "/api/v1/maintenances", map[string]any{"title": "Mail relay upgrade",
		"body": "We upgrade the mail relays.", "components": []string{"mail"},
		"starts_at": day.Add(2 * time.Hour).Format(time.RFC3339),
		"ends_at":   day.Add(2*time.Hour + 30*time.Minute).Format(time.RFC3339)}, 201)
	s.sweep(day.Add(30 * time.Minute))
	s.at(day.Add(time.Hour))
	inc := s.do("responder", "POST", "/api/v1/incidents", map[string]any{"title": "Mail delivery failing",
		"severity": "low", "urgency": "low", "components": []string{"mail"}}, 201)
	key := inc["key"].(string)
	s.publish(day.Add(time.Hour), key, "investigating", "Outgoing mail is failing.", "major_outage")
	s.sweep(day.Add(90 * time.Minute))
	s.sweep(day.Add(2 * time.Hour))
	return s, key, day
}

// requireQuietWindow checks that between 02:00 and 02:30 nothing told a status of mail: only the maintenance
// notices, and incident updates (the customer's words) that leave mail out of their component lists.
func requireQuietWindow(t *testing.T, s *bc11, day time.Time) {
	t.Helper()
	during, topics := s.between(day.Add(2*time.Hour), day.Add(2*time.Hour+30*time.Minute))
	// Every notice of the day, for the reader of a failure.
	everything, ts := s.between(day, day.Add(24*time.Hour))
	for i, n := range everything {
		t.Logf("%s %s %s", n.at.Format("15:04"), ts[i], n.id)
	}
	require.Contains(t, topics, "maintenance.started")
	for i, n := range during {
		if strings.HasPrefix(topics[i], "maintenance.") {
			continue
		}
		require.Equal(t, "incident.update", topics[i], "only the customer's words go out in the window")
		require.False(t, n.mentionsMail(), "an update in the window tells nothing of mail's status")
	}
}

// BC-11 (a): mail is down before the window (told once at 01:00), changes inside it (partial at 02:10, major again
// at 02:20) and is still down when it ends at 02:30. From 01:00 to 03:00 exactly one notice says mail went down,
// the one at 01:00; nothing tells mail's status in the window; nothing about mail follows the window's end, only
// the "completed" notice. Four sweeps race at each step.
func TestBC11ComponentDownBeforeTheWindowGetsNoFreshDownNotice(t *testing.T) {
	t.Parallel()
	s, key, day := bc11Scene(t)
	s.publish(day.Add(2*time.Hour+10*time.Minute), key, "identified", "A relay is being replaced.", "partial_outage")
	s.publish(day.Add(2*time.Hour+20*time.Minute), key, "identified", "The replacement relay failed too.", "major_outage")
	require.Equal(t, 1, s.holds(), "the changes in the window are held")
	s.sweep(day.Add(2*time.Hour + 30*time.Minute))
	s.sweep(day.Add(2*time.Hour + 45*time.Minute))
	s.sweep(day.Add(3 * time.Hour))

	all, topics := s.between(day.Add(time.Hour), day.Add(3*time.Hour+time.Minute))
	var down []time.Time
	for _, n := range all {
		if c := n.mailChange(); c != "" {
			require.Equal(t, "major_outage", c)
			down = append(down, n.at)
		}
	}
	require.Equal(t, []time.Time{day.Add(time.Hour)}, down, "one down notice, at 01:00")
	requireQuietWindow(t, s, day)
	after, afterTopics := s.between(day.Add(2*time.Hour+30*time.Minute), day.Add(3*time.Hour+time.Minute))
	require.Equal(t, []string{"maintenance.completed"}, afterTopics, "nothing about mail after the window")
	require.Empty(t, after[0].mailChange())
	require.Equal(t, 0, s.holds(), "the hold is released at the window's end")
	require.Empty(t, s.deliveries("topic=component.update"))
	require.Empty(t, s.deliveries("status=dead"))
	require.Len(t, topics, 1+1+2+1, "down, started, two updates in the customer's words, completed")
}

// BC-11 (b): mail is down before the window (told at 01:00) and recovers inside it (02:10); mim restarts at 02:15.
// Exactly one notice says mail recovered: a component.update from major_outage to operational sent with the
// "completed" notice at 02:30, none at 02:10; nothing tells mail's status in the window; the held state survives
// the restart, and four processes sweeping at once release it once.
func TestBC11RecoveryInsideTheWindowIsToldOnceAtItsEndAcrossARestart(t *testing.T) {
	t.Parallel()
	s, key, day := bc11Scene(t)
	s.publish(day.Add(2*time.Hour+10*time.Minute), key, "monitoring", "Mail is flowing again; we keep watching.",
		"operational")
	require.Equal(t, 1, s.holds())
	s.at(day.Add(2*time.Hour + 15*time.Minute))
	s.restart()
	s.sweep(day.Add(2*time.Hour + 20*time.Minute))
	require.Equal(t, 1, s.holds(), "still held after the restart, until the window ends")
	s.sweep(day.Add(2*time.Hour + 30*time.Minute))
	s.sweep(day.Add(2*time.Hour + 45*time.Minute))
	s.sweep(day.Add(3 * time.Hour))

	requireQuietWindow(t, s, day)
	all, topics := s.between(day.Add(time.Hour), day.Add(3*time.Hour+time.Minute))
	var recovered []bc11Notice
	var recoveredTopics []string
	for i, n := range all {
		if n.mailChange() == "operational" {
			recovered, recoveredTopics = append(recovered, n), append(recoveredTopics, topics[i])
		}
	}
	require.Len(t, recovered, 1, "exactly one recovered notice")
	require.Equal(t, day.Add(2*time.Hour+30*time.Minute), recovered[0].at, "at the window's end, not at 02:10")
	require.Equal(t, []string{"component.update"}, recoveredTopics)
	require.Equal(t, "major_outage", recovered[0].body.ComponentUpdate.Old, "from what subscribers were last told")

	after, afterTopics := s.between(day.Add(2*time.Hour+30*time.Minute), day.Add(3*time.Hour+time.Minute))
	require.ElementsMatch(t, []string{"maintenance.completed", "component.update"}, afterTopics)
	require.Len(t, after, 2)
	require.Equal(t, 0, s.holds())
	require.Len(t, s.deliveries("status=delivered&topic=component.update"), 1, "the delivery log agrees")
	require.Empty(t, s.deliveries("status=dead"))
	var downs int
	for _, n := range all {
		if n.mailChange() == "major_outage" {
			downs++
		}
	}
	require.Equal(t, 1, downs, "one down notice, at 01:00")
}
