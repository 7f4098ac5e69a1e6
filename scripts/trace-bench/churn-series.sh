#!/usr/bin/env bash
# Series under process churn, per workload (the default) and --per-pid:
# PROCS short-lived processes (0.2 s each) spawned into a cgroup of their
# own while a scrape runs every second; prints, for each mode, the most
# series one scrape had and the distinct series over the whole run (of
# govkit_sched_context_switches_total{kind="voluntary"}), with the bound
# (--top + 1). Needs root and cgroup v2.
#
#   scripts/trace-bench/churn-series.sh          # PROCS=300 TOP=20
set -euo pipefail
cd "$(dirname "$0")/../.."
PROCS=${PROCS:-300}
TOP=${TOP:-20}
cargo build --release --locked -q --bin govkit
root=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rmdir "$root"/govkit-churn-bench 2>/dev/null; rm -rf "$out"' EXIT
printf '%-10s %-8s %-22s %-22s\n' mode bound "most series in a scrape" "distinct over the run"
for mode in workload per-pid; do
    extra=()
    [ "$mode" = per-pid ] && extra=(--per-pid)
    target/release/govkit trace serve --metrics 127.0.0.1:19465 --interval 1s --top "$TOP" "${extra[@]}" -q 2>/dev/null &
    serve=$!
    until curl -sf -o /dev/null 127.0.0.1:19465/healthz; do sleep 0.2; done
    mkdir -p "$root"/govkit-churn-bench
    sh -c "echo \$\$ > $root/govkit-churn-bench/cgroup.procs && for i in \$(seq $PROCS); do sleep 0.2; done" &
    churn=$!
    : > "$out/all"; most=0
    while kill -0 "$churn" 2>/dev/null; do
        curl -s 127.0.0.1:19465/metrics | grep '^govkit_sched_context_switches_total{.*kind="voluntary"' \
            | sed 's/,kind=.*//' > "$out/now"
        n=$(wc -l < "$out/now"); [ "$n" -gt "$most" ] && most=$n
        cat "$out/now" >> "$out/all"
        sleep 1
    done
    printf '%-10s %-8s %-22s %-22s\n' "$mode" "$((TOP + 1))" "$most" "$(sort -u "$out/all" | wc -l)"
    kill "$serve"; wait "$serve" 2>/dev/null || true
    rmdir "$root"/govkit-churn-bench 2>/dev/null || true
done
