package delivery_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/postgrestest"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// fastConfig makes retries and polling quick enough for tests.
func fastConfig(allow ...string) delivery.Config {
	return delivery.Config{Timeout: 2 * time.Second, MaxAttempts: 3, BackoffBase: 20 * time.Millisecond,
		BackoffMax: 200 * time.Millisecond, PollInterval: 20 * time.Millisecond, Workers: 10,
		Guard: delivery.Guard{Allow: allow}}
}

func newEngine(t testing.TB, pool *pgxpool.Pool, cfg delivery.Config) *delivery.Engine {
	t.Helper()
	e, err := delivery.New(context.Background(), pool, cfg)
	require.NoError(t, err)
	require.NoError(t, e.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.Stop(ctx)
	})
	return e
}

func enqueue(t testing.TB, pool *pgxpool.Pool, e delivery.Enqueuer, msgs ...delivery.Message) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return e.Enqueue(ctx, tx, msgs) }))
}

// waitFor polls the delivery log until cond holds on the delivery of topic (a few seconds at most).
func waitFor(t testing.TB, e *delivery.Engine, topic string, cond func(delivery.Delivery) bool) delivery.Delivery {
	t.Helper()
	var last delivery.Delivery
	require.Eventually(t, func() bool {
		ds, _, err := e.Store().List(context.Background(), delivery.Filter{Topic: topic})
		require.NoError(t, err)
		if len(ds) != 1 {
			return false
		}
		last = ds[0]
		return cond(last)
	}, 10*time.Second, 10*time.Millisecond, "last seen: %+v", last)
	return last
}

// verifyStandardWebhook is an independent implementation of the Standard Webhooks check a receiver makes: the
// signed content is id.timestamp.body, keyed with the base64-decoded secret after whsec_, and any v1 signature of
// the space-separated list may match; the timestamp must be recent.
func verifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) bool {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || id == "" || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if ok && version == "v1" && err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

type received struct {
	header http.Header
	body   []byte
}

// receiver is a real HTTP receiver answering with the codes in script, then 200.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	script []int
	got    []received
}

func newReceiver(t testing.TB, script ...int) *receiver {
	r := &receiver{script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: b})
		code := http.StatusOK
		if len(r.script) > 0 {
			code, r.script = r.script[0], r.script[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) hostport() string { return strings.TrimPrefix(r.URL, "http://") }

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestWebhookSignedPerStandardWebhooks(t *testing.T) {
	pool := postgrestest.NewPool(t)
	rcv := newReceiver(t)
	e := newEngine(t, pool, fastConfig(rcv.hostport()))
	body := json.RawMessage(`{"text":"Paiement indisponible — 支付失败 <b>"}`)
	enqueue(t, pool, e, delivery.Message{Channel: delivery.ChannelWebhook, To: rcv.URL + "/hook", Topic: "t.sign",
		Secret: testSecret, Body: body})
	d := waitFor(t, e, "t.sign", func(d delivery.Delivery) bool { return d.Status == delivery.StatusDelivered })
	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	require.Equal(t, d.ID, reqs[0].header.Get("webhook-id"))
	require.JSONEq(t, string(body), string(reqs[0].body))
	require.True(t, verifyStandardWebhook(testSecret, reqs[0].header, reqs[0].body, time.Now()))
	// The check does fail on a changed body or another secret, so it proves something.
	require.False(t, verifyStandardWebhook(testSecret, reqs[0].header, append(reqs[0].body, ' '), time.Now()))
	require.False(t, verifyStandardWebhook("whsec_"+base64.StdEncoding.EncodeToString([]byte("other")),
		reqs[0].header, reqs[0].body, time.Now()))
	require.Equal(t, 1, d.Attempts)
	require.NotNil(t, d.DeliveredAt)
}

// BC-23 case A: 503, 503, then 200; three requests with the same webhook-id and body; growing gaps.
func TestBC23WebhookRetriedWithSameIDUntilDelivered(t *testing.T) {
	pool := postgrestest.NewPool(t)
	rcv := newReceiver(t, 503, 503)
	e := newEngine(t, pool, fastConfig(rcv.hostport()))
	var mu sync.Mutex
	var results []delivery.Result
	e.OnResult("t.retry", func(_ context.Context, r delivery.Result) error {
		mu.Lock()
		defer mu.Unlock()
		results = append(results, r)
		return nil
	})
	enqueue(t, pool, e, delivery.Message{Channel: delivery.ChannelWebhook, To: rcv.URL, Topic: "t.retry",
		Secret: testSecret, Body: json.RawMessage(`{"n":1}`)})
	d := waitFor(t, e, "t.retry", func(d delivery.Delivery) bool { return d.Status == delivery.StatusDelivered })
	require.Equal(t, 3, d.Attempts)
	reqs := rcv.requests()
	require.Len(t, reqs, 3)
	for _, r := range reqs {
		require.Equal(t, d.ID, r.header.Get("webhook-id"))
		require.Equal(t, `{"n":1}`, string(r.body))
		require.True(t, verifyStandardWebhook(testSecret, r.header, r.body, time.Now()))
	}
	// The hooks run once the log is written: wait for the third.
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(results) == 3 }, 5*time.Second, 5*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.False(t, results[0].Final)
	require.True(t, results[2].Delivered && results[2].Final)
}

