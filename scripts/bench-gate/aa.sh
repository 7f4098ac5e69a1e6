#!/usr/bin/env bash
# Detection power and false-alarm rate of `govkit bench`'s time verdict,
# for both modes, on a change injected into a real git history.
#
# A scratch crate in its own git repository has three benchmarks:
#   cpu_slow  xorshift steps (CPU-bound); the second commit does 5 % more
#   cpu_same  the same function, unchanged by the second commit (A/A)
#   mem       a pointer chase through a 32 MiB random cycle (memory-bound),
#             unchanged by the second commit (A/A)
# so one run judges a +5 % slowdown and two unchanged benchmarks, built
# into one binary as in a real pull request.
#
# Modes, each trial a fresh comparison:
#   paired     `govkit bench --against HEAD~1` (defaults: 10 rounds,
#              0.5 s warm-up and 1 s measurement per round and side)
#   neighbour  the same with a busy process beside it (a CPU hog)
#   baseline   `--save-baseline` at the base commit, then `--baseline` at
#              the second, 5 runs each (the same per-run times), back to
#              back: the baseline mode at its best, with no time between
# Prints, per mode and benchmark, how often the verdict was `regressed`,
# the ratio range, and the wall time of a paired run per benchmark.
#
# usage: scripts/bench-gate/aa.sh [TRIALS] [OUTDIR]   (from the repository)
#   NEIGHBOUR_TRIALS (default TRIALS/2), BASELINE_TRIALS (default TRIALS/2)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
trials=${1:-25}
out=${2:-/tmp/govkit-bench-power}
neighbour_trials=${NEIGHBOUR_TRIALS:-$((trials / 2))}
baseline_trials=${BASELINE_TRIALS:-$((trials / 2))}
mkdir -p "$out"
cargo build --release --locked --manifest-path "$repo/Cargo.toml" -q
govkit=$repo/target/release/govkit
filter='^(cpu_slow|cpu_same|mem)$'

work=$out/repo
rm -rf "$work" "$out/base"
git -C "$repo" worktree prune
mkdir -p "$work/src" "$work/benches"
cat >"$work/Cargo.toml" <<EOF
[package]
name = "power"
version = "0.0.0"
edition = "2024"
publish = false

[dev-dependencies]
criterion = { version = "0.8", default-features = false, features = ["cargo_bench_support"] }
bench-gate = { path = "$repo/bench-gate" }

[[bench]]
name = "power"
harness = false

[workspace]
EOF
cat >"$work/src/lib.rs" <<'EOF'
pub const SLOW_ROUNDS: u64 = 20_000;
pub const SAME_ROUNDS: u64 = 20_000;

pub fn spin(rounds: u64) -> u64 {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// One random cycle through `n` slots (Sattolo's algorithm).
pub fn cycle(n: usize) -> Vec<u32> {
    let mut t: Vec<u32> = (0..n as u32).collect();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = (x % i as u64) as usize;
        t.swap(i, j);
    }
    t
}

pub fn chase(t: &[u32], steps: u32) -> u32 {
    let mut i = 0u32;
    for _ in 0..steps {
        i = t[i as usize];
    }
    i
}
EOF
cat >"$work/benches/power.rs" <<'EOF'
use std::hint::black_box;

use criterion::Criterion;

bench_gate::counting_allocator!();

fn benches<M: bench_gate::Measure>(c: &mut Criterion<M>) {
    c.bench_function("cpu_slow", |b| b.iter(|| power::spin(black_box(power::SLOW_ROUNDS))));
    c.bench_function("cpu_same", |b| b.iter(|| power::spin(black_box(power::SAME_ROUNDS))));
    let table = power::cycle(8 << 20);
    c.bench_function("mem", |b| b.iter(|| power::chase(black_box(&table), 2_000)));
}

