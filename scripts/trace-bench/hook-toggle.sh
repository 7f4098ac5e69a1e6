#!/usr/bin/env bash
# Lock-in measurement of govkit trace connections' state-change hook on the
# connect/close load: one tracer, its raw tracepoint switched off and on
# every PHASE_MS inside one run (tracebpf/examples/hook_toggle.rs says why
# and how). Each of ROUNDS rounds runs, one after the other:
#   govkit   the tracer's hooks starting with TOGGLE_HOOKS switched
#            (default raw_tracepoint/: sock_state on inet_sock_set_state);
#   empty    an empty program on the same raw tracepoint switched the same
#            way (empty-raw-tp.py --toggle): the floor of any such hook;
#   A/A      the tracer, nothing switched (what the method reads as "no
#            difference"), unless AA=0.
# Needs root. CYCLES (default 40) ABBA cycles of 4 phases per run.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The state hook is what is switched: without it (the default where the
# cgroup hooks and sock_diag work) there is no raw tracepoint attached.
export GOVKIT_TRACE_STATE_HOOK=${GOVKIT_TRACE_STATE_HOOK:-1}
ROUNDS=${ROUNDS:-3}
CYCLES=${CYCLES:-40}
PHASE_MS=${PHASE_MS:-150}
export TOGGLE_SETTLE_MS=${TOGGLE_SETTLE_MS:-50}
cargo build --release -q -p tracebpf --example hook_toggle
cargo build --release -q -p trace-fixture
# As overhead.sh: no TIME_WAIT pile-up slowing later phases.
tw=$(sysctl -n net.ipv4.tcp_max_tw_buckets)
sysctl -qw net.ipv4.tcp_max_tw_buckets=0
trap 'sysctl -qw net.ipv4.tcp_max_tw_buckets=$tw' EXIT
for r in $(seq "$ROUNDS"); do
    echo "== round $r: govkit"
    target/release/examples/hook_toggle target/release/connloop "$CYCLES" "$PHASE_MS"
    echo "== round $r: empty"
    python3 scripts/trace-bench/empty-raw-tp.py inet_sock_set_state --toggle \
        target/release/connloop "$CYCLES" "$PHASE_MS" "$TOGGLE_SETTLE_MS"
    if [ "${AA:-1}" = 1 ]; then
        echo "== round $r: A/A"
        TOGGLE_NOOP=1 target/release/examples/hook_toggle target/release/connloop "$CYCLES" "$PHASE_MS"
    fi
done