// BC-23 case C: always 500 stops at the maximum, dead-lettered with its error; retry from the log works.
func TestBC23WebhookDeadLetteredAfterMaxAttemptsThenRetried(t *testing.T) {
	pool := postgrestest.NewPool(t)
	rcv := newReceiver(t, 500, 500, 500)
	e := newEngine(t, pool, fastConfig(rcv.hostport()))
	enqueue(t, pool, e, delivery.Message{Channel: delivery.ChannelWebhook, To: rcv.URL + "/secret-path?token=x",
		Topic: "t.dead", Body: json.RawMessage(`{}`)})
	d := waitFor(t, e, "t.dead", func(d delivery.Delivery) bool { return d.Status == delivery.StatusDead })
	require.Equal(t, 3, d.Attempts)
	require.Contains(t, d.LastError, "500")
	require.NotContains(t, d.Target, "token", "the log never shows a URL's path or query")
	require.Len(t, rcv.requests(), 3)

	_, err := e.Retry(context.Background(), d.ID)
	require.NoError(t, err)
	d = waitFor(t, e, "t.dead", func(d delivery.Delivery) bool { return d.Status == delivery.StatusDelivered })
	require.Len(t, rcv.requests(), 4)
	_, err = e.Retry(context.Background(), d.ID)
	require.Error(t, err, "only dead letters can be retried")
}

// BC-23 case D: 410 Gone is not retried and deactivates the subscriber.
func TestBC23GoneDeactivatesSubscriber(t *testing.T) {
	pool := postgrestest.NewPool(t)
	rcv := newReceiver(t, 410)
	e, err := delivery.New(context.Background(), pool, fastConfig(rcv.hostport()))
	require.NoError(t, err)
	gone := make(chan string, 1)
	e.OnGone = func(_ context.Context, id, reason string) error { gone <- id + " " + reason; return nil }
	require.NoError(t, e.Start(context.Background()))
	t.Cleanup(func() { _ = e.Stop(context.Background()) })
	const sub = "0b4f4d4e-8a59-4e44-9d2a-7a5c1b1f9a10"
	enqueue(t, pool, e, delivery.Message{Channel: delivery.ChannelSlack, To: rcv.URL, Topic: "t.gone",
		SubscriberID: sub, Body: json.RawMessage(`{}`)})
	d := waitFor(t, e, "t.gone", func(d delivery.Delivery) bool { return d.Status == delivery.StatusDead })
	require.Equal(t, 1, d.Attempts)
	require.Len(t, rcv.requests(), 1)
	select {
	case g := <-gone:
		require.Contains(t, g, sub)
		require.Contains(t, g, "410")
	case <-time.After(5 * time.Second):
		t.Fatal("the subscriber was not deactivated")
	}
}

// Slack names a dead incoming webhook in its answer: 404 no_service, or channel_is_archived.
func TestSlackGoneAnswerDeactivates(t *testing.T) {
	pool := postgrestest.NewPool(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "no_service")
	}))
	t.Cleanup(srv.Close)
	e, err := delivery.New(context.Background(), pool, fastConfig(strings.TrimPrefix(srv.URL, "http://")))
	require.NoError(t, err)
	gone := make(chan string, 1)
	e.OnGone = func(_ context.Context, id, _ string) error { gone <- id; return nil }
	require.NoError(t, e.Start(context.Background()))
	t.Cleanup(func() { _ = e.Stop(context.Background()) })
	enqueue(t, pool, e, delivery.Message{Channel: delivery.ChannelSlack, To: srv.URL, Topic: "t.slack",
		SubscriberID: "0b4f4d4e-8a59-4e44-9d2a-7a5c1b1f9a11", Body: json.RawMessage(`{}`)})
	waitFor(t, e, "t.slack", func(d delivery.Delivery) bool { return d.Status == delivery.StatusDead })
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("no_service did not deactivate")
	}
}

