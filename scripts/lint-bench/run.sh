#!/usr/bin/env bash
# Side-by-side speed of `govkit lint` (all rules) and ast-grep (five
# patterns: unwrap, expect, panic!, println!, process::exit) on the corpus
# from corpus.sh, in the same run. Needs hyperfine (Debian) and ast-grep
# (npm @ast-grep/cli); with --instructions also valgrind (callgrind counts
# instructions, which the noisy 2-core machines here cannot disturb).
# Usage: scripts/lint-bench/run.sh [--instructions] [CORPUS_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
instructions=0
if [ "${1:-}" = --instructions ]; then instructions=1; shift; fi
corpus=${1:-/tmp/govkit-lint-corpus}
[ -d "$corpus/crates" ] || "$here/corpus.sh" "$corpus"
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)" >&2; exit 2; }
astgrep=${ASTGREP:-$(command -v ast-grep || echo /opt/astgrep/node_modules/.bin/ast-grep)}
[ -x "$astgrep" ] || { echo "install ast-grep (npm install @ast-grep/cli) or set ASTGREP" >&2; exit 2; }

(cd "$repo" && cargo build --release --locked -q)
govkit="$repo/target/release/govkit"
rules=$(cat "$here/astgrep-rules.yml")
cd "$corpus/crates"
echo "corpus: $(find . -name '*.rs' | wc -l) files, $(find . -name '*.rs' -exec cat {} + | wc -l) lines"
echo "govkit $("$govkit" --version | cut -d' ' -f2), ast-grep $("$astgrep" --version | cut -d' ' -f2)"

hyperfine --warmup 2 --runs "${RUNS:-15}" --ignore-failure -N --export-json "$corpus/hyperfine.json" \
    -n "govkit (all rules, cold)" "$govkit lint --no-cache --format json ." \
    -n "govkit (all rules, cached)" "$govkit lint --format json ." \
    -n "ast-grep (5 patterns)" "$astgrep scan --inline-rules '$rules' --json=stream ." > /dev/null
python3 - "$corpus/hyperfine.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
ag = r["ast-grep (5 patterns)"]
for name, x in r.items():
    print(f"{name:28} median {x['median']:.3f} s  min {x['min']:.3f} s  user {x['user']:.3f} s  "
          f"ast-grep/this (median) {ag['median'] / x['median']:.2f}")
PY
rss=$(mktemp)
/usr/bin/time -o "$rss" -f "%M" "$govkit" lint --no-cache --format json . > /dev/null || true
echo "max RSS govkit   $(tail -1 "$rss") KB"
/usr/bin/time -o "$rss" -f "%M" "$astgrep" scan --inline-rules "$rules" --json=stream . > /dev/null || true
echo "max RSS ast-grep $(tail -1 "$rss") KB"
rm -f "$rss"
if [ "$instructions" = 1 ]; then
    for cmd in "$govkit lint --no-cache --format json ." "$astgrep scan --inline-rules '$rules' --json=stream ."; do
        n=$(bash -c "valgrind --tool=callgrind --callgrind-out-file=/dev/null $cmd" 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
        echo "instructions $n  $(basename "${cmd%% *}")"
    done
fi
