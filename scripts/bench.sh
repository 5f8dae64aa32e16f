#!/usr/bin/env bash
# Load the public status page and summary.json of a running mim with wrk (Debian package wrk), on loopback only.
set -euo pipefail
url=${1:-http://127.0.0.1:8080}
case "$url" in http://127.*|http://localhost*|http://\[::1\]*) ;; *) echo "bench: only loopback targets" >&2; exit 2;; esac
command -v wrk >/dev/null || { echo "bench: install wrk (apt-get install wrk)" >&2; exit 2; }
for path in / /api/v2/summary.json; do
  echo "== $url$path (64 connections, 2 threads, 10 s)"
  wrk -t2 -c64 -d10s --latency -H 'Accept-Encoding: gzip' "$url$path" | grep -E 'Requests/sec|Latency|99%'
done