// localResolver answers every name with 127.0.0.1, as a rebinding DNS would: a test DNS server on loopback.
func localResolver(t testing.TB) *net.Resolver {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	go serveDNS(pc, net.IPv4(127, 0, 0, 1))
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// serveDNS answers A queries with ip and everything else with no records.
func serveDNS(pc net.PacketConn, ip net.IP) {
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		q := buf[:n]
		if n < 12 {
			continue
		}
		// Find the end of the question: name labels, then type and class.
		i := 12
		for i < n && q[i] != 0 {
			i += int(q[i]) + 1
		}
		if i+5 > n {
			continue
		}
		qtype := int(q[i+1])<<8 | int(q[i+2])
		question := q[12 : i+5]
		resp := []byte{q[0], q[1], 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0}
		resp = append(resp, question...)
		if qtype == 1 {
			resp[7] = 1
			resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
			resp = append(resp, ip.To4()...)
		}
		_, _ = pc.WriteTo(resp, from)
	}
}

// BC-24: literal private addresses are refused at subscribe time, a name resolving to 127.0.0.1 is refused at
// connect time, and a redirect from an allowed receiver to a private address is not followed.
func TestBC24SSRFRefused(t *testing.T) {
	ctx := context.Background()
	g := delivery.Guard{}
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]:6379/",
		"http://0x7f000001/", "http://2130706433/", "http://127.1/", "http://10.0.0.5/", "http://100.64.1.1/",
		"http://localhost:8080/", "http://[::1]/", "http://0.0.0.0/", "ftp://example.com/", "http://u:p@example.com/"} {
		_, err := g.ValidateURL(ctx, u)
		require.Error(t, err, u)
	}
	_, err := g.ValidateURL(ctx, "https://93.184.216.34/hook")
	require.NoError(t, err)

	// A private target the receiver never sees.
	var hits atomic.Int32
	private := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(200)
	}))
	t.Cleanup(private.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(private.URL, "http://"))
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, private.URL+"/admin", http.StatusFound)
	}))
	t.Cleanup(redirector.Close)

	resolver := localResolver(t)
	rebinding := delivery.Guard{Resolver: resolver}
	_, err = rebinding.ValidateURL(ctx, "http://rebind.example.net:"+port+"/hook")
	require.ErrorIs(t, err, delivery.ErrBlockedTarget, "a name resolving to loopback is refused at subscribe time")

	pool := postgrestest.NewPool(t)
	cfg := fastConfig(strings.TrimPrefix(redirector.URL, "http://"))
	cfg.Guard.Resolver = resolver
	e := newEngine(t, pool, cfg)
	enqueue(t, pool, e,
		delivery.Message{Channel: delivery.ChannelWebhook, To: "http://rebind.example.net:" + port + "/hook",
			Topic: "t.rebind", Body: json.RawMessage(`{}`)},
		delivery.Message{Channel: delivery.ChannelWebhook, To: redirector.URL + "/r", Topic: "t.redirect",
			Body: json.RawMessage(`{}`)})
	d := waitFor(t, e, "t.rebind", func(d delivery.Delivery) bool { return d.Status == delivery.StatusDead })
	require.Contains(t, d.LastError, "not public")
	require.Equal(t, 1, d.Attempts, "a refused target is not retried")
	d = waitFor(t, e, "t.redirect", func(d delivery.Delivery) bool { return d.Status == delivery.StatusDead })
	require.Contains(t, d.LastError, "not public")
	require.Zero(t, hits.Load(), "no request reached the private address")
}

