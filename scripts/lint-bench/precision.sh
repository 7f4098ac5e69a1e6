#!/usr/bin/env bash
# Precision benchmark, step 1: pulls seven real service crates from crates.io
# into a scratch directory (never committed) and runs `govkit lint` on each,
# default rules plus four `[[lint.disallowed]]` bans, writing one JSON report
# per crate. precision.py then samples the findings and scores them against
# the hand labels in precision-labels.tsv.
# Usage: [GOVKIT=path/to/govkit] scripts/lint-bench/precision.sh [DIR]
#        (default DIR /tmp/govkit-precision; default GOVKIT target/release/govkit)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
govkit=$(realpath "${GOVKIT:-target/release/govkit}")
dir=${1:-/tmp/govkit-precision}
crates="tokio-1.54.1 hyper-1.13.0 hyper-util-0.1.21 h2-0.4.21 reqwest-0.13.5 rustls-0.23.48 tracing-subscriber-0.3.23"

# 1. Sources: a throwaway package depending on the pinned crates; `cargo
#    vendor` only downloads them (nothing is compiled).
mkdir -p "$dir/fetch/src"
cd "$dir/fetch"
cat > Cargo.toml <<'TOML'
[package]
name = "govkit-precision-corpus"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
tokio = { version = "=1.54.1", features = ["full"] }
hyper = { version = "=1.13.0", features = ["full"] }
hyper-util = { version = "=0.1.21", features = ["full"] }
h2 = "=0.4.21"
reqwest = { version = "=0.13.5", features = ["json", "blocking", "stream"] }
# 0.24.0-dev.2 is a pre-release: the newest stable line is 0.23.
rustls = "=0.23.48"
tracing-subscriber = { version = "=0.3.23", features = ["env-filter", "json"] }
TOML
echo 'fn main() {}' > src/main.rs
[ -d vendor ] || cargo vendor --versioned-dirs -q vendor > /dev/null
mkdir -p "$dir/crates"
for c in $crates; do
    [ -d "$dir/crates/$c" ] || cp -r "vendor/$c" "$dir/crates/$c"
done

# 2. The configuration: default rules, plus bans for the disallowed rule.
cat > "$dir/govkit.toml" <<'TOML'
[lint]
test-code = "skip"

[[lint.disallowed]]
path = "std::time::Instant::now"
reason = "use the injected clock"

[[lint.disallowed]]
path = "std::thread::sleep"
reason = "blocks the thread; use tokio::time::sleep"

[[lint.disallowed]]
path = "std::sync::Mutex::lock"
reason = "poisoning and blocking; use parking_lot or tokio::sync::Mutex"

[[lint.disallowed]]
path = "std::env::set_var"
reason = "not thread-safe; pass configuration explicitly"
TOML

# 3. Lint each crate as its own project (cwd = crate dir). Exit 1 only means
#    findings, so any status is accepted as long as the JSON parses.
mkdir -p "$dir/out"
total=0
for c in $crates; do
    (cd "$dir/crates/$c" && "$govkit" --config "$dir/govkit.toml" lint --format json --no-cache . \
        > "$dir/out/$c.json") || true
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$dir/out/$c.json" \
        || { echo "govkit produced no JSON for $c" >&2; exit 2; }
    n=$(find "$dir/crates/$c" -name '*.rs' -exec cat {} + | wc -l)
    total=$((total + n))
    printf '%-28s %7d lines of Rust\n' "$c" "$n"
done
printf '%-28s %7d lines of Rust\n' total "$total"
echo "reports in $dir/out; next: $here/precision.py $dir"
