#!/usr/bin/env bash
# Builds the benchmark corpus: the crates.io sources of large, widely used
# crates, pulled by cargo into a scratch directory (never committed).
# Usage: scripts/lint-bench/corpus.sh [DIR]   (default /tmp/govkit-lint-corpus)
set -euo pipefail
dir=${1:-/tmp/govkit-lint-corpus}
mkdir -p "$dir/fetch/src"
cd "$dir/fetch"
cat > Cargo.toml <<'TOML'
[package]
name = "govkit-lint-corpus"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
tokio = { version = "=1.47.1", features = ["full"] }
hyper = { version = "=1.7.0", features = ["full"] }
h2 = "=0.4.12"
regex-automata = "=0.4.10"
serde_json = "=1.0.143"
syn = { version = "=2.0.106", features = ["full"] }
clap_builder = "=4.5.47"
tracing-subscriber = "=0.3.20"
futures-util = "=0.3.31"
rayon = "=1.11.0"
TOML
echo 'fn main() {}' > src/main.rs
[ -d vendor ] || cargo vendor --versioned-dirs -q vendor > /dev/null
mkdir -p "$dir/crates"
for c in tokio-1.47.1 hyper-1.7.0 h2-0.4.12 regex-automata-0.4.10 serde_json-1.0.143 syn-2.0.106 \
         clap_builder-4.5.47 tracing-subscriber-0.3.20 futures-util-0.3.31 rayon-1.11.0; do
    [ -d "$dir/crates/$c" ] || cp -r "vendor/$c" "$dir/crates/$c"
done
find "$dir/crates" -name '*.rs' | xargs cat | wc -l | sed 's/^/lines of Rust: /'