// BC-24 step 5: an operator's allow-list (a CIDR) lets a self-hosted chat server on a private address through, and
// only what it lists.
func TestBC24AllowListedPrivateTargetIsDelivered(t *testing.T) {
	ctx := context.Background()
	rcv := newReceiver(t)
	_, port, _ := net.SplitHostPort(rcv.hostport())
	g := delivery.Guard{Allow: []string{"127.0.0.0/8"}, Resolver: localResolver(t)}
	_, err := g.ValidateURL(ctx, "http://chat.internal.example:"+port+"/hooks/x")
	require.NoError(t, err)
	_, err = g.ValidateURL(ctx, "http://10.20.1.7:8065/hooks/x")
	require.ErrorIs(t, err, delivery.ErrBlockedTarget, "only the listed prefixes")

	pool := postgrestest.NewPool(t)
	cfg := fastConfig()
	cfg.Guard = g
	e := newEngine(t, pool, cfg)
	enqueue(t, pool, e, delivery.Message{Channel: delivery.ChannelSlack, To: "http://chat.internal.example:" + port + "/hooks/x",
		Topic: "t.allow", Body: json.RawMessage(`{"text":"hi"}`)})
	waitFor(t, e, "t.allow", func(d delivery.Delivery) bool { return d.Status == delivery.StatusDelivered })
	require.Len(t, rcv.requests(), 1)
}

// BC-23 case B: a receiver slower than the timeout is retried with the same webhook-id, a capped number of times,
// then dead-lettered; a slow receiver holds up nobody else.
func TestBC23SlowReceiverTimesOutWithSameID(t *testing.T) {
	var mu sync.Mutex
	var ids []string
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids = append(ids, r.Header.Get("webhook-id"))
		mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	fast := newReceiver(t)
	pool := postgrestest.NewPool(t)
	cfg := fastConfig(strings.TrimPrefix(slow.URL, "http://"), fast.hostport())
	cfg.Timeout = 300 * time.Millisecond
	e := newEngine(t, pool, cfg)
	enqueue(t, pool, e,
		delivery.Message{Channel: delivery.ChannelWebhook, To: slow.URL, Topic: "t.slow", Body: json.RawMessage(`{}`)},
		delivery.Message{Channel: delivery.ChannelWebhook, To: fast.URL, Topic: "t.fast", Body: json.RawMessage(`{}`)})
	waitFor(t, e, "t.fast", func(d delivery.Delivery) bool { return d.Status == delivery.StatusDelivered })
	d := waitFor(t, e, "t.slow", func(d delivery.Delivery) bool { return d.Status == delivery.StatusDead })
	require.Equal(t, 3, d.Attempts)
	require.Contains(t, d.LastError, "timed out")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{d.ID, d.ID, d.ID}, ids)
}

// The log is pruned of finished deliveries older than the retention, with their contents; pending ones stay.
func TestPruneKeepsWhatIsUnfinishedOrRecent(t *testing.T) {
	pool := postgrestest.NewPool(t)
	e, err := delivery.New(context.Background(), pool, fastConfig()) // not started: nothing is sent
	require.NoError(t, err)
	enqueue(t, pool, e,
		delivery.Message{Channel: delivery.ChannelWebhook, To: "https://a.example/", Topic: "t.old", Body: json.RawMessage(`{}`)},
		delivery.Message{Channel: delivery.ChannelWebhook, To: "https://b.example/", Topic: "t.pending", Body: json.RawMessage(`{"b":1}`)})
	ctx := context.Background()
	_, err = pool.Exec(ctx, `UPDATE deliveries SET status = 'delivered', updated_at = now() - interval '100 days'
		WHERE topic = 't.old'`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE deliveries SET updated_at = now() - interval '100 days' WHERE topic = 't.pending'`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE delivery_contents SET created_at = now() - interval '100 days'`)
	require.NoError(t, err)
	n, err := e.Store().Prune(ctx, time.Now().Add(-90*24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	ds, _, err := e.Store().List(ctx, delivery.Filter{})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, "t.pending", ds[0].Topic)
	var contents int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM delivery_contents`).Scan(&contents))
	require.Equal(t, 1, contents, "the pending delivery's content stays")
}

// Without MIM_SMTP_URL an email is a configuration error, not a passing failure: it is dead at its first attempt,
// and the log says why.
func TestEmailWithoutSMTPIsDeadAtOnceWithTheReason(t *testing.T) {
	pool := postgrestest.NewPool(t)
	e := newEngine(t, pool, fastConfig())
	enqueue(t, pool, e, delivery.Message{Channel: delivery.ChannelEmail, To: "ann@example.com", Topic: "t.nosmtp",
		Subject: "Hello", Text: "Hi"})
	d := waitFor(t, e, "t.nosmtp", func(d delivery.Delivery) bool { return d.Status == delivery.StatusDead })
	require.Equal(t, 1, d.Attempts, "not retried")
	require.Equal(t, "email notifications are off: set MIM_SMTP_URL and MIM_MAIL_FROM", d.LastError)
}
