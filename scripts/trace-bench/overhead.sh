#!/usr/bin/env bash
# Tracer overhead on a CPU-saturated loopback connect/close loop
# (tracebpf/fixture/src/bin/connloop.rs: busy-polling listener + client on
# the 2 cores). CONNLOOP_BLOCKING=1 runs the earlier load instead, whose
# client sleeps in read() until the server's FIN (about a quarter of its
# time idle on this VM: the rate then follows vCPU wake-up latency too).
#
# Every round runs the load untraced and under each variant, in an order
# rotated from round to round, SECS seconds each. A variant's figure is the
# median over rounds of its rate divided by the untraced rate of the same
# round (paired: this machine's throughput drifts by ±15 % over minutes,
# far more than the effects measured), with the 25th-75th percentile range.
# Next to it, the same paired ratio of CPU time per connection (all CPUs,
# minus idle and minus the time the host stole for other guests, from
# /proc/stat): the load saturates both CPUs, so this is what throughput
# would be without the host's interference, and it drifts far less.
#
# Variants (VARIANTS, space-separated; default "govkit tcplife"):
#   govkit              govkit trace connections, every process, --hooks auto
#   govkit-tracepoints  the same with --hooks tracepoints
#   govkit-state        --hooks cgroup with the state hook
#                       (GOVKIT_TRACE_STATE_HOOK=1): every state change
#                       followed in the kernel, as on hosts without sock_diag
#   govkit-filtered     --pid of an idle process: every hook attached, every
#                       program runs and returns at once (the floor: what
#                       the hooks cost before any work)
#   govkit-alt          govkit trace connections from another build
#                       ($GOVKIT_ALT): A/B of two builds in one run
#   tcplife             libbpf-tools tcplife
#   empty-accept-tp     bpftrace with an empty program on
#                       syscalls:sys_exit_accept4: the cost of having a
#                       syscall tracepoint attached at all
#   poller-100hz        a process that only wakes every 10 ms: what a
#                       tracer's polling alone costs this load
#   empty-state-tp      bpftrace with an empty program on
#                       sock:inet_sock_set_state (10 state changes per
#                       connection): the cost of watching them at all
#   empty-state-raw     an empty program on the raw tracepoint
#                       inet_sock_set_state (empty-raw-tp.py): the same
#                       through the path govkit uses, no record formatted
#   empty-destroy-raw   an empty program on the raw tracepoint
#                       tcp_destroy_sock (2 runs per connection): the floor
#                       of the hook govkit dropped records at until it took
#                       stale slots over instead
#   empty-cgroup        empty cgroup connect4/6 and getpeername4/6 programs
#                       at the cgroup root (empty-cgroup.py): the floor of
#                       govkit's open hooks
#   null-process        a process started and stopped like a tracer that
#                       only sleeps: what the method itself reads as cost
# Then one more govkit run with the kernel's BPF statistics on: per-program
# cost per run and per connection.
# With PERF_ROUNDS=N (and perf installed), N more rounds sample every CPU
# (perf record, cpu-clock) during the load under each variant and print the
# share of samples in tracing code (BPF programs, map and helper code, the
# syscall-tracepoint and cgroup-hook machinery) and in the tracer's own
# process, minus the untraced share: a figure that, unlike throughput, does
# not move with the host's drift.
# RATES_OUT=FILE keeps every round's figures for pooling runs
# (scripts/trace-bench/pool.py FILE).
# Needs root; libbpf-tools for tcplife, bpftrace for empty-accept-tp.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/trace-bench/lib.sh
. scripts/trace-bench/lib.sh
ROUNDS=${ROUNDS:-12}
PERF_ROUNDS=${PERF_ROUNDS:-0}
SECS=${SECS:-2}
VARIANTS=${VARIANTS:-govkit tcplife}
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
sleep 1000000 &
idle=$!
trap 'kill $idle 2>/dev/null; sysctl -qw net.ipv4.tcp_max_tw_buckets=$tw; rm -rf "$out"' EXIT


