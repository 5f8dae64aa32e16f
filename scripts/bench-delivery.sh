#!/bin/sh
# bench-delivery.sh: the notification figures — time to enqueue one update for 100,000 subscribers (target ≤ 2 s)
# and webhook deliveries per second to a local receiver (target ≥ 2,000/s), with the heap before and after.
# Each runs three times against the private PostgreSQL of the test harness; docs/performance.md holds the figures.
set -eu
GO=${GO:-go}
$GO test -run '^$' -bench 'BenchmarkEnqueue100k|BenchmarkWebhookDeliveries' -benchtime 1x -count 3 ./internal/delivery/ |
	grep -E '^Benchmark' |
	sed -e 's/^BenchmarkEnqueue100k-[0-9]*/enqueue 100,000:/' -e 's/^BenchmarkWebhookDeliveries-[0-9]*/webhooks 10,000:/'
