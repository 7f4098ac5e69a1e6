#!/usr/bin/env bash
# Memory of `govkit trace connections` under a long high-rate run: the
# connect/close loop runs as a new process every SECS seconds (a new pid,
# new call sites to learn, state to drop when it exits) for MINUTES minutes
# while govkit traces every process. Prints govkit's RSS every 10 s and the
# kernel-side counters at the end. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
MINUTES=${MINUTES:-5}
SECS=${SECS:-2}
GOVKIT=${GOVKIT:-target/release/govkit}
cargo build --release -q --bin govkit
cargo build --release -q -p trace-fixture
LOOP=target/release/connloop
out=$(mktemp -d)
tw=$(sysctl -n net.ipv4.tcp_max_tw_buckets)
sysctl -qw net.ipv4.tcp_max_tw_buckets=0
trap 'sysctl -qw net.ipv4.tcp_max_tw_buckets=$tw; rm -rf "$out"' EXIT
"$GOVKIT" trace connections --format json --min-age 1h --interval 5s >"$out/g.json" 2>"$out/g.err" &
g=$!
for _ in $(seq 100); do grep -q "tracing TCP" "$out/g.err" && break; sleep 0.1; done
end=$((SECONDS + MINUTES * 60))
(
    n=0; total=0
    while [ $SECONDS -lt $end ]; do
        r=$("$LOOP" "$SECS"); n=$((n + 1)); total=$((total + ${r%.*} * SECS))
    done
    echo "$n processes, about $total connections" >"$out/load"
) &
load=$!
echo "elapsed_s rss_kib"
start=$SECONDS
while kill -0 $load 2>/dev/null; do
    echo "$((SECONDS - start)) $(awk '/VmRSS/{print $2}' /proc/$g/status)"
    sleep 10
done
wait $load
cat "$out/load"
kill -INT $g; wait $g || true
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("lost_events:", r["lost_events"], "counters:", json.dumps(r["counters"]), "call_sites_learned:", r["call_sites_learned"])' "$out/g.json"
