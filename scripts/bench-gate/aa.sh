#!/usr/bin/env bash
# False-alarm and detection rates of `govkit bench`'s regression verdict on
# this machine. Each round: a fresh 5-run baseline of the fixture's `spin`
# benchmark, then an A/A run (same code) and an A/B run with a +20 %
# slowdown injected (BENCH_GATE_FIXTURE_SLOWDOWN=1.2), both judged against
# that baseline. Writes ratio and p of every comparison to rounds.csv and
# prints the rates for several minimum-effect thresholds (alpha 0.05).
#
# usage: scripts/bench-gate/aa.sh [ROUNDS] [OUTDIR]   (from the repository)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-20}
out=${2:-/tmp/govkit-bench-aa}
mkdir -p "$out"
cargo build --release --locked --manifest-path "$repo/Cargo.toml" -q
govkit=$repo/target/release/govkit
args=(bench -p bench-gate-fixture --bench known --count 5 --measurement-time 0.5 --warm-up-time 0.2 --sample-size 20 -q)
echo "round,kind,ratio,p" >"$out/rounds.csv"
cd "$repo"
for i in $(seq 1 "$rounds"); do
  "$govkit" "${args[@]}" --save-baseline "$out/base.json" '^spin$' >/dev/null
  for kind in aa ab; do
    if [ "$kind" = ab ]; then export BENCH_GATE_FIXTURE_SLOWDOWN=1.2; else unset BENCH_GATE_FIXTURE_SLOWDOWN; fi
    "$govkit" "${args[@]}" --baseline "$out/base.json" --format json '^spin$' >"$out/r.json" || true
    python3 - "$i" "$kind" "$out/r.json" >>"$out/rounds.csv" <<'PY'
import json, sys
doc = json.load(open(sys.argv[3]))
b = doc["benchmarks"][0]["change"]
print(f"{sys.argv[1]},{sys.argv[2]},{b['ratio']:.4f},{b['p_value']:.4f}")
PY
  done
  unset BENCH_GATE_FIXTURE_SLOWDOWN
  echo "round $i/$rounds: $(tail -2 "$out/rounds.csv" | tr '\n' ' ')" >&2
done
python3 - "$out/rounds.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
aa = [r for r in rows if r["kind"] == "aa"]
ab = [r for r in rows if r["kind"] == "ab"]
print(f"{len(aa)} A/A and {len(ab)} A/B(+20%) comparisons, alpha 0.05")
print("min-effect  false alarms (A/A flagged regressed)  detections (+20% flagged regressed)")
for eff in (0.0, 0.02, 0.05, 0.10, 0.15):
    fa = sum(1 for r in aa if float(r["p"]) < 0.05 and float(r["ratio"]) - 1 >= eff)
    de = sum(1 for r in ab if float(r["p"]) < 0.05 and float(r["ratio"]) - 1 >= eff)
    print(f"{eff:>10.2f}  {fa:>3}/{len(aa)} = {fa/len(aa):.2f}                        {de:>3}/{len(ab)} = {de/len(ab):.2f}")
aa_r = sorted(float(r["ratio"]) for r in aa)
print(f"A/A ratio range {aa_r[0]:.3f} .. {aa_r[-1]:.3f}")
PY
