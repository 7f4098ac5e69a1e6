#!/usr/bin/env bash
# Tracer overhead on a CPU-saturated loopback connect/close loop
# (tracebpf/fixture/src/bin/connloop.rs: busy-polling listener + client on the 2 cores).
# Alternates, in one run: untraced, `govkit trace connections` (every
# process), and libbpf-tools `tcplife`; ROUNDS rounds of SECS seconds each.
# Prints connections/s per run and the median ratio to untraced.
# Needs root and libbpf-tools (apt-get install libbpf-tools).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-5}
GOVKIT=${GOVKIT:-target/release/govkit}
TCPLIFE=${TCPLIFE:-$(command -v tcplife || echo /usr/sbin/tcplife)}
cargo build --release -q --bin govkit
cargo build --release -q -p trace-fixture
LOOP=target/release/connloop
out=$(mktemp -d)
# Every connection leaves a TIME_WAIT socket on the server side; after a
# minute of this load tens of thousands of them make new SYNs to a reused
# port pair slow, and later runs slower than earlier ones. With no
# TIME_WAIT buckets the kernel closes those sockets at once (same state
# transitions up to there); the setting is restored on exit.
tw=$(sysctl -n net.ipv4.tcp_max_tw_buckets)
sysctl -qw net.ipv4.tcp_max_tw_buckets=0
trap 'sysctl -qw net.ipv4.tcp_max_tw_buckets=$tw; rm -rf "$out"' EXIT

wait_for() { # file pattern
    for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

run() { # name
    case $1 in
    base) "$LOOP" "$SECS" ;;
    govkit)
        "$GOVKIT" trace connections --format json --min-age 1h >"$out/g.json" 2>"$out/g.err" &
        local p=$!
        wait_for "$out/g.err" "tracing TCP connections"
        "$LOOP" "$SECS"
        kill -INT $p; wait $p || true
        cp "$out/g.json" "$out/govkit-last.json" ;;
    tcplife)
        "$TCPLIFE" >/dev/null 2>"$out/t.err" &
        local p=$!
        sleep 2
        "$LOOP" "$SECS"
        kill -INT $p; wait $p || true ;;
    esac
}

declare -A rates
for r in $(seq "$ROUNDS"); do
    for name in base govkit tcplife; do
        rate=$(run $name)
        rates[$name]+="$rate "
        echo "round $r $name $rate conn/s" >&2
    done
done
python3 - "${rates[base]}" "${rates[govkit]}" "${rates[tcplife]}" <<'PY'
import statistics, sys
base, gov, tl = ([float(x) for x in a.split()] for a in sys.argv[1:4])
mb = statistics.median(base)
print(f"{'':10}{'median conn/s':>15}{'ratio':>8}   runs")
for name, xs in (("untraced", base), ("govkit", gov), ("tcplife", tl)):
    m = statistics.median(xs)
    print(f"{name:10}{m:15.0f}{m / mb:8.3f}   {' '.join(f'{x:.0f}' for x in xs)}")
PY
# One more govkit run with the kernel's BPF statistics on (they cost every
# program two clock reads per run, so the runs above leave them off): the
# per-program cost per event.
"$GOVKIT" trace connections --format json --min-age 1h --bpf-stats >"$out/s.json" 2>"$out/s.err" &
p=$!
wait_for "$out/s.err" "tracing TCP connections"
stats_rate=$("$LOOP" "$SECS")
kill -INT $p; wait $p || true
python3 - "$out/govkit-last.json" "$out/s.json" "$stats_rate" <<'PY'
import json, sys
last, stats = (json.load(open(f)) for f in sys.argv[1:3])
print("govkit kernel counters (last run):", json.dumps(last["counters"]), "lost_events:", last["lost_events"])
print(f"with --bpf-stats ({float(sys.argv[3]):.0f} conn/s):")
for p in stats["programs"]:
    print(f"  {p['program']:14} {p['runs']:>10} runs {p['ns_per_run']:8.0f} ns/run")
PY