load() { # the loop; under perf when PERF_OUT is set
    if [ -z "${PERF_OUT:-}" ]; then
        local b0; b0=$(busy)
        "$LOOP" "$SECS"
        echo $(($(busy) - b0)) >"$out/busy"
        return
    fi
    "$LOOP" "$SECS" &
    local l=$!
    sleep 0.3
    perf record -q -a -F 1999 -o "$PERF_OUT" -- sleep "$(python3 -c "print(max(0.5, $SECS - 0.6))")" >/dev/null 2>&1
    wait $l
}



settle() { # a tracer's maps and programs are freed after it exits, in
    # kernel workqueues and RCU callbacks: let that finish before the next
    # variant's round, which would otherwise pay for it
    sleep "${SETTLE:-1}"
}

run() { # variant
    case $1 in
    untraced) load; settle ;;
    govkit) traced "tracing TCP" "$GOVKIT" trace connections --format json --min-age 1h ;;
    govkit-tracepoints) traced "tracing TCP" "$GOVKIT" trace connections --format json --min-age 1h --hooks tracepoints ;;
    govkit-state) traced "tracing TCP" env GOVKIT_TRACE_STATE_HOOK=1 "$GOVKIT" trace connections --format json --min-age 1h --hooks cgroup ;;
    govkit-alt) traced "tracing TCP" "$GOVKIT_ALT" trace connections --format json --min-age 1h ;;
    govkit-filtered) traced "tracing TCP" "$GOVKIT" trace connections --format json --min-age 1h --pid $idle ;;
    tcplife) "$TCPLIFE" >"$out/t.out" 2>"$out/t.err" &
        local p=$!
        sleep 2 # libbpf-tools print nothing when attached
        load
        kill -INT $p; wait $p || true
        settle ;;
    empty-accept-tp) traced "Attaching" bpftrace -e 'tracepoint:syscalls:sys_exit_accept4 {}' ;;
    poller-100hz) traced "polling" python3 -uc 'import signal, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # ignored in background jobs
print("polling")
try:
    while True: time.sleep(0.01)
except KeyboardInterrupt: pass' ;;
    empty-state-tp) traced "Attaching" bpftrace -e 'tracepoint:sock:inet_sock_set_state {}' ;;
    empty-state-raw) traced "Attaching" python3 scripts/trace-bench/empty-raw-tp.py inet_sock_set_state ;;
    empty-destroy-raw) traced "Attaching" python3 scripts/trace-bench/empty-raw-tp.py tcp_destroy_sock ;;
    empty-cgroup) traced "Attaching" python3 scripts/trace-bench/empty-cgroup.py ;;
    null-process) traced "sleeping" python3 -uc 'import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
print("sleeping")
try: signal.pause()
except KeyboardInterrupt: pass' ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
    esac
}

echo "load: $([ "${CONNLOOP_BLOCKING:-0}" = 1 ] && echo 'blocking client (CONNLOOP_BLOCKING=1)' || echo 'busy-polling client and listener'), $SECS s per variant, $ROUNDS rounds" >&2
run_id=$(date +%s)
read -r -a variants <<<"untraced $VARIANTS"
n=${#variants[@]}
: >"$out/rates"
for r in $(seq "$ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do
        v=${variants[$(((i + r) % n))]}
        rate=$(run "$v")
        echo "$r $v $rate $(cat "$out/busy")" >>"$out/rates"
        echo "round $r $v $rate conn/s, $(cat "$out/busy") busy jiffies" >&2
    done
done
# RATES_OUT=FILE appends every round's figures ("round variant conn/s
# busy-jiffies", prefixed with the run's start time) to FILE, so that runs
# can be pooled (scripts/trace-bench/pool.py).
if [ -n "${RATES_OUT:-}" ]; then
    sed "s/^/$run_id /" "$out/rates" >>"$RATES_OUT"
fi
SECS=$SECS python3 - "$out/rates" "${variants[@]}" <<'PY'
import statistics, sys
import os
rows = [l.split() for l in open(sys.argv[1])]
names = sys.argv[2:]
secs = float(os.environ.get("SECS", "2"))
hz = os.sysconf("SC_CLK_TCK")
by, cpu = {}, {}
for r, v, rate, busy in rows:
    by.setdefault(v, {})[int(r)] = float(rate)
    # CPU time (all CPUs, minus idle and the host's steal) per connection
    cpu.setdefault(v, {})[int(r)] = int(busy) / hz / max(float(rate) * secs, 1.0) * 1e6
base, cbase = by["untraced"], cpu["untraced"]
def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * (len(xs) - 1) + 0.5))]
print(f"{'':20}{'median conn/s':>15}{'ratio':>8}{'p25-p75':>14}"
      f"{'CPU us/conn':>13}{'CPU ratio':>11}{'p25-p75':>14}")
