#!/usr/bin/env bash
# `govkit trace serve` under a long high-rate run: for MINUTES minutes a
# new load process starts every SECS seconds (alternately the pipe
# ping-pong, ~100k scheduler events/s, and the connect/close loop, ~15k
# connections/s), so pids, threads, call sites and series keep turning
# over, while Prometheus-style scrapes hit /metrics every second. Prints
# the exporter's RSS every 30 s, failed scrapes, the series count, and the
# tracer's own counters from the last scrape. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
MINUTES=${MINUTES:-10}
SECS=${SECS:-2}
GOVKIT=${GOVKIT:-target/release/govkit}
cargo build --release -q --bin govkit
cargo build --release -q -p trace-fixture
out=$(mktemp -d)
tw=$(sysctl -n net.ipv4.tcp_max_tw_buckets)
sysctl -qw net.ipv4.tcp_max_tw_buckets=0
trap 'sysctl -qw net.ipv4.tcp_max_tw_buckets=$tw; rm -rf "$out"' EXIT
# SERVE_ARGS: e.g. --per-pid (one series per process: the most lines).
"$GOVKIT" trace serve --metrics 127.0.0.1:19465 --interval 5s --min-age 30s ${SERVE_ARGS:-} 2>"$out/g.err" &
g=$!
for _ in $(seq 100); do grep -q "serving Prometheus" "$out/g.err" && break; sleep 0.1; done
end=$((SECONDS + MINUTES * 60))
(
    n=0
    while [ $SECONDS -lt $end ]; do
        if [ $((n % 2)) -eq 0 ]; then target/release/pingpong "$SECS" >/dev/null
        else target/release/connloop "$SECS" >/dev/null; fi
        n=$((n + 1))
    done
    echo "$n load processes" >"$out/load"
) &
load=$!
(
    ok=0; bad=0
    while kill -0 $load 2>/dev/null; do
        if curl -sf -o "$out/m.txt.new" 127.0.0.1:19465/metrics; then
            ok=$((ok + 1)); mv "$out/m.txt.new" "$out/m.txt"
        else bad=$((bad + 1)); fi
        sleep 1
    done
    echo "$ok scrapes ok, $bad failed" >"$out/scrapes"
) &
scraper=$!
echo "elapsed_s rss_kib"
start=$SECONDS
while kill -0 $load 2>/dev/null; do
    echo "$((SECONDS - start)) $(awk '/VmRSS/{print $2}' /proc/$g/status)"
    sleep 30
done
wait $load; wait $scraper
cat "$out/load" "$out/scrapes"
echo "series in the last scrape: $(grep -vc '^#' "$out/m.txt")"
grep -E '^govkit_trace_(events|lost_events)_total|^govkit_trace_last_scrape' "$out/m.txt"
promtool check metrics <"$out/m.txt" && echo "promtool check metrics: ok"
kill -TERM $g; wait $g || true
