#!/usr/bin/env bash
# Kernel time per connection of govkit trace connections, with and without
# the state hook, interleaved: each of ROUNDS rounds runs the connect/close
# loop for SECS seconds under `govkit trace connections --bpf-stats` (every
# process traced), once as the host's default picks (the cgroup hooks
# alone where sock_diag works) and once with
# GOVKIT_TRACE_STATE_HOOK=1 (inet_sock_set_state), and prints the sum of
# all programs' run time over the connections (opens / 2: both ends of
# each connection are in the loop), with each program's ns per run and runs
# per connection. The BPF statistics' own two clock reads per run are
# included. A figure of direct program cost that, unlike throughput, does
# not move much with the host's drift. MODES (default "default
# state-hook") may also name `alt`: the default hooks of another build,
# $GOVKIT_ALT, for an A/B of two builds in one run. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-4}
SECS=${SECS:-3}
GOVKIT=${GOVKIT:-target/release/govkit}
MODES=${MODES:-default state-hook}
cargo build --release -q --bin govkit
cargo build --release -q -p trace-fixture
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$ROUNDS"); do
    for mode in $MODES; do
        state=0
        [ "$mode" = state-hook ] && state=1
        bin=$GOVKIT
        [ "$mode" = alt ] && bin=${GOVKIT_ALT:?MODES names alt: set GOVKIT_ALT}
        GOVKIT_TRACE_STATE_HOOK=$state "$bin" trace connections --bpf-stats --format json \
            --min-age 1h --duration "$((SECS + 2))s" >"$out" 2>/dev/null &
        p=$!
        sleep 1.5
        rate=$(target/release/connloop "$SECS")
        wait $p || true # exit 1: leaks found elsewhere on the host
        python3 - "$out" "$mode" "$rate" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
conns = r["counters"]["opens"] / 2
total = sum(p["run_time_ns"] for p in r["programs"])
progs = "  ".join(f"{p['program']} {p['ns_per_run']:.0f} ns x {p['runs'] / conns:.1f}"
                  for p in r["programs"] if p["runs"] > 100)
print(f"{sys.argv[2]:<10} {total / conns:6.0f} ns/conn   {progs}   ({sys.argv[3]} conn/s)")
PY
    done
done
