#!/usr/bin/env bash
# Scheduler tracer overhead on a context-switch-bound load
# (tracebpf/fixture/src/bin/pingpong.rs: two threads passing a byte through
# pipes; every round trip is two wakeups and two switches on each side).
# Alternates, in one run: untraced, `govkit trace sched` (every process),
# `govkit trace serve` (both tracers + exporter, scraped every second) and
# libbpf-tools `runqlat` (every process); ROUNDS rounds of SECS seconds.
# Prints round trips/s per run, the median ratio to untraced, and the
# per-program cost from one extra run with BPF statistics on.
# Needs root and libbpf-tools.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-5}
GOVKIT=${GOVKIT:-target/release/govkit}
RUNQLAT=${RUNQLAT:-$(command -v runqlat || echo /usr/sbin/runqlat)}
cargo build --release -q --bin govkit
cargo build --release -q -p trace-fixture
LOAD=target/release/pingpong
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

wait_for() { # file pattern
    for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

run() { # name
    case $1 in
    base) "$LOAD" "$SECS" ;;
    govkit)
        "$GOVKIT" trace sched --format json >"$out/g.json" 2>"$out/g.err" &
        local p=$!
        wait_for "$out/g.err" "tracing the scheduler"
        "$LOAD" "$SECS"
        kill -INT $p; wait $p || true
        cp "$out/g.json" "$out/govkit-last.json" ;;
    serve)
        "$GOVKIT" trace serve --metrics 127.0.0.1:19464 --interval 1s 2>"$out/s.err" &
        local p=$!
        wait_for "$out/s.err" "serving Prometheus"
        ( while kill -0 $p 2>/dev/null; do curl -s -o /dev/null 127.0.0.1:19464/metrics; sleep 1; done ) &
        local c=$!
        "$LOAD" "$SECS"
        kill -TERM $p; wait $p || true; kill $c 2>/dev/null || true; wait $c 2>/dev/null || true ;;
    runqlat)
        stdbuf -oL "$RUNQLAT" >"$out/r.out" 2>&1 &
        local p=$!
        wait_for "$out/r.out" "Tracing run queue latency"
        "$LOAD" "$SECS"
        kill -INT $p; wait $p || true ;;
    esac
}

declare -A rates
for r in $(seq "$ROUNDS"); do
    for name in base govkit serve runqlat; do
        rate=$(run $name)
        rates[$name]+="$rate "
        echo "round $r $name $rate round trips/s" >&2
    done
done
python3 - "${rates[base]}" "${rates[govkit]}" "${rates[serve]}" "${rates[runqlat]}" <<'PY'
import statistics, sys
base, gov, serve, rq = ([float(x) for x in a.split()] for a in sys.argv[1:5])
mb = statistics.median(base)
print(f"{'':14}{'median trips/s':>15}{'ratio':>8}   runs")
for name, xs in (("untraced", base), ("govkit sched", gov), ("govkit serve", serve), ("runqlat", rq)):
    m = statistics.median(xs)
    print(f"{name:14}{m:15.0f}{m / mb:8.3f}   {' '.join(f'{x:.0f}' for x in xs)}")
PY
"$GOVKIT" trace sched --format json --bpf-stats >"$out/s.json" 2>"$out/s.err" &
p=$!
wait_for "$out/s.err" "tracing the scheduler"
stats_rate=$("$LOAD" "$SECS")
kill -INT $p; wait $p || true
python3 - "$out/govkit-last.json" "$out/s.json" "$stats_rate" <<'PY'
import json, sys
last, stats = (json.load(open(f)) for f in sys.argv[1:3])
print("govkit sched (last run):", json.dumps(last["counters"]), "lost_events:", last["lost_events"])
print(f"with --bpf-stats ({float(sys.argv[3]):.0f} trips/s):")
for p in stats["programs"]:
    print(f"  {p['program']:18} {p['runs']:>10} runs {p['ns_per_run']:8.0f} ns/run")
PY
