package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/delivery"
	"github.com/mimhq/mim/internal/postgrestest"
)

// fanOut builds one update's messages for n subscribers: one shared content, per-recipient Vars.
func fanOut(n int, to func(i int) string, ch delivery.Channel) []delivery.Message {
	body := json.RawMessage(`{"meta":{"unsubscribe":"{{unsubscribe_url}}"},"incident":{"name":"Login failures","status":"investigating"}}`)
	msgs := make([]delivery.Message, n)
	for i := range msgs {
		msgs[i] = delivery.Message{Channel: ch, To: to(i), Topic: "incident.update", IncidentKey: "INC-1",
			SubscriberID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Key: fmt.Sprintf("bench:%d", i),
			Subject: "[mim status] Login failures", Text: "We are investigating.\n\nUnsubscribe: {{unsubscribe_url}}",
			HTML: "<p>We are investigating.</p>" + strings.Repeat("<p>More words.</p>", 40), Body: body,
			Vars: map[string]string{"unsubscribe_url": fmt.Sprintf("https://status.example.com/subscriptions/tok%d/unsubscribe", i)}}
	}
	return msgs
}

// BenchmarkEnqueue100k measures enqueueing one update for 100,000 subscribers in one transaction (target ≤ 2 s).
func BenchmarkEnqueue100k(b *testing.B) {
	pool := postgrestest.NewPool(b)
	e, err := delivery.New(context.Background(), pool, delivery.Config{})
	require.NoError(b, err) // not started: this measures the enqueue alone
	msgs := fanOut(100_000, func(i int) string { return fmt.Sprintf("user%d@example.com", i) }, delivery.ChannelEmail)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := range msgs {
			msgs[j].Key = fmt.Sprintf("bench:%d:%d", i, j)
		}
		b.StartTimer()
		start := time.Now()
		require.NoError(b, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return e.Enqueue(ctx, tx, msgs) }))
		b.ReportMetric(time.Since(start).Seconds(), "s/100k")
	}
}

// BenchmarkWebhookDeliveries measures deliveries per second to a local receiver, and the heap before and after.
func BenchmarkWebhookDeliveries(b *testing.B) {
	const n = 10_000
	pool := postgrestest.NewPool(b)
	var got atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if got.Add(1) == n {
			close(done)
		}
	}))
	b.Cleanup(srv.Close)
	cfg := delivery.Config{Workers: 100, PollInterval: 50 * time.Millisecond,
		Guard: delivery.Guard{Allow: []string{strings.TrimPrefix(srv.URL, "http://")}}}
	e, err := delivery.New(context.Background(), pool, cfg)
	require.NoError(b, err)
	ctx := context.Background()
	msgs := fanOut(n, func(int) string { return srv.URL + "/hook" }, delivery.ChannelWebhook)
	for i := range msgs {
		msgs[i].Secret = testSecret
	}
	require.NoError(b, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return e.Enqueue(ctx, tx, msgs) }))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	start := time.Now()
	require.NoError(b, e.Start(ctx))
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d delivered", got.Load(), n)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	_ = e.Stop(ctx)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(before.HeapAlloc)/(1<<20), "heap-before-MiB")
	b.ReportMetric(float64(after.HeapAlloc)/(1<<20), "heap-after-MiB")
}
