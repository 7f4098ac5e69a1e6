#!/usr/bin/env bash
# Scheduler tracer overhead on a context-switch-bound load
# (tracebpf/fixture/src/bin/pingpong.rs: two threads passing a byte through
# pipes; every round trip is two wakeups and two switches on each side).
#
# Every round runs the load untraced and under each variant, in an order
# rotated from round to round, SECS seconds each. A variant's figure is the
# median over rounds of its rate divided by the untraced rate of the same
# round (paired: this machine's throughput drifts by ±15 % over minutes),
# with the 25th-75th percentiles and a 95 % bootstrap interval of the
# median; next to it the same paired ratio of CPU time per round trip (all
# CPUs, minus idle and steal, from /proc/stat).
#
# The two threads are pinned to CPUS (default 0,1: every round trip
# wakes the other CPU, about 27,000 round trips/s here; 0,0 puts both on
# one CPU, about 250,000/s, every switch between two traced threads): left
# to the scheduler, their placement changes from run to run and moves the
# rate by a third.
#
# Variants (VARIANTS, space-separated; default "govkit serve runqlat"):
#   govkit         govkit trace sched, every process (the build the kernel
#                  takes: BTF tracepoints and task storage on this host)
#   govkit-compat  the same with the raw-tracepoint build
#                  (GOVKIT_TRACE_SCHED_COMPAT=1), the fallback for kernels
#                  that refuse the BTF one
#   govkit-alt     govkit trace sched from another build ($GOVKIT_ALT): A/B
#                  of two builds in one run
#   serve          govkit trace serve (both tracers and the exporter),
#                  scraped every second
#   runqlat        libbpf-tools runqlat, every process
#   empty-raw      an empty program on each of the four raw tracepoints
#                  govkit uses (empty-raw-tp.py): the floor, what watching
#                  them costs before any work
# Then one more run of each govkit build with the kernel's BPF statistics
# on: cost per program run.
# RATES_OUT=FILE appends every round's figures for pooling runs
# (scripts/trace-bench/pool.py FILE).
# Needs root and libbpf-tools.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/trace-bench/lib.sh
. scripts/trace-bench/lib.sh
ROUNDS=${ROUNDS:-12}
SECS=${SECS:-3}
VARIANTS=${VARIANTS:-govkit serve runqlat}
GOVKIT=${GOVKIT:-target/release/govkit}
RUNQLAT=${RUNQLAT:-$(command -v runqlat || echo /usr/sbin/runqlat)}
cargo build --release -q --bin govkit
cargo build --release -q -p trace-fixture
LOAD=target/release/pingpong
export CPUS=${CPUS-0,1}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT


settle() { # maps and programs are freed after a tracer exits, in kernel workqueues
    sleep "${SETTLE:-1}"
}

load() {
    local b0; b0=$(busy)
    "$LOAD" "$SECS"
    echo $(($(busy) - b0)) >"$out/busy"
}



run() { # variant
    case $1 in
    untraced) load; settle ;;
    govkit) traced "tracing the scheduler" "$GOVKIT" trace sched --format json ;;
    govkit-compat) traced "tracing the scheduler" env GOVKIT_TRACE_SCHED_COMPAT=1 "$GOVKIT" trace sched --format json ;;
    govkit-alt) traced "tracing the scheduler" "$GOVKIT_ALT" trace sched --format json ;;
    serve)
        "$GOVKIT" trace serve --metrics 127.0.0.1:19464 --interval 1s 2>"$out/s.err" &
        local p=$!
        wait_for "serving Prometheus" "$out/s.err"
        ( while kill -0 $p 2>/dev/null; do curl -s -o /dev/null 127.0.0.1:19464/metrics; sleep 1; done ) &
        local c=$!
        load
        kill -TERM $p; wait $p || true; kill $c 2>/dev/null || true; wait $c 2>/dev/null || true
        settle ;;
    runqlat) traced "Tracing run queue latency" stdbuf -oL "$RUNQLAT" ;;
    empty-raw) traced "Attaching" python3 scripts/trace-bench/empty-raw-tp.py \
        sched_switch,sched_wakeup,sched_wakeup_new,sched_migrate_task ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
    esac
}

echo "load: pipe ping-pong on CPUs ${CPUS:-unpinned}, $SECS s per variant, $ROUNDS rounds" >&2
run_id=$(date +%s)
read -r -a variants <<<"untraced $VARIANTS"
n=${#variants[@]}
: >"$out/rates"
for r in $(seq "$ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do
        v=${variants[$(((i + r) % n))]}
        rate=$(run "$v")
        echo "$r $v $rate $(cat "$out/busy")" >>"$out/rates"
        echo "round $r $v $rate round trips/s, $(cat "$out/busy") busy jiffies" >&2
    done
done
if [ -n "${RATES_OUT:-}" ]; then
    sed "s/^/$run_id /" "$out/rates" >>"$RATES_OUT"
fi
sed "s/^/$run_id /" "$out/rates" >"$out/pooled"
python3 scripts/trace-bench/pool.py "$out/pooled" "${variants[@]:1}"
# One more run of each govkit build with the kernel's BPF statistics on
# (they cost every program two clock reads per run, so the rounds above
# leave them off).
for v in govkit govkit-compat; do
    env $([ $v = govkit-compat ] && echo GOVKIT_TRACE_SCHED_COMPAT=1) \
        "$GOVKIT" trace sched --format json --bpf-stats >"$out/b.json" 2>"$out/b.err" &
    p=$!
    wait_for "tracing the scheduler" "$out/b.err"
    rate=$("$LOAD" "$SECS")
    kill -INT $p; wait $p || true
    python3 - "$out/b.json" "$rate" "$v" "$(grep -o 'node(s), [^)]*' "$out/b.err" | sed 's/node(s), //')" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
print(f"{sys.argv[3]} {sys.argv[4]}, with --bpf-stats ({float(sys.argv[2]):.0f} round trips/s):")
print("  kernel counters:", json.dumps(stats["counters"]), "lost_events:", stats["lost_events"])
for p in sorted(stats["programs"], key=lambda p: -p["runs"]):
    print(f"  {p['program']:18} {p['runs']:>10} runs {p['ns_per_run']:8.0f} ns/run")
PY
    settle
done
