#!/usr/bin/env bash
# Load the public status page and summary.json of a running mim with wrk (Debian package wrk), on loopback only, and
# a bare net/http server (scripts/barehttp) that serves the same bytes, fetched once from that mim, in the same run:
# mim's requests per second are printed as a share of bare's, with both p99 latencies. Bare and mim take turns,
# BENCH_ROUNDS times per path, and each figure is the median of its rounds, so a burst of other work on the machine
# weighs on both alike and on one round only.
#
#   scripts/bench.sh [MIM_URL]      environment: BENCH_DURATION (5s), BENCH_ROUNDS (3), BENCH_CONNECTIONS (64),
#                                   BENCH_THREADS (1), BENCH_BARE_ADDR (127.0.0.1:8099),
#                                   BENCH_PATHS ("/ /api/v2/summary.json")
set -euo pipefail
url=${1:-http://127.0.0.1:8080}
case "$url" in http://127.*|http://localhost*|http://\[::1\]*) ;; *) echo "bench: only loopback targets" >&2; exit 2;; esac
command -v wrk >/dev/null || { echo "bench: install wrk (apt-get install wrk)" >&2; exit 2; }
duration=${BENCH_DURATION:-5s}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-1}
bare_addr=${BENCH_BARE_ADDR:-127.0.0.1:8099}
read -r -a paths <<<"${BENCH_PATHS:-/ /api/v2/summary.json}"
case "$bare_addr" in 127.*|localhost:*) ;; *) echo "bench: the bare server listens on loopback only" >&2; exit 2;; esac

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
bare_pid=
cleanup() {
  if [ -n "$bare_pid" ]; then kill "$bare_pid" 2>/dev/null || true; wait "$bare_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

curl -fsS -o /dev/null "$url/" || { echo "bench: no mim answers at $url (start one with 'make run')" >&2; exit 2; }
(cd "$here/.." && go build -o "$tmp/barehttp" scripts/barehttp/main.go)
"$tmp/barehttp" -from "$url" -addr "$bare_addr" "${paths[@]}" >"$tmp/bare.log" 2>&1 &
bare_pid=$!
for _ in $(seq 50); do curl -fsS -o /dev/null "http://$bare_addr/" 2>/dev/null && break; sleep 0.1; done

# wrk reports through this script: requests/s, p50 and p99 in microseconds, and the count of errors of any kind.
cat >"$tmp/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.0f %d %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
LUA
measure() { # measure URL → "rps p50_us p99_us errors"
  wrk -t"$threads" -c"$conns" -d"$duration" -H 'Accept-Encoding: gzip' -s "$tmp/report.lua" "$1" | awk '/^RESULT/ {print $2, $3, $4, $5}'
}
ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "wrk: $threads threads, $conns connections, $duration per run, $rounds rounds each, Accept-Encoding: gzip;" \
  "bare = scripts/barehttp on $bare_addr; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %12s %10s %10s %12s %10s %10s %8s\n' path "bare req/s" "bare p50" "bare p99" "mim req/s" "mim p50" "mim p99" "mim/bare"
for path in "${paths[@]}"; do
  wrk -t"$threads" -c"$conns" -d2s "http://$bare_addr$path" >/dev/null # warm both up
  wrk -t"$threads" -c"$conns" -d2s "$url$path" >/dev/null
  : >"$tmp/bare" && : >"$tmp/mim"
  for _ in $(seq "$rounds"); do
    measure "http://$bare_addr$path" >>"$tmp/bare"
    measure "$url$path" >>"$tmp/mim"
  done
  col() { awk -v c="$2" '{ print $c }' "$1" | median; }
  brps=$(col "$tmp/bare" 1) bp50=$(col "$tmp/bare" 2) bp99=$(col "$tmp/bare" 3)
  mrps=$(col "$tmp/mim" 1) mp50=$(col "$tmp/mim" 2) mp99=$(col "$tmp/mim" 3)
  errs=$(cat "$tmp/bare" "$tmp/mim" | awk '{ e += $4 } END { print e + 0 }')
  pct=$(awk -v m="$mrps" -v b="$brps" 'BEGIN { printf "%.0f %%", 100 * m / b }')
  printf '%-28s %12s %10s %10s %12s %10s %10s %8s\n' "$path" "$brps" "$(ms "$bp50")" "$(ms "$bp99")" "$mrps" "$(ms "$mp50")" "$(ms "$mp99")" "$pct"
  if [ "$errs" != 0 ]; then echo "  $errs errors (connect, read, write, timeout or non-2xx) in these runs" >&2; fi
  if [ -n "${BENCH_VERBOSE:-}" ]; then sed 's/^/  bare /' "$tmp/bare"; sed 's/^/  mim  /' "$tmp/mim"; fi
done
