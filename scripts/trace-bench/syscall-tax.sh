#!/usr/bin/env bash
# What tracing costs the rest of the host: a syscall-bound load that opens
# no connection (`dd bs=1`, one read and one write system call per byte)
# untraced and under govkit trace connections with each accept hook, in
# rotated order per round. While a syscall tracepoint is attached, every
# system call of every task takes the kernel's slow path; the cgroup and
# fexit accept hooks attach none.
# Prints the median seconds per variant and the paired ratio to untraced.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-8}
COUNT=${COUNT:-2M}
VARIANTS=${VARIANTS:-govkit govkit-tracepoints}
GOVKIT=${GOVKIT:-target/release/govkit}
cargo build --release -q --bin govkit
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

wait_for() { # pattern file
    for _ in $(seq 300); do grep -qs "$1" "$2" && return 0; sleep 0.1; done
    echo "timed out waiting for '$1' in $2" >&2; cat "$2" >&2; return 1
}

load() { # seconds dd took
    local t0 t1
    t0=$(date +%s.%N)
    dd if=/dev/zero of=/dev/null bs=1 count="$COUNT" status=none
    t1=$(date +%s.%N)
    python3 -c "print(f'{$t1 - $t0:.3f}')"
}

run() { # variant
    local hooks
    case $1 in
    untraced) load; return ;;
    govkit) hooks=auto ;;
    govkit-tracepoints) hooks=tracepoints ;;
    govkit-cgroup) hooks=cgroup ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
    esac
    "$GOVKIT" trace connections --format json --min-age 1h --hooks "$hooks" >"$out/t.out" 2>"$out/t.err" &
    local p=$!
    wait_for "tracing TCP" "$out/t.err"
    load
    kill -INT $p; wait $p || true
}

read -r -a variants <<<"untraced $VARIANTS"
n=${#variants[@]}
: >"$out/times"
for r in $(seq "$ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do
        v=${variants[$(((i + r) % n))]}
        t=$(run "$v")
        echo "$r $v $t" >>"$out/times"
        echo "round $r $v $t s" >&2
    done
done
python3 - "$out/times" "${variants[@]}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for r, v, t in rows:
    by.setdefault(v, {})[int(r)] = float(t)
base = by["untraced"]
print(f"{'':22}{'median s':>10}{'time ratio':>12}")
for name in sys.argv[2:]:
    ts = by[name]
    ratios = [ts[r] / base[r] for r in ts if r in base]
    print(f"{name:22}{statistics.median(ts.values()):10.3f}{statistics.median(ratios):12.3f}")
PY
