#!/usr/bin/env bash
# CPU time per connection by symbol: the connect/close loop
# (tracebpf/fixture/src/bin/connloop.rs) untraced and under each tracer
# command given, alternated for ROUNDS rounds, every CPU sampled by perf
# (cpu-clock, 1999 Hz) for SECS-1 s of each SECS-s load. Prints each
# tracer's extra ns of CPU per connection and the symbols whose time per
# connection grew or shrank most against untraced: where a tracer's cost
# goes, including cost outside its own programs. Per-symbol figures move by
# a few hundred ns between runs (a busy-polling loop's receive calls vary
# with timing), and the total needs rounds: on this host 2 rounds once gave
# govkit +4.8 µs per connection where 4 rounds right after gave +0.2 µs.
#
#   scripts/trace-bench/perf-diff.sh "target/release/govkit trace connections --format json --min-age 1h" ...
#
# Needs root and perf. ROUNDS (default 4), SECS (default 4).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-4}
SECS=${SECS:-4}
cargo build --release -q -p trace-fixture
LOOP=target/release/connloop
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
variants=(untraced "$@")
for r in $(seq "$ROUNDS"); do
    for i in "${!variants[@]}"; do
        v=${variants[$i]}
        p=
        if [ "$v" != untraced ]; then
            # shellcheck disable=SC2086 # the tracer command line, split on purpose
            $v >"$out/t.out" 2>"$out/t.err" &
            p=$!
            sleep 2 # loaded and attached (govkit prints its start-up line sooner)
        fi
        "$LOOP" "$SECS" >"$out/rate" &
        l=$!
        sleep 0.5
        perf record -q -a -F 1999 -o "$out/$i.$r.data" -- sleep $((SECS - 1)) >/dev/null 2>&1
        wait $l
        echo "$i $r $(cat "$out/rate")" >>"$out/rates"
        if [ -n "$p" ]; then kill -INT $p; wait $p || true; fi
        sleep 1 # the tracer's maps are freed in kernel workqueues
    done
done
python3 - "$out" "$SECS" "${variants[@]}" <<'PY'
import collections, re, subprocess, sys
out, secs, names = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
window, hz = secs - 1, 1999.0
per = collections.defaultdict(collections.Counter)
conns = collections.Counter()
for line in open(f"{out}/rates"):
    i, r, rate = line.split()
    rep = subprocess.run(["perf", "report", "-i", f"{out}/{i}.{r}.data", "--stdio", "-q",
                          "--sort", "sym", "-F", "sample,sym"], capture_output=True, text=True).stdout
    for l in rep.splitlines():
        m = re.match(r"\s*(\d+)\s+\[.\]\s+(.+?)\s*$", l)
        if m:
            per[i][m.group(2)] += int(m.group(1))
    conns[i] += float(rate) * window
ns = lambda i, s: per[i][s] / hz / conns[i] * 1e9
total = {i: sum(per[i].values()) / hz / conns[i] * 1e9 for i in conns}
print(f"untraced: {total['0']:.0f} ns of CPU per connection")
for i in sorted(conns, key=int)[1:]:
    print(f"\n{names[int(i)]}: {total[i] - total['0']:+.0f} ns per connection; symbols that grew most:")
    d = sorted(((ns(i, s) - ns("0", s), s) for s in set(per[i]) | set(per["0"])), reverse=True)
    for x, s in d[:20]:
        print(f"  {x:+8.0f} ns  {s}  ({ns('0', s):.0f} -> {ns(i, s):.0f})")
    print("  shrank most:")
    for x, s in d[-5:]:
        print(f"  {x:+8.0f} ns  {s}")
PY