bench_gate::main!(benches);
EOF
printf '/target\n' >"$work/.gitignore"
cp "$repo/Cargo.lock" "$work/Cargo.lock"
(cd "$work" && cargo metadata --offline --format-version 1 >/dev/null)
g() { git -C "$work" -c user.name=power -c user.email=power@govkit.invalid -c commit.gpgsign=false "$@"; }
g init -q
g add -A
g commit -qm base
sed -i 's/SLOW_ROUNDS: u64 = 20_000/SLOW_ROUNDS: u64 = 21_000/' "$work/src/lib.rs"
g commit -qam "cpu_slow does 5 % more work"

export CARGO_TARGET_DIR=$out/target
# Dependencies built once, outside the timed runs.
(cd "$work" && cargo bench --no-run -q)
results=$out/results.csv
echo "mode,trial,id,verdict,ratio,p,lo,hi,seconds" >"$results"
record() { # mode trial json seconds
  python3 - "$@" >>"$results" <<'PY'
import json, sys
mode, trial, path, secs = sys.argv[1:5]
doc = json.load(open(path))
for b in doc["benchmarks"]:
    c = b.get("change") or {}
    lo, hi = (c.get("interval") or ["", ""])
    print(f"{mode},{trial},{b['id']},{c.get('verdict')},{c.get('ratio')},{c.get('p_value')},{lo},{hi},{secs}")
PY
}

paired() { # mode trial
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$work" && "$govkit" bench --against HEAD~1 --format json -q "$filter" >"$out/r.json" 2>"$out/r.err") || [ $? -eq 1 ]
  t1=$(date +%s.%N)
  record "$1" "$2" "$out/r.json" "$(awk "BEGIN { print $t1 - $t0 }")"
  echo "$1 $2: $(tail -3 "$results" | cut -d, -f3-5 | tr '\n' ' ')" >&2
}

for i in $(seq 1 "$trials"); do paired paired "$i"; done

for i in $(seq 1 "$neighbour_trials"); do
  python3 -c 'while True: pass' &
  hog=$!
  paired neighbour "$i"
  kill "$hog"
  wait "$hog" 2>/dev/null || true
done

# The baseline mode: the base commit in its own worktree and target
# directory (cargo would take one checkout's outputs for the other's).
g worktree add -q --detach "$out/base" HEAD~1
timing=(--count 5 --measurement-time 1 --warm-up-time 0.5 -q)
for i in $(seq 1 "$baseline_trials"); do
  (cd "$out/base" && CARGO_TARGET_DIR=$out/target-base "$govkit" bench "${timing[@]}" --save-baseline "$out/base.json" "$filter" >/dev/null 2>"$out/r.err")
  (cd "$work" && "$govkit" bench "${timing[@]}" --baseline "$out/base.json" --format json "$filter" >"$out/r.json" 2>"$out/r.err") || [ $? -eq 1 ]
  record baseline "$i" "$out/r.json" 0
  echo "baseline $i: $(tail -3 "$results" | cut -d, -f3-5 | tr '\n' ' ')" >&2
done
g worktree remove --force "$out/base"

python3 - "$results" <<'PY'
import csv, sys
from collections import defaultdict
rows = list(csv.DictReader(open(sys.argv[1])))
by = defaultdict(list)
for r in rows:
    by[(r["mode"], r["id"])].append(r)
print("mode       benchmark  change  flagged regressed   ratio range        median interval width")
for (mode, bid), rs in sorted(by.items()):
    flagged = sum(1 for r in rs if r["verdict"] == "regressed")
    ratios = sorted(float(r["ratio"]) for r in rs)
    widths = sorted(float(r["hi"]) - float(r["lo"]) for r in rs if r["lo"])
    width = f"{widths[len(widths)//2]*100:.1f} %" if widths else "-"
    change = "+5 %" if bid == "cpu_slow" else "none"
    print(f"{mode:<10} {bid:<9}  {change:<6}  {flagged:>3}/{len(rs):<3} = {flagged/len(rs):.2f}    {ratios[0]:.3f} .. {ratios[-1]:.3f}     {width}")
secs = sorted(float(r["seconds"]) for r in rows if r["mode"] == "paired" and r["id"] == "cpu_slow")
if secs:
    print(f"paired run wall time per benchmark (3 per run, builds included): median {secs[len(secs)//2]/3:.1f} s, max {secs[-1]/3:.1f} s")
PY