for name in names:
    rates, c = by[name], cpu[name]
    ratios = [rates[r] / base[r] for r in rates if r in base]
    # Throughput-equivalent: untraced CPU per connection over this one's,
    # paired by round. Steal time (the host running other guests) moves
    # throughput a lot and this little.
    cratios = [cbase[r] / c[r] for r in c if r in cbase]
    print(f"{name:20}{statistics.median(rates.values()):15.0f}{statistics.median(ratios):8.3f}"
          f"{q(ratios, .25):7.3f}-{q(ratios, .75):.3f}"
          f"{statistics.median(c.values()):13.1f}{statistics.median(cratios):11.3f}"
          f"{q(cratios, .25):7.3f}-{q(cratios, .75):.3f}")
PY
# One more govkit run with the kernel's BPF statistics on (they cost every
# program two clock reads per run, so the runs above leave them off): the
# per-program cost per run and per connection.
"$GOVKIT" trace connections --format json --min-age 1h --bpf-stats >"$out/s.json" 2>"$out/s.err" &
p=$!
wait_for "tracing TCP" "$out/s.err"
stats_rate=$("$LOOP" "$SECS")
kill -INT $p; wait $p || true
python3 - "$out/s.json" "$stats_rate" "$SECS" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
conns = float(sys.argv[2]) * float(sys.argv[3])
print("govkit hooks:", ", ".join(stats["hooks"]))
print("govkit kernel counters:", json.dumps(stats["counters"]), "lost_events:", stats["lost_events"])
print(f"with --bpf-stats ({float(sys.argv[2]):.0f} conn/s):")
for p in stats["programs"]:
    print(f"  {p['program']:14} {p['runs']:>10} runs {p['ns_per_run']:8.0f} ns/run"
          f" {p['runs'] / conns:6.1f} runs/conn {p['run_time_ns'] / conns:7.0f} ns/conn")
PY
[ "$PERF_ROUNDS" -gt 0 ] || exit 0
: >"$out/shares"
for r in $(seq "$PERF_ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do
        v=${variants[$(((i + r) % n))]}
        PERF_OUT="$out/perf.data" run "$v" >/dev/null
        share=$(perf report -i "$out/perf.data" --sort comm,sym --stdio -q 2>/dev/null | python3 -c '
import re, sys
tracing = re.compile(r"bpf_prog_|htab_|bpf_lru|pcpu_freelist|bpf_map_|bpf_trace_run|__bpf_prog_|trace_call_bpf|"
                     r"perf_syscall|perf_trace_buf|syscall_exit_work|syscall_trace|srcu|__cgroup_bpf|bpf_probe_read|"
                     r"copy_from_user_nofault|bpf_get_|bpf_ktime|bpf_ringbuf|bpf_task_pt_regs|jhash")
# The tracer process itself (reading events, polling maps) counts whole.
tracers = {"govkit", "tcplife", "bpftrace"}
share = 0.0
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[.\]\s+(\S+)", line)
    if m and (m.group(2) in tracers or tracing.search(m.group(3))):
        share += float(m.group(1))
print(f"{share:.2f}")')
        echo "$r $v $share" >>"$out/shares"
        echo "perf round $r $v: $share % of samples in tracing code" >&2
    done
done
python3 - "$out/shares" "${variants[@]}" <<'PY'
import statistics, sys
by = {}
for r, v, share in (l.split() for l in open(sys.argv[1])):
    by.setdefault(v, []).append(float(share))
base = statistics.median(by["untraced"])
print(f"\nshare of CPU samples in tracing code, median of {len(by['untraced'])} rounds, minus untraced ({base:.2f} %):")
for name in sys.argv[2:]:
    if name != "untraced":
        xs = by[name]
        print(f"  {name:20}{statistics.median(xs) - base:6.2f} %   (rounds: {', '.join(f'{x - base:.2f}' for x in xs)})")
PY
